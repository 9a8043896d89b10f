// SPDX-License-Identifier: Apache-2.0
// start.js - the start page: who is signed in, what matters today, and the areas they may
// open. "Today" has one block per module that is enabled for the caller (its page is in the
// navigation), each read from that module's public REST routes, in parallel; a block that
// fails says so and leaves the others alone:
//   calendar    GET .../calendar/events?from=&to=   (today's occurrences, midnight to midnight)
//   mail        GET .../mail/folders                 (the INBOX's unread count)
//   files       GET .../files/home/                  (the home folder's newest five files)
//   conference  GET .../conference/rooms             (rooms without a window, or inside it now)
import {h} from './dom.js';
import {t} from './i18n.js';

function block (id, title, body)
{
        return h ('section', {class : 'today-block', 'aria-labelledby' : id}, h ('h3', {id}, title),
                  body);
}

// One block: load() returns the block's content; until then it says "Loading".
function later (id, title, load)
{
        const body = h ('div', {}, h ('p', {class : 'muted'}, t ('loading')));
        load ().then((content) => body.replaceChildren(content),
                     (e) => body.replaceChildren(
                             h ('p', {class : 'error'}, t ('today.failed', {msg : e.message}))));
        return block (id, title, body);
}

function todayBlocks (ctx)
{
        const has = (id) => ctx.nav.some((p) => p.id === id);
        const base = `/api/v1/schools/${encodeURIComponent (ctx.school.slug)}`;
        const list = (items) => h ('ul', {}, items);
        const out = [];
        if (has ('calendar'))
                out.push(later ('today-events', t ('today.events'), async () => {
                        const from = new Date ();
                        from.setHours(0, 0, 0, 0);
                        const to = new Date (from);
                        to.setDate(to.getDate() + 1);
                        const page = await ctx.api.get(`${base}/calendar/events?from=${
                                encodeURIComponent (from.toISOString())}&to=${
                                encodeURIComponent (to.toISOString())}&limit=50`);
                        const time = (x) => new Date (x).toLocaleTimeString(
                                ctx.lang, {hour : '2-digit', minute : '2-digit'});
                        const items = page.items.sort((a, b) => a.start.localeCompare(b.start));
                        return items.length
                                       ? list (items.map(
                                                 (o) => h ('li', {},
                                                           h ('span', {class : 'time'},
                                                              o.all_day ? t ('today.allDay')
                                                                        : `${time (o.start)}–${
                                                                                  time (o.end)}`),
                                                           ' ', o.summary || '')))
                                       : h ('p', {class : 'muted'}, t ('today.noEvents'));
                }));
        if (has ('mail'))
                out.push(later ('today-mail', t ('today.mail'), async () => {
                        const folders = (await ctx.api.get(`${base}/mail/folders`)).items;
                        const inbox = folders.find((f) => f.special === 'inbox');
                        const n = inbox ? inbox.unread : 0;
                        if (!n)
                                return h ('p', {class : 'muted'}, t ('today.unread.none'));
                        return h ('p', {},
                                  h ('a', {href : '#/mail'},
                                     n === 1 ? t ('today.unread.one')
                                             : t ('today.unread.many', {n})));
                }));
        if (has ('files'))
                out.push(later ('today-files', t ('today.files'), async () => {
                        const page = await ctx.api.get(`${base}/files/home/?limit=500`);
                        const files =
                                page.items.filter((f) => f.kind === 'file')
                                        .sort((a, b) =>
                                                      String (b.modified).localeCompare(a.modified))
                                        .slice(0, 5);
                        return files.length ? list (files.map((f) => h ('li', {},
                                                                        h ('a', {href : '#/files'},
                                                                           f.name))))
                                            : h ('p', {class : 'muted'}, t ('today.noFiles'));
                }));
        if (has ('conference'))
                out.push(later ('today-rooms', t ('today.rooms'), async () => {
                        const page = await ctx.api.get(`${base}/conference/rooms?limit=100`);
                        const now = Date.now();
                        const open = page.items.filter(
                                (r) => (!r.starts_at || Date.parse(r.starts_at) <= now) &&
                                       (!r.ends_at || Date.parse(r.ends_at) > now));
                        return open.length
                                       ? list (open.map((r) => h ('li', {},
                                                                  h ('a', {href : '#/conference'},
                                                                     r.name))))
                                       : h ('p', {class : 'muted'}, t ('today.noRooms'));
                }));
        return out;
}

export function renderStart (root, ctx)
{
        /* An operator's answer from /api/v1/me has no name: say what they are. */
        const name =
                (ctx.user && (ctx.user.display_name || ctx.user.username)) || t ('start.operator');
        const items = ctx.nav.map(
                (p) => h ('li', {},
                          h ('a', {href : `#/${p.id}`}, p.label[ctx.lang] || p.label.en)));
        const blocks = ctx.school ? todayBlocks (ctx) : [];
        root.append(
                h ('h1', {}, t ('start.hello', {name})),
                ctx.school ? h ('p', {},
                                t ('start.school', {school : ctx.school.name || ctx.school.slug}))
                           : null,
                blocks.length ? h ('section', {class : 'today', 'aria-labelledby' : 'today-h'},
                                   h ('h2', {id : 'today-h'}, t ('today.title')),
                                   h ('div', {class : 'today-grid'}, blocks))
                              : null,
                h ('h2', {}, t ('start.areas')),
                items.length ? h ('ul', {class : 'areas'}, items) : h ('p', {}, t ('start.none')));
}
