// SPDX-License-Identifier: Apache-2.0
// page.js - the files area of the portal: the caller's home folder and the folders of the
// groups they are in (GET .../groups?member=me), switched with one select. Browse folders,
// upload (a file picker or drag and drop, with a progress bar), download, rename, move to
// another folder of any of these spaces, make folders, move to the trash and restore from it,
// and share links (share.js). Everything goes through the files plugin's REST routes
// (plugins/files/README.md) with the browser's session cookie; uploads use XMLHttpRequest,
// the one browser API that reports upload progress, and send the CSRF token themselves.

import {catalogue} from './strings.js';
import {loadLinks, shareCard} from './share.js';

function linkStyle ()
{
        const href = new URL ('files.css', import.meta.url).pathname;
        if (!document.querySelector(`link[href="${href}"]`)) {
                const l = document.createElement('link');
                l.rel = 'stylesheet';
                l.href = href;
                document.head.append(l);
        }
}

function sizeText (n, lang)
{
        if (n === undefined || n === null)
                return '';
        const units = [ 'B', 'KB', 'MB', 'GB' ];
        let i = 0;
        while (n >= 1024 && i < units.length - 1) {
                n /= 1024;
                i += 1;
        }
        return `${n.toLocaleString(lang, {maximumFractionDigits : i ? 1 : 0})} ${units[i]}`;
}

export async function render (root, ctx)
{
        linkStyle ();
        const cat = catalogue (ctx.lang);
        const {s, tr} = cat;
        const h = ctx.h;
        const school = encodeURIComponent (ctx.school.slug);
        const api = `/api/v1/schools/${school}/files`;
        const enc = (p) => p.split('/').filter(Boolean).map(encodeURIComponent).join('/');
        // The spaces one may see: "home", and "groups/<id>" for every group one is in.
        // `write`: whether the caller may change that space (a group's: its owners, members
        // holding files.write, files.manage; the server decides, this only hides buttons).
        const spaces = [ {key : 'home', label : s.home, write : true} ];
        const writable = () => (spaces.find((x) => x.key === space) || {}).write;
        let space = 'home';
        const url = (p, sp = space) => `${api}/${sp}/${enc (p)}`;
        const spaceName = (key) => (spaces.find((x) => x.key === key) || {label : key}).label;
        let folder = '';

        const status = h ('p', {class : 'status', role : 'status'});
        const error = h ('p', {class : 'error', role : 'alert'});
        const crumbs = h ('p', {class : 'crumbs'});
        const table = h ('table', {class : 'files'});
        const panel = h ('div', {class : 'panel'});
        const linksBox =
                h ('section', {class : 'links', hidden : true, 'aria-labelledby' : 'share-links'});
        const spaceSelect = h ('select', {id : 'files-space'});
        const trashBox =
                h ('section', {class : 'trash', hidden : true, 'aria-label' : s.showTrash});
        const progress =
                h ('progress', {id : 'files-progress', max : '100', value : '0', hidden : true});
        const progressLabel = h ('label', {for: 'files-progress', hidden: true
        });

        const fail = (e) => { error.textContent = tr ('failed', {msg : e.message}); };
        const say = (text, e) => {
                if (e)
                        return fail (e);
                error.textContent = '';
                status.textContent = text;
        };

        async function load ()
        {
                drop.hidden = mkdir.hidden = !writable ();
                const page = await ctx.api.get(url (folder) + (folder ? '/' : '') + '?limit=500');
                crumbs.replaceChildren(h ('span', {}, `${spaceName (space)} · ${s.path}: `),
                                       `/${folder}`);
                const head = h ('thead', {},
                                h ('tr', {}, h ('th', {scope : 'col'}, s.name),
                                   h ('th', {scope : 'col'}, s.size),
                                   h ('th', {scope : 'col'}, s.modified),
                                   h ('th', {scope : 'col'}, s.actions)));
                const body = h ('tbody');
                if (folder) {
                        const up = h ('button', {type : 'button', class : 'link'}, `↑ ${s.up}`);
                        up.addEventListener('click',
                                            () => open (folder.split('/').slice(0, -1).join('/')));
                        body.append(h ('tr', {}, h ('td', {colspan : '4'}, up)));
                }
                for (const item of page.items)
                        body.append(row (item));
                if (!page.items.length)
                        body.append(h ('tr', {}, h ('td', {colspan : '4'}, s.empty)));
                table.replaceChildren(head, body);
        }

        function open (path)
        {
                folder = path;
                panel.replaceChildren();
                load ().catch(fail);
        }

        // The form that moves `item` (at `path`) to a folder of any space one may see.
        function moveCard (item, path)
        {
                const where = h ('select', {id : 'move-space'},
                                 spaces.filter((x) => x.write)
                                         .map((x) => h ('option',
                                                        {value : x.key, selected : x.key === space},
                                                        x.label)));
                const into = h ('input', {id : 'move-folder', value : folder});
                const close = h ('button', {type : 'button'}, s.cancel);
                close.addEventListener('click', () => panel.replaceChildren());
                const form =
                        h ('form', {},
                           h ('div', {class : 'field'},
                              h ('label',
                                 {for: 'move-space'
                                 },
                                 s.moveSpace),
                              where),
                           h ('div', {class : 'field'},
                              h ('label',
                                 {for: 'move-folder'
                                 },
                                 s.moveFolder),
                              into),
                           h ('p', {class : 'tools'},
                              h ('button', {type : 'submit', class : 'primary'}, s.moveGo), close));
                form.addEventListener('submit', async (ev) => {
                        ev.preventDefault();
                        const dir = into.value.split('/').filter(Boolean).join('/');
                        const to = dir ? `${dir}/${item.name}` : item.name;
                        try {
                                await ctx.api.post(`${url (path)}?action=move`,
                                                   {to, space : where.value});
                                panel.replaceChildren();
                                await load ();
                                say (tr ('moved', {
                                        name : item.name,
                                        where : `${spaceName (where.value)}: /${dir}`
                                }));
                        } catch (e) {
                                fail (e);
                        }
                });
                panel.replaceChildren(
                        h ('section', {class : 'card', 'aria-labelledby' : 'move-title'},
                           h ('h2', {id : 'move-title'}, tr ('moveTitle', {name : path})), form));
                where.focus();
        }

        function row (item)
        {
                const path = folder ? `${folder}/${item.name}` : item.name;
                const nameCell = h ('td');
                if (item.kind === 'folder') {
                        const b = h ('button', {type : 'button', class : 'link folder'},
                                     `📁 ${item.name}`);
                        b.setAttribute('aria-label', `${s.folder} ${item.name}`);
                        b.addEventListener('click', () => open (path));
                        nameCell.append(b);
                } else {
                        nameCell.append(h ('a', {
                                href : url (path),
                                download : item.name,
                                'aria-label' : tr ('download', {name : item.name})
                        },
                                           item.name));
                }
                const rename = h ('button', {type : 'button'}, s.rename);
                rename.setAttribute('aria-label', `${s.rename}: ${item.name}`);
                rename.addEventListener('click', () => renameForm (nameCell, item, path));
                const move =
                        h ('button', {type : 'button', 'aria-label' : `${s.move}: ${item.name}`},
                           s.move);
                move.addEventListener('click', () => moveCard (item, path));
                let share = null;
                if (item.kind === 'file' && ctx.can('files.share')) {
                        share = h ('button',
                                   {type : 'button', 'aria-label' : `${s.share}: ${item.name}`},
                                   s.share);
                        share.addEventListener('click', () => {
                                panel.replaceChildren(shareCard (ctx, cat, url (path), item, path,
                                                                 () => panel.replaceChildren()));
                                panel.querySelector('select').focus();
                        });
                }
                const trash = h ('button', {type : 'button'}, s.trash);
                trash.setAttribute('aria-label', `${s.trash}: ${item.name}`);
                trash.addEventListener('click', async () => {
                        try {
                                await ctx.api.del(url (path));
                                await load ();
                                say (tr ('trashed', {name : item.name}));
                        } catch (e) {
                                fail (e);
                        }
                });
                const when = item.modified ? new Date (item.modified).toLocaleString(ctx.lang) : '';
                return h ('tr', {}, nameCell,
                          h ('td', {}, item.kind === 'file' ? sizeText (item.size, ctx.lang) : ''),
                          h ('td', {}, when),
                          h ('td', {class : 'actions'}, writable () ? [ rename, move ] : null,
                             share, writable () ? trash : null));
        }

        function renameForm (cell, item, path)
        {
                const id = `rename-${item.id}`;
                const input = h ('input', {id, value : item.name, required : true});
                const form = h ('form', {class : 'inline'},
                                h ('label',
                                   {for: id
                                   },
                                   tr ('newName', {name : item.name})),
                                input, h ('button', {type : 'submit', class : 'primary'}, s.save));
                const cancel = h ('button', {type : 'button'}, s.cancel);
                cancel.addEventListener('click', () => load ().catch(fail));
                form.append(cancel);
                form.addEventListener('submit', async (ev) => {
                        ev.preventDefault();
                        const to = folder ? `${folder}/${input.value.trim()}` : input.value.trim();
                        try {
                                await ctx.api.post(`${url (path)}?action=move`, {to});
                                say ('');
                                await load ();
                        } catch (e) {
                                fail (e);
                        }
                });
                cell.replaceChildren(form);
                input.focus();
                input.select();
        }

        function upload (file)
        {
                return new Promise ((resolve, reject) => {
                        const xhr = new XMLHttpRequest ();
                        const target = url (folder ? `${folder}/${file.name}` : file.name);
                        xhr.open('PUT', target);
                        xhr.setRequestHeader('X-CSRF-Token', ctx.api.csrf());
                        xhr.setRequestHeader('Content-Type',
                                             file.type || 'application/octet-stream');
                        progress.hidden = false;
                        progressLabel.hidden = false;
                        progressLabel.textContent = tr ('uploading', {name : file.name});
                        progress.value = 0;
                        xhr.upload.addEventListener('progress', (ev) => {
                                if (ev.lengthComputable)
                                        progress.value = Math.round((ev.loaded / ev.total) * 100);
                        });
                        xhr.addEventListener('load', () => {
                                progress.value = 100;
                                if (xhr.status >= 200 && xhr.status < 300)
                                        resolve ();
                                else {
                                        let msg = `HTTP ${xhr.status}`;
                                        try {
                                                msg = JSON.parse(xhr.responseText).detail || msg;
                                        } catch (e) {
                                                // not a problem+json answer: the status says enough
                                        }
                                        reject (new Error (msg));
                                }
                        });
                        xhr.addEventListener('error', () => reject (new Error ('network error')));
                        xhr.send(file);
                });
        }

        async function uploadAll (files)
        {
                try {
                        for (const f of files) {
                                await upload (f);
                                say (tr ('uploaded', {name : f.name}));
                        }
                        await load ();
                } catch (e) {
                        fail (e);
                } finally {
                        progress.hidden = true;
                        progressLabel.hidden = true;
                }
        }

        const picker = h ('input', {id : 'files-upload', type : 'file', multiple : true});
        picker.addEventListener('change', () => {
                uploadAll ([...picker.files ]);
                picker.value = '';
        });
        const drop = h ('div', {class : 'drop'},
                        h ('label',
                           {for: 'files-upload'
                           },
                           s.upload),
                        picker, h ('span', {class : 'muted'}, s.drop), progressLabel, progress);
        drop.addEventListener('dragover', (ev) => {
                ev.preventDefault();
                drop.classList.add('over');
        });
        drop.addEventListener('dragleave', () => drop.classList.remove('over'));
        drop.addEventListener('drop', (ev) => {
                ev.preventDefault();
                drop.classList.remove('over');
                uploadAll ([...ev.dataTransfer.files ]);
        });

        const folderName = h ('input', {id : 'files-folder', required : true});
        const mkdir = h ('form', {class : 'inline'}, h ('label', {for: 'files-folder'
                         }, s.newFolder), folderName, h ('button', {type : 'submit'}, s.create));
        mkdir.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const name = folderName.value.trim();
                if (!name)
                        return;
                try {
                        await ctx.api.post(
                                `${url (folder ? `${folder}/${name}` : name)}?action=mkdir`);
                        folderName.value = '';
                        await load ();
                } catch (e) {
                        fail (e);
                }
        });

        const trashButton = h ('button', {type : 'button', 'aria-expanded' : 'false'}, s.showTrash);
        trashButton.addEventListener('click', async () => {
                const show = trashBox.hidden;
                trashButton.setAttribute('aria-expanded', String (show));
                trashBox.hidden = !show;
                if (show)
                        await loadTrash ().catch(fail);
        });

        async function loadTrash ()
        {
                const page = await ctx.api.get(`${api}/trash?space=${encodeURIComponent (space)}`);
                const list = h ('ul');
                for (const t of page.items) {
                        const b = h ('button', {type : 'button'}, s.restore);
                        b.setAttribute('aria-label', `${s.restore}: ${t.path}`);
                        b.addEventListener('click', async () => {
                                try {
                                        await ctx.api.post(`${api}/trash/${
                                                encodeURIComponent (t.id)}/restore`);
                                        await Promise.all([ load (), loadTrash () ]);
                                } catch (e) {
                                        fail (e);
                                }
                        });
                        list.append(h ('li', {}, `${t.path} `, writable () ? b : null));
                }
                trashBox.replaceChildren(h ('h2', {}, s.showTrash),
                                         page.items.length ? list : h ('p', {}, s.trashEmpty));
        }

        let linksButton = null;
        if (ctx.can('files.share')) {
                linksButton = h ('button', {type : 'button', 'aria-expanded' : 'false'}, s.links);
                linksButton.addEventListener('click', async () => {
                        const show = linksBox.hidden;
                        linksButton.setAttribute('aria-expanded', String (show));
                        linksBox.hidden = !show;
                        if (show)
                                await loadLinks (ctx, cat, api, linksBox, spaceName, say)
                                        .catch(fail);
                });
        }

        // The groups one is in, each with its folder. Without the groups module (or when the
        // list fails) the page shows the home folder alone.
        try {
                const mine =
                        await ctx.api.get(`/api/v1/schools/${school}/groups?member=me&limit=200`);
                for (const g of mine.items)
                        spaces.push({
                                key : `groups/${g.id}`,
                                label : tr ('groupSpace', {name : g.name}),
                                write : g.my_role === 'owner' || ctx.can('files.write') ||
                                                ctx.can('files.manage')
                        });
        } catch (e) {
                // no groups module for this school: home only
        }
        spaceSelect.replaceChildren(...spaces.map((x) => h ('option', {value : x.key}, x.label)));
        spaceSelect.addEventListener('change', () => {
                space = spaceSelect.value;
                trashBox.hidden = true;
                trashButton.setAttribute('aria-expanded', 'false');
                open ('');
        });
        const chooser = h ('div', {class : 'field space'}, h ('label', {for: 'files-space'
                           }, s.space), spaceSelect);

        root.append(h ('h1', {}, s.title), error, status, spaces.length > 1 ? chooser : null, drop,
                    h ('div', {class : 'tools'}, mkdir, trashButton, linksButton), crumbs, panel,
                    h ('div',
                       {class : 'scroll', tabindex : '0', role : 'region', 'aria-label' : s.title},
                       table),
                    trashBox, linksBox);
        await load ();
}
