// SPDX-License-Identifier: Apache-2.0
// page.js - the groups area of the portal: the caller's groups (GET .../groups?member=me),
// and a group's members (GET .../groups/{id}/members). An owner of the group, or a holder of
// groups.manage, may add people (found with GET .../users?q= by those who hold users.read;
// PUT .../groups/{id}/members/{user_id} as member or owner), change a member's role (the same
// PUT) and remove members; owners who may not list people add someone by username
// (POST .../groups/{id}/members). Anyone may leave a group (the server refuses the last owner).
// In a class or course, holders of users.reset_password (teachers) give a pupil a new one-time
// password (POST /api/v1/schools/{school}/users/{id}/password-reset, docs/ACCOUNTS.md), shown
// once; the pupil chooses their own at the next sign-in.
// Styles are the shell's (table, card).

const strings = {
        en : {
                title : 'Groups',
                mine : 'My groups',
                none : 'You are not in any group.',
                members : 'Members of {name}',
                name : 'Name',
                username : 'Username',
                role : 'Role',
                owner : 'owner',
                member : 'member',
                remove : 'Remove',
                leave : 'Leave this group',
                removed : '{name} is no longer in the group.',
                left : 'You left {name}.',
                count : '{n} members',
                show : 'Show members of {name}',
                failed : 'That did not work: {msg}',
                actions : 'Actions',
                add : 'Add people to {name}',
                find : 'Find a person (name or username)',
                search : 'Search',
                addAs : 'Add as',
                addOne : 'Add {name}',
                added : '{name} is now in the group as {role}.',
                already : 'already in the group',
                noMatch : 'Nobody found.',
                makeOwner : 'Make owner',
                makeMember : 'Make member',
                roleSet : '{name} is now {role}.',
                byName : 'Username of the person to add',
                addName : 'Add',
                reset : 'New password',
                resetFor : 'New password for {name}',
                resetAsk : 'A new password signs {name} out everywhere. Their old password stops working.',
                resetDo : 'Make the new password',
                resetCancel : 'Cancel',
                resetDone : 'One-time password for {name}: {password}. Give it to them; they choose their own at the next sign-in.'
        },
        de : {
                title : 'Gruppen',
                mine : 'Meine Gruppen',
                none : 'Sie sind in keiner Gruppe.',
                members : 'Mitglieder von {name}',
                name : 'Name',
                username : 'Benutzername',
                role : 'Rolle',
                owner : 'Leitung',
                member : 'Mitglied',
                remove : 'Entfernen',
                leave : 'Gruppe verlassen',
                removed : '{name} ist nicht mehr in der Gruppe.',
                left : 'Sie haben {name} verlassen.',
                count : '{n} Mitglieder',
                show : 'Mitglieder von {name} zeigen',
                failed : 'Das hat nicht geklappt: {msg}',
                actions : 'Aktionen',
                add : 'Personen zu {name} hinzufügen',
                find : 'Person suchen (Name oder Benutzername)',
                search : 'Suchen',
                addAs : 'Hinzufügen als',
                addOne : '{name} hinzufügen',
                added : '{name} ist jetzt als {role} in der Gruppe.',
                already : 'schon in der Gruppe',
                noMatch : 'Niemand gefunden.',
                makeOwner : 'Zur Leitung machen',
                makeMember : 'Zum Mitglied machen',
                roleSet : '{name} ist jetzt {role}.',
                byName : 'Benutzername der Person',
                addName : 'Hinzufügen',
                reset : 'Neues Passwort',
                resetFor : 'Neues Passwort für {name}',
                resetAsk : 'Ein neues Passwort meldet {name} überall ab. Das alte Passwort gilt nicht mehr.',
                resetDo : 'Neues Passwort erzeugen',
                resetCancel : 'Abbrechen',
                resetDone : 'Einmal-Passwort für {name}: {password}. Geben Sie es weiter; bei der nächsten Anmeldung wird ein eigenes gewählt.'
        },
};

export async function render (root, ctx)
{
        const s = strings[ctx.lang] || strings.en;
        const tr = (k, args) => Object.entries(args || {})
                                        .reduce((acc, [ a, v ]) => acc.replace(`{${a}}`, v), s[k]);
        const h = ctx.h;
        const api = `/api/v1/schools/${encodeURIComponent (ctx.school.slug)}/groups`;
        const error = h ('p', {class : 'error', role : 'alert'});
        const status = h ('p', {role : 'status'});
        const list = h ('ul', {class : 'groups'});
        const detail =
                h ('section', {class : 'card', hidden : true, 'aria-labelledby' : 'group-members'});
        const fail = (e) => { error.textContent = tr ('failed', {msg : e.message}); };

        async function all (path)
        {
                const out = [];
                let cursor = null;
                do {
                        const page = await ctx.api.get(
                                `${path}${path.includes('?') ? '&' : '?'}limit=200` +
                                (cursor ? `&cursor=${encodeURIComponent (cursor)}` : ''));
                        out.push(...page.items);
                        cursor = page.next_cursor;
                } while (cursor);
                return out;
        }

        async function loadGroups ()
        {
                const groups = await all (`${api}?member=me`);
                list.replaceChildren(...groups.map((g) => {
                        const b = h ('button', {
                                type : 'button',
                                class : 'link',
                                'aria-label' : tr ('show', {name : g.name})
                        },
                                     g.name);
                        b.addEventListener('click', () => showMembers (g).catch(fail));
                        return h ('li', {}, b,
                                  h ('span', {class : 'muted'},
                                     ` · ${tr ('count', {n : g.member_count})}`));
                }));
                if (!groups.length)
                        list.replaceChildren(h ('li', {}, s.none));
        }

        // A wide table scrolls in its own focusable box on a phone, never the page.
        function wide (table)
        {
                const box = h ('div', {tabindex : '0', role : 'region', 'aria-labelledby' : 'group-members'},
                               table);
                box.style.overflowX = 'auto';
                box.style.maxWidth = '100%';
                return box;
        }

        async function showMembers (g)
        {
                const members = await all (`${api}/${g.id}/members`);
                const me = members.find((m) => m.user_id === ctx.user.id);
                const manage = ctx.can('groups.manage') || (me && me.role === 'owner');
                const resets = ctx.can('users.reset_password') &&
                               (g.type === 'class' || g.type === 'course');
                const rows = members.map((m) => {
                        const actions = h ('td');
                        if (manage && m.user_id !== ctx.user.id) {
                                const to = m.role === 'owner' ? 'member' : 'owner';
                                const label = to === 'owner' ? s.makeOwner : s.makeMember;
                                const r = h ('button', {
                                        type : 'button',
                                        'aria-label' : `${label}: ${m.display_name}`
                                },
                                             label);
                                r.addEventListener('click', async () => {
                                        try {
                                                await ctx.api.put(
                                                        `${api}/${g.id}/members/${m.user_id}`,
                                                        {role : to});
                                                await showMembers (g);
                                                status.textContent = tr (
                                                        'roleSet', {name : m.display_name, role : s[to]});
                                        } catch (e) {
                                                fail (e);
                                        }
                                });
                                actions.append(r, ' ');
                                const b = h ('button', {
                                        type : 'button',
                                        'aria-label' : `${s.remove}: ${m.display_name}`
                                },
                                             s.remove);
                                b.addEventListener('click', async () => {
                                        try {
                                                await ctx.api.del(
                                                        `${api}/${g.id}/members/${m.user_id}`);
                                                await Promise.all(
                                                        [ loadGroups (), showMembers (g) ]);
                                                status.textContent =
                                                        tr ('removed', {name : m.display_name});
                                        } catch (e) {
                                                fail (e);
                                        }
                                });
                                actions.append(b);
                        }
                        const pupil = (m.roles || []).length === 1 && m.roles[0] === 'student';
                        if (resets && pupil && m.user_id !== ctx.user.id) {
                                const b = h ('button', {
                                        type : 'button',
                                        'aria-label' : tr ('resetFor', {name : m.display_name})
                                },
                                             s.reset);
                                b.addEventListener('click', () => askReset (g, m));
                                actions.append(actions.childNodes.length ? ' ' : '', b);
                        }
                        return h ('tr', {}, h ('td', {}, m.display_name), h ('td', {}, m.username),
                                  h ('td', {}, s[m.role] || m.role), actions);
                });
                const leave = h ('button', {type : 'button'}, s.leave);
                leave.addEventListener('click', async () => {
                        try {
                                await ctx.api.del(`${api}/${g.id}/members/${ctx.user.id}`);
                                detail.hidden = true;
                                await loadGroups ();
                                status.textContent = tr ('left', {name : g.name});
                        } catch (e) {
                                fail (e);
                        }
                });
                detail.replaceChildren(
                        h ('h2', {id : 'group-members'}, tr ('members', {name : g.name})),
                        wide (h ('table', {},
                           h ('thead', {},
                              h ('tr', {}, h ('th', {scope : 'col'}, s.name),
                                 h ('th', {scope : 'col'}, s.username),
                                 h ('th', {scope : 'col'}, s.role),
                                 h ('th', {scope : 'col'}, s.actions))),
                           h ('tbody', {}, rows))),
                        me ? h ('p', {}, leave) : null,
                        manage ? addForm (g, members) : null);
                detail.hidden = false;
        }

        // A teacher's reset of a pupil's password: asked once more, then the one-time password
        // the server made, shown in the status region (it is not kept anywhere).
        function askReset (g, m)
        {
                const school = encodeURIComponent (ctx.school.slug);
                detail.querySelectorAll('.reset-ask').forEach((b) => b.remove()); /* one at a time */
                const yes = h ('button', {type : 'button'}, s.resetDo);
                const no = h ('button', {type : 'button'}, s.resetCancel);
                const box = h ('div', {class : 'card reset-ask', role : 'group', 'aria-label' : tr ('resetFor', {name : m.display_name})},
                               h ('p', {}, tr ('resetAsk', {name : m.display_name})), yes, ' ', no);
                no.addEventListener('click', () => box.remove());
                yes.addEventListener('click', async () => {
                        yes.disabled = true;
                        try {
                                const r = await ctx.api.post(
                                        `/api/v1/schools/${school}/users/${m.user_id}/password-reset`,
                                        {method : 'password'});
                                box.remove();
                                status.textContent = tr ('resetDone', {name : m.display_name,
                                                                       password : r.password});
                        } catch (e) {
                                yes.disabled = false;
                                fail (e);
                        }
                });
                detail.append(box);
                yes.focus();
        }

        // Adding people: a search of the school's people for those who may list them, and by
        // username for everyone else (POST .../groups/{id}/members {username, role}).
        function addForm (g, members)
        {
                const box = h ('section', {'aria-labelledby' : 'group-add'},
                               h ('h3', {id : 'group-add'}, tr ('add', {name : g.name})));
                const role = h ('select', {id : 'group-add-role'},
                                h ('option', {value : 'member'}, s.member),
                                h ('option', {value : 'owner'}, s.owner));
                const roleField = h ('div', {class : 'field'}, h ('label', {for: 'group-add-role'
                                     }, s.addAs), role);
                if (!ctx.can('users.read')) {
                        const name = h ('input', {
                                id : 'group-add-name',
                                required : true,
                                maxlength : '64',
                                autocomplete : 'off'
                        });
                        const form = h ('form', {},
                                        h ('div', {class : 'field'}, h ('label', {for: 'group-add-name'
                                           }, s.byName), name),
                                        roleField, h ('button', {type : 'submit'}, s.addName));
                        form.addEventListener('submit', async (ev) => {
                                ev.preventDefault();
                                error.textContent = '';
                                try {
                                        const r = role.value;
                                        const who = name.value.trim();
                                        await ctx.api.post(`${api}/${g.id}/members`,
                                                           {username : who, role : r});
                                        await Promise.all([ loadGroups (), showMembers (g) ]);
                                        status.textContent = tr ('added', {name : who, role : s[r]});
                                } catch (e) {
                                        fail (e);
                                }
                        });
                        box.append(form);
                        return box;
                }
                const q = h ('input', {id : 'group-find', type : 'search', required : true});
                const found = h ('ul', {class : 'found'});
                const form = h ('form', {role : 'search'},
                                h ('div', {class : 'field'}, h ('label', {for: 'group-find'
                                   }, s.find), q),
                                roleField, h ('button', {type : 'submit'}, s.search));
                const inGroup = new Set (members.map((m) => m.user_id));
                form.addEventListener('submit', async (ev) => {
                        ev.preventDefault();
                        error.textContent = '';
                        try {
                                const page = await ctx.api.get(
                                        `/api/v1/schools/${encodeURIComponent (ctx.school.slug)}` +
                                        `/users?limit=20&q=${encodeURIComponent (q.value.trim())}`);
                                found.replaceChildren(...page.items.map((u) => {
                                        const who = `${u.display_name} (${u.username})`;
                                        if (inGroup.has(u.id))
                                                return h ('li', {}, who, ' · ',
                                                          h ('span', {class : 'muted'}, s.already));
                                        const b = h ('button', {type : 'button'},
                                                     tr ('addOne', {name : who}));
                                        b.addEventListener('click', async () => {
                                                try {
                                                        const r = role.value;
                                                        await ctx.api.put(
                                                                `${api}/${g.id}/members/${u.id}`,
                                                                {role : r});
                                                        await Promise.all(
                                                                [ loadGroups (), showMembers (g) ]);
                                                        status.textContent = tr (
                                                                'added',
                                                                {name : u.display_name, role : s[r]});
                                                } catch (e) {
                                                        fail (e);
                                                }
                                        });
                                        return h ('li', {}, b);
                                }));
                                if (!page.items.length)
                                        found.replaceChildren(h ('li', {}, s.noMatch));
                        } catch (e) {
                                fail (e);
                        }
                });
                box.append(form, found);
                return box;
        }

        root.append(h ('h1', {}, s.title), error, status, h ('h2', {}, s.mine), list, detail);
        await loadGroups ();
}
