// SPDX-License-Identifier: Apache-2.0
// admin-people.js - a school admin's people page (users.manage): the list with search and
// paging (GET .../users?q=&cursor=), creating a person (POST .../users), changing their roles
// and disabling or enabling them (PATCH .../users/{id} with roles or disabled), and "Manage",
// the editor of one person (admin-person.js: name, username, a password, the second factor,
// parent links, erasing). A disabled
// person keeps everything but cannot sign in; their sessions end at once (docs/IMPORT.md,
// "Leavers"). Nobody disables their own account here (the server refuses it too).
import {busy,
        Pager,
        regions,
        roleNames,
        rolePicker,
        schoolApi,
        useStyles,
        withQuery} from './admin-common.js';
import {editPerson} from './admin-person.js';

export async function render (root, ctx)
{
        useStyles ();
        const {h, t} = ctx;
        const base = `${schoolApi (ctx)}/users`;
        const r = regions (ctx);
        const rows = h ('tbody');
        const editor =
                h ('section', {class : 'card', hidden : true, 'aria-labelledby' : 'people-edit'});
        const person =
                h ('section', {class : 'card', hidden : true, 'aria-labelledby' : 'person-title'});

        const search = h ('input', {id : 'people-q', type : 'search', maxlength : 200});
        const pager = new Pager (ctx, draw);
        const find = () => busy (
                null, r, () => pager.load(withQuery (base, {q : search.value.trim(), limit : 20})));

        function draw (people)
        {
                rows.replaceChildren(...people.map(row));
                if (!people.length)
                        rows.append(h ('tr', {}, h ('td', {colspan : 5}, t ('admin.people.none'))));
        }

        function row (p)
        {
                const self = ctx.user && ctx.user.id === p.id;
                const disabled = !!p.disabled_at;
                const edit = h ('button', {
                        type : 'button',
                        'aria-label' : t ('admin.people.edit.for', {name : p.display_name}),
                        onclick : () => openEditor (p)
                },
                                t ('admin.people.edit'));
                const manage = h ('button', {
                        type : 'button',
                        'aria-label' : t ('admin.person.open.for', {name : p.display_name}),
                        onclick : () => openPerson (p)
                },
                                  t ('admin.person.open'));
                const toggle =
                        self ? null
                             : h ('button', {
                                       type : 'button',
                                       'aria-label' : t (disabled ? 'admin.people.enable.for'
                                                                  : 'admin.people.disable.for',
                                                         {name : p.display_name}),
                               },
                                  t (disabled ? 'admin.people.enable' : 'admin.people.disable'));
                if (toggle)
                        toggle.addEventListener(
                                'click', () => busy (toggle, r, async () => {
                                                 await ctx.api.patch(`${base}/${p.id}`,
                                                                     {disabled : !disabled});
                                                 await pager.reload();
                                                 r.done(t (disabled ? 'admin.people.enabled'
                                                                    : 'admin.people.disabled',
                                                           {name : p.display_name}));
                                         }));
                return h ('tr', {class : disabled ? 'off' : null}, h ('td', {}, p.display_name),
                          h ('td', {}, p.username), h ('td', {}, roleNames (ctx, p.roles)),
                          h ('td', {},
                             t (disabled ? 'admin.people.state.disabled'
                                         : 'admin.people.state.active')),
                          h ('td', {class : 'actions'}, edit, manage, toggle));
        }

        function openEditor (p)
        {
                const picker = rolePicker (ctx, 'edit-role', p.roles);
                const save = h ('button', {type : 'submit', class : 'primary'}, t ('admin.save'));
                const cancel =
                        h ('button', {type : 'button', onclick : () => { editor.hidden = true; }},
                           t ('admin.cancel'));
                const form = h ('form', {}, picker.fieldset,
                                h ('div', {class : 'buttons'}, save, cancel));
                form.addEventListener('submit', (ev) => {
                        ev.preventDefault();
                        busy (save, r, async () => {
                                const roles = picker.value();
                                if (!roles.length)
                                        throw new Error (t ('admin.people.roles.needed'));
                                await ctx.api.patch(`${base}/${p.id}`, {roles});
                                editor.hidden = true;
                                await pager.reload();
                                r.done(t ('admin.people.saved', {name : p.display_name}));
                        });
                });
                editor.replaceChildren(h ('h2', {id : 'people-edit'},
                                          t ('admin.people.edit.title', {name : p.display_name})),
                                       form);
                editor.hidden = false;
                editor.querySelector('input').focus();
        }

        // Everything else about one person, from the person as the server has them now.
        function openPerson (p)
        {
                editor.hidden = true;
                const close = () => { person.hidden = true; };
                busy (null, r, async () => {
                        const now = await ctx.api.get(`${base}/${p.id}`);
                        await editPerson (person, ctx, now, base, r, () => pager.reload(), close);
                        person.hidden = false;
                        person.querySelector('input').focus();
                });
        }

        // Creating a person.
        const name = h ('input',
                        {id : 'new-name', required : true, maxlength : 200, autocomplete : 'off'});
        const username = h ('input', {
                id : 'new-username',
                required : true,
                pattern : '[a-z0-9._\\-]{2,64}',
                autocapitalize : 'none',
                spellcheck : 'false',
                autocomplete : 'off',
                'aria-describedby' : 'new-username-hint'
        });
        const password = h ('input', {
                id : 'new-password',
                type : 'password',
                minlength : 8,
                autocomplete : 'new-password',
                'aria-describedby' : 'new-password-hint'
        });
        const picker = rolePicker (ctx, 'new-role', [ 'student' ]);
        const create =
                h ('button', {type : 'submit', class : 'primary'}, t ('admin.people.create'));
        const createForm =
                h ('form', {class : 'card', novalidate : true, 'aria-labelledby' : 'people-new'},
                   h ('h2', {id : 'people-new'}, t ('admin.people.new')),
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'new-name'
                         },
                         t ('admin.people.name')),
                      name),
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'new-username'
                         },
                         t ('admin.people.username')),
                      username,
                      h ('small', {id : 'new-username-hint'}, t ('admin.people.username.hint'))),
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'new-password'
                         },
                         t ('admin.people.password')),
                      password,
                      h ('small', {id : 'new-password-hint'}, t ('admin.people.password.hint'))),
                   picker.fieldset, create);
        createForm.addEventListener('submit', (ev) => {
                ev.preventDefault();
                busy (create, r, async () => {
                        const body = {
                                display_name : name.value.trim(),
                                username : username.value.trim(),
                                roles : picker.value()
                        };
                        if (!body.display_name || !body.username)
                                throw new Error (t ('admin.people.fill'));
                        if (!body.roles.length)
                                throw new Error (t ('admin.people.roles.needed'));
                        if (password.value)
                                body.password = password.value;
                        const made = await ctx.api.post(base, body);
                        name.value = username.value = password.value = '';
                        search.value = made.username;
                        await find ();
                        r.done(t ('admin.people.created', {name : made.display_name}));
                });
        });

        const searchForm =
                h ('form', {class : 'search', role : 'search'},
                   h ('label',
                      {for: 'people-q'
                      },
                      t ('admin.people.search')),
                   search, h ('button', {type : 'submit'}, t ('admin.people.search.go')));
        searchForm.addEventListener('submit', (ev) => {
                ev.preventDefault();
                find ();
        });

        root.append(h ('h1', {}, t ('admin.people.title')), r.error, r.status, searchForm,
                    h ('div', {class : 'scroll', tabindex : '0'},
                       h ('table', {}, h ('caption', {class : 'muted'}, t ('admin.people.caption')),
                          h ('thead', {},
                             h ('tr', {}, h ('th', {scope : 'col'}, t ('admin.people.name')),
                                h ('th', {scope : 'col'}, t ('admin.people.username')),
                                h ('th', {scope : 'col'}, t ('admin.roles')),
                                h ('th', {scope : 'col'}, t ('admin.people.state')),
                                h ('th', {scope : 'col'}, t ('admin.actions')))),
                          rows)),
                    pager.element, editor, person, createForm);
        await pager.load(withQuery (base, {limit : 20}));
}
