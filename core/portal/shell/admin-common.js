// SPDX-License-Identifier: Apache-2.0
// admin-common.js - what the admin and operator pages (admin-*.js, operator-*.js) share: their
// stylesheet (admin.css, loaded once, from this bundle's prefix: the CSP allows 'self'), the
// school's API prefix, paging through a list route, and the status and error regions every
// page has. These pages use only the public REST API, like any client.

export function useStyles ()
{
        const href = new URL ('admin.css', import.meta.url).href;
        if (![...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === href))
                document.head.append(
                        Object.assign(document.createElement('link'), {rel : 'stylesheet', href}));
}

// /api/v1/schools/{slug} of the caller's school.
export function schoolApi (ctx)
{
        return `/api/v1/schools/${encodeURIComponent (ctx.school.slug)}`;
}

// Adds query parameters (skipping empty ones) to @path.
export function withQuery (path, params)
{
        const q = Object.entries(params)
                          .filter(([, v ]) => v !== null && v !== undefined && v !== '')
                          .map(([ k, v ]) => `${k}=${encodeURIComponent (v)}`);
        return q.length ? `${path}${path.includes('?') ? '&' : '?'}${q.join('&')}` : path;
}

// Every item of a list route, page after page by its cursor.
export async function allPages (ctx, path)
{
        const out = [];
        let cursor = null;
        do {
                const page = await ctx.api.get(withQuery (path, {limit : 200, cursor}));
                out.push(...page.items);
                cursor = page.next_cursor;
        } while (cursor);
        return out;
}

// A page of a list route with "previous" and "next": the routes page by opaque cursors, so
// going back keeps the cursors seen on the way forward.
export class Pager
{
        constructor(ctx, onPage)
        {
                this.ctx = ctx;
                this.onPage = onPage;
                this.stack = [];
                this.cursor = null;
                this.next = null;
                const h = ctx.h;
                this.prevButton = h ('button', {type : 'button', onclick : () => this.back()},
                                     ctx.t('admin.prev'));
                this.nextButton = h ('button', {type : 'button', onclick : () => this.forward()},
                                     ctx.t('admin.next'));
                this.label = h ('span', {class : 'muted'});
                this.element =
                        h ('div', {class : 'pager'}, this.prevButton, this.label, this.nextButton);
        }

        async load(path)
        {
                this.path = path;
                this.stack = [];
                this.cursor = null;
                await this.show();
        }

        async show()
        {
                const page = await this.ctx.api.get(withQuery (this.path, {cursor : this.cursor}));
                this.next = page.next_cursor;
                this.prevButton.disabled = this.stack.length === 0;
                this.nextButton.disabled = !this.next;
                this.label.textContent = this.ctx.t('admin.page', {n : this.stack.length + 1});
                this.onPage(page.items);
        }

        async forward()
        {
                if (!this.next)
                        return;
                this.stack.push(this.cursor);
                this.cursor = this.next;
                await this.show();
        }

        async back()
        {
                if (!this.stack.length)
                        return;
                this.cursor = this.stack.pop();
                await this.show();
        }

        async reload()
        {
                await this.show();
        }
}

// The regions every page has: errors (role=alert) and what was done (role=status).
export function regions (ctx)
{
        const error = ctx.h('p', {class : 'error', role : 'alert'});
        const status = ctx.h('p', {role : 'status', class : 'status'});
        return {
                error,
                status,
                fail : (e) => {
                        status.textContent = '';
                        error.textContent = ctx.t('admin.failed', {msg : e.message});
                },
                done : (msg) => {
                        error.textContent = '';
                        status.textContent = msg;
                },
        };
}

// Runs @fn with @button disabled, reporting a failure in @r.
export async function busy (button, r, fn)
{
        if (button)
                button.disabled = true;
        try {
                await fn ();
        } catch (e) {
                r.fail(e);
        } finally {
                if (button)
                        button.disabled = false;
        }
}

export const ROLES = [ 'admin', 'teacher', 'student', 'parent', 'staff' ];

// A fieldset of one checkbox per role; .value() answers the checked ones.
export function rolePicker (ctx, idPrefix, checked)
{
        const h = ctx.h;
        const boxes = ROLES.map((r) => h ('input', {
                                        type : 'checkbox',
                                        id : `${idPrefix}-${r}`,
                                        value : r,
                                        checked : (checked || []).includes(r)
                                }));
        const fieldset =
                h ('fieldset', {class : 'roles'}, h ('legend', {}, ctx.t('admin.roles')),
                   ROLES.map((r, i) => h ('span', {class : 'check'}, boxes[i], h ('label', {for: `${idPrefix}-${r}`
                                          }, ctx.t(`admin.role.${r}`)))));
        return {fieldset, value : () => boxes.filter((b) => b.checked).map((b) => b.value)};
}

// "teacher, admin" in the page's language.
export function roleNames (ctx, roles)
{
        return (roles || []).map((r) => ctx.t(`admin.role.${r}`)).join(', ');
}

// A date and time as the page's language writes it.
export function when (ctx, iso)
{
        if (!iso)
                return '';
        return new Date (iso).toLocaleString(ctx.lang === 'de' ? 'de-DE' : 'en-GB',
                                             {dateStyle : 'medium', timeStyle : 'short'});
}
