// SPDX-License-Identifier: Apache-2.0
// account.js - "My account" (#/account), for everyone signed in: changing one's password
// (POST /api/v1/me/password, with the current one) and the second factor (docs/ACCOUNTS.md):
// enrolling TOTP (POST /api/v1/me/totp answers the secret and the otpauth:// URI, shown as
// text and as a QR code; POST /api/v1/me/totp/confirm with the app's first code turns it on
// and answers the recovery codes, shown once) and turning it off with a current code
// (DELETE /api/v1/me/totp). The enrolment a school's policy forces (must_enrol_totp) uses
// the same section: shell.js draws it alone, with opts.forced, until the factor is on.
// Operators have no school and so no second factor: they see the password only.
import {busy, regions, useStyles} from './admin-common.js';
import {encode} from './vendor/uqr.js';

const SVG = 'http://www.w3.org/2000/svg';

// The QR code of @text as an SVG drawn with createElementNS (no markup strings), one path
// of all dark modules; its colours are in admin.css (the CSP forbids style attributes).
export function qrCode (text, label)
{
        const qr = encode(text, {ecc : 'M', border : 4});
        const svg = document.createElementNS(SVG, 'svg');
        svg.setAttribute('viewBox', `0 0 ${qr.size} ${qr.size}`);
        svg.setAttribute('class', 'qr');
        svg.setAttribute('role', 'img');
        svg.setAttribute('aria-label', label);
        svg.setAttribute('shape-rendering', 'crispEdges');
        const back = document.createElementNS(SVG, 'rect');
        back.setAttribute('width', qr.size);
        back.setAttribute('height', qr.size);
        back.setAttribute('class', 'light');
        let d = '';
        qr.data.forEach((row, y) => row.forEach((dark, x) => {
                if (dark)
                        d += `M${x} ${y}h1v1h-1z`;
        }));
        const path = document.createElementNS(SVG, 'path');
        path.setAttribute('d', d);
        path.setAttribute('class', 'dark');
        svg.append(back, path);
        return svg;
}

function field (h, t, id, label, attrs, hint)
{
        const input = h ('input', Object.assign({id, name : id, required : true},
                                                hint ? {'aria-describedby' : `${id}-hint`} : {},
                                                attrs));
        return [
                h ('div', {class : 'field narrow'}, h ('label', {for: id}, t (label)), input,
                   hint ? h ('small', {id : `${id}-hint`}, t (hint)) : null),
                input
        ];
}

// What a refusal means, in words.
function refusal (t, e)
{
        if (e.status === 429)
                return new Error (t ('signin.throttled', {
                        n : Math.max(1, Math.ceil((Number (e.headers.get('Retry-After')) || 60) / 60))
                }));
        return e;
}

function passwordSection (ctx)
{
        const {h, t} = ctx;
        const r = regions (ctx);
        const [currentField, current] = field (h, t, 'account-current', 'me.password.current',
                                               {type : 'password', autocomplete : 'current-password'});
        const [newField, first] =
                field (h, t, 'account-new', 'account.new',
                       {type : 'password', autocomplete : 'new-password', minlength : 8},
                       'account.rule');
        const [repeatField, second] = field (h, t, 'account-repeat', 'account.repeat',
                                             {type : 'password', autocomplete : 'new-password'});
        const save = h ('button', {type : 'submit', class : 'primary'}, t ('me.password.submit'));
        const form = h ('form', {class : 'card', novalidate : true, 'aria-labelledby' : 'me-pw'},
                        h ('h2', {id : 'me-pw'}, t ('me.password.title')), currentField,
                        newField, repeatField, r.error, r.status, save);
        form.addEventListener('submit', (ev) => {
                ev.preventDefault();
                busy (save, r, async () => {
                        if (!current.value || !first.value)
                                throw new Error (t ('me.password.fill'));
                        if (first.value !== second.value)
                                throw new Error (t ('account.mismatch'));
                        try {
                                await ctx.api.post('/api/v1/me/password', {
                                        current_password : current.value,
                                        new_password : first.value
                                });
                        } catch (e) {
                                if (e.status === 403)
                                        throw new Error (t ('me.password.wrong'));
                                if (e.status === 422)
                                        throw new Error (t (/username/.test(e.message)
                                                                    ? 'account.policy.username'
                                                                    : 'account.policy.length'));
                                throw refusal (t, e);
                        }
                        current.value = first.value = second.value = '';
                        r.done(t ('me.password.done'));
                });
        });
        return form;
}

// The second factor: its state, enrolment or turning it off. @opts.forced: the school's
// policy wants it; @opts.onDone runs once it is on and the recovery codes were seen.
export function totpSection (ctx, opts = {})
{
        const {h, t} = ctx;
        const r = regions (ctx);
        const body = h ('div');
        const section = h ('section', {class : 'card', 'aria-labelledby' : 'me-totp'},
                           h ('h2', {id : 'me-totp'}, t ('me.totp.title')), r.error, r.status,
                           body);

        function drawState ()
        {
                if (ctx.user.totp_enabled)
                        drawOn ();
                else
                        drawOff ();
        }

        function drawOff ()
        {
                const start = h ('button', {type : 'button', class : 'primary'}, t ('me.totp.start'));
                start.addEventListener('click', () => busy (start, r, async () => {
                                                            // No body: the route takes none.
                                                            const made = await ctx.api.post(
                                                                    '/api/v1/me/totp');
                                                            drawEnrol (made);
                                                    }));
                body.replaceChildren(
                        h ('p', {}, t (opts.forced ? 'me.totp.forced' : 'me.totp.off')),
                        h ('p', {class : 'muted'}, t ('me.totp.what')), start);
        }

        function drawEnrol (made)
        {
                const [codeField, code] =
                        field (h, t, 'totp-first', 'me.totp.code',
                               {autocomplete : 'one-time-code', inputmode : 'numeric', maxlength : 6},
                               'me.totp.code.hint');
                const confirm = h ('button', {type : 'submit', class : 'primary'}, t ('me.totp.confirm'));
                const form = h ('form', {novalidate : true}, codeField, confirm);
                form.addEventListener('submit', (ev) => {
                        ev.preventDefault();
                        busy (confirm, r, async () => {
                                let out;
                                try {
                                        out = await ctx.api.post('/api/v1/me/totp/confirm',
                                                                 {code : code.value.trim()});
                                } catch (e) {
                                        code.value = '';
                                        code.focus();
                                        throw e.status === 422 || e.status === 400
                                                ? new Error (t ('me.totp.wrong'))
                                                : refusal (t, e);
                                }
                                ctx.user.totp_enabled = true;
                                ctx.user.must_enrol_totp = false;
                                drawCodes (out.recovery_codes);
                        });
                });
                // The secret in groups of four, as apps show it, for typing it in by hand.
                const grouped = made.secret.replace(/(.{4})/g, '$1 ').trim();
                body.replaceChildren(
                        h ('ol', {class : 'steps'}, h ('li', {}, t ('me.totp.step.app')),
                           h ('li', {}, t ('me.totp.step.scan')),
                           h ('li', {}, t ('me.totp.step.code'))),
                        h ('figure', {class : 'qr-box'}, qrCode (made.otpauth_uri, t ('me.totp.qr')),
                           h ('figcaption', {class : 'muted'}, t ('me.totp.qr.caption'))),
                        h ('p', {}, t ('me.totp.secret'), ' ',
                           h ('code', {id : 'totp-secret', class : 'secret'}, grouped)),
                        h ('details', {}, h ('summary', {}, t ('me.totp.uri')),
                           h ('code', {id : 'totp-uri', class : 'uri'}, made.otpauth_uri)),
                        form);
                code.focus();
        }

        function drawCodes (codes)
        {
                const ok = h ('button', {type : 'button', class : 'primary'}, t ('me.totp.saved'));
                ok.addEventListener('click', () => {
                        r.done(t ('me.totp.enabled'));
                        if (opts.onDone)
                                opts.onDone();
                        else
                                drawState ();
                });
                body.replaceChildren(h ('p', {}, t ('me.totp.codes.why')),
                                     h ('ol', {class : 'recovery', 'aria-label' : t ('me.totp.codes')},
                                        codes.map((c) => h ('li', {}, h ('code', {}, c)))),
                                     ok);
                ok.focus();
        }

        function drawOn ()
        {
                const [codeField, code] =
                        field (h, t, 'totp-off', 'me.totp.code',
                               {autocomplete : 'one-time-code', inputmode : 'numeric', maxlength : 6},
                               'me.totp.off.hint');
                const off = h ('button', {type : 'submit'}, t ('me.totp.turnoff'));
                const form = h ('form', {novalidate : true}, codeField, off);
                form.addEventListener('submit', (ev) => {
                        ev.preventDefault();
                        busy (off, r, async () => {
                                try {
                                        await ctx.api.del('/api/v1/me/totp',
                                                          {body : {code : code.value.trim()}});
                                } catch (e) {
                                        code.value = '';
                                        if (e.status === 409)
                                                throw new Error (t ('me.totp.required'));
                                        throw e.status === 422 || e.status === 400
                                                ? new Error (t ('me.totp.wrong'))
                                                : refusal (t, e);
                                }
                                ctx.user.totp_enabled = false;
                                drawState ();
                                r.done(t ('me.totp.disabled'));
                        });
                });
                body.replaceChildren(h ('p', {}, t ('me.totp.on')), form);
        }

        drawState ();
        return section;
}

export async function render (root, ctx)
{
        useStyles ();
        const {h, t} = ctx;
        root.append(h ('h1', {}, t ('me.title')),
                    h ('p', {class : 'muted'},
                       t ('me.who', {
                               name : ctx.user.display_name || ctx.user.username,
                               username : ctx.user.username
                       })),
                    passwordSection (ctx), ctx.school ? totpSection (ctx) : null);
}
