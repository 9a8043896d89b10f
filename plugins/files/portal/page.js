// SPDX-License-Identifier: Apache-2.0
// page.js - the files area of the portal: the caller's home folder. Browse folders, upload
// (a file picker or drag and drop, with a progress bar), download, rename, make folders, move
// to the trash and restore from it. Everything goes through the files plugin's REST routes
// (plugins/files/README.md) with the browser's session cookie; uploads use XMLHttpRequest,
// the one browser API that reports upload progress, and send the CSRF token themselves.

const strings = {
        en : {
                title : 'Files',
                home : 'My files',
                name : 'Name',
                size : 'Size',
                modified : 'Modified',
                actions : 'Actions',
                empty : 'This folder is empty.',
                upload : 'Upload files',
                drop : 'or drop files here',
                uploading : 'Uploading {name}',
                uploaded : 'Uploaded {name}.',
                newFolder : 'New folder',
                create : 'Create',
                rename : 'Rename',
                save : 'Save',
                cancel : 'Cancel',
                newName : 'New name for {name}',
                trash : 'Move to trash',
                trashed : '{name} is in the trash.',
                showTrash : 'Trash',
                restore : 'Restore',
                trashEmpty : 'The trash is empty.',
                folder : 'Folder',
                up : 'Up one folder',
                failed : 'That did not work: {msg}',
                download : 'Download {name}',
                path : 'Folder'
        },
        de : {
                title : 'Dateien',
                home : 'Meine Dateien',
                name : 'Name',
                size : 'Größe',
                modified : 'Geändert',
                actions : 'Aktionen',
                empty : 'Dieser Ordner ist leer.',
                upload : 'Dateien hochladen',
                drop : 'oder Dateien hierher ziehen',
                uploading : '{name} wird hochgeladen',
                uploaded : '{name} ist hochgeladen.',
                newFolder : 'Neuer Ordner',
                create : 'Anlegen',
                rename : 'Umbenennen',
                save : 'Speichern',
                cancel : 'Abbrechen',
                newName : 'Neuer Name für {name}',
                trash : 'In den Papierkorb',
                trashed : '{name} liegt im Papierkorb.',
                showTrash : 'Papierkorb',
                restore : 'Wiederherstellen',
                trashEmpty : 'Der Papierkorb ist leer.',
                folder : 'Ordner',
                up : 'Einen Ordner höher',
                failed : 'Das hat nicht geklappt: {msg}',
                download : '{name} herunterladen',
                path : 'Ordner'
        },
};

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
        const s = strings[ctx.lang] || strings.en;
        const tr = (k, args) => Object.entries(args || {})
                                        .reduce((acc, [ a, v ]) => acc.replace(`{${a}}`, v), s[k]);
        const h = ctx.h;
        const school = encodeURIComponent (ctx.school.slug);
        const api = `/api/v1/schools/${school}/files`;
        const enc = (p) => p.split('/').filter(Boolean).map(encodeURIComponent).join('/');
        const url = (p) => `${api}/home/${enc (p)}`;
        let folder = '';

        const status = h ('p', {class : 'status', role : 'status'});
        const error = h ('p', {class : 'error', role : 'alert'});
        const crumbs = h ('p', {class : 'crumbs'});
        const table = h ('table', {class : 'files'});
        const trashBox =
                h ('section', {class : 'trash', hidden : true, 'aria-label' : s.showTrash});
        const progress =
                h ('progress', {id : 'files-progress', max : '100', value : '0', hidden : true});
        const progressLabel = h ('label', {for: 'files-progress', hidden: true
        });

        const fail = (e) => { error.textContent = tr ('failed', {msg : e.message}); };
        const say = (text) => {
                error.textContent = '';
                status.textContent = text;
        };

        async function load ()
        {
                const page = await ctx.api.get(url (folder) + (folder ? '/' : '') + '?limit=500');
                crumbs.replaceChildren(h ('span', {}, `${s.path}: `), `/${folder}`);
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
                load ().catch(fail);
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
                          h ('td', {}, when), h ('td', {class : 'actions'}, rename, trash));
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
                const page = await ctx.api.get(`${api}/trash?space=home`);
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
                        list.append(h ('li', {}, `${t.path} `, b));
                }
                trashBox.replaceChildren(h ('h2', {}, s.showTrash),
                                         page.items.length ? list : h ('p', {}, s.trashEmpty));
        }

        root.append(h ('h1', {}, s.title), error, status, drop,
                    h ('div', {class : 'tools'}, mkdir, trashButton), crumbs, table, trashBox);
        await load ();
}
