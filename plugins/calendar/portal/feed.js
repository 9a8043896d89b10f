// SPDX-License-Identifier: Apache-2.0
// feed.js - the subscription link of a calendar, for phone and desktop calendar apps: POST
// .../calendars/{id}/subscriptions makes a secret feed URL, whose token the server shows only in
// that answer (it keeps a hash), so the page shows it once, in a read-only field to copy; the
// caller's links to the calendar are listed (GET, without tokens) and can be revoked (DELETE).

// opts: {ctx, s, tr, api, error} -> the section (filled once the calendars are read)
export function feedSection (opts)
{
        const {ctx, s, tr, api, error} = opts;
        const h = ctx.h;
        const choose = h ('select', {id : 'feed-calendar'});
        const make = h ('button', {type : 'button'}, s.feedMake);
        const shown = h ('div');
        const list = h ('div');
        const when = (d) => new Date (d).toLocaleString(ctx.lang,
                                                        {dateStyle : 'medium', timeStyle : 'short'});

        async function loadLinks ()
        {
                if (!choose.value) {
                        list.replaceChildren();
                        return;
                }
                const page = await ctx.api.get(
                        `${api}/calendars/${choose.value}/subscriptions?limit=100`);
                const mine = page.items.filter((x) => x.created_by === ctx.user.id);
                list.replaceChildren(
                        h ('h3', {}, s.feedList),
                        mine.length
                                ? h ('ul', {}, mine.map((x) => {
                                          const b = h ('button', {
                                                  type : 'button',
                                                  'aria-label' : tr ('feedRevokeOne',
                                                                     {date : when (x.created_at)})
                                          },
                                                       s.feedRevoke);
                                          b.addEventListener('click', async () => {
                                                  try {
                                                          await ctx.api.del(`${api}/calendars/${
                                                                  x.calendar_id}/subscriptions/${
                                                                  x.id}`);
                                                          shown.replaceChildren(
                                                                  h ('p', {role : 'status'},
                                                                     s.feedRevoked));
                                                          await loadLinks ();
                                                  } catch (e) {
                                                          error.textContent =
                                                                  tr ('failed', {msg : e.message});
                                                  }
                                          });
                                          return h ('li', {},
                                                    tr ('feedMade', {date : when (x.created_at)}),
                                                    x.last_used_at
                                                            ? ` · ${tr ('feedUsed', {
                                                                      date : when (x.last_used_at)
                                                              })}`
                                                            : '',
                                                    ' ', b);
                                  }))
                                : h ('p', {class : 'muted'}, s.feedNone));
        }

        make.addEventListener('click', async () => {
                error.textContent = '';
                try {
                        const sub = await ctx.api.post(
                                `${api}/calendars/${choose.value}/subscriptions`, {});
                        const url = new URL (sub.url, location.origin).href;
                        const out = h ('input', {id : 'feed-url', readonly : true, value : url});
                        shown.replaceChildren(h ('div', {class : 'field'},
                                                 h ('label', {for : 'feed-url'}, s.feedUrl), out,
                                                 h ('small', {}, s.feedNote)));
                        out.focus();
                        out.select();
                        await loadLinks ();
                } catch (e) {
                        error.textContent = tr ('failed', {msg : e.message});
                }
        });
        choose.addEventListener('change', () => {
                shown.replaceChildren();
                loadLinks ().catch((e) => (error.textContent = tr ('failed', {msg : e.message})));
        });

        const section = h ('section', {class : 'card feeds', 'aria-labelledby' : 'feeds-h'},
                           h ('h2', {id : 'feeds-h'}, s.feeds),
                           h ('div', {class : 'row'},
                              h ('div', {class : 'field'},
                                 h ('label', {for : 'feed-calendar'}, s.feedCalendar), choose),
                              make),
                           shown, list);
        // calendars: those the caller sees (a parent's read-only view of a child's group
        // calendar answers 403 to subscribing, which is said as an error).
        section.setCalendars = (calendars) => {
                choose.replaceChildren(
                        ...calendars.map((c) => h ('option', {value : c.id}, c.name)));
                section.hidden = choose.options.length === 0;
                return loadLinks ();
        };
        return section;
}
