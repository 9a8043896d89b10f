// SPDX-License-Identifier: Apache-2.0
// views.js - the calendar page's three views of the same occurrences (GET .../events, expanded
// by the server): a week (seven days side by side), a month (a table of weeks; a list of days
// on a phone) and one day. An occurrence of a calendar the caller may change is a button that
// opens it in the form; others are text.

export const pad = (n) => String (n).padStart(2, '0');
export const dayKey = (d) => `${d.getFullYear()}-${pad (d.getMonth() + 1)}-${pad (d.getDate())}`;

export function mondayOf (d)
{
        const m = new Date (d.getFullYear(), d.getMonth(), d.getDate());
        m.setDate(m.getDate() - ((m.getDay() + 6) % 7));
        return m;
}

export function addDays (d, n)
{
        const x = new Date (d);
        x.setDate(x.getDate() + n);
        return x;
}

// Occurrences by local day ("2026-12-07"), each day's sorted by start. An all-day occurrence
// is on its date; a timed one on the day it starts.
export function byDay (items)
{
        const out = new Map ();
        for (const o of items) {
                const key = o.all_day ? o.start.slice(0, 10) : dayKey (new Date (o.start));
                if (!out.has(key))
                        out.set(key, []);
                out.get(key).push(o);
        }
        for (const list of out.values())
                list.sort((a, b) => (b.all_day - a.all_day) || a.start.localeCompare(b.start));
        return out;
}

// v: {h, lang, s, edit(o) or null when o's calendar is read-only, showDay(date)}
function entry (v, o)
{
        const h = v.h;
        const time = (t) => new Date (t).toLocaleTimeString(v.lang,
                                                           {hour : '2-digit', minute : '2-digit'});
        const label = o.summary || '';
        const edit = v.edit (o);
        const title = edit ? h ('button', {type : 'button', class : 'link event'}, label) : label;
        if (edit)
                title.addEventListener('click', edit);
        return h ('li', {},
                  h ('span', {class : 'time'}, o.all_day ? '' : `${time (o.start)}–${time (o.end)}`),
                  title,
                  o.recurrence_id ? h ('span', {class : 'muted'}, ` (${v.s.repeating})`) : null);
}

function dayList (v, list)
{
        return list.length ? v.h ('ul', {}, list.map((o) => entry (v, o)))
                           : v.h ('p', {class : 'muted'}, v.s.none);
}

export function drawWeek (v, monday, items)
{
        const h = v.h;
        const days = byDay (items);
        const today = dayKey (new Date ());
        const out = [];
        for (let i = 0; i < 7; i++) {
                const d = addDays (monday, i);
                out.push(h ('section', {
                        class : dayKey (d) === today ? 'day today' : 'day',
                        'aria-label' : d.toLocaleDateString(
                                v.lang, {weekday : 'long', day : 'numeric', month : 'long'})
                },
                            h ('h3', {},
                               d.toLocaleDateString(
                                       v.lang,
                                       {weekday : 'short', day : 'numeric', month : 'short'})),
                            dayList (v, days.get(dayKey (d)) || [])));
        }
        return out;
}

// A month as a table of weeks, Monday first; days outside the month are dimmed. Each day's
// number is a button to its day view; at most three entries per day, then "n more".
export function drawMonth (v, first, items)
{
        const h = v.h;
        const days = byDay (items);
        const today = dayKey (new Date ());
        const start = mondayOf (first);
        const heads = [];
        for (let i = 0; i < 7; i++)
                heads.push(h ('th', {scope : 'col'},
                              addDays (start, i).toLocaleDateString(v.lang, {weekday : 'short'})));
        const rows = [];
        for (let d = start; d.getMonth() === first.getMonth() || d < first; d = addDays (d, 7)) {
                const cells = [];
                for (let i = 0; i < 7; i++) {
                        const day = addDays (d, i);
                        const list = days.get(dayKey (day)) || [];
                        const long = day.toLocaleDateString(
                                v.lang, {weekday : 'long', day : 'numeric', month : 'long'});
                        const open = h ('button', {
                                type : 'button',
                                class : 'link daynum',
                                'aria-label' : v.tr ('showDay', {date : long})
                        },
                                        String (day.getDate()));
                        open.addEventListener('click', () => v.showDay (day));
                        const cls = [ day.getMonth() === first.getMonth() ? '' : 'other',
                                      dayKey (day) === today ? 'today' : '',
                                      list.length ? '' : 'empty' ];
                        cells.push(h ('td', {class : cls.join(' ').trim() || null}, open,
                                      list.length ? h ('ul', {},
                                                       list.slice(0, 3).map((o) => entry (v, o)))
                                                  : null,
                                      list.length > 3 ? h ('p', {class : 'muted'},
                                                           v.tr ('more', {n : list.length - 3}))
                                                      : null));
                }
                rows.push(h ('tr', {}, cells));
        }
        return h ('table', {class : 'month'}, h ('thead', {}, h ('tr', {}, heads)),
                  h ('tbody', {}, rows));
}

export function drawDay (v, day, items)
{
        return v.h ('div', {class : 'dayview'}, dayList (v, byDay (items).get(dayKey (day)) || []));
}
