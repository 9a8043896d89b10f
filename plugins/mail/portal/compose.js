// SPDX-License-Identifier: Apache-2.0
// compose.js - the mail page's form for a new message or a reply: recipients (typed, or
// picked from an address book of one's groups and, for holders of users.read, the school's
// people), copies (Cc), subject, text, and attachments from one's home folder (the mail route fetches them
// through the files module: {file: "home/<path>"}). Sends with POST .../mail/messages.

// Builds the form; done(sent) is called after a send (sent: the answer) or on cancel (null).
export async function composeForm (ctx, s, tr, opts, done)
{
        const h = ctx.h;
        const school = encodeURIComponent (ctx.school.slug);
        const api = `/api/v1/schools/${school}/mail`;
        const has = (id) => ctx.nav.some((p) => p.id === id);
        const field = (id, label, input) => h ('div', {class : 'field'}, h ('label', {for: id
                                               }, label), input);
        const error = h ('p', {class : 'error', role : 'alert'});

        const to = h ('input', {
                id : 'mail-to',
                required : true,
                maxlength : '4000',
                autocomplete : 'off',
                'aria-describedby' : 'mail-to-hint',
                value : opts.to || ''
        });
        const cc = h ('input', {id : 'mail-cc', maxlength : '4000', autocomplete : 'off'});
        const subject =
                h ('input', {id : 'mail-subject', maxlength : '998', value : opts.subject || ''});
        const text = h ('textarea', {id : 'mail-text', rows : '10', maxlength : '1000000'});
        text.value = opts.text || '';

        // The address book: the groups one is in (their address is slug@domain), and people
        // when the caller may list them. Read once per form; a failure leaves it empty.
        const book = h ('select', {id : 'mail-book'}, h ('option', {value : ''}, s.bookPick));
        const bookAdd = h ('button', {type : 'button'}, s.bookAdd);
        bookAdd.addEventListener('click', () => {
                if (!book.value)
                        return;
                const have = to.value.split(',').map((a) => a.trim()).filter(Boolean);
                if (!have.includes(book.value))
                        have.push(book.value);
                to.value = have.join(', ');
                to.focus();
        });
        try {
                const domain = (await ctx.api.get(`${api}/settings`)).domain;
                if (has ('groups')) {
                        const groups = await ctx.api.get(
                                `/api/v1/schools/${school}/groups?member=me&limit=200`);
                        const og = h ('optgroup', {label : s.groups});
                        for (const g of groups.items.filter((x) => x.slug))
                                og.append(h ('option', {value : `${g.slug}@${domain}`},
                                             tr ('groupEntry', {name : g.name})));
                        if (og.children.length)
                                book.append(og);
                }
                if (ctx.can('users.read')) {
                        const people =
                                await ctx.api.get(`/api/v1/schools/${school}/users?limit=200`);
                        const og = h ('optgroup', {label : s.people});
                        for (const p of people.items.filter((x) => x.id !== ctx.user.id))
                                og.append(h ('option', {value : `${p.username}@${domain}`},
                                             `${p.display_name || p.username} (${p.username})`));
                        if (og.children.length)
                                book.append(og);
                }
        } catch (e) {
                /* The typed address still works. */
        }

        // Attachments from the home folder's files (top level; folders are not listed).
        const picks = [];
        let files = null;
        if (has ('files')) {
                try {
                        const list = await ctx.api.get(
                                `/api/v1/schools/${school}/files/home/?limit=200`);
                        const boxes = list.items.filter((f) => f.kind === 'file').map((f, i) => {
                                const box = h ('input', {type : 'checkbox', id : `mail-att-${i}`});
                                picks.push([ box, f ]);
                                return h ('li', {}, box,
                                          h ('label', {for: `mail-att-${i}`}, ` ${f.name}`));
                        });
                        files = h ('fieldset', {class : 'mail-attach'}, h ('legend', {}, s.attach),
                                   boxes.length ? h ('ul', {}, boxes)
                                                : h ('p', {class : 'muted'}, s.noFiles));
                } catch (e) {
                        files = null;
                }
        }

        const send = h ('button', {type : 'submit', class : 'primary'}, s.send);
        const cancel = h ('button', {type : 'button'}, s.cancel);
        cancel.addEventListener('click', () => done (null));
        const form = h (
                'form', {class : 'card mail-compose', 'aria-labelledby' : 'mail-compose-h'},
                h ('h2', {id : 'mail-compose-h'}, opts.in_reply_to ? s.reply : s.compose), error,
                field ('mail-to', s.to, to),
                h ('p', {id : 'mail-to-hint', class : 'muted'}, s.toHint),
                h ('div', {class : 'row'}, field ('mail-book', s.book, book), bookAdd),
                field ('mail-cc', s.cc, cc), field ('mail-subject', s.subject, subject), field ('mail-text', s.text, text),
                files, h ('div', {class : 'actions'}, send, cancel));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                error.textContent = '';
                const split = (v) => v.split(/[,;]/).map((a) => a.trim()).filter(Boolean);
                const list = split (to.value);
                if (!list.length) {
                        error.textContent = s.noRecipient;
                        to.focus();
                        return;
                }
                const body = {to : list, subject : subject.value, text : text.value};
                if (split (cc.value).length)
                        body.cc = split (cc.value);
                if (opts.in_reply_to)
                        body.in_reply_to = opts.in_reply_to;
                const atts = picks.filter(([ b ]) => b.checked)
                                     .map(([ , f ]) => ({file : `home/${f.path.replace(/^\//, '')}`}));
                if (atts.length)
                        body.attachments = atts;
                send.disabled = true;
                try {
                        done (await ctx.api.post(`${api}/messages`, body));
                } catch (e) {
                        error.textContent = tr ('failed', {msg : e.message});
                        send.disabled = false;
                }
        });
        return {form, focus : () => (opts.to ? text : to).focus()};
}
