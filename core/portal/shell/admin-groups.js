// SPDX-License-Identifier: Apache-2.0
// admin-groups.js - managing the school's groups (groups.manage; the groups module enabled):
// the groups, searched and paged (GET .../groups?q=), creating one (POST .../groups: the
// creator becomes its owner), and a group's members: added from a search of the school's
// people (GET .../users?q=, PUT .../groups/{id}/members/{user_id}) and removed (DELETE). The
// groups plugin's own page (#/groups) is everyone's view of their own groups; this one is the
// admins'.
import {allPages, busy, Pager, regions, schoolApi, useStyles, withQuery} from './admin-common.js';

const TYPES = [ 'class', 'course', 'workgroup', 'staff', 'custom' ];

export async function render (root, ctx)
{
        useStyles ();
        const {h, t} = ctx;
        const base = `${schoolApi (ctx)}/groups`;
        const r = regions (ctx);
        const rows = h ('tbody');
        const detail =
                h ('section', {class : 'card', hidden : true, 'aria-labelledby' : 'group-title'});
        const search = h ('input', {id : 'groups-q', type : 'search', maxlength : 200});
        const pager = new Pager (ctx, draw);
        const find = () => busy (
                null, r, () => pager.load(withQuery (base, {q : search.value.trim(), limit : 20})));

        function draw (groups)
        {
                rows.replaceChildren(...groups.map(
                        (g) => h ('tr', {}, h ('td', {}, g.name),
                                  h ('td', {}, t (`admin.groups.type.${g.type}`)),
                                  h ('td', {class : 'actions'},
                                     h ('button', {
                                             type : 'button',
                                             'aria-label' :
                                                     t ('admin.groups.open.for', {name : g.name}),
                                             onclick : () => busy (null, r, () => open (g))
                                     },
                                        t ('admin.groups.open'))))));
                if (!groups.length)
                        rows.append(h ('tr', {}, h ('td', {colspan : 3}, t ('admin.groups.none'))));
        }

        async function open (g)
        {
                const list = await allPages (ctx, `${base}/${g.id}/members`);
                const memberRows = list.map((m) => {
                        const b = h ('button', {
                                type : 'button',
                                'aria-label' :
                                        t ('admin.groups.remove.for', {name : m.display_name})
                        },
                                     t ('admin.groups.remove'));
                        b.addEventListener(
                                'click',
                                () => busy (b, r, async () => {
                                        await ctx.api.del(`${base}/${g.id}/members/${m.user_id}`);
                                        await open (g);
                                        r.done(t ('admin.groups.removed',
                                                  {name : m.display_name, group : g.name}));
                                }));
                        return h ('tr', {}, h ('td', {}, m.display_name), h ('td', {}, m.username),
                                  h ('td', {}, t (`admin.groups.role.${m.role}`)),
                                  h ('td', {class : 'actions'}, b));
                });
                const who = h ('input', {id : 'group-add-q', type : 'search', maxlength : 200});
                const role = h ('select', {id : 'group-add-role'},
                                [ 'member', 'owner' ].map((x) => h ('option', {value : x},
                                                                    t (`admin.groups.role.${x}`))));
                const found = h ('ul', {class : 'found', 'aria-live' : 'polite'});
                const lookFor = h ('button', {type : 'submit'}, t ('admin.groups.find'));
                const addForm = h ('form', {role : 'search', class : 'search'},
                                   h ('div', {class : 'field'},
                                      h ('label',
                                         {for: 'group-add-q'
                                         },
                                         t ('admin.groups.add.who')),
                                      who),
                                   h ('div', {class : 'field'}, h ('label', {for: 'group-add-role'
                                      }, t ('admin.groups.add.role')), role), lookFor);
                addForm.addEventListener('submit', (ev) => {
                        ev.preventDefault();
                        busy (lookFor, r, async () => {
                                const q = who.value.trim();
                                const people =
                                        (await ctx.api.get(withQuery (`${schoolApi (ctx)}/users`,
                                                                      {q, limit : 10})))
                                                .items;
                                const inside = new Set (list.map((m) => m.user_id));
                                found.replaceChildren(
                                        ...people.filter((p) => !inside.has(p.id)).map((p) => {
                                                const add = h ('button', {
                                                        type : 'button',
                                                        'aria-label' : t ('admin.groups.add.for',
                                                                          {name : p.display_name})
                                                },
                                                               t ('admin.groups.add'));
                                                add.addEventListener(
                                                        'click',
                                                        () => busy (add, r, async () => {
                                                                await ctx.api.put(
                                                                        `${base}/${g.id}/members/${
                                                                                p.id}`,
                                                                        {role : role.value});
                                                                await open (g);
                                                                r.done(t ('admin.groups.added', {
                                                                        name : p.display_name,
                                                                        group : g.name
                                                                }));
                                                        }));
                                                return h ('li', {},
                                                          `${p.display_name} (${p.username}) `,
                                                          add);
                                        }));
                                if (!found.children.length)
                                        found.append(h ('li', {}, t ('admin.groups.nobody')));
                        });
                });
                detail.replaceChildren(
                        h ('h2', {id : 'group-title', tabindex : '-1'},
                           t ('admin.groups.members.of', {name : g.name})),
                        h ('div', {class : 'scroll', tabindex : '0'},
                           h ('table', {},
                              h ('caption', {class : 'muted'},
                                 t ('admin.groups.count', {n : list.length})),
                              h ('thead', {},
                                 h ('tr', {}, h ('th', {scope : 'col'}, t ('admin.people.name')),
                                    h ('th', {scope : 'col'}, t ('admin.people.username')),
                                    h ('th', {scope : 'col'}, t ('admin.groups.role')),
                                    h ('th', {scope : 'col'}, t ('admin.actions')))),
                              h ('tbody', {}, memberRows))),
                        h ('h3', {}, t ('admin.groups.add.title')), addForm, found);
                detail.hidden = false;
        }

        // Creating a group.
        const name =
                h ('input',
                   {id : 'group-name', required : true, maxlength : 200, autocomplete : 'off'});
        const type = h ('select', {id : 'group-type'},
                        TYPES.map((x) => h ('option', {value : x}, t (`admin.groups.type.${x}`))));
        const create =
                h ('button', {type : 'submit', class : 'primary'}, t ('admin.groups.create'));
        const createForm =
                h ('form', {class : 'card', novalidate : true, 'aria-labelledby' : 'group-new'},
                   h ('h2', {id : 'group-new'}, t ('admin.groups.new')),
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'group-name'
                         },
                         t ('admin.groups.name')),
                      name),
                   h ('div', {class : 'field'}, h ('label', {for: 'group-type'
                      }, t ('admin.groups.type')), type), create);
        createForm.addEventListener('submit', (ev) => {
                ev.preventDefault();
                busy (create, r, async () => {
                        if (!name.value.trim())
                                throw new Error (t ('admin.groups.fill'));
                        const g = await ctx.api.post(base,
                                                     {name : name.value.trim(), type : type.value});
                        name.value = '';
                        search.value = g.name;
                        await find ();
                        await open (g);
                        r.done(t ('admin.groups.created', {name : g.name}));
                });
        });

        const searchForm =
                h ('form', {class : 'search', role : 'search'},
                   h ('label',
                      {for: 'groups-q'
                      },
                      t ('admin.groups.search')),
                   search, h ('button', {type : 'submit'}, t ('admin.people.search.go')));
        searchForm.addEventListener('submit', (ev) => {
                ev.preventDefault();
                find ();
        });
        root.append(h ('h1', {}, t ('admin.groups.title')), r.error, r.status, searchForm,
                    h ('div', {class : 'scroll', tabindex : '0'},
                       h ('table', {}, h ('caption', {class : 'muted'}, t ('admin.groups.caption')),
                          h ('thead', {},
                             h ('tr', {}, h ('th', {scope : 'col'}, t ('admin.groups.name')),
                                h ('th', {scope : 'col'}, t ('admin.groups.type')),
                                h ('th', {scope : 'col'}, t ('admin.actions')))),
                          rows)),
                    pager.element, detail, createForm);
        await pager.load(withQuery (base, {limit : 20}));
}
