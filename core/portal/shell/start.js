// SPDX-License-Identifier: Apache-2.0
// start.js - the start page: who is signed in, and the areas they may open. (What matters
// today, from each module, is not built yet: docs/PORTAL.md, "Not yet".)
import {h} from './dom.js';
import {t} from './i18n.js';

export function renderStart (root, ctx)
{
        /* An operator's answer from /api/v1/me has no name: say what they are. */
        const name =
                (ctx.user && (ctx.user.display_name || ctx.user.username)) || t ('start.operator');
        const items = ctx.nav.map(
                (p) => h ('li', {},
                          h ('a', {href : `#/${p.id}`}, p.label[ctx.lang] || p.label.en)));
        root.append(
                h ('h1', {}, t ('start.hello', {name})),
                ctx.school ? h ('p', {},
                                t ('start.school', {school : ctx.school.name || ctx.school.slug}))
                           : null,
                h ('h2', {}, t ('start.areas')),
                items.length ? h ('ul', {class : 'areas'}, items) : h ('p', {}, t ('start.none')));
}
