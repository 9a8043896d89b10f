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
        },
};

// The start page's "today" (start.js): one block per module, each from that module's REST
// routes.
Object.assign(strings.en, {
        'today.title' : 'Today',
        'today.events' : 'Today\'s events',
        'today.noEvents' : 'Nothing planned today.',
        'today.allDay' : 'all day',
        'today.mail' : 'Mail',
        'today.unread.one' : '1 unread message',
        'today.unread.many' : '{n} unread messages',
        'today.unread.none' : 'No unread mail.',
        'today.files' : 'Recent files',
        'today.noFiles' : 'No files yet.',
        'today.rooms' : 'Rooms open now',
        'today.noRooms' : 'No room is open now.',
        'today.failed' : 'This could not be loaded: {msg}',
});
Object.assign(strings.de, {
        'today.title' : 'Heute',
        'today.events' : 'Heutige Termine',
        'today.noEvents' : 'Heute ist nichts geplant.',
        'today.allDay' : 'ganztägig',
        'today.mail' : 'E-Mail',
        'today.unread.one' : '1 ungelesene Nachricht',
        'today.unread.many' : '{n} ungelesene Nachrichten',
        'today.unread.none' : 'Keine ungelesenen E-Mails.',
        'today.files' : 'Zuletzt geänderte Dateien',
        'today.noFiles' : 'Noch keine Dateien.',
        'today.rooms' : 'Jetzt offene Räume',
        'today.noRooms' : 'Gerade ist kein Raum offen.',
        'today.failed' : 'Das ließ sich nicht laden: {msg}',
});

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
