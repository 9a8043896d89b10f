// SPDX-License-Identifier: Apache-2.0
// i18n.js - German and English. The language follows the browser (navigator.languages, which
// is what it sends as Accept-Language) until the person picks one, which is kept in
// localStorage. Plugins' pages bring their own strings and read ctx.lang.

const strings = {
        en : {
                'app.title' : 'Atrium',
                'skip' : 'Skip to content',
                'signin.title' : 'Sign in',
                'signin.school' : 'School',
                'signin.username' : 'Username',
                'signin.password' : 'Password',
                'signin.submit' : 'Sign in',
                'signin.operator' : 'Leave "School" empty to sign in as an operator.',
                'signin.wrong' : 'Wrong username or password.',
                'signin.throttled' : 'Too many failed attempts. Try again in {n} minutes.',
                'signin.disabled' : 'This account is disabled. Ask your school\'s administrators.',
                'signin.failed' : 'Signing in did not work: {msg}',
                'signout' : 'Sign out',
                'nav.label' : 'Main',
                'nav.start' : 'Start',
                'lang.switch' : 'Deutsch',
                'lang.switch.label' : 'Auf Deutsch anzeigen',
                'start.hello' : 'Hello, {name}',
                'start.operator' : 'operator',
                'start.school' : 'School: {school}',
                'start.areas' : 'Your areas',
                'start.none' : 'No areas are enabled for you yet.',
                'page.failed' : 'This page could not be loaded: {msg}',
                'page.notfound' : 'There is no such page.',
                'loading' : 'Loading…',
                // the sign-in lifecycle (signin.js, docs/ACCOUNTS.md)
                'account.new' : 'New password',
                'account.repeat' : 'New password again',
                'account.rule' : 'At least 8 characters, and not your username.',
                'account.mismatch' : 'The two passwords are not the same.',
                'account.policy.length' : 'The new password needs at least 8 characters.',
                'account.policy.username' : 'The new password must not contain your username.',
                'account.change.title' : 'Choose a new password',
                'account.change.why' :
                        'Your password was set by someone else. Choose your own before you go on.',
                'account.change.submit' : 'Save and continue',
                'activate.open' : 'I have an activation code',
                'activate.title' : 'Activate your account',
                'activate.why' : 'Enter the code from your letter and choose your password.',
                'activate.code' : 'Activation code',
                'activate.submit' : 'Activate and sign in',
                'activate.back' : 'Back to sign-in',
                'activate.wrong' :
                        'School, username or code is wrong, or the code has expired or was used.',
                'totp.title' : 'Second step: your code',
                'totp.code' : 'Code',
                'totp.hint' : 'The six digits from your authenticator app, or a recovery code.',
                'totp.wrong' : 'Wrong or already used code.',
                'totp.expired' : 'That took too long. Sign in again.',
                'totp.remember' : 'Remember this device (if your school allows it)',
        },
        de : {
                'app.title' : 'Atrium',
                'skip' : 'Zum Inhalt springen',
                'signin.title' : 'Anmelden',
                'signin.school' : 'Schule',
                'signin.username' : 'Benutzername',
                'signin.password' : 'Passwort',
                'signin.submit' : 'Anmelden',
                'signin.operator' : 'Lassen Sie „Schule“ leer, um sich als Betreiber anzumelden.',
                'signin.wrong' : 'Benutzername oder Passwort ist falsch.',
                'signin.throttled' :
                        'Zu viele Fehlversuche. Versuchen Sie es in {n} Minuten wieder.',
                'signin.disabled' :
                        'Dieses Konto ist gesperrt. Wenden Sie sich an die Schulverwaltung.',
                'signin.failed' : 'Die Anmeldung hat nicht geklappt: {msg}',
                'signout' : 'Abmelden',
                'nav.label' : 'Hauptmenü',
                'nav.start' : 'Start',
                'lang.switch' : 'English',
                'lang.switch.label' : 'Show in English',
                'start.hello' : 'Hallo, {name}',
                'start.operator' : 'Betreiberin oder Betreiber',
                'start.school' : 'Schule: {school}',
                'start.areas' : 'Ihre Bereiche',
                'start.none' : 'Für Sie ist noch kein Bereich freigeschaltet.',
                'page.failed' : 'Diese Seite ließ sich nicht laden: {msg}',
                'page.notfound' : 'Diese Seite gibt es nicht.',
                'loading' : 'Wird geladen …',
                // the sign-in lifecycle (signin.js, docs/ACCOUNTS.md)
                'account.new' : 'Neues Passwort',
                'account.repeat' : 'Neues Passwort wiederholen',
                'account.rule' : 'Mindestens 8 Zeichen, und nicht Ihr Benutzername.',
                'account.mismatch' : 'Die beiden Passwörter sind nicht gleich.',
                'account.policy.length' : 'Das neue Passwort braucht mindestens 8 Zeichen.',
                'account.policy.username' :
                        'Das neue Passwort darf Ihren Benutzernamen nicht enthalten.',
                'account.change.title' : 'Neues Passwort festlegen',
                'account.change.why' : 'Ihr Passwort wurde von jemand anderem gesetzt. Legen Sie '
                                       + 'ein eigenes fest, bevor es weitergeht.',
                'account.change.submit' : 'Speichern und weiter',
                'activate.open' : 'Ich habe einen Aktivierungscode',
                'activate.title' : 'Konto aktivieren',
                'activate.why' : 'Geben Sie den Code aus Ihrem Brief ein und legen Sie Ihr '
                                 + 'Passwort fest.',
                'activate.code' : 'Aktivierungscode',
                'activate.submit' : 'Aktivieren und anmelden',
                'activate.back' : 'Zurück zur Anmeldung',
                'activate.wrong' : 'Schule, Benutzername oder Code ist falsch, oder der Code ist '
                                   + 'abgelaufen oder wurde schon benutzt.',
                'totp.title' : 'Zweiter Schritt: Ihr Code',
                'totp.code' : 'Code',
                'totp.hint' :
                        'Die sechs Ziffern aus Ihrer Authenticator-App oder ein Wiederherstellungscode.',
                'totp.wrong' : 'Der Code ist falsch oder wurde schon benutzt.',
                'totp.expired' : 'Das hat zu lange gedauert. Melden Sie sich neu an.',
                'totp.remember' : 'Dieses Gerät merken (wenn Ihre Schule es erlaubt)',
        },
};

function detect ()
{
        const kept = localStorage.getItem('atrium.lang');
        if (kept === 'de' || kept === 'en')
                return kept;
        for (const l of navigator.languages || [ navigator.language || 'en' ]) {
                const base = l.toLowerCase().slice(0, 2);
                if (base === 'de' || base === 'en')
                        return base;
        }
        return 'en';
}

export let lang = detect ();

export function setLang (l)
{
        lang = l === 'de' ? 'de' : 'en';
        localStorage.setItem('atrium.lang', lang);
        document.documentElement.lang = lang;
}

export function t (key, args)
{
        let s = (strings[lang] && strings[lang][key]) || strings.en[key] || key;
        for (const [k, v] of Object.entries(args || {}))
                s = s.replace(`{${k}}`, String (v));
        return s;
}

document.documentElement.lang = lang;
