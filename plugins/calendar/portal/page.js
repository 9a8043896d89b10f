// SPDX-License-Identifier: Apache-2.0
// page.js - the calendar area of the portal: a week of every calendar the caller sees
// (GET .../calendar/events?from=&to=, recurrences expanded by the server), and a form that
// creates an event, once or repeating (an RRULE), in the caller's own calendar (made on first
// use). Times are the browser's local time; the event keeps the browser's time zone, so a
// weekly lesson stays at 08:00 across daylight saving time.

const strings = {
        en : {
                title : 'Calendar',
                week : 'Week of {date}',
                prev : 'Previous week',
                next : 'Next week',
                today : 'This week',
                none : 'Nothing planned.',
                create : 'New event',
                summary : 'Title',
                date : 'Date',
                start : 'Starts',
                end : 'Ends',
                repeat : 'Repeats',
                once : 'Does not repeat',
                daily : 'Every day',
                weekly : 'Every week',
                biweekly : 'Every two weeks',
                monthly : 'Every month',
                count : 'Number of times',
                location : 'Place',
                save : 'Save',
                created : '{summary} is in your calendar.',
                mine : 'My calendar',
                badTime : 'The end must be after the start.',
                failed : 'That did not work: {msg}',
                repeating : 'repeats'
        },
        de : {
                title : 'Kalender',
                week : 'Woche vom {date}',
                prev : 'Vorige Woche',
                next : 'Nächste Woche',
                today : 'Diese Woche',
                none : 'Nichts geplant.',
                create : 'Neuer Termin',
                summary : 'Titel',
                date : 'Datum',
                start : 'Beginn',
                end : 'Ende',
                repeat : 'Wiederholung',
                once : 'Keine Wiederholung',
                daily : 'Jeden Tag',
                weekly : 'Jede Woche',
                biweekly : 'Alle zwei Wochen',
                monthly : 'Jeden Monat',
                count : 'Anzahl der Termine',
                location : 'Ort',
                save : 'Speichern',
                created : '{summary} steht in Ihrem Kalender.',
                mine : 'Mein Kalender',
                badTime : 'Das Ende muss nach dem Beginn liegen.',
                failed : 'Das hat nicht geklappt: {msg}',
                repeating : 'wiederholt sich'
        },
};

const RULES = {
        once : null,
        daily : 'FREQ=DAILY',
        weekly : 'FREQ=WEEKLY',
        biweekly : 'FREQ=WEEKLY;INTERVAL=2',
        monthly : 'FREQ=MONTHLY',
};

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

const pad = (n) => String (n).padStart(2, '0');
const dayKey = (d) => `${d.getFullYear()}-${pad (d.getMonth() + 1)}-${pad (d.getDate())}`;

function mondayOf (d)
{
        const m = new Date (d.getFullYear(), d.getMonth(), d.getDate());
        m.setDate(m.getDate() - ((m.getDay() + 6) % 7));
        return m;
}

// "2026-12-07" + "08:00" in local time -> "2026-12-07T08:00:00+01:00"
function localStamp (date, time)
{
        const d = new Date (`${date}T${time}:00`);
        const off = -d.getTimezoneOffset();
        const sign = off >= 0 ? '+' : '-';
        const abs = Math.abs(off);
        return `${date}T${time}:00${sign}${pad (Math.floor(abs / 60))}:${pad (abs % 60)}`;
}

export async function render (root, ctx)
{
        linkStyle ();
        const s = strings[ctx.lang] || strings.en;
        const tr = (k, args) => Object.entries(args || {})
                                        .reduce((acc, [ a, v ]) => acc.replace(`{${a}}`, v), s[k]);
        const h = ctx.h;
        const api = `/api/v1/schools/${encodeURIComponent (ctx.school.slug)}/calendar`;
        const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
        let monday = mondayOf (new Date ());

        const error = h ('p', {class : 'error', role : 'alert'});
        const status = h ('p', {role : 'status'});
        const heading = h ('h2', {id : 'week-heading'});
        const grid = h ('div', {class : 'week', 'aria-labelledby' : 'week-heading'});

        async function occurrences (from, to)
        {
                const out = [];
                let cursor = null;
                do {
                        const q = `from=${encodeURIComponent (from.toISOString())}&to=${
                                          encodeURIComponent (to.toISOString())}` +
                                  `&limit=500${
                                          cursor ? `&cursor=${encodeURIComponent (cursor)}` : ''}`;
                        const page = await ctx.api.get(`${api}/events?${q}`);
                        out.push(...page.items);
                        cursor = page.next_cursor;
                } while (cursor);
                return out;
        }

        async function load ()
        {
                const end = new Date (monday);
                end.setDate(end.getDate() + 7);
                const items = await occurrences (monday, end);
                heading.textContent = tr ('week', {
                        date : monday.toLocaleDateString(
                                ctx.lang, {day : 'numeric', month : 'long', year : 'numeric'})
                });
                const byDay = new Map ();
                for (const o of items) {
                        const key = dayKey (new Date (o.start));
                        if (!byDay.has(key))
                                byDay.set(key, []);
                        byDay.get(key).push(o);
                }
                const today = dayKey (new Date ());
                const days = [];
                for (let i = 0; i < 7; i++) {
                        const d = new Date (monday);
                        d.setDate(d.getDate() + i);
                        const list = (byDay.get(dayKey (d)) ||
                                      []).sort((a, b) => a.start.localeCompare(b.start));
                        const time = (t) => new Date (t).toLocaleTimeString(
                                ctx.lang, {hour : '2-digit', minute : '2-digit'});
                        days.push(h (
                                'section', {
                                        class : dayKey (d) === today ? 'day today' : 'day',
                                        'aria-label' : d.toLocaleDateString(
                                                ctx.lang,
                                                {weekday : 'long', day : 'numeric', month : 'long'})
                                },
                                h ('h3', {},
                                   d.toLocaleDateString(
                                           ctx.lang,
                                           {weekday : 'short', day : 'numeric', month : 'short'})),
                                list.length
                                        ? h ('ul', {},
                                             list.map(
                                                     (o) => h (
                                                             'li', {},
                                                             h ('span', {class : 'time'},
                                                                o.all_day ? ''
                                                                          : `${time (o.start)}–${
                                                                                    time (o.end)}`),
                                                             o.summary || '',
                                                             o.recurrence_id
                                                                     ? h ('span', {class : 'muted'},
                                                                          ` (${s.repeating})`)
                                                                     : null)))
                                        : h ('p', {class : 'muted'}, s.none)));
                }
                grid.replaceChildren(...days);
        }

        const step = (days) => () => {
                if (days === 0)
                        monday = mondayOf (new Date ());
                else
                        monday.setDate(monday.getDate() + days);
                load ().catch((e) => (error.textContent = tr ('failed', {msg : e.message})));
        };
        const nav = h ('div', {class : 'week-nav'}, heading,
                       h ('button', {type : 'button', onclick : step (-7)}, s.prev),
                       h ('button', {type : 'button', onclick : step (0)}, s.today),
                       h ('button', {type : 'button', onclick : step (7)}, s.next));

        async function myCalendar ()
        {
                const page = await ctx.api.get(`${api}/calendars?owner_type=user`);
                const mine = page.items.find((c) => c.can_edit !== false && c.owner &&
                                                    c.owner.type === 'user' &&
                                                    (!c.owner.id || c.owner.id === ctx.user.id));
                if (mine)
                        return mine.id;
                return (await ctx.api.post(`${api}/calendars`,
                                           {name : s.mine, owner : {type : 'user'}}))
                        .id;
        }

        // The form: title, date, times, repeat rule.
        const field = (id, label, input) => h ('div', {class : 'field'}, h ('label', {for: id
                                               }, label), input);
        const today = dayKey (new Date ());
        const summary = h ('input', {id : 'ev-summary', required : true, maxlength : '1000'});
        const date = h ('input', {id : 'ev-date', type : 'date', required : true, value : today});
        const start =
                h ('input', {id : 'ev-start', type : 'time', required : true, value : '08:00'});
        const end = h ('input', {id : 'ev-end', type : 'time', required : true, value : '08:45'});
        const place = h ('input', {id : 'ev-location', maxlength : '1000'});
        const repeat = h ('select', {id : 'ev-repeat'},
                          Object.keys(RULES).map((k) => h ('option', {value : k}, s[k])));
        const count = h ('input',
                         {id : 'ev-count', type : 'number', min : '2', max : '500', value : '10'});
        const countField = field ('ev-count', s.count, count);
        countField.hidden = true;
        repeat.addEventListener('change', () => { countField.hidden = repeat.value === 'once'; });
        const form =
                h ('form', {class : 'card new-event'}, h ('h2', {}, s.create),
                   field ('ev-summary', s.summary, summary),
                   h ('div', {class : 'row'}, field ('ev-date', s.date, date),
                      field ('ev-start', s.start, start), field ('ev-end', s.end, end)),
                   field ('ev-location', s.location, place),
                   h ('div', {class : 'row'}, field ('ev-repeat', s.repeat, repeat), countField),
                   h ('button', {type : 'submit', class : 'primary'}, s.save));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                error.textContent = '';
                status.textContent = '';
                if (end.value <= start.value) {
                        error.textContent = s.badTime;
                        end.focus();
                        return;
                }
                const body = {
                        summary : summary.value.trim(),
                        start : localStamp (date.value, start.value),
                        end : localStamp (date.value, end.value),
                        timezone : zone
                };
                if (place.value.trim())
                        body.location = place.value.trim();
                if (RULES[repeat.value])
                        body.rrule = `${RULES[repeat.value]};COUNT=${Number (count.value) || 10}`;
                try {
                        const cal = await myCalendar ();
                        await ctx.api.post(`${api}/calendars/${cal}/events`, body);
                        status.textContent = tr ('created', {summary : body.summary});
                        monday = mondayOf (new Date (`${date.value}T12:00:00`));
                        form.reset();
                        date.value = today;
                        countField.hidden = true;
                        await load ();
                } catch (e) {
                        error.textContent = tr ('failed', {msg : e.message});
                }
        });

        root.append(h ('h1', {}, s.title), error, status, nav, grid, form);
        await load ();
}
