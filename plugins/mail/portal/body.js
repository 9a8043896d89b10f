// SPDX-License-Identifier: Apache-2.0
// body.js - a message's HTML drawn into the page without innerHTML and without an iframe.
//
// The server has sanitised the HTML already (plugins/mail/html.c: an allowlist of elements,
// links only http/https/mailto, no images, no styles). The page does not trust that alone: the
// text is parsed by DOMParser into an inert document (no scripts run, nothing is fetched, it is
// never attached to the page) and a fresh tree is built from it with the same allowlist, element
// by element and attribute by attribute. Nothing of the parsed document is moved into the page,
// so a bug in either sanitiser alone does not become markup. Why not a sandboxed iframe with
// srcdoc: the CSP would need frame-src and the portal's rule of "no frames" (frame-ancestors
// 'none', X-Frame-Options) to bend, and the iframe's own CSP, sizing and focus order would be
// one more thing to get right; a rebuilt tree keeps the page's styles, keyboard order and
// screen reader reading order for free.

const KEEP = new Set ([
        'p', 'br', 'div', 'span', 'b', 'strong', 'i', 'em', 'u', 's', 'strike', 'sub', 'sup',
        'small', 'big', 'tt', 'code', 'pre', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li',
        'dl', 'dt', 'dd', 'blockquote', 'hr', 'table', 'caption', 'thead', 'tbody', 'tfoot', 'tr',
        'td', 'th', 'a'
]);
// Dropped with everything inside them (as the server does); other elements are unwrapped.
const DROP = new Set ([
        'script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'param',
        'svg', 'math', 'template', 'noscript', 'noembed', 'noframes', 'head', 'title', 'meta',
        'link', 'base', 'input', 'button', 'textarea', 'select', 'option', 'optgroup', 'datalist',
        'audio', 'video', 'source', 'track', 'canvas', 'map', 'area', 'img', 'form'
]);
const MAX_DEPTH = 256;

function safeHref (value)
{
        try {
                const u = new URL (value);
                return [ 'http:', 'https:', 'mailto:' ].includes(u.protocol) ? u.href : null;
        } catch (e) {
                return null;
        }
}

function copy (from, to, depth)
{
        for (const node of from.childNodes) {
                if (node.nodeType === Node.TEXT_NODE) {
                        to.append(document.createTextNode(node.data));
                        continue;
                }
                if (node.nodeType !== Node.ELEMENT_NODE)
                        continue; /* comments, processing instructions */
                const tag = node.localName;
                if (DROP.has(tag))
                        continue;
                if (!KEEP.has(tag) || depth >= MAX_DEPTH) {
                        copy (node, to, depth);
                        continue;
                }
                // Headings inside a message must not break the page's outline: they are drawn
                // as bold paragraphs (role=presentation would still leave the h1 in axe's tree).
                const el = document.createElement(/^h[1-6]$/.test(tag) ? 'p' : tag);
                if (el.localName !== tag)
                        el.className = 'mail-heading';
                if (tag === 'a') {
                        const href = safeHref (node.getAttribute('href') || '');
                        if (href) {
                                el.setAttribute('href', href);
                                el.setAttribute('rel', 'noopener noreferrer nofollow');
                                el.setAttribute('target', '_blank');
                        }
                } else if (tag === 'td' || tag === 'th') {
                        for (const a of [ 'colspan', 'rowspan' ]) {
                                const v = node.getAttribute(a);
                                if (v && /^[0-9]{1,4}$/.test(v))
                                        el.setAttribute(a, v);
                        }
                }
                copy (node, el, depth + 1);
                to.append(el);
        }
}

// Returns a DocumentFragment of the message's HTML, made only of allowlisted elements.
export function htmlBody (html)
{
        const doc = new DOMParser ().parseFromString(String (html), 'text/html');
        const out = document.createDocumentFragment();
        copy (doc.body, out, 0);
        return out;
}
