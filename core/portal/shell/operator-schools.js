// SPDX-License-Identifier: Apache-2.0
// operator-schools.js - an operator's schools: every school, paged (GET /api/v1/schools), and
// creating one (POST /api/v1/schools). A new school has no people and no modules; its first
// admin is made over REST (docs/OPERATIONS.md) or by the import.
import {busy, Pager, regions, useStyles, when, withQuery} from './admin-common.js';

export async function render (root, ctx)
{
        useStyles ();
        const {h, t} = ctx;
        const r = regions (ctx);
        const rows = h ('tbody');
        const pager = new Pager (ctx, (schools) => {
                rows.replaceChildren(...schools.map(
                        (s) => h ('tr', {}, h ('td', {}, s.name), h ('td', {}, s.slug),
                                  h ('td', {}, when (ctx, s.created_at)))));
                if (!schools.length)
                        rows.append(
                                h ('tr', {}, h ('td', {colspan : 3}, t ('admin.schools.none'))));
        });

        const name =
                h ('input',
                   {id : 'school-name', required : true, maxlength : 200, autocomplete : 'off'});
        const slug = h ('input', {
                id : 'school-slug',
                required : true,
                pattern : '[a-z0-9\\-]{2,63}',
                autocapitalize : 'none',
                spellcheck : 'false',
                autocomplete : 'off',
                'aria-describedby' : 'school-slug-hint'
        });
        const create =
                h ('button', {type : 'submit', class : 'primary'}, t ('admin.schools.create'));
        const form =
                h ('form', {class : 'card', novalidate : true, 'aria-labelledby' : 'school-new'},
                   h ('h2', {id : 'school-new'}, t ('admin.schools.new')),
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'school-name'
                         },
                         t ('admin.schools.name')),
                      name),
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'school-slug'
                         },
                         t ('admin.schools.slug')),
                      slug, h ('small', {id : 'school-slug-hint'}, t ('admin.schools.slug.hint'))),
                   create);
        form.addEventListener('submit', (ev) => {
                ev.preventDefault();
                busy (create, r, async () => {
                        if (!name.value.trim() || !slug.value.trim())
                                throw new Error (t ('admin.schools.fill'));
                        const s = await ctx.api.post(
                                '/api/v1/schools',
                                {name : name.value.trim(), slug : slug.value.trim()});
                        name.value = slug.value = '';
                        await pager.reload();
                        r.done(t ('admin.schools.created', {name : s.name, slug : s.slug}));
                });
        });

        root.append(
                h ('h1', {}, t ('admin.schools.title')), r.error, r.status,
                h ('div', {class : 'scroll', tabindex : '0'},
                   h ('table', {}, h ('caption', {class : 'muted'}, t ('admin.schools.caption')),
                      h ('thead', {},
                         h ('tr', {}, h ('th', {scope : 'col'}, t ('admin.schools.name')),
                            h ('th', {scope : 'col'}, t ('admin.schools.slug')),
                            h ('th', {scope : 'col'}, t ('admin.schools.created.at')))),
                      rows)),
                pager.element, form);
        await pager.load(withQuery ('/api/v1/schools', {limit : 25}));
}
