// SPDX-License-Identifier: Apache-2.0
// operator-usage.js - an operator's usage figures: the video conferences of all schools
// (GET /api/v1/conference/stats, the conference module's installation route) over the last 7,
// 30 or 90 days, per day: the totals, one figure drawn as a bar chart, and every figure in a
// table (the chart's text alternative). The chart is inline SVG built with DOM calls: no
// library, no style attributes (the CSP forbids them; colours come from admin.css).
import {busy, regions, useStyles, withQuery} from './admin-common.js';

const SVG = 'http://www.w3.org/2000/svg';
const FIGURES = [
        'joins', 'distinct_users', 'usage_hours', 'estimated_usage_hours', 'peak_concurrent_rooms'
];

function svg (tag, attrs, ...children)
{
        const el = document.createElementNS(SVG, tag);
        for (const [k, v] of Object.entries(attrs || {}))
                el.setAttribute(k, String (v));
        for (const c of children)
                el.append(c instanceof Node ? c : document.createTextNode(String (c)));
        return el;
}

// A bar per bucket of @figure; the axis says the largest value and the first and last day.
export function barChart (ctx, buckets, figure, titleId)
{
        const W = 640, H = 240, left = 48, bottom = 28, top = 12;
        const values = buckets.map((b) => Number (b[figure]) || 0);
        const max = Math.max(1, ...values);
        const slot = (W - left - 8) / Math.max(1, values.length);
        const y = (v) => top + (H - top - bottom) * (1 - v / max);
        const day = (b) => b.start.slice(0, 10);
        const fmt = (v) => (Number.isInteger(v) ? String (v) : v.toFixed(1));
        const bars =
                buckets.map((b, i) => svg ('rect', {
                                    class : 'bar',
                                    x : (left + i * slot + slot * 0.15).toFixed(1),
                                    y : y (values[i]).toFixed(1),
                                    width : Math.max(1, slot * 0.7).toFixed(1),
                                    height : (H - bottom - y (values[i])).toFixed(1),
                                    'data-day' : day (b),
                                    'data-value' : values[i],
                            },
                                           svg ('title', {}, `${day (b)}: ${fmt (values[i])}`)));
        return svg (
                'svg', {
                        class : 'chart',
                        viewBox : `0 0 ${W} ${H}`,
                        role : 'img',
                        'aria-labelledby' : titleId,
                        preserveAspectRatio : 'xMinYMin meet'
                },
                svg ('line', {class : 'axis', x1 : left, y1 : H - bottom, x2 : W, y2 : H - bottom}),
                svg ('line', {class : 'axis', x1 : left, y1 : top, x2 : left, y2 : H - bottom}),
                svg ('text', {class : 'tick', x : left - 6, y : top + 4, 'text-anchor' : 'end'},
                     fmt (max)),
                svg ('text', {class : 'tick', x : left - 6, y : H - bottom, 'text-anchor' : 'end'},
                     '0'),
                buckets.length
                        ? svg ('text', {class : 'tick', x : left, y : H - 8}, day (buckets[0]))
                        : '',
                buckets.length
                        ? svg ('text', {class : 'tick', x : W, y : H - 8, 'text-anchor' : 'end'},
                               day (buckets[buckets.length - 1]))
                        : '',
                ...bars);
}

export async function render (root, ctx)
{
        useStyles ();
        const {h, t} = ctx;
        const r = regions (ctx);
        const period = h ('select', {id : 'usage-days'},
                          [ 7, 30, 90 ].map((d) => h ('option', {value : d},
                                                      t ('admin.usage.days', {n : d}))));
        const figure = h ('select', {id : 'usage-figure'},
                          FIGURES.map((f) => h ('option', {value : f}, t (`admin.usage.${f}`))));
        const out = h ('div', {class : 'usage'});
        let data = null; // the last answer, with the number of days it covers
        let asked = 0;   // answers to earlier questions that arrive late are dropped

        async function load ()
        {
                // Whole UTC days, today included.
                const days = Number (period.value);
                const end = new Date ();
                end.setUTCHours(24, 0, 0, 0);
                const start = new Date (end.getTime() - days * 86400000);
                const mine = ++asked;
                const answer = await ctx.api.get(withQuery (
                        '/api/v1/conference/stats',
                        {from : start.toISOString(), to : end.toISOString(), granularity : 'day'}));
                if (mine !== asked)
                        return;
                data = Object.assign(answer, {days});
                draw ();
        }

        function draw ()
        {
                const f = figure.value;
                const title =
                        t ('admin.usage.chart', {figure : t (`admin.usage.${f}`), n : data.days});
                out.replaceChildren(
                        h ('h2', {}, t ('admin.usage.totals')),
                        h ('dl', {class : 'counts'},
                           FIGURES.flatMap(
                                   (x) => [h ('dt', {}, t (`admin.usage.${x}`)),
                                           h ('dd', {},
                                              String (Math.round(data.totals[x] * 10) / 10))])),
                        h ('h2', {id : 'usage-chart-title'}, title),
                        h ('figure', {class : 'chart'},
                           barChart (ctx, data.buckets, f, 'usage-chart-title')),
                        h ('details', {}, h ('summary', {}, t ('admin.usage.table')),
                           h ('div', {class : 'scroll', tabindex : '0'},
                              h ('table', {},
                                 h ('caption', {class : 'muted'}, t ('admin.usage.table.caption')),
                                 h ('thead', {},
                                    h ('tr', {}, h ('th', {scope : 'col'}, t ('admin.usage.day')),
                                       FIGURES.map((x) => h ('th', {scope : 'col'},
                                                             t (`admin.usage.${x}`))))),
                                 h ('tbody', {},
                                    data.buckets.map(
                                            (b) => h (
                                                    'tr', {},
                                                    h ('th', {scope : 'row'}, b.start.slice(0, 10)),
                                                    FIGURES.map((x) => h ('td', {},
                                                                          String (Math.round(b[x] *
                                                                                             10) /
                                                                                  10))))))))),
                        h ('p', {class : 'muted'},
                           t ('admin.usage.note', {n : data.typical_minutes})));
        }

        period.addEventListener('change', () => busy (null, r, load));
        figure.addEventListener('change', () => {
                if (data)
                        draw ();
        });
        root.append(h ('h1', {}, t ('admin.usage.title')), h ('p', {}, t ('admin.usage.intro')),
                    r.error, r.status,
                    h ('div', {class : 'filters'},
                       h ('div', {class : 'field'},
                          h ('label',
                             {for: 'usage-days'
                             },
                             t ('admin.usage.period')),
                          period),
                       h ('div', {class : 'field'},
                          h ('label',
                             {for: 'usage-figure'
                             },
                             t ('admin.usage.figure')),
                          figure)),
                    out);
        try {
                await load ();
        } catch (e) {
                if (e.status === 404)
                        r.error.textContent = t ('admin.usage.noconference');
                else
                        throw e;
        }
}
