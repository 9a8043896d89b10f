// SPDX-License-Identifier: Apache-2.0
// reset.js - a forgotten password (docs/ACCOUNTS.md, "Resets by a mailed link"). "Forgot your
// password?" on the sign-in page asks for a link (POST /api/v1/auth/password-reset: the
// answer is the same whether or not an account or an address was found, and the page says
// just that); the mailed link opens the portal at #/reset/{school}/{token}, where the shell
// (shell.js) hands the token to renderReset, which sets the new password (POST
// .../password-reset/confirm) and then offers the sign-in. The token leaves the address bar
// before anything is drawn, so it stays out of the history.
import {api, ApiError} from './api.js';
import {h, clear} from './dom.js';
import {t} from './i18n.js';
import {explain, field, passwordPair, renderSignIn} from './signin.js';

function page (root, form, back)
{
        root.append(h ('main', {id : 'main', class : 'signin-page'}, form, h ('p', {}, back)));
}

function backLink (root, onSignedIn)
{
        const back = h ('button', {type : 'button', class : 'link'}, t ('activate.back'));
        back.addEventListener('click', () => renderSignIn (root, onSignedIn));
        return back;
}

export function renderForgot (root, onSignedIn)
{
        clear (root);
        const error = h ('p', {id : 'forgot-error', class : 'error', role : 'alert'});
        const done = h ('p', {id : 'forgot-done', role : 'status'});
        const [schoolField, school] = field ('forgot-school', 'signin.school', {
                autocomplete : 'organization',
                value : localStorage.getItem('atrium.school') || '',
                autocapitalize : 'none',
                spellcheck : 'false'
        });
        const [loginField, login] = field ('forgot-login', 'forgot.login', {
                autocomplete : 'username',
                autocapitalize : 'none',
                spellcheck : 'false',
                'aria-describedby' : 'forgot-login-hint'
        });
        loginField.append(h ('small', {id : 'forgot-login-hint'}, t ('forgot.hint')));
        const submit = h ('button', {type : 'submit', class : 'primary'}, t ('forgot.submit'));
        const form = h ('form', {class : 'signin', novalidate : true}, h ('h1', {}, t ('forgot.title')),
                        h ('p', {}, t ('forgot.why')), schoolField, loginField, error, done,
                        submit);
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                error.textContent = '';
                done.textContent = '';
                const body = {school : school.value.trim(), login : login.value.trim()};
                if (!body.school || !body.login) {
                        error.textContent = t ('forgot.fill');
                        (body.school ? login : school).focus();
                        return;
                }
                submit.disabled = true;
                try {
                        await api.post('/api/v1/auth/password-reset', body);
                        localStorage.setItem('atrium.school', body.school);
                        done.textContent = t ('forgot.sent');
                } catch (e) {
                        error.textContent = explain (e) || t ('signin.failed', {msg : e.message});
                } finally {
                        submit.disabled = false;
                }
        });
        page (root, form, backLink (root, onSignedIn));
        (school.value ? login : school).focus();
}

export function renderReset (root, school, token, onSignedIn)
{
        clear (root);
        const error = h ('p', {id : 'reset-error', class : 'error', role : 'alert'});
        const pair = passwordPair ('reset');
        const submit = h ('button', {type : 'submit', class : 'primary'}, t ('reset.submit'));
        const form = h ('form', {class : 'signin', novalidate : true}, h ('h1', {}, t ('reset.title')),
                        h ('p', {}, t ('reset.why', {school})), ...pair.nodes, error, submit);
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                error.textContent = '';
                if (pair.first.value !== pair.second.value) {
                        error.textContent = t ('account.mismatch');
                        pair.second.focus();
                        return;
                }
                submit.disabled = true;
                try {
                        await api.post('/api/v1/auth/password-reset/confirm',
                                       {school, token, new_password : pair.first.value});
                        localStorage.setItem('atrium.school', school);
                        renderSignIn (root, onSignedIn, t ('reset.done'));
                } catch (e) {
                        if (e instanceof ApiError && e.status === 401) {
                                error.textContent = t ('reset.invalid');
                                return;
                        }
                        error.textContent = explain (e) || t ('signin.failed', {msg : e.message});
                        pair.first.focus();
                } finally {
                        submit.disabled = false;
                }
        });
        page (root, form, backLink (root, onSignedIn));
        pair.first.focus();
}
