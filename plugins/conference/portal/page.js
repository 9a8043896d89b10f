// SPDX-License-Identifier: Apache-2.0
// page.js - the conference area of the portal: the rooms the caller may join (GET .../rooms),
// a join button (POST .../rooms/{id}/join answers a signed URL of the school's Jitsi or
// BigBlueButton; the page offers it as a link that opens in a new tab), and, for those who
// may create rooms, a form for a new one. A room's moderators also make, see and revoke its
// guest links and end its meeting (guests.js). The figures are the operators' (usage page).

import {guestStrings, moderatorTools} from './guests.js';

const strings = {
        en : {
                title : 'Video rooms',
                none : 'There are no rooms for you.',
                join : 'Join',
                joinRoom : 'Join {name}',
                open : 'Open {name} ({backend})',
                create : 'New room',
                name : 'Name',
                save : 'Create room',
                created : 'Room {name} is ready.',
                moderator : 'You moderate this room.',
                failed : 'That did not work: {msg}'
        },
        de : {
                title : 'Videoräume',
                none : 'Für Sie gibt es keine Räume.',
                join : 'Beitreten',
                joinRoom : '{name} beitreten',
                open : '{name} öffnen ({backend})',
                create : 'Neuer Raum',
                name : 'Name',
                save : 'Raum anlegen',
                created : 'Der Raum {name} ist bereit.',
                moderator : 'Sie moderieren diesen Raum.',
                failed : 'Das hat nicht geklappt: {msg}'
        },
};

export async function render (root, ctx)
{
        const s = Object.assign({}, strings[ctx.lang] || strings.en,
                                guestStrings[ctx.lang] || guestStrings.en);
        const tr = (k, args) => Object.entries(args || {})
                                        .reduce((acc, [ a, v ]) => acc.replace(`{${a}}`, v), s[k]);
        const h = ctx.h;
        const api = `/api/v1/schools/${encodeURIComponent (ctx.school.slug)}/conference`;
        const error = h ('p', {class : 'error', role : 'alert'});
        const status = h ('p', {role : 'status'});
        const list = h ('div', {class : 'rooms'});
        const fail = (e) => { error.textContent = tr ('failed', {msg : e.message}); };
        const say = (text, e) => {
                if (e)
                        return fail (e);
                error.textContent = '';
                status.textContent = text;
        };

        async function load ()
        {
                const page = await ctx.api.get(`${api}/rooms?limit=100`);
                list.replaceChildren(...page.items.map((room) => {
                        const slot = h ('p');
                        const b = h ('button', {
                                type : 'button',
                                class : 'primary',
                                'aria-label' : tr ('joinRoom', {name : room.name})
                        },
                                     s.join);
                        b.addEventListener('click', async () => {
                                error.textContent = '';
                                try {
                                        const j =
                                                await ctx.api.post(`${api}/rooms/${room.id}/join`);
                                        // A link the person follows (a new tab), never a redirect:
                                        // the meeting is another site, and the browser's pop-up
                                        // rules stay in charge.
                                        slot.replaceChildren(
                                                h ('a', {
                                                        href : j.url,
                                                        target : '_blank',
                                                        rel : 'noopener noreferrer',
                                                        class : 'join-link'
                                                },
                                                   tr ('open',
                                                       {name : room.name, backend : j.backend})));
                                } catch (e) {
                                        fail (e);
                                }
                        });
                        return h ('article',
                                  {class : 'card', 'aria-labelledby' : `room-${room.id}`},
                                  h ('h2', {id : `room-${room.id}`}, room.name),
                                  room.description ? h ('p', {}, room.description) : null,
                                  room.moderator ? h ('p', {class : 'muted'}, s.moderator) : null,
                                  b, slot,
                                  room.moderator ? moderatorTools (ctx, api, room, s, tr, say) : null);
                }));
                if (!page.items.length)
                        list.replaceChildren(h ('p', {}, s.none));
        }

        root.append(h ('h1', {}, s.title), error, status);
        if (ctx.can('conference.create')) {
                const name = h ('input', {id : 'room-name', required : true, maxlength : '200'});
                const form = h ('form', {class : 'card'}, h ('h2', {}, s.create),
                                h ('div', {class : 'field'}, h ('label', {for: 'room-name'
                                   }, s.name), name), h ('button', {type : 'submit'}, s.save));
                form.addEventListener('submit', async (ev) => {
                        ev.preventDefault();
                        try {
                                const room = await ctx.api.post(`${api}/rooms`,
                                                                {name : name.value.trim()});
                                form.reset();
                                await load ();
                                status.textContent = tr ('created', {name : room.name});
                        } catch (e) {
                                fail (e);
                        }
                });
                root.append(form);
        }
        root.append(list);
        await load ();
}
