// SPDX-License-Identifier: Apache-2.0
// admin-audit.js - the school's audit log (GET .../audit, audit.read), newest first, a page at
// a time. The route has no filter; what one page shows can be narrowed by its action (a
// filter of what is drawn, said as such, not a query).
import {Pager, regions, schoolApi, useStyles, when, withQuery} from './admin-common.js';

export async function render (root, ctx)
{
        useStyles ();
        const {h, t} = ctx;
        const r = regions (ctx);
        const rows = h ('tbody');
        const action =
                h ('select', {id : 'audit-action', 'aria-describedby' : 'audit-action-hint'});
        let items = [];

        function draw ()
        {
                const only = action.value;
                const shown = only ? items.filter((x) => x.action === only) : items;
                rows.replaceChildren(...shown.map(
                        (x) => h ('tr', {},
                                  h ('td', {}, h ('time', {datetime : x.at}, when (ctx, x.at))),
                                  h ('td', {}, x.action),
                                  h ('td', {},
                                     x.actor_kind === 'operator' ? t ('admin.audit.operator')
                                                                 : (x.actor_id || '–')),
                                  h ('td', {}, x.target || ''),
                                  h ('td', {class : 'details'},
                                     typeof x.details === 'string'
                                             ? x.details
                                             : (x.details ? JSON.stringify(x.details) : '')))));
                if (!shown.length)
                        rows.append(h ('tr', {}, h ('td', {colspan : 5}, t ('admin.audit.none'))));
        }

        const pager = new Pager (ctx, (page) => {
                items = page;
                const seen = [...new Set (page.map((x) => x.action)) ].sort();
                const keep = seen.includes(action.value) ? action.value : '';
                action.replaceChildren(h ('option', {value : ''}, t ('admin.audit.all')),
                                       ...seen.map((a) => h ('option', {value : a}, a)));
                action.value = keep;
                draw ();
        });
        action.addEventListener('change', draw);

        root.append(h ('h1', {}, t ('admin.audit.title')), r.error, r.status,
                    h ('div', {class : 'field narrow'},
                       h ('label',
                          {for: 'audit-action'
                          },
                          t ('admin.audit.action')),
                       action,
                       h ('small', {id : 'audit-action-hint'}, t ('admin.audit.action.hint'))),
                    h ('div', {class : 'scroll', tabindex : '0'},
                       h ('table', {class : 'audit'},
                          h ('caption', {class : 'muted'}, t ('admin.audit.caption')),
                          h ('thead', {},
                             h ('tr', {}, h ('th', {scope : 'col'}, t ('admin.audit.at')),
                                h ('th', {scope : 'col'}, t ('admin.audit.action')),
                                h ('th', {scope : 'col'}, t ('admin.audit.actor')),
                                h ('th', {scope : 'col'}, t ('admin.audit.target')),
                                h ('th', {scope : 'col'}, t ('admin.audit.details')))),
                          rows)),
                    pager.element);
        await pager.load(withQuery (`${schoolApi (ctx)}/audit`, {limit : 25}));
}
