// SPDX-License-Identifier: Apache-2.0
// shell.js - the portal's frame: asks whether the browser is signed in (the cookie is
// HttpOnly, so only the server can tell), shows the sign-in page or the frame with the
// navigation the server lists (GET /api/v1/schools/{school}/portal/nav), and draws the page
// of the address's fragment (#/<page id>) by importing the page's ES module from its plugin's
// assets and calling its render(root, ctx). "My account" (#/account, account.js) is the
// shell's own page, linked next to sign-out.
//
// A session that must do something first - change a password someone else set
// (must_change_password) or enrol a second factor the school requires (must_enrol_totp) -
// gets that form and nothing else, whether it was just signed in, reloaded, or told so later
// by a route (403 password-change-required / second-factor-required): the server lets such
// a session reach only those routes (docs/ACCOUNTS.md).
import {render as renderAccount, totpSection} from './account.js';
import {api, ApiError, setCsrf} from './api.js';
import {h, clear} from './dom.js';
import {lang, t} from './i18n.js';
import {langButton, renderChange, renderSignIn} from './signin.js';
import {renderGuest} from './guest.js';
import {renderReset} from './reset.js';
import {renderStart} from './start.js';

const app = document.getElementById('app');
let session = null; // {user, school, nav, permissions}

async function boot ()
{
        document.title = t ('app.title');
        document.querySelector('.skip').textContent = t ('skip');
        if (location.hash.startsWith('#/reset/')) {
                // A mailed reset link is followed signed out, whoever this browser was.
                showSignIn ();
                return;
        }
        if (showGuest ())
                return;
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
        // A mailed reset link (reset.js): its token leaves the address bar at once.
        const reset = location.hash.match(/^#\/reset\/([a-z0-9-]+)\/([A-Za-z0-9_-]+)$/);
        if (location.hash)
                history.replaceState(null, '', location.pathname);
        const signedIn = async (out) => {
                setCsrf (out.csrf_token);
                await enter ();
        };
        if (reset)
                renderReset (app, decodeURIComponent (reset[1]), reset[2], signedIn);
        else
                renderSignIn (app, signedIn);
}

// A conference guest link (guest.js), for someone without an account: true if it was one.
function showGuest ()
{
        const m = location.hash.match(/^#\/guest\/([a-z0-9-]+)\/([A-Za-z0-9_-]+)$/);
        if (m)
                renderGuest (app, m[1], m[2]);
        return m !== null;
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
        if (me.must_change_password) {
                session = null;
                renderChange (app, null, null, () => enter ().catch(showFailure), signOut);
                return;
        }
        if (me.must_enrol_totp) {
                // restricted: a change of the address must not draw the frame meanwhile.
                session = {user : me, school, nav : [], permissions : [], restricted : true};
                drawEnrol ();
                return;
        }
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

// Whether @e is the server saying the session must change its password or enrol first.
function mustFirst (e)
{
        return e instanceof ApiError && e.status === 403 && e.problem &&
               /(password-change-required|second-factor-required)$/.test(e.problem.type || '');
}

// The enrolment a school's policy requires: the account page's second-factor section alone.
function drawEnrol ()
{
        const outButton = h ('button', {type : 'button', class : 'link'}, t ('signout'));
        outButton.addEventListener('click', signOut);
        const main = h ('main', {id : 'main', tabindex : '-1'});
        clear (app).append(h ('header', {class : 'top'}, h ('span', {class : 'brand'}, t ('app.title')),
                              h ('div', {class : 'tools'}, langButton (drawEnrol), outButton)),
                           main);
        main.append(h ('h1', {}, t ('me.totp.forced.title')),
                    totpSection (makeCtx (), {
                            forced : true,
                            onDone : () => enter ().catch(showFailure)
                    }));
}

function drawFrame ()
{
        const current = (location.hash.match(/^#\/([a-z][a-z0-9-]*)/) || [])[1] || 'start';
        const link = (id, label) =>
                h ('a', {href : `#/${id}`, 'aria-current' : id === current ? 'page' : null}, label);
        const outButton = h ('button', {type : 'button', class : 'link'}, t ('signout'));
        outButton.addEventListener('click', signOut);
        const main = h ('main', {id : 'main', tabindex : '-1'});
        clear (app).append(
                h ('header', {class : 'top'}, h ('span', {class : 'brand'}, t ('app.title')),
                   h ('nav', {'aria-label' : t ('nav.label')},
                      h ('ul', {}, h ('li', {}, link ('start', t ('nav.start'))),
                         session.nav.map(
                                 (p) => h ('li', {}, link (p.id, p.label[lang] || p.label.en))))),
                   h ('div', {class : 'tools'}, link ('account', t ('me.link')), langButton (drawFrame),
                      outButton)),
                main);
        drawPage (current, main);
}

function makeCtx ()
{
        return {
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
}

async function drawPage (id, main)
{
        const ctx = makeCtx ();
        if (id === 'start') {
                renderStart (main, ctx);
                return;
        }
        if (id === 'account') {
                renderAccount (main, ctx).catch((e) => pageFailed (main, e));
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
                pageFailed (main, e);
        }
}

function pageFailed (main, e)
{
        if (e instanceof ApiError && e.status === 401) {
                showSignIn ();
                return;
        }
        if (mustFirst (e)) {
                enter ().catch(showFailure);
                return;
        }
        clear (main).append(
                h ('p', {class : 'error', role : 'alert'}, t ('page.failed', {msg : e.message})));
}

window.addEventListener('hashchange', () => {
        if (location.hash.startsWith('#/reset/'))
                showSignIn (); // a reset link opened in a tab the portal is in
        else if (showGuest ())
                return;
        else if (session && !session.restricted)
                drawFrame ();
});

boot ();
