// SPDX-License-Identifier: Apache-2.0
// shell.js - the portal's frame: asks whether the browser is signed in (the cookie is
// HttpOnly, so only the server can tell), shows the sign-in page or the frame with the
// navigation the server lists (GET /api/v1/schools/{school}/portal/nav), and draws the page
// of the address's fragment (#/<page id>) by importing the page's ES module from its plugin's
// assets and calling its render(root, ctx).
import {api, ApiError, setCsrf} from './api.js';
import {h, clear} from './dom.js';
import {lang, setLang, t} from './i18n.js';
import {renderSignIn} from './signin.js';
import {renderStart} from './start.js';

const app = document.getElementById('app');
let session = null; // {user, school, nav, permissions}

async function boot ()
{
        document.title = t ('app.title');
        document.querySelector('.skip').textContent = t ('skip');
        try {
                const s = await api.get('/api/v1/auth/browser-session');
                setCsrf (s.csrf_token);
                await enter ();
        } catch (e) {
                if (e instanceof ApiError && e.status === 401)
                        showSignIn ();
                else
                        showFailure (e);
        }
}

function showSignIn ()
{
        session = null;
        setCsrf (null);
        if (location.hash)
                history.replaceState(null, '', location.pathname);
        renderSignIn (app, async (out) => {
                setCsrf (out.csrf_token);
                await enter ();
        });
}

function showFailure (e)
{
        clear (app).append(h (
                'main', {id : 'main'},
                h ('p', {class : 'error', role : 'alert'}, t ('page.failed', {msg : e.message}))));
}

async function enter ()
{
        const me = await api.get('/api/v1/me');
        const school = me.school || null;
        // A school's pages, or (operators, who have no school) the installation's.
        const nav = (await api.get(school ? `/api/v1/schools/${
                                                    encodeURIComponent (school.slug)}/portal/nav`
                                          : '/api/v1/portal/nav'))
                            .items;
        session = {user : me, school, nav, permissions : me.permissions || []};
        drawFrame ();
}

async function signOut ()
{
        try {
                await api.del('/api/v1/auth/browser-session');
        } catch (e) {
                // Signed out already, or the server is away: the sign-in page is right either way.
        }
        showSignIn ();
}

function drawFrame ()
{
        const current = (location.hash.match(/^#\/([a-z][a-z0-9-]*)/) || [])[1] || 'start';
        const link = (id, label) =>
                h ('a', {href : `#/${id}`, 'aria-current' : id === current ? 'page' : null}, label);
        const other = lang === 'de' ? 'en' : 'de';
        const langButton = h ('button', {
                type : 'button',
                class : 'link',
                lang : other,
                'aria-label' : t ('lang.switch.label')
        },
                              t ('lang.switch'));
        langButton.addEventListener('click', () => {
                setLang (other);
                drawFrame ();
        });
        const outButton = h ('button', {type : 'button', class : 'link'}, t ('signout'));
        outButton.addEventListener('click', signOut);
        const main = h ('main', {id : 'main', tabindex : '-1'});
        clear (app).append(
                h ('header', {class : 'top'}, h ('span', {class : 'brand'}, t ('app.title')),
                   h ('nav', {'aria-label' : t ('nav.label')},
                      h ('ul', {}, h ('li', {}, link ('start', t ('nav.start'))),
                         session.nav.map(
                                 (p) => h ('li', {}, link (p.id, p.label[lang] || p.label.en))))),
                   h ('div', {class : 'tools'}, langButton, outButton)),
                main);
        drawPage (current, main);
}

async function drawPage (id, main)
{
        const ctx = {
                api,
                h,
                lang,
                t,
                user : session.user,
                school : session.school,
                permissions : session.permissions,
                nav : session.nav,
                can : (p) => session.permissions.includes(p)
        };
        if (id === 'start') {
                renderStart (main, ctx);
                return;
        }
        const page = session.nav.find((p) => p.id === id);
        if (!page) {
                main.append(h ('p', {role : 'alert'}, t ('page.notfound')));
                return;
        }
        main.append(h ('p', {class : 'loading'}, t ('loading')));
        try {
                const mod = await import (page.module);
                clear (main);
                await mod.render(main, ctx);
        } catch (e) {
                if (e instanceof ApiError && e.status === 401) {
                        showSignIn ();
                        return;
                }
                clear (main).append(h ('p', {class : 'error', role : 'alert'},
                                       t ('page.failed', {msg : e.message})));
        }
}

window.addEventListener('hashchange', () => {
        if (session)
                drawFrame ();
});

boot ();
