// SPDX-License-Identifier: Apache-2.0
// page.js - the noticeboard's page in the portal: how a plugin contributes a page
// (docs/PORTAL.md). The shell imports this module from the plugin's assets and calls
// render(root, ctx); everything it shows comes from the plugin's REST routes, through ctx.api
// (the browser's session cookie, with the CSRF token on changes). Elements are built with
// ctx.h, never from HTML strings. Its stylesheet is linked from here, under the same
// content-hashed prefix as this module.

const strings = {
        en : {
                title : 'Noticeboard',
                empty : 'There are no notices.',
                post : 'Post a notice',
                heading : 'Title',
                body : 'Text',
                pinned : 'Pin to the top',
                submit : 'Post',
                remove : 'Take down',
                posted : 'Posted on {date}',
                failed : 'That did not work: {msg}',
                pinnedMark : 'Pinned'
        },
        de : {
                title : 'Schwarzes Brett',
                empty : 'Es gibt keine Aushänge.',
                post : 'Aushang schreiben',
                heading : 'Überschrift',
                body : 'Text',
                pinned : 'Oben anheften',
                submit : 'Aushängen',
                remove : 'Abnehmen',
                posted : 'Ausgehängt am {date}',
                failed : 'Das hat nicht geklappt: {msg}',
                pinnedMark : 'Angeheftet'
        },
};

function linkStyle ()
{
        const href = new URL ('noticeboard.css', import.meta.url).pathname;
        if (!document.querySelector(`link[href="${href}"]`)) {
                const l = document.createElement('link');
                l.rel = 'stylesheet';
                l.href = href;
                document.head.append(l);
        }
}

export async function render (root, ctx)
{
        linkStyle ();
        const s = strings[ctx.lang] || strings.en;
        const tr = (k, args) => Object.entries(args || {})
                                        .reduce((acc, [ a, v ]) => acc.replace(`{${a}}`, v), s[k]);
        const h = ctx.h;
        const base = `/api/v1/schools/${encodeURIComponent (ctx.school.slug)}/noticeboard/notices`;
        const status = h ('p', {class : 'error', role : 'alert'});
        const list = h ('div', {class : 'notices'});

        async function load ()
        {
                const page = await ctx.api.get(`${base}?limit=50`);
                list.replaceChildren();
                if (!page.items.length)
                        list.append(h ('p', {class : 'muted'}, s.empty));
                for (const n of page.items) {
                        const date = new Date (n.created_at).toLocaleString(ctx.lang);
                        const card = h (
                                'article', {class : 'card notice', 'aria-labelledby' : `n-${n.id}`},
                                h ('h2', {id : `n-${n.id}`}, n.title,
                                   n.pinned ? h ('span', {class : 'pin'}, ` · ${s.pinnedMark}`)
                                            : null),
                                h ('p', {class : 'body'}, n.body),
                                h ('p', {class : 'muted'}, tr ('posted', {date})));
                        if (ctx.can('noticeboard.post')) {
                                const b = h ('button', {type : 'button'}, s.remove);
                                b.addEventListener('click', async () => {
                                        try {
                                                await ctx.api.del(`${base}/${n.id}`);
                                                await load ();
                                        } catch (e) {
                                                status.textContent =
                                                        tr ('failed', {msg : e.message});
                                        }
                                });
                                card.append(b);
                        }
                        list.append(card);
                }
        }

        root.append(h ('h1', {}, s.title), status);
        if (ctx.can('noticeboard.post')) {
                const title = h ('input', {id : 'nb-title', required : true, maxlength : '200'});
                const body = h ('textarea', {id : 'nb-body', rows : '4', maxlength : '20000'});
                const pinned = h ('input', {id : 'nb-pinned', type : 'checkbox'});
                const form = h ('form', {class : 'card'}, h ('h2', {}, s.post),
                                h ('div', {class : 'field'},
                                   h ('label',
                                      {for: 'nb-title'
                                      },
                                      s.heading),
                                   title),
                                h ('div', {class : 'field'},
                                   h ('label',
                                      {for: 'nb-body'
                                      },
                                      s.body),
                                   body),
                                h ('div', {class : 'field check'}, pinned,
                                   h ('label',
                                      {for: 'nb-pinned'
                                      },
                                      s.pinned)),
                                h ('button', {type : 'submit', class : 'primary'}, s.submit));
                form.addEventListener('submit', async (ev) => {
                        ev.preventDefault();
                        status.textContent = '';
                        try {
                                await ctx.api.post(base, {
                                        title : title.value,
                                        body : body.value,
                                        pinned : pinned.checked
                                });
                                form.reset();
                                await load ();
                        } catch (e) {
                                status.textContent = tr ('failed', {msg : e.message});
                        }
                });
                root.append(form);
        }
        root.append(list);
        await load ();
}
