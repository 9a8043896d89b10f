// SPDX-License-Identifier: Apache-2.0
// guests.js - a moderator's tools for one room on the conference page: guest links (a name
// and how long the link lasts: POST .../rooms/{id}/guests, whose token is shown once and kept
// by the server only as a hash; the room's links, GET .../rooms/{id}/guests; revoking one,
// DELETE .../rooms/{id}/guests/{guest_id}) and ending the meeting for everyone
// (POST .../rooms/{id}/end). The guest link opens the portal's guest page,
// {origin}/#/guest/{school}/{token} (core/portal/shell/guest.js), which asks the public join
// route (`join_path`: POST .../conference/guest/{token}/join) and opens the meeting.

const DAY = 86400000;

export const guestStrings = {
        en : {
                guests : 'Guest links for {name}',
                guestName : 'Guest\'s name',
                lasts : 'The link works for',
                day1 : 'one day',
                day7 : 'seven days',
                day30 : '30 days',
                day90 : '90 days',
                makeLink : 'Make guest link',
                made : 'The guest link for {guest} works until {until}. It is shown only now.',
                link : 'Guest link for {guest}',
                copy : 'Copy link',
                copied : 'The link is copied.',
                copyFailed : 'Copying did not work: select the link and copy it.',
                none : 'No guest links yet.',
                guest : 'Guest',
                until : 'Valid until',
                state : 'State',
                valid : 'valid',
                expired : 'expired',
                revokedState : 'revoked',
                revoke : 'Revoke',
                revoked : 'The guest link for {guest} no longer works.',
                end : 'End the meeting',
                endRoom : 'End the meeting in {name}',
                ended : 'The meeting in {name} has ended for everyone.',
                actions : 'Actions'
        },
        de : {
                guests : 'Gastlinks für {name}',
                guestName : 'Name des Gastes',
                lasts : 'Der Link gilt',
                day1 : 'einen Tag',
                day7 : 'sieben Tage',
                day30 : '30 Tage',
                day90 : '90 Tage',
                makeLink : 'Gastlink erstellen',
                made : 'Der Gastlink für {guest} gilt bis {until}. Er wird nur jetzt gezeigt.',
                link : 'Gastlink für {guest}',
                copy : 'Link kopieren',
                copied : 'Der Link ist kopiert.',
                copyFailed : 'Kopieren ging nicht: Link markieren und kopieren.',
                none : 'Noch keine Gastlinks.',
                guest : 'Gast',
                until : 'Gültig bis',
                state : 'Stand',
                valid : 'gültig',
                expired : 'abgelaufen',
                revokedState : 'widerrufen',
                revoke : 'Widerrufen',
                revoked : 'Der Gastlink für {guest} gilt nicht mehr.',
                end : 'Besprechung beenden',
                endRoom : 'Besprechung beenden: {name}',
                ended : 'Die Besprechung in {name} ist für alle beendet.',
                actions : 'Aktionen'
        },
};

// The moderator's part of one room's card: the end button and the guest links.
export function moderatorTools (ctx, api, room, s, tr, say)
{
        const h = ctx.h;
        const id = room.id;
        const base = `${api}/rooms/${encodeURIComponent (id)}`;
        const end = h ('button', {type : 'button', 'aria-label' : tr ('endRoom', {name : room.name})},
                       s.end);
        end.addEventListener('click', async () => {
                try {
                        await ctx.api.post(`${base}/end`);
                        say (tr ('ended', {name : room.name}));
                } catch (e) {
                        say (null, e);
                }
        });

        const name = h ('input', {id : `guest-name-${id}`, required : true, maxlength : '200'});
        const lasts = h ('select', {id : `guest-lasts-${id}`},
                         h ('option', {value : '1'}, s.day1),
                         h ('option', {value : '7', selected : true}, s.day7),
                         h ('option', {value : '30'}, s.day30),
                         h ('option', {value : '90'}, s.day90));
        const shown = h ('div', {role : 'status'});
        const list = h ('div');
        const form = h ('form', {},
                        h ('div', {class : 'field'}, h ('label', {for: `guest-name-${id}`
                           }, s.guestName), name),
                        h ('div', {class : 'field'}, h ('label', {for: `guest-lasts-${id}`
                           }, s.lasts), lasts),
                        h ('button', {type : 'submit'}, s.makeLink));

        async function load ()
        {
                const page = await ctx.api.get(`${base}/guests`);
                if (!page.items.length) {
                        list.replaceChildren(h ('p', {class : 'muted'}, s.none));
                        return;
                }
                const now = Date.now();
                const rows = page.items.map((g) => {
                        const gone = g.revoked_at || Date.parse(g.expires_at) <= now;
                        const state = g.revoked_at ? s.revokedState
                                      : gone       ? s.expired
                                                   : s.valid;
                        const cell = h ('td');
                        if (!gone) {
                                const b = h ('button', {
                                        type : 'button',
                                        'aria-label' : `${s.revoke}: ${g.name}`
                                },
                                             s.revoke);
                                b.addEventListener('click', async () => {
                                        try {
                                                await ctx.api.del(`${base}/guests/${
                                                        encodeURIComponent (g.id)}`);
                                                await load ();
                                                shown.replaceChildren();
                                                say (tr ('revoked', {guest : g.name}));
                                        } catch (e) {
                                                say (null, e);
                                        }
                                });
                                cell.append(b);
                        }
                        return h ('tr', {}, h ('td', {}, g.name),
                                  h ('td', {}, new Date (g.expires_at).toLocaleString(ctx.lang)),
                                  h ('td', {}, state), cell);
                });
                const table = h ('table', {},
                                 h ('thead', {},
                                    h ('tr', {}, h ('th', {scope : 'col'}, s.guest),
                                       h ('th', {scope : 'col'}, s.until),
                                       h ('th', {scope : 'col'}, s.state),
                                       h ('th', {scope : 'col'}, s.actions))),
                                 h ('tbody', {}, rows));
                const box = h ('div', {tabindex : '0', role : 'region',
                                       'aria-label' : tr ('guests', {name : room.name})},
                               table);
                box.style.overflowX = 'auto';
                list.replaceChildren(box);
        }

        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const guest = name.value.trim();
                const expires = new Date (Date.now() + Number (lasts.value) * DAY - 60000);
                try {
                        const g = await ctx.api.post(`${base}/guests`,
                                                     {name : guest, expires_at : expires.toISOString()});
                        const [, slug, token] =
                                g.join_path.match(/^\/api\/v1\/schools\/([^/]+)\/conference\/guest\/([^/]+)\/join$/);
                        const url = `${window.location.origin}/#/guest/${slug}/${token}`;
                        const field = h ('input', {id : `guest-url-${id}`, readonly : true, value : url});
                        const said = h ('span', {class : 'muted'});
                        const copy = h ('button', {type : 'button'}, s.copy);
                        copy.addEventListener('click', async () => {
                                field.select();
                                try {
                                        await navigator.clipboard.writeText(url);
                                        said.textContent = s.copied;
                                } catch (e) {
                                        said.textContent = s.copyFailed;
                                }
                        });
                        shown.replaceChildren(
                                h ('p', {}, tr ('made', {
                                           guest : g.name,
                                           until : new Date (g.expires_at).toLocaleString(ctx.lang)
                                   })),
                                h ('div', {class : 'field'}, h ('label', {for: `guest-url-${id}`
                                   }, tr ('link', {guest : g.name})), field),
                                h ('p', {}, copy, ' ', said));
                        form.reset();
                        await load ();
                } catch (e) {
                        say (null, e);
                }
        });

        const section = h ('section', {'aria-labelledby' : `guests-${id}`},
                           h ('h3', {id : `guests-${id}`}, tr ('guests', {name : room.name})),
                           form, shown, list);
        load ().catch((e) => say (null, e));
        return [ h ('p', {}, end), section ];
}
