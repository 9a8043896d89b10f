// SPDX-License-Identifier: Apache-2.0
// page.js - the calendar area of the portal: every calendar the caller sees, as a month, a
// week or a day (views.js; occurrences from GET .../calendar/events?from=&to=, recurrences
// expanded by the server), the form that creates, edits and deletes events (form.js), and the
// subscription link for calendar apps (feed.js).
import {strings} from './strings.js';
import {mondayOf, addDays, drawWeek, drawMonth, drawDay} from './views.js';
import {eventForm} from './form.js';
import {feedSection} from './feed.js';

function linkStyle ()
{
        const href = new URL ('calendar.css', import.meta.url).pathname;
        if (!document.querySelector(`link[href="${href}"]`)) {
                const l = document.createElement('link');
                l.rel = 'stylesheet';
                l.href = href;
                document.head.append(l);
        }
}

// What each view shows and how its buttons step.
const VIEWS = {
        month : {
                labels : [ 'prevMonth', 'thisMonth', 'nextMonth' ],
                anchor : (d) => new Date (d.getFullYear(), d.getMonth(), 1),
                step : (d, n) => new Date (d.getFullYear(), d.getMonth() + n, 1),
                range : (d) => [ mondayOf (d),
                                 addDays (mondayOf (new Date (d.getFullYear(), d.getMonth() + 1, 0)),
                                          7) ],
        },
        week : {
                labels : [ 'prev', 'today', 'next' ],
                anchor : mondayOf,
                step : (d, n) => addDays (d, 7 * n),
                range : (d) => [ d, addDays (d, 7) ],
        },
        day : {
                labels : [ 'prevDay', 'thisDay', 'nextDay' ],
                anchor : (d) => new Date (d.getFullYear(), d.getMonth(), d.getDate()),
                step : (d, n) => addDays (d, n),
                range : (d) => [ d, addDays (d, 1) ],
        },
};

export async function render (root, ctx)
{
        linkStyle ();
        const s = strings[ctx.lang] || strings.en;
        const tr = (k, args) => Object.entries(args || {})
                                        .reduce((acc, [ a, v ]) => acc.replace(`{${a}}`, v), s[k]);
        const h = ctx.h;
        const api = `/api/v1/schools/${encodeURIComponent (ctx.school.slug)}/calendar`;
        const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
        let view = 'week';
        let anchor = VIEWS.week.anchor (new Date ());
        let editable = new Set (); // ids of the calendars the caller may change

        const error = h ('p', {class : 'error', role : 'alert'});
        const status = h ('p', {role : 'status'});
        const heading = h ('h2', {id : 'cal-heading'});
        const body = h ('div', {'aria-labelledby' : 'cal-heading'});
        const fail = (e) => { error.textContent = tr ('failed', {msg : e.message}); };

        async function all (path)
        {
                const out = [];
                let cursor = null;
                do {
                        const page = await ctx.api.get(
                                `${path}${path.includes('?') ? '&' : '?'}limit=500${
                                        cursor ? `&cursor=${encodeURIComponent (cursor)}` : ''}`);
                        out.push(...page.items);
                        cursor = page.next_cursor;
                } while (cursor);
                return out;
        }

        const {form, edit} = eventForm ({
                ctx,
                s,
                tr,
                api,
                zone,
                status,
                error,
                changed : async (day) => {
                        if (day)
                                anchor = VIEWS[view].anchor (day);
                        await calendars (); /* the first event made the caller's calendar */
                        await load ();
                }
        });
        const v = {
                h,
                s,
                tr,
                lang : ctx.lang,
                edit : (o) => (editable.has(o.calendar_id) ? () => edit (o).catch(fail) : null),
                showDay : (d) => {
                        view = 'day';
                        anchor = VIEWS.day.anchor (d);
                        load ().catch(fail);
                },
        };

        async function load ()
        {
                const [from, to] = VIEWS[view].range (anchor);
                const items = await all (`${api}/events?from=${
                        encodeURIComponent (from.toISOString())}&to=${
                        encodeURIComponent (to.toISOString())}`);
                const fmt = (o) => anchor.toLocaleDateString(ctx.lang, o);
                if (view === 'week') {
                        heading.textContent = tr ('week', {
                                date : fmt ({day : 'numeric', month : 'long', year : 'numeric'})
                        });
                        body.className = 'week';
                        body.replaceChildren(...drawWeek (v, anchor, items));
                } else if (view === 'month') {
                        heading.textContent = fmt ({month : 'long', year : 'numeric'});
                        body.className = 'month-view';
                        body.replaceChildren(drawMonth (v, anchor, items));
                } else {
                        heading.textContent = fmt (
                                {weekday : 'long', day : 'numeric', month : 'long', year : 'numeric'});
                        body.className = 'day-view';
                        body.replaceChildren(drawDay (v, anchor, items));
                }
                VIEWS[view].labels.forEach((k, i) => (steps[i].textContent = s[k]));
                for (const [k, b] of Object.entries(switches))
                        b.setAttribute('aria-pressed', String (k === view));
        }

        const steps = [ -1, 0, 1 ].map((n) => {
                const b = h ('button', {type : 'button'});
                b.addEventListener('click', () => {
                        anchor = n ? VIEWS[view].step (anchor, n) : VIEWS[view].anchor (new Date ());
                        load ().catch(fail);
                });
                return b;
        });
        const switches = {};
        for (const [k, label] of [ [ 'month', s.month ], [ 'week', s.weekView ], [ 'day', s.dayView ] ]) {
                switches[k] = h ('button', {type : 'button'}, label);
                switches[k].addEventListener('click', () => {
                        // The new view shows the time around what was shown: today if it is in
                        // it, else its first day.
                        const [from, to] = VIEWS[view].range (anchor);
                        const now = new Date ();
                        view = k;
                        anchor = VIEWS[k].anchor (now >= from && now < to ? now : anchor);
                        load ().catch(fail);
                });
        }
        const nav = h ('div', {class : 'week-nav'}, heading, ...steps,
                       h ('div', {class : 'views', role : 'group', 'aria-label' : s.views},
                          Object.values(switches)));

        const feeds = feedSection ({ctx, s, tr, api, error});
        root.append(h ('h1', {}, s.title), error, status, nav, body, form, feeds);
        async function calendars ()
        {
                const list = await all (`${api}/calendars`);
                editable = new Set (list.filter((c) => c.can_edit !== false).map((c) => c.id));
                await feeds.setCalendars (list);
        }
        await calendars ();
        await load ();
}
