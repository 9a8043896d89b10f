// SPDX-License-Identifier: Apache-2.0
// page.js - the groups area of the portal: the caller's groups (GET .../groups?member=me),
// and a group's members (GET .../groups/{id}/members). An owner of the group, or a holder of
// groups.manage, may remove members; anyone may leave a group (the server refuses the last
// owner). Styles are the shell's (table, card).

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
                actions : 'Actions'
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
                actions : 'Aktionen'
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

        async function showMembers (g)
        {
                const members = await all (`${api}/${g.id}/members`);
                const me = members.find((m) => m.user_id === ctx.user.id);
                const manage = ctx.can('groups.manage') || (me && me.role === 'owner');
                const rows = members.map((m) => {
                        const actions = h ('td');
                        if (manage && m.user_id !== ctx.user.id) {
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
                        h ('table', {},
                           h ('thead', {},
                              h ('tr', {}, h ('th', {scope : 'col'}, s.name),
                                 h ('th', {scope : 'col'}, s.username),
                                 h ('th', {scope : 'col'}, s.role),
                                 h ('th', {scope : 'col'}, s.actions))),
                           h ('tbody', {}, rows)),
                        me ? h ('p', {}, leave) : null);
                detail.hidden = false;
        }

        root.append(h ('h1', {}, s.title), error, status, h ('h2', {}, s.mine), list, detail);
        await loadGroups ();
}
