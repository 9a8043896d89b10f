// SPDX-License-Identifier: Apache-2.0
// dom.js - building elements without HTML strings: text is always text (no innerHTML), so
// nothing a user typed can become markup, and the strict Content-Security-Policy needs no
// exceptions. Shared with the plugins' pages through ctx.h.

export function h (tag, attrs, ...children)
{
        const el = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs || {})) {
                if (v === null || v === undefined || v === false)
                        continue;
                if (k.startsWith('on') && typeof v === 'function')
                        el.addEventListener(k.slice(2), v);
                else if (k === 'class')
                        el.className = v;
                else if (v === true)
                        el.setAttribute(k, '');
                else
                        el.setAttribute(k, String (v));
        }
        for (const c of children.flat()) {
                if (c === null || c === undefined || c === false)
                        continue;
                el.append(c instanceof Node ? c : document.createTextNode(String (c)));
        }
        return el;
}

export function clear (el)
{
        while (el.firstChild)
                el.firstChild.remove();
        return el;
}
