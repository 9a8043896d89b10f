// SPDX-License-Identifier: Apache-2.0
// form.js - the calendar page's one form: it creates an event in the caller's own calendar
// (made on first use), or edits an existing event or whole series (PATCH, with the event's
// ETag as If-Match: a change made meanwhile answers 412 and the form shows the event as it now
// is) and deletes it (DELETE, If-Match too). Times are the browser's local time, with its time
// zone as the event's; the repeat rule is one of the offered ones, or, for a rule this form
// does not offer (made elsewhere: BYDAY, UNTIL, ...), kept as it was unless another is chosen.
// An occurrence of a series opens with a choice: only this time (PUT or DELETE
// .../events/{id}/occurrences/{recurrence_id}, the series' ETag as If-Match: the server keeps
// an override or an EXDATE, the other times stay) or every time of the series (as above).
import {dayKey, pad, addDays} from './views.js';

const RULES = {
        once : null,
        daily : 'FREQ=DAILY',
        weekly : 'FREQ=WEEKLY',
        biweekly : 'FREQ=WEEKLY;INTERVAL=2',
        monthly : 'FREQ=MONTHLY',
};

// "2026-12-07" + "08:00" in local time -> "2026-12-07T08:00:00+01:00"
function localStamp (date, time)
{
        const d = new Date (`${date}T${time}:00`);
        const off = -d.getTimezoneOffset();
        const sign = off >= 0 ? '+' : '-';
        const abs = Math.abs(off);
        return `${date}T${time}:00${sign}${pad (Math.floor(abs / 60))}:${pad (abs % 60)}`;
}

// An RRULE -> [preset key, count] when it is one the form offers, else null.
function preset (rrule)
{
        const parts = Object.fromEntries(rrule.split(';').map((p) => p.split('=')));
        const keys = Object.keys(parts).filter((k) => k !== 'COUNT' && k !== 'WKST');
        const base = keys.sort().map((k) => `${k}=${parts[k]}`).join(';');
        const norm = (r) => r.split(';').sort().join(';');
        for (const [k, r] of Object.entries(RULES))
                if (r && (norm (r) === base || norm (`${r};INTERVAL=1`) === base))
                        return [ k, parts.COUNT || '' ];
        return null;
}

// opts: {ctx, s, tr, api, zone, status, error, changed(date)} -> {form, edit(o)}
export function eventForm (opts)
{
        const {ctx, s, tr, api, zone, status, error} = opts;
        const h = ctx.h;
        const field = (id, label, input) => h ('div', {class : 'field'}, h ('label', {for: id
                                               }, label), input);
        const today = dayKey (new Date ());
        const heading = h ('h2', {id : 'ev-heading', tabindex : '-1'}, s.create);
        const summary = h ('input', {id : 'ev-summary', required : true, maxlength : '1000'});
        const date = h ('input', {id : 'ev-date', type : 'date', required : true, value : today});
        const allDay = h ('input', {id : 'ev-allday', type : 'checkbox'});
        const start =
                h ('input', {id : 'ev-start', type : 'time', required : true, value : '08:00'});
        const end = h ('input', {id : 'ev-end', type : 'time', required : true, value : '08:45'});
        const place = h ('input', {id : 'ev-location', maxlength : '1000'});
        const repeat = h ('select', {id : 'ev-repeat'},
                          Object.keys(RULES).map((k) => h ('option', {value : k}, s[k])));
        const count = h ('input',
                         {id : 'ev-count', type : 'number', min : '2', max : '500', value : '10'});
        const countField = field ('ev-count', s.count, count);
        const startField = field ('ev-start', s.start, start);
        const endField = field ('ev-end', s.end, end);
        const note = h ('p', {class : 'muted'}, s.seriesNote);
        const repeatField = field ('ev-repeat', s.repeat, repeat);
        const save = h ('button', {type : 'submit', class : 'primary'}, s.save);
        const cancel = h ('button', {type : 'button'}, s.cancel);
        const del = h ('button', {type : 'button'}, s.del);
        let editing = null; // the event being edited: {calendar_id, id, etag, rrule, summary}
        let occurrence = null; // the time of a series it was opened from: {recurrence_id, ...}
        const scopeOne = h ('input', {id : 'ev-scope-one', type : 'radio', name : 'ev-scope', value : 'one'});
        const scopeAll = h ('input', {id : 'ev-scope-all', type : 'radio', name : 'ev-scope', value : 'all'});
        const scopeOneLabel = h ('label', {for : 'ev-scope-one'});
        const scope = h ('fieldset', {class : 'scope'}, h ('legend', {}, s.scope),
                         h ('div', {class : 'check'}, scopeAll, ' ',
                            h ('label', {for : 'ev-scope-all'}, s.scopeAll)),
                         h ('div', {class : 'check'}, scopeOne, ' ', scopeOneLabel));
        const one = () => occurrence !== null && scopeOne.checked;
        const when = (t) => new Date (t.length === 10 ? `${t}T12:00:00` : t)
                                    .toLocaleDateString(ctx.lang, {weekday : 'long', day : 'numeric',
                                                                   month : 'long'});

        const sync = () => {
                countField.hidden = repeat.value === 'once' || repeat.value === 'custom' || one ();
                repeatField.hidden = one ();
                note.hidden = !editing || !editing.rrule || one ();
                del.textContent = one () ? s.cancelOne : s.del;
                startField.hidden = endField.hidden = allDay.checked;
                start.required = end.required = !allDay.checked;
        };
        repeat.addEventListener('change', sync);
        allDay.addEventListener('change', sync);

        function reset ()
        {
                editing = null;
                occurrence = null;
                scope.hidden = true;
                form.reset();
                date.value = today;
                repeat.querySelector('option[value="custom"]')?.remove();
                heading.textContent = s.create;
                note.hidden = cancel.hidden = del.hidden = true;
                sync ();
        }

        async function edit (o)
        {
                const ev = await ctx.api.get(`${api}/calendars/${o.calendar_id}/events/${
                        o.event_id || o.id}`);
                reset ();
                editing = ev;
                if (ev.rrule && o.recurrence_id) {
                        occurrence = o;
                        scope.hidden = false;
                        scopeAll.checked = true; /* as before; "only this time" is one choice away */
                        scopeOneLabel.textContent = tr ('scopeOne', {date : when (o.start)});
                }
                fill ();
                cancel.hidden = del.hidden = false;
                sync ();
                heading.focus();
        }

        // The fields from the series, or from the one time of it when that is chosen.
        function fill ()
        {
                const ev = editing;
                const src = one () ? occurrence : ev;
                heading.textContent = one () ? s.editTime : s.edit;
                summary.value = src.summary || ev.summary || '';
                place.value = (src.location ?? ev.location) || '';
                allDay.checked = !!src.all_day;
                if (src.all_day) {
                        date.value = src.start.slice(0, 10);
                } else {
                        const a = new Date (src.start), b = new Date (src.end);
                        date.value = dayKey (a);
                        start.value = `${pad (a.getHours())}:${pad (a.getMinutes())}`;
                        end.value = `${pad (b.getHours())}:${pad (b.getMinutes())}`;
                }
                if (ev.rrule) {
                        const p = preset (ev.rrule);
                        if (p) {
                                repeat.value = p[0];
                                count.value = p[1] || '10';
                        } else {
                                repeat.append(h ('option', {value : 'custom'},
                                                 tr ('custom', {rule : ev.rrule})));
                                repeat.value = 'custom';
                        }
                } else {
                        repeat.value = 'once';
                }
                sync ();
        }
        for (const r of [ scopeOne, scopeAll ])
                r.addEventListener('change', fill);

        // The PUT body of one time: its texts and times (no repeat rule, no zone).
        function oneBody ()
        {
                const b = body ();
                const out = {summary : b.summary, location : b.location, start : b.start, end : b.end};
                return out;
        }

        const occurrenceUrl = () => `${api}/calendars/${editing.calendar_id}/events/${editing.id}` +
                                    `/occurrences/${encodeURIComponent (occurrence.recurrence_id)}`;

        function body ()
        {
                const b = {summary : summary.value.trim(), location : place.value.trim() || null};
                if (allDay.checked) {
                        b.all_day = true;
                        b.start = date.value;
                        b.end = dayKey (addDays (new Date (`${date.value}T12:00:00`), 1));
                        b.timezone = null;
                } else {
                        b.all_day = false;
                        b.start = localStamp (date.value, start.value);
                        b.end = localStamp (date.value, end.value);
                        b.timezone = zone;
                }
                if (repeat.value === 'custom')
                        b.rrule = editing.rrule;
                else if (RULES[repeat.value])
                        b.rrule = `${RULES[repeat.value]};COUNT=${Number (count.value) || 10}`;
                else
                        b.rrule = null;
                return b;
        }

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

        // 412: the event changed since it was read; show it as it is now.
        async function conflict (e)
        {
                if (e.status !== 412)
                        return false;
                const o = occurrence || {calendar_id : editing.calendar_id, id : editing.id};
                const wasOne = one ();
                await edit (o);
                if (wasOne && occurrence) {
                        scopeOne.checked = true;
                        fill ();
                }
                error.textContent = s.changed;
                return true;
        }

        const form = h ('form', {class : 'card new-event', 'aria-labelledby' : 'ev-heading'},
                        heading, scope, note, field ('ev-summary', s.summary, summary),
                        h ('div', {class : 'row'}, field ('ev-date', s.date, date),
                           h ('div', {class : 'field check'}, allDay,
                              h ('label', {for : 'ev-allday'}, ` ${s.allDay}`)),
                           startField, endField),
                        field ('ev-location', s.location, place),
                        h ('div', {class : 'row'}, repeatField, countField),
                        h ('div', {class : 'actions'}, save, cancel, del));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                error.textContent = '';
                status.textContent = '';
                if (!allDay.checked && end.value <= start.value) {
                        error.textContent = s.badTime;
                        end.focus();
                        return;
                }
                const b = body ();
                const day = new Date (`${date.value}T12:00:00`);
                let said = '';
                try {
                        if (one ()) {
                                await ctx.api.put(occurrenceUrl (), oneBody (),
                                                  {headers : {'If-Match' : editing.etag}});
                                said = tr ('savedOne',
                                           {summary : b.summary, date : when (occurrence.start)});
                        } else if (editing) {
                                await ctx.api.patch(
                                        `${api}/calendars/${editing.calendar_id}/events/${
                                                editing.id}`,
                                        b, {headers : {'If-Match' : editing.etag}});
                                said = tr ('saved', {summary : b.summary});
                        } else {
                                if (b.location === null)
                                        delete b.location;
                                if (b.rrule === null)
                                        delete b.rrule;
                                if (b.timezone === null)
                                        delete b.timezone;
                                const cal = await myCalendar ();
                                await ctx.api.post(`${api}/calendars/${cal}/events`, b);
                                said = tr ('created', {summary : b.summary});
                        }
                        reset ();
                        // Said once the view is drawn again: what the status says is on it.
                        await opts.changed (day);
                        status.textContent = said;
                } catch (e) {
                        if (!(await conflict (e).catch(() => false)))
                                error.textContent = tr ('failed', {msg : e.message});
                }
        });
        cancel.addEventListener('click', reset);
        del.addEventListener('click', async () => {
                error.textContent = '';
                status.textContent = '';
                const name = editing.summary || '';
                const single = one () ? occurrence : null;
                try {
                        await ctx.api.del(single ? occurrenceUrl ()
                                                 : `${api}/calendars/${editing.calendar_id}/events/${
                                                           editing.id}`,
                                          {headers : {'If-Match' : editing.etag}});
                        reset ();
                        await opts.changed (null);
                        status.textContent =
                                single ? tr ('cancelledOne',
                                             {summary : single.summary || name, date : when (single.start)})
                                       : tr ('deleted', {summary : name});
                } catch (e) {
                        if (!(await conflict (e).catch(() => false)))
                                error.textContent = tr ('failed', {msg : e.message});
                }
        });
        reset ();
        return {form, edit};
}
