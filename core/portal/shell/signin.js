// SPDX-License-Identifier: Apache-2.0
// signin.js - the sign-in form. Posts to POST /api/v1/auth/browser-session, which sets the
// atrium_session cookie and answers the CSRF token; wrong passwords, throttling (429 with
// Retry-After) and disabled accounts are said in words, in a live region.
//
// The sign-in lifecycle (docs/ACCOUNTS.md): a person whose password someone else set
// (must_change_password in the answer) chooses a new one before the portal opens; "I have an
// activation code" leads to the form that redeems a code from a letter (POST
// /api/v1/auth/activate), then signs the browser in with the new password; a person with a
// second factor is asked for the app's code (or a recovery code) after the password.
import {api, ApiError, setCsrf} from './api.js';
import {h, clear} from './dom.js';
import {lang, setLang, t} from './i18n.js';
import {renderForgot} from './reset.js';

// @notice (optional): a sentence said above the form (a password just set by a mailed link).
export function renderSignIn (root, onSignedIn, notice)
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
                        const next = (done) => {
                                if (done.user && done.user.must_change_password)
                                        renderChange (root, body.password, done, onSignedIn);
                                else
                                        onSignedIn (done);
                        };
                        if (out.second_factor === 'totp')
                                renderCode (root, out.pending_token, next, onSignedIn);
                        else
                                next (out);
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
        const switcher = langButton (() => renderSignIn (root, onSignedIn));
        const withCode = h ('button', {type : 'button', class : 'link'}, t ('activate.open'));
        withCode.addEventListener('click', () => renderActivate (root, onSignedIn));
        const forgot = h ('button', {type : 'button', class : 'link'}, t ('forgot.open'));
        forgot.addEventListener('click', () => renderForgot (root, onSignedIn));
        root.append(h ('main', {id : 'main', class : 'signin-page'},
                       notice ? h ('p', {id : 'signin-notice', role : 'status'}, notice) : null, form,
                       h ('p', {}, forgot), h ('p', {}, withCode), h ('p', {}, switcher)));
        (last ? username : school).focus();
}

// "Deutsch" / "English": switches the language and calls @redraw.
export function langButton (redraw)
{
        const other = lang === 'de' ? 'en' : 'de';
        const b = h ('button', {
                type : 'button',
                class : 'link',
                lang : other,
                'aria-label' : t ('lang.switch.label')
        },
                     t ('lang.switch'));
        b.addEventListener('click', () => {
                setLang (other);
                redraw ();
        });
        return b;
}

// A labelled field; returns [wrapper, input].
export function field (id, label, attrs)
{
        const input = h ('input', Object.assign({id, name : id, required : true}, attrs));
        return [ h ('div', {class : 'field'}, h ('label', {for: id}, t (label)), input), input ];
}

// What a refused new password, code or change means, in words.
export function explain (e)
{
        if (!(e instanceof ApiError))
                return t ('signin.failed', {msg : e.message});
        if (e.status === 429) {
                const secs = Number (e.headers.get('Retry-After')) || 60;
                return t ('signin.throttled', {n : Math.max(1, Math.ceil(secs / 60))});
        }
        if (e.status === 422)
                return t (/username/.test(e.message) ? 'account.policy.username'
                                                     : 'account.policy.length');
        return null;
}

export function passwordPair (prefix)
{
        const [one, first] = field (`${prefix}-new`, 'account.new', {
                type : 'password',
                autocomplete : 'new-password',
                minlength : 8,
                'aria-describedby' : `${prefix}-rule`
        });
        const [two, second] =
                field (`${prefix}-repeat`, 'account.repeat', {type : 'password', autocomplete : 'new-password'});
        const rule = h ('small', {id : `${prefix}-rule`}, t ('account.rule'));
        one.append(rule);
        return {nodes : [ one, two ], first, second};
}

// The second step of a sign-in with a second factor: the app's code or a recovery code.
function renderCode (root, pending, next, onSignedIn)
{
        clear (root);
        const error = h ('p', {id : 'code-error', class : 'error', role : 'alert'});
        const [codeField, code] = field ('signin-code', 'totp.code', {
                autocomplete : 'one-time-code',
                inputmode : 'numeric',
                autocapitalize : 'none',
                spellcheck : 'false',
                'aria-describedby' : 'signin-code-hint'
        });
        codeField.append(h ('small', {id : 'signin-code-hint'}, t ('totp.hint')));
        // Only kept when the school allows remembering devices (the server decides).
        const keep = h ('input', {id : 'signin-remember', type : 'checkbox', name : 'remember'});
        const keepField = h ('div', {class : 'field'}, h ('label', {for: 'signin-remember'}, keep, ' ',
                                                           t ('totp.remember')));
        const submit = h ('button', {type : 'submit', class : 'primary'}, t ('signin.submit'));
        const back = h ('button', {type : 'button', class : 'link'}, t ('activate.back'));
        back.addEventListener('click', () => renderSignIn (root, onSignedIn));
        const form = h ('form', {class : 'signin', novalidate : true}, h ('h1', {}, t ('totp.title')),
                        codeField, keepField, error, submit);
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                error.textContent = '';
                submit.disabled = true;
                try {
                        next (await api.post('/api/v1/auth/browser-session/totp',
                                             {
                                                     pending_token : pending,
                                                     code : code.value.trim(),
                                                     remember_device : keep.checked
                                             }));
                } catch (e) {
                        code.value = '';
                        if (e instanceof ApiError && e.status === 401 && /expired/.test(e.message))
                                error.textContent = t ('totp.expired');
                        else
                                error.textContent = explain (e) ||
                                                    (e instanceof ApiError && e.status === 401
                                                             ? t ('totp.wrong')
                                                             : t ('signin.failed', {msg : e.message}));
                        code.focus();
                } finally {
                        submit.disabled = false;
                }
        });
        root.append(h ('main', {id : 'main', class : 'signin-page'}, form, h ('p', {}, back)));
        code.focus();
}

// The forced change after signing in with a password someone else set. Right after the
// sign-in the page still knows that password (@current); after a reload (shell.js: the
// session says must_change_password) it asks for it, and offers signing out (@onSignOut).
export function renderChange (root, current, out, onSignedIn, onSignOut)
{
        clear (root);
        const error = h ('p', {id : 'change-error', class : 'error', role : 'alert'});
        const pair = passwordPair ('change');
        const [oldField, old] =
                current === null
                        ? field ('change-current', 'me.password.current',
                                 {type : 'password', autocomplete : 'current-password'})
                        : [ null, null ];
        const submit = h ('button', {type : 'submit', class : 'primary'}, t ('account.change.submit'));
        const form = h ('form', {class : 'signin', novalidate : true},
                        h ('h1', {}, t ('account.change.title')),
                        h ('p', {}, t ('account.change.why')), oldField, ...pair.nodes, error,
                        submit);
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                error.textContent = '';
                if (old && !old.value) {
                        error.textContent = t ('me.password.fill');
                        old.focus();
                        return;
                }
                if (pair.first.value !== pair.second.value) {
                        error.textContent = t ('account.mismatch');
                        pair.second.focus();
                        return;
                }
                submit.disabled = true;
                try {
                        if (out)
                                setCsrf (out.csrf_token);
                        await api.post('/api/v1/me/password', {
                                current_password : old ? old.value : current,
                                new_password : pair.first.value
                        });
                        if (out)
                                out.user.must_change_password = false;
                        onSignedIn (out);
                } catch (e) {
                        if (old && e instanceof ApiError && e.status === 403) {
                                error.textContent = t ('me.password.wrong');
                                old.value = '';
                                old.focus();
                                return;
                        }
                        error.textContent = explain (e) || t ('signin.failed', {msg : e.message});
                        pair.first.focus();
                } finally {
                        submit.disabled = false;
                }
        });
        let leave = null;
        if (onSignOut) {
                leave = h ('button', {type : 'button', class : 'link'}, t ('signout'));
                leave.addEventListener('click', onSignOut);
        }
        root.append(h ('main', {id : 'main', class : 'signin-page'}, form,
                       leave ? h ('p', {}, leave) : null));
        (old || pair.first).focus();
}

// Redeeming an activation code from a letter: the first password, then the browser's sign-in.
function renderActivate (root, onSignedIn)
{
        clear (root);
        const error = h ('p', {id : 'activate-error', class : 'error', role : 'alert'});
        const [schoolField, school] = field ('activate-school', 'signin.school', {
                autocomplete : 'organization',
                value : localStorage.getItem('atrium.school') || '',
                autocapitalize : 'none',
                spellcheck : 'false'
        });
        const [userField, username] = field (
                'activate-username', 'signin.username',
                {autocomplete : 'username', autocapitalize : 'none', spellcheck : 'false'});
        const [codeField, code] = field ('activate-code', 'activate.code', {
                autocomplete : 'one-time-code',
                autocapitalize : 'characters',
                spellcheck : 'false',
                placeholder : 'XXXX-XXXX-XXXX-XXXX'
        });
        const pair = passwordPair ('activate');
        const submit = h ('button', {type : 'submit', class : 'primary'}, t ('activate.submit'));
        const back = h ('button', {type : 'button', class : 'link'}, t ('activate.back'));
        back.addEventListener('click', () => renderSignIn (root, onSignedIn));
        const form = h ('form', {class : 'signin', novalidate : true}, h ('h1', {}, t ('activate.title')),
                        h ('p', {}, t ('activate.why')), schoolField, userField, codeField,
                        ...pair.nodes, error, submit);
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                error.textContent = '';
                const body = {
                        school : school.value.trim(),
                        username : username.value.trim(),
                        code : code.value.trim(),
                        new_password : pair.first.value
                };
                if (!body.school || !body.username || !body.code) {
                        error.textContent = t ('activate.wrong');
                        return;
                }
                if (pair.first.value !== pair.second.value) {
                        error.textContent = t ('account.mismatch');
                        pair.second.focus();
                        return;
                }
                submit.disabled = true;
                try {
                        const done = await api.post('/api/v1/auth/activate', body);
                        // That answer is a bearer token; the browser uses the cookie instead,
                        // so end the token's session and sign the browser in.
                        await fetch ('/api/v1/auth/logout', {
                                method : 'POST',
                                headers : {Authorization : `Bearer ${done.token}`},
                                credentials : 'omit'
                        });
                        const out = await api.post('/api/v1/auth/browser-session', {
                                school : body.school,
                                username : body.username,
                                password : body.new_password
                        });
                        localStorage.setItem('atrium.school', body.school);
                        onSignedIn (out);
                } catch (e) {
                        error.textContent = explain (e) ||
                                            (e.status === 401 ? t ('activate.wrong')
                                                              : t ('signin.failed', {msg : e.message}));
                } finally {
                        submit.disabled = false;
                }
        });
        root.append(h ('main', {id : 'main', class : 'signin-page'}, form, h ('p', {}, back)));
        (school.value ? username : school).focus();
}
