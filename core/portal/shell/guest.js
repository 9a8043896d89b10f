// SPDX-License-Identifier: Apache-2.0
// guest.js - the page a conference guest link opens (#/guest/{school}/{token}): someone without
// an account, invited by a room's moderator (plugins/conference/portal/guests.js), joins with
// one button. It asks the conference module's public join route, POST
// /api/v1/schools/{school}/conference/guest/{token}/join, without the browser's cookie, and
// opens the meeting's signed URL it answers (Jitsi or BigBlueButton). An expired or revoked link
// is said in words. The shell (shell.js) shows this page before any sign-in.
import {h, clear} from './dom.js';
import {t} from './i18n.js';
import {langButton} from './signin.js';

export function renderGuest (root, school, token)
{
        clear (root);
        const error = h ('p', {id : 'guest-error', class : 'error', role : 'alert'});
        const join = h ('button', {type : 'button', class : 'primary'}, t ('guest.join'));
        join.addEventListener('click', async () => {
                error.textContent = '';
                join.disabled = true;
                try {
                        const res = await fetch (`/api/v1/schools/${encodeURIComponent (school)}` +
                                                         `/conference/guest/${encodeURIComponent (token)}/join`,
                                                 {method : 'POST', credentials : 'omit'});
                        if (res.status === 404) {
                                error.textContent = t ('guest.invalid');
                                return;
                        }
                        if (!res.ok) {
                                error.textContent = t ('guest.failed', {msg : `${res.status}`});
                                return;
                        }
                        const answer = await res.json();
                        window.location.assign(answer.url);
                } catch (e) {
                        error.textContent = t ('guest.failed', {msg : e.message});
                } finally {
                        join.disabled = false;
                }
        });
        const switcher = langButton (() => renderGuest (root, school, token));
        root.append(h ('main', {id : 'main', class : 'signin-page'},
                       h ('div', {class : 'signin'}, h ('h1', {}, t ('guest.title')),
                          h ('p', {}, t ('guest.why', {school})), error, join),
                       h ('p', {}, switcher)));
        join.focus();
}
