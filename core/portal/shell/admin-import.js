// SPDX-License-Identifier: Apache-2.0
// admin-import.js - importing people from a CSV file (docs/IMPORT.md), with the dry run shown
// before anything is written: the file goes to POST .../users/import?dry_run=true, whose
// answer (who is created, changed, moved, disabled; errors per line) is drawn as a preview;
// only "Apply" sends the same file without dry_run. Changing the file or an option throws the
// preview away, so what is applied is always what was previewed.
import {busy, regions, ROLES, schoolApi, useStyles, withQuery} from './admin-common.js';

const SHOWN_ROWS = 500; // a preview of a whole school's file would be a very long table

export async function render (root, ctx)
{
        useStyles ();
        const {h, t} = ctx;
        const url = `${schoolApi (ctx)}/users/import`;
        const r = regions (ctx);
        const preview =
                h ('section',
                   {class : 'preview', hidden : true, 'aria-labelledby' : 'import-preview'});

        const file = h ('input',
                        {id : 'import-file', type : 'file', accept : '.csv,text/csv,.txt,.dat'});
        const role = h ('select', {id : 'import-role', 'aria-describedby' : 'import-role-hint'},
                        h ('option', {value : ''}, t ('admin.import.role.none')),
                        ROLES.map((x) => h ('option', {value : x}, t (`admin.role.${x}`))));
        const leavers = h ('input', {id : 'import-leavers', type : 'checkbox'});
        const force = h ('input', {id : 'import-force', type : 'checkbox'});
        const forceField = h ('div', {class : 'check', hidden : true}, force, h ('label', {for: 'import-force'
                              }, t ('admin.import.force')));
        const check =
                h ('button', {type : 'submit', class : 'primary'}, t ('admin.import.preview'));
        let body = null; // the file as previewed

        const params = (dry) => ({
                dry_run : dry ? 'true' : null,
                default_role : role.value,
                remove_missing : leavers.checked ? 'disable' : null,
                force : leavers.checked && force.checked ? 'true' : null
        });
        const send = (dry) => ctx.api.post(withQuery (url, params (dry)), body);
        const forget = () => {
                body = null;
                preview.hidden = true;
                preview.replaceChildren();
        };
        for (const el of [file, role, leavers, force])
                el.addEventListener('change', forget);

        const form =
                h ('form', {class : 'card', 'aria-labelledby' : 'import-file-title'},
                   h ('h2', {id : 'import-file-title'}, t ('admin.import.file.title')),
                   h ('p', {}, t ('admin.import.intro')),
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'import-file'
                         },
                         t ('admin.import.file')),
                      file),
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'import-role'
                         },
                         t ('admin.import.role')),
                      role, h ('small', {id : 'import-role-hint'}, t ('admin.import.role.hint'))),
                   h ('div', {class : 'check'}, leavers, h ('label', {for: 'import-leavers'
                      }, t ('admin.import.leavers'))), forceField, check);
        form.addEventListener('submit', (ev) => {
                ev.preventDefault();
                busy (check, r, async () => {
                        forget ();
                        const f = file.files[0];
                        if (!f)
                                throw new Error (t ('admin.import.nofile'));
                        // The type the route wants, whatever the browser guessed (.csv is
                        // often application/vnd.ms-excel on Windows).
                        body = new Blob ([ await f.arrayBuffer() ], {type : 'text/csv'});
                        const out = await send (true);
                        forceField.hidden = !(leavers.checked && out.partial_file);
                        drawPreview (out);
                        r.done(t ('admin.import.previewed'));
                        preview.querySelector('h2').focus();
                });
        });

        function drawPreview (out)
        {
                const apply = h ('button', {type : 'button', class : 'primary'},
                                 t ('admin.import.apply'));
                apply.addEventListener('click', () => busy (apply, r, async () => {
                                                        const done = await send (false);
                                                        forget ();
                                                        file.value = '';
                                                        r.done(t ('admin.import.applied', {
                                                                created : done.created,
                                                                updated : done.updated + done.moved,
                                                                disabled : done.disabled,
                                                                errors : done.errors
                                                        }));
                                                }));
                const counts = [
                        [ 'created', out.created ], [ 'updated', out.updated ],
                        [ 'moved', out.moved ], [ 'unchanged', out.unchanged ],
                        [ 'errors', out.errors ], [ 'missing', out.missing.length ]
                ];
                const notes = [];
                if (out.partial_file)
                        notes.push(t ('admin.import.partial', {n : out.missing.length}));
                for (const w of out.warnings || [])
                        notes.push(w);
                if (out.groups && out.groups.classes_created.length)
                        notes.push(t ('admin.import.classes',
                                      {names : out.groups.classes_created.join(', ')}));
                if (out.groups && out.groups.courses_created.length)
                        notes.push(t ('admin.import.courses',
                                      {names : out.groups.courses_created.join(', ')}));
                if ((out.ignored_columns || []).length)
                        notes.push(t ('admin.import.ignored',
                                      {cols : out.ignored_columns.join(', ')}));
                const interesting = out.rows.filter((x) => x.status !== 'unchanged');
                // replaceChildren() would write out a null: leave the missing parts out.
                const parts = [
                        h ('h2', {id : 'import-preview', tabindex : '-1'},
                           t ('admin.import.preview.title')),
                        h ('p', {}, t ('admin.import.nothing.yet')),
                        h ('dl', {class : 'counts'},
                           counts.flatMap(
                                   ([ k, v ]) => [h ('dt', {}, t (`admin.import.count.${k}`)),
                                                  h ('dd', {}, String (v))])),
                        notes.length
                                ? h ('ul', {class : 'notes'}, notes.map((x) => h ('li', {}, x)))
                                : null,
                        interesting.length ? rowsTable (interesting)
                                           : h ('p', {}, t ('admin.import.no.changes')),
                        out.missing.length ? missingList (out) : null,
                        h ('div', {class : 'buttons'}, apply,
                           h ('button', {type : 'button', onclick : forget}, t ('admin.cancel')))
                ];
                preview.replaceChildren(...parts.filter(Boolean));
                preview.hidden = false;
        }

        function rowsTable (list)
        {
                const shown = list.slice(0, SHOWN_ROWS);
                return h ('div', {class : 'scroll', tabindex : '0'},
                          h ('table', {class : 'import-rows'},
                             h ('caption', {}, t ('admin.import.rows.caption')),
                             h ('thead', {},
                                h ('tr', {}, h ('th', {scope : 'col'}, t ('admin.import.line')),
                                   h ('th', {scope : 'col'}, t ('admin.import.status')),
                                   h ('th', {scope : 'col'}, t ('admin.people.username')),
                                   h ('th', {scope : 'col'}, t ('admin.import.details')))),
                             h ('tbody', {},
                                shown.map((x) => h ('tr', {class : `st-${x.status}`},
                                                    h ('td', {}, String (x.line)),
                                                    h ('td', {}, t (`admin.import.st.${x.status}`)),
                                                    h ('td', {}, x.username || ''),
                                                    h ('td', {}, details (x)))))),
                          list.length > SHOWN_ROWS
                                  ? h ('p', {class : 'muted'},
                                       t ('admin.import.more', {n : list.length - SHOWN_ROWS}))
                                  : null);
        }

        function details (x)
        {
                if (x.status === 'error')
                        return x.error || '';
                const parts = [];
                if (x.class)
                        parts.push(t ('admin.import.move',
                                      {old : x.class.old || '–', new : x.class.new || '–'}));
                for (const [k, v] of Object.entries(x.changes || {}))
                        parts.push(`${k}: ${show (v.old)} → ${show (v.new)}`);
                return parts.join('; ');
        }

        function show (v)
        {
                if (v === null || v === undefined || v === '')
                        return '–';
                return Array.isArray(v) ? v.join(', ') : String (v);
        }

        function missingList (out)
        {
                return h ('section', {'aria-labelledby' : 'import-missing'},
                          h ('h3', {id : 'import-missing'},
                             t (leavers.checked ? 'admin.import.missing.disable'
                                                : 'admin.import.missing.keep')),
                          h ('ul', {class : 'missing'},
                             out.missing.slice(0, SHOWN_ROWS)
                                     .map((m) => h ('li', {},
                                                    `${m.display_name} (${m.username}${
                                                            m.class ? ', ' + m.class : ''})`))));
        }

        root.append(h ('h1', {}, t ('admin.import.title')), r.error, r.status, form, preview);
}
