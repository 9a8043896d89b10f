// SPDX-License-Identifier: Apache-2.0
// admin-modules.js - a school admin enables and disables the school's modules
// (GET .../modules, PUT and DELETE .../modules/{module}; modules.manage). A module that needs
// another is refused until that one is on: the server says so, and the page shows its words.
// The navigation lists a module's area from the next visit (reload) on.
import {busy, regions, schoolApi, useStyles} from './admin-common.js';

export async function render (root, ctx)
{
        useStyles ();
        const {h, t} = ctx;
        const base = `${schoolApi (ctx)}/modules`;
        const r = regions (ctx);
        const rows = h ('tbody');

        async function load ()
        {
                const mods = (await ctx.api.get(base)).items;
                rows.replaceChildren(...mods.map((m) => {
                        const b = h (
                                'button', {
                                        type : 'button',
                                        'aria-label' : t (m.enabled ? 'admin.modules.disable.for'
                                                                    : 'admin.modules.enable.for',
                                                          {name : m.name})
                                },
                                t (m.enabled ? 'admin.modules.disable' : 'admin.modules.enable'));
                        b.addEventListener(
                                'click',
                                () => busy (b, r, async () => {
                                        if (m.enabled)
                                                await ctx.api.del(
                                                        `${base}/${encodeURIComponent (m.name)}`);
                                        else
                                                await ctx.api.put(
                                                        `${base}/${encodeURIComponent (m.name)}`);
                                        await load ();
                                        r.done(t (m.enabled ? 'admin.modules.disabled'
                                                            : 'admin.modules.enabled',
                                                  {name : m.name}));
                                }));
                        return h ('tr', {}, h ('th', {scope : 'row'}, m.name),
                                  h ('td', {}, m.description || ''),
                                  h ('td', {}, (m.dependencies || []).join(', ')),
                                  h ('td', {},
                                     t (m.enabled ? 'admin.modules.on' : 'admin.modules.off')),
                                  h ('td', {class : 'actions'}, b));
                }));
        }

        root.append(
                h ('h1', {}, t ('admin.modules.title')), h ('p', {}, t ('admin.modules.intro')),
                r.error, r.status,
                h ('div', {class : 'scroll', tabindex : '0'},
                   h ('table', {}, h ('caption', {class : 'muted'}, t ('admin.modules.caption')),
                      h ('thead', {},
                         h ('tr', {}, h ('th', {scope : 'col'}, t ('admin.modules.name')),
                            h ('th', {scope : 'col'}, t ('admin.modules.description')),
                            h ('th', {scope : 'col'}, t ('admin.modules.needs')),
                            h ('th', {scope : 'col'}, t ('admin.modules.state')),
                            h ('th', {scope : 'col'}, t ('admin.actions')))),
                      rows)));
        await load ();
}
