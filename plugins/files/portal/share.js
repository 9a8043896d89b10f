// SPDX-License-Identifier: Apache-2.0
// share.js - share links on the files page: the form that makes one for a file
// (POST .../{space}/{path}?action=share with the route's options: how long it lasts, as a
// number of seconds or up to a last day, and an optional password), the link shown once in a
// read-only field with a copy button (the server keeps only its hash), and the caller's links (GET
// .../shares), each revocable (DELETE .../shares/{id}). The link is the public download route, made
// absolute here.

const DAY = 86400;

// A card with the form for `item` (a file at `path` in `space`); `done()` closes it.
export function shareCard (ctx, cat, base, item, path, done)
{
        const {s, tr} = cat;
        const h = ctx.h;
        const expiry =
                h ('select', {id : 'share-expiry'}, h ('option', {value : String (DAY)}, s.day1),
                   h ('option', {value : String (7 * DAY), selected : true}, s.day7),
                   h ('option', {value : String (30 * DAY)}, s.day30),
                   h ('option', {value : String (365 * DAY)}, s.day365),
                   h ('option', {value : 'date'}, s.untilDate));
        const until = h ('input', {id : 'share-until', type : 'date'});
        const untilField = h ('div', {class : 'field', hidden : true}, h ('label', {for: 'share-until'
                              }, s.shareUntil), until);
        expiry.addEventListener('change', () => {
                untilField.hidden = expiry.value !== 'date';
                until.required = !untilField.hidden;
        });
        const password = h ('input', {
                id : 'share-password',
                type : 'password',
                autocomplete : 'new-password',
                minlength : '4',
                maxlength : '200'
        });
        const error = h ('p', {class : 'error', role : 'alert'});
        const result = h ('div', {role : 'status'});
        const close = h ('button', {type : 'button'}, s.close);
        close.addEventListener('click', done);
        const form =
                h ('form', {},
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'share-expiry'
                         },
                         s.shareExpiry),
                      expiry),
                   untilField,
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'share-password'
                         },
                         s.sharePassword),
                      password),
                   h ('p', {class : 'tools'},
                      h ('button', {type : 'submit', class : 'primary'}, s.shareCreate), close));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                error.textContent = '';
                // A last day is its end in the browser's time zone (expires_at, RFC 3339).
                const body =
                        expiry.value === 'date'
                                ? {expires_at : new Date (`${until.value}T23:59:59`).toISOString()}
                                : {expires_in : Number (expiry.value)};
                if (password.value)
                        body.password = password.value;
                try {
                        const link = await ctx.api.post(`${base}?action=share`, body);
                        password.value = '';
                        result.replaceChildren(...shown (ctx, cat, item.name, link));
                } catch (e) {
                        error.textContent = tr ('failed', {msg : e.message});
                }
        });
        return h ('section', {class : 'card share', 'aria-labelledby' : 'share-title'},
                  h ('h2', {id : 'share-title'}, tr ('shareTitle', {name : path})), error, form,
                  result);
}

// The new link: a sentence, the URL in a read-only field and a copy button.
function shown (ctx, cat, name, link)
{
        const {s, tr} = cat;
        const h = ctx.h;
        const url = new URL (link.url, window.location.origin).href;
        const until = new Date (link.expires_at).toLocaleString(ctx.lang);
        const field = h ('input', {id : 'share-url', readonly : true, value : url});
        const said = h ('span', {class : 'muted'});
        const copy = h ('button', {type : 'button'}, s.copy);
        copy.addEventListener('click', async () => {
                field.select();
                try {
                        await navigator.clipboard.writeText(url);
                        said.textContent = s.copied;
                } catch (e) {
                        said.textContent = s.copyFailed;
                }
        });
        return [
                h ('p', {}, tr (link.has_password ? 'shareMadePw' : 'shareMade', {name, until})),
                h ('div', {class : 'field'},
                   h ('label',
                      {for: 'share-url'
                      },
                      tr ('shareUrl', {name})),
                   field),
                h ('p', {class : 'tools'}, copy, said)
        ];
}

// The caller's links as a table in `box`; `spaceName(space)` names a space for people.
export async function loadLinks (ctx, cat, api, box, spaceName, say)
{
        const {s, tr} = cat;
        const h = ctx.h;
        const items = [];
        let cursor = null;
        do {
                const page =
                        await ctx.api.get(`${api}/shares?limit=200` +
                                          (cursor ? `&cursor=${encodeURIComponent (cursor)}` : ''));
                items.push(...page.items);
                cursor = page.next_cursor;
        } while (cursor);
        const rows = items.map((l) => {
                const name = `${spaceName (l.space)}: /${l.path}`;
                const revoke =
                        h ('button', {type : 'button', 'aria-label' : `${s.revoke}: ${name}`},
                           s.revoke);
                revoke.addEventListener('click', async () => {
                        try {
                                await ctx.api.del(`${api}/shares/${encodeURIComponent (l.id)}`);
                                await loadLinks (ctx, cat, api, box, spaceName, say);
                                say (tr ('revoked', {name}));
                        } catch (e) {
                                say (null, e);
                        }
                });
                const notes = [ l.expired ? s.expired : null, l.in_trash ? s.inTrash : null ];
                return h ('tr', {}, h ('td', {}, name),
                          h ('td', {}, new Date (l.expires_at).toLocaleString(ctx.lang),
                             ...notes.filter(Boolean).map((n) => ` (${n})`)),
                          h ('td', {}, l.has_password ? s.yes : s.no), h ('td', {}, revoke));
        });
        box.replaceChildren(
                h ('h2', {id : 'share-links'}, s.links),
                items.length
                        ? h ('div',
                             {class : 'scroll', tabindex : '0', 'aria-labelledby' : 'share-links'},
                             h ('table', {},
                                h ('thead', {},
                                   h ('tr', {}, h ('th', {scope : 'col'}, s.linkFile),
                                      h ('th', {scope : 'col'}, s.linkUntil),
                                      h ('th', {scope : 'col'}, s.linkPassword),
                                      h ('th', {scope : 'col'}, s.actions))),
                                h ('tbody', {}, rows)))
                        : h ('p', {}, s.linksEmpty));
}
