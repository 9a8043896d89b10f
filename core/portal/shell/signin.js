// SPDX-License-Identifier: Apache-2.0
// signin.js - the sign-in form. Posts to POST /api/v1/auth/browser-session, which sets the
// atrium_session cookie and answers the CSRF token; wrong passwords, throttling (429 with
// Retry-After) and disabled accounts are said in words, in a live region.
import {api, ApiError} from './api.js';
import {h, clear} from './dom.js';
import {lang, setLang, t} from './i18n.js';

export function renderSignIn (root, onSignedIn)
{
        clear (root);
        const last = localStorage.getItem('atrium.school') || '';
        const error = h ('p', {id : 'signin-error', class : 'error', role : 'alert'});
        const school = h ('input', {
                id : 'signin-school',
                name : 'school',
                autocomplete : 'organization',
                value : last,
                autocapitalize : 'none',
                spellcheck : 'false',
                'aria-describedby' : 'signin-hint'
        });
        const username = h ('input', {
                id : 'signin-username',
                name : 'username',
                required : true,
                autocomplete : 'username',
                autocapitalize : 'none',
                spellcheck : 'false'
        });
        const password = h ('input', {
                id : 'signin-password',
                name : 'password',
                type : 'password',
                required : true,
                autocomplete : 'current-password'
        });
        const submit = h ('button', {type : 'submit', class : 'primary'}, t ('signin.submit'));
        const form =
                h ('form', {class : 'signin', novalidate : true}, h ('h1', {}, t ('signin.title')),
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'signin-school'
                         },
                         t ('signin.school')),
                      school, h ('small', {id : 'signin-hint'}, t ('signin.operator'))),
                   h ('div', {class : 'field'},
                      h ('label',
                         {for: 'signin-username'
                         },
                         t ('signin.username')),
                      username),
                   h ('div', {class : 'field'}, h ('label', {for: 'signin-password'
                      }, t ('signin.password')), password), error, submit);
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                error.textContent = '';
                if (!username.value || !password.value) {
                        error.textContent = t ('signin.wrong');
                        (username.value ? password : username).focus();
                        return;
                }
                submit.disabled = true;
                const body = {username : username.value.trim(), password : password.value};
                if (school.value.trim())
                        body.school = school.value.trim();
                try {
                        const out = await api.post('/api/v1/auth/browser-session', body);
                        localStorage.setItem('atrium.school', school.value.trim());
                        onSignedIn (out);
                } catch (e) {
                        password.value = '';
                        if (e instanceof ApiError && e.status === 429) {
                                const secs = Number (e.headers.get('Retry-After')) || 60;
                                error.textContent = t ('signin.throttled',
                                                       {n : Math.max(1, Math.ceil(secs / 60))});
                        } else if (e instanceof ApiError && e.status === 401 &&
                                   /disabled/.test(e.message)) {
                                error.textContent = t ('signin.disabled');
                        } else if (e instanceof ApiError &&
                                   (e.status === 401 || e.status === 422)) {
                                error.textContent = t ('signin.wrong');
                        } else {
                                error.textContent = t ('signin.failed', {msg : e.message});
                        }
                        password.focus();
                } finally {
                        submit.disabled = false;
                }
        });
        const other = lang === 'de' ? 'en' : 'de';
        const switcher = h ('button', {
                type : 'button',
                class : 'link',
                lang : other,
                'aria-label' : t ('lang.switch.label')
        },
                            t ('lang.switch'));
        switcher.addEventListener('click', () => {
                setLang (other);
                renderSignIn (root, onSignedIn);
        });
        root.append(h ('main', {id : 'main', class : 'signin-page'}, form, h ('p', {}, switcher)));
        (last ? username : school).focus();
}
