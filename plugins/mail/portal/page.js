// SPDX-License-Identifier: Apache-2.0
// page.js - the mail area of the portal: the caller's folders (GET .../mail/folders, with
// unread counts), a folder's messages newest first, reading one (marked as read with PATCH;
// its HTML, sanitised by the server, is rebuilt by body.js; attachments are download links),
// full-text search (GET .../mail/search?q=), moving a message to the trash, and writing: a new
// message or a reply (compose.js). Everything is the public mail REST API.
import {htmlBody} from './body.js';
import {composeForm} from './compose.js';

const strings = {
        en : {
                title : 'Mail',
                folders : 'Folders',
                inbox : 'Inbox',
                drafts : 'Drafts',
                sent : 'Sent',
                trash : 'Trash',
                unread : '{n} unread',
                empty : 'No messages here.',
                compose : 'New message',
                reply : 'Reply',
                del : 'Move to trash',
                deleted : 'The message is in the trash.',
                search : 'Search mail',
                searchGo : 'Search',
                results : 'Results for “{q}”',
                noSubject : '(no subject)',
                from : 'From',
                to : 'To',
                cc : 'Cc',
                date : 'Date',
                subject : 'Subject',
                text : 'Message',
                attachments : 'Attachments',
                book : 'Address book',
                bookPick : 'Choose a group or a person',
                bookAdd : 'Add recipient',
                groups : 'Groups',
                people : 'People',
                groupEntry : '{name} (group)',
                toHint : 'Addresses separated by commas, or add them from the address book.',
                attach : 'Attach from my files',
                noFiles : 'There are no files in your home folder.',
                send : 'Send',
                cancel : 'Cancel',
                sentOk : 'Your message was sent.',
                noRecipient : 'Say who the message is for.',
                unreadMark : 'unread',
                noDomain : 'The school has no mail address yet. Ask your school’s administrators.',
                failed : 'That did not work: {msg}',
                wrote : 'On {date}, {from} wrote:',
        },
        de : {
                title : 'E-Mail',
                folders : 'Ordner',
                inbox : 'Posteingang',
                drafts : 'Entwürfe',
                sent : 'Gesendet',
                trash : 'Papierkorb',
                unread : '{n} ungelesen',
                empty : 'Hier sind keine Nachrichten.',
                compose : 'Neue Nachricht',
                reply : 'Antworten',
                del : 'In den Papierkorb',
                deleted : 'Die Nachricht liegt im Papierkorb.',
                search : 'E-Mails durchsuchen',
                searchGo : 'Suchen',
                results : 'Ergebnisse für „{q}“',
                noSubject : '(kein Betreff)',
                from : 'Von',
                to : 'An',
                cc : 'Kopie',
                date : 'Datum',
                subject : 'Betreff',
                text : 'Nachricht',
                attachments : 'Anhänge',
                book : 'Adressbuch',
                bookPick : 'Gruppe oder Person wählen',
                bookAdd : 'Empfänger hinzufügen',
                groups : 'Gruppen',
                people : 'Personen',
                groupEntry : '{name} (Gruppe)',
                toHint : 'Adressen durch Kommas getrennt, oder aus dem Adressbuch hinzufügen.',
                attach : 'Aus meinen Dateien anhängen',
                noFiles : 'In Ihrem persönlichen Ordner liegen keine Dateien.',
                send : 'Senden',
                cancel : 'Abbrechen',
                sentOk : 'Ihre Nachricht wurde gesendet.',
                noRecipient : 'Geben Sie an, an wen die Nachricht geht.',
                unreadMark : 'ungelesen',
                noDomain : 'Die Schule hat noch keine E-Mail-Adresse. Wenden Sie sich an die ' +
                                   'Schulverwaltung.',
                failed : 'Das hat nicht geklappt: {msg}',
                wrote : 'Am {date} schrieb {from}:',
        },
};

function linkStyle ()
{
        const href = new URL ('mail.css', import.meta.url).pathname;
        if (!document.querySelector(`link[href="${href}"]`)) {
                const l = document.createElement('link');
                l.rel = 'stylesheet';
                l.href = href;
                document.head.append(l);
        }
}

const addresses = (v) => (Array.isArray (v) ? v : v ? [ v ] : []).join(', ');
// "Tessa Teacher <tessa@x.org>" -> "tessa@x.org"
const bare = (a) => ((a || '').match(/<([^>]+)>/) || [ null, a || '' ])[1].trim();

export async function render (root, ctx)
{
        linkStyle ();
        const s = strings[ctx.lang] || strings.en;
        const tr = (k, args) => Object.entries(args || {})
                                        .reduce((acc, [ a, v ]) => acc.replace(`{${a}}`, v), s[k]);
        const h = ctx.h;
        const api = `/api/v1/schools/${encodeURIComponent (ctx.school.slug)}/mail`;
        const enc = encodeURIComponent;
        const when = (d) => new Date (d).toLocaleString(
                ctx.lang, {dateStyle : 'medium', timeStyle : 'short'});
        const folderName = (f) => (f.special ? s[f.special] || f.name : f.name);

        const error = h ('p', {class : 'error', role : 'alert'});
        const status = h ('p', {role : 'status'});
        const folderList = h ('ul', {class : 'mail-folders'});
        const listHeading = h ('h2', {id : 'mail-list-h'});
        const list = h ('ul', {class : 'mail-list', 'aria-labelledby' : 'mail-list-h'});
        const reader = h ('article', {class : 'mail-reader', 'aria-labelledby' : 'mail-read-h'});
        reader.hidden = true;
        const composer = h ('div');
        let current = 'INBOX';
        let reloadList = async () => {}; // draws the folder or the search shown, again
        const fail = (e) => { error.textContent = tr ('failed', {msg : e.message}); };

        async function loadFolders ()
        {
                const folders = (await ctx.api.get(`${api}/folders`)).items;
                folderList.replaceChildren(...folders.map((f) => {
                        const b = h ('button', {
                                type : 'button',
                                class : 'link',
                                'aria-current' : f.name === current ? 'true' : null
                        },
                                     folderName (f),
                                     f.unread ? h ('span', {class : 'badge'},
                                                   ` ${tr ('unread', {n : f.unread})}`)
                                              : null);
                        b.addEventListener('click', () => {
                                current = f.name;
                                reader.hidden = true;
                                Promise.all([ loadFolders (), showFolder (folderName (f)) ])
                                        .catch(fail);
                        });
                        return h ('li', {}, b);
                }));
                return folders;
        }

        function drawList (items)
        {
                list.replaceChildren(...items.map((m) => {
                        const subject = m.subject || s.noSubject;
                        const b = h ('button', {
                                type : 'button',
                                class : m.seen ? 'mail-item' : 'mail-item unseen'
                        },
                                     h ('span', {class : 'mail-subject'}, subject), ' ',
                                     h ('span', {class : 'muted'},
                                        `${addresses (m.from)} · ${when (m.date || m.received_at)}`,
                                        m.seen ? '' : ` · ${s.unreadMark}`));
                        b.addEventListener('click', () => read (m.id).catch(fail));
                        return h ('li', {}, b);
                }));
                if (!items.length)
                        list.replaceChildren(h ('li', {class : 'muted'}, s.empty));
        }

        async function showFolder (label)
        {
                const path = `${api}/folders/${enc (current)}/messages?limit=50`;
                reloadList = async () => drawList ((await ctx.api.get(path)).items);
                listHeading.textContent = label;
                await reloadList ();
        }

        async function read (id)
        {
                const m = await ctx.api.get(`${api}/messages/${id}`);
                if (!m.seen) {
                        await ctx.api.patch(`${api}/messages/${id}`, {seen : true});
                        await Promise.all([ loadFolders (), reloadList () ]);
                }
                const body = h ('div', {class : 'mail-body'});
                if (m.html)
                        body.append(htmlBody (m.html));
                else
                        body.append(h ('div', {class : 'mail-text'}, m.text || ''));
                const meta = h ('dl', {class : 'mail-meta'}, h ('dt', {}, s.from),
                                h ('dd', {}, addresses (m.from)), h ('dt', {}, s.to),
                                h ('dd', {}, addresses (m.to)),
                                (m.cc && m.cc.length) ? [ h ('dt', {}, s.cc), h ('dd', {}, addresses (m.cc)) ]
                                                      : null,
                                h ('dt', {}, s.date), h ('dd', {}, when (m.date || m.received_at)));
                const atts = (m.attachments || []).length
                                     ? h ('div', {class : 'mail-atts'}, h ('h3', {}, s.attachments),
                                          h ('ul', {}, m.attachments.map((a) => h (
                                                                   'li', {},
                                                                   h ('a', {
                                                                           href : `${api}/messages/${
                                                                                   m.id}/attachments/${
                                                                                   a.index}`,
                                                                           download : a.filename ||
                                                                                      ''
                                                                   },
                                                                     a.filename || a.content_type),
                                                                   h ('span', {class : 'muted'},
                                                                      ` (${a.size} B)`)))))
                                     : null;
                const replyB = h ('button', {type : 'button'}, s.reply);
                replyB.addEventListener('click', () => {
                        const quoted = (m.text || '').split('\n').map((l) => `> ${l}`).join('\n');
                        compose ({
                                to : bare (addresses (m.from).split(',')[0]),
                                subject : /^re:/i.test(m.subject || '') ? m.subject
                                                                         : `Re: ${m.subject || ''}`,
                                text : `\n\n${tr ('wrote', {date : when (m.date || m.received_at),
                                                            from : addresses (m.from)})}\n${quoted}`,
                                in_reply_to : m.id
                        }).catch(fail);
                });
                const delB = h ('button', {type : 'button'}, s.del);
                delB.addEventListener('click', async () => {
                        try {
                                await ctx.api.del(`${api}/messages/${m.id}`);
                                reader.hidden = true;
                                await Promise.all([ loadFolders (), reloadList () ]);
                                status.textContent = s.deleted;
                        } catch (e) {
                                fail (e);
                        }
                });
                reader.replaceChildren(h ('h2', {id : 'mail-read-h', tabindex : '-1'},
                                          m.subject || s.noSubject),
                                       meta, h ('div', {class : 'actions'}, replyB, delB), body,
                                       ...(atts ? [ atts ] : []));
                reader.hidden = false;
                reader.querySelector('h2').focus();
        }

        async function compose (opts)
        {
                error.textContent = '';
                status.textContent = '';
                const {form, focus} = await composeForm (ctx, s, tr, opts, async (sent) => {
                        composer.replaceChildren();
                        newB.hidden = false;
                        if (sent) {
                                status.textContent = s.sentOk;
                                await loadFolders ().catch(fail);
                        }
                        newB.focus();
                });
                newB.hidden = true;
                reader.hidden = true;
                composer.replaceChildren(form);
                focus ();
        }

        const newB = h ('button', {type : 'button', class : 'primary'}, s.compose);
        newB.addEventListener('click', () => compose ({}).catch(fail));
        const q = h ('input', {id : 'mail-q', type : 'search', maxlength : '500'});
        const searchForm = h ('form', {class : 'mail-search', role : 'search'},
                              h ('label', {for : 'mail-q'}, s.search), q,
                              h ('button', {type : 'submit'}, s.searchGo));
        searchForm.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                if (!q.value.trim())
                        return;
                try {
                        const path = `${api}/search?q=${enc (q.value.trim())}&limit=50`;
                        reloadList = async () => drawList ((await ctx.api.get(path)).items);
                        await reloadList ();
                        listHeading.textContent = tr ('results', {q : q.value.trim()});
                        reader.hidden = true;
                } catch (e) {
                        fail (e);
                }
        });

        root.append(h ('h1', {}, s.title), error, status,
                    h ('div', {class : 'mail-tools'}, newB, searchForm), composer,
                    h ('div', {class : 'mail-panes'},
                       h ('nav', {class : 'mail-nav', 'aria-label' : s.folders},
                          h ('h2', {}, s.folders), folderList),
                       h ('section', {class : 'mail-main'}, listHeading, list, reader)));
        try {
                await ctx.api.get(`${api}/settings`);
        } catch (e) {
                if (e.status === 404) {
                        error.textContent = s.noDomain;
                        newB.disabled = true;
                }
        }
        await loadFolders ();
        await showFolder (s.inbox);
}
