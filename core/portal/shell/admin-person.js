// SPDX-License-Identifier: Apache-2.0
// admin-person.js - the people page's editor of one person (admin-people.js, users.manage),
// each part a public REST route:
// - name and username: PATCH .../users/{id} with what changed (roles and disabling stay in
//   the list's own buttons);
// - a password: a chosen one (PATCH .../users/{id} with password) or a one-time password the
//   server makes (POST .../users/{id}/password-reset); either way the person must change it at
//   the next sign-in and their sessions end (docs/ACCOUNTS.md);
// - removing the second factor of someone who lost their device: DELETE .../users/{id}/totp;
// - parents of a student and children of a parent: PUT|DELETE .../users/{student}/parents/{parent};
// - erasing the person and everything the platform holds about them (GDPR):
//   DELETE .../users/{id}, after a confirmation that names them.
import {busy, withQuery} from './admin-common.js';

function input (h, t, id, label, attrs, hint)
{
        const el = h ('input', Object.assign({id, 'aria-describedby' : hint ? `${id}-hint` : null},
                                             attrs));
        return [
                h ('div', {class : 'field narrow'}, h ('label', {for: id}, t (label)), el,
                   hint ? h ('small', {id : `${id}-hint`}, t (hint)) : null),
                el
        ];
}

// Fills @editor (a section) for person @p. @base is .../users; @r the page's regions;
// @changed() redraws the list after a change; @close() hides the editor.
export async function editPerson (editor, ctx, p, base, r, changed, close)
{
        const {h, t} = ctx;
        const path = `${base}/${p.id}`;
        const self = ctx.user && ctx.user.id === p.id;
        const heading = h ('h2', {id : 'person-title'}, t ('admin.person.title', {name : p.display_name}));

        // Name and username.
        const [nameField, name] = input (h, t, 'edit-name', 'admin.people.name',
                                         {required : true, maxlength : 200, value : p.display_name,
                                          autocomplete : 'off'});
        const [userField, username] = input (h, t, 'edit-username', 'admin.people.username', {
                required : true,
                value : p.username,
                pattern : '[a-z0-9._\\-]{2,64}',
                autocapitalize : 'none',
                spellcheck : 'false',
                autocomplete : 'off'
        },
                                             'admin.people.username.hint');
        const save = h ('button', {type : 'submit', class : 'primary'}, t ('admin.person.save'));
        const cancel = h ('button', {type : 'button', onclick : close}, t ('admin.person.close'));
        const form = h ('form', {novalidate : true}, nameField, userField,
                        h ('div', {class : 'buttons'}, save, cancel));
        form.addEventListener('submit', (ev) => {
                ev.preventDefault();
                busy (save, r, async () => {
                        const body = {};
                        if (!name.value.trim() || !username.value.trim())
                                throw new Error (t ('admin.people.fill'));
                        if (name.value.trim() !== p.display_name)
                                body.display_name = name.value.trim();
                        if (username.value.trim() !== p.username)
                                body.username = username.value.trim();
                        let out = p;
                        try {
                                if (Object.keys(body).length)
                                        out = await ctx.api.patch(path, body);
                        } catch (e) {
                                if (e.status === 409 && body.username)
                                        throw new Error (t ('admin.person.taken',
                                                            {username : body.username}));
                                throw e;
                        }
                        close ();
                        await changed ();
                        r.done(t ('admin.person.saved', {name : out.display_name}));
                });
        });

        // A password the person must change.
        const [pwField, password] = input (h, t, 'edit-password', 'admin.person.password', {
                type : 'password',
                minlength : 8,
                autocomplete : 'new-password'
        },
                                           'admin.person.password.hint');
        const setPw = h ('button', {type : 'submit'}, t ('admin.person.password.set'));
        const made = h ('p', {role : 'status', class : 'status'});
        const pwForm = h ('form', {novalidate : true, 'aria-labelledby' : 'person-pw'},
                          h ('h3', {id : 'person-pw'}, t ('admin.person.password.title')),
                          pwField, setPw, made);
        pwForm.addEventListener('submit', (ev) => {
                ev.preventDefault();
                made.textContent = '';
                busy (setPw, r, async () => {
                        if (password.value) {
                                await ctx.api.patch(path, {password : password.value});
                                password.value = '';
                                r.done(t ('admin.person.password.done', {name : p.display_name}));
                        } else {
                                const out = await ctx.api.post(`${path}/password-reset`,
                                                               {method : 'password'});
                                made.replaceChildren(t ('admin.person.password.made',
                                                        {name : p.display_name}),
                                                     ' ', h ('code', {id : 'person-onetime'}, out.password));
                                r.done(t ('admin.person.password.done', {name : p.display_name}));
                        }
                });
        });

        // The second factor.
        let factor = null;
        if (p.totp_enabled) {
                const remove = h ('button', {type : 'button'}, t ('admin.person.totp.remove'));
                remove.addEventListener('click', () => busy (remove, r, async () => {
                                                             await ctx.api.del(`${path}/totp`);
                                                             factor.replaceChildren(
                                                                     h ('h3', {}, t ('me.totp.title')),
                                                                     h ('p', {}, t ('admin.person.totp.none')));
                                                             await changed ();
                                                             r.done(t ('admin.person.totp.removed',
                                                                       {name : p.display_name}));
                                                     }));
                factor = h ('div', {}, h ('h3', {}, t ('me.totp.title')),
                            h ('p', {}, t ('admin.person.totp.on')), remove);
        } else {
                factor = h ('div', {}, h ('h3', {}, t ('me.totp.title')),
                            h ('p', {}, t ('admin.person.totp.none')));
        }

        const links = await linksPart (ctx, p, base, r, changed);

        // Erasing, after a confirmation that names the person.
        let erase = null;
        if (!self) {
                const ask = h ('button', {type : 'button', class : 'danger'},
                               t ('admin.person.erase', {name : p.display_name}));
                const confirmBox = h ('div', {class : 'confirm', hidden : true});
                ask.addEventListener('click', () => {
                        const sure = h ('button', {type : 'button', class : 'danger'},
                                        t ('admin.person.erase.sure', {name : p.display_name}));
                        const back = h ('button', {type : 'button'}, t ('admin.cancel'));
                        back.addEventListener('click', () => {
                                confirmBox.hidden = true;
                                ask.focus();
                        });
                        sure.addEventListener('click', () => busy (sure, r, async () => {
                                                                   await ctx.api.del(path);
                                                                   close ();
                                                                   await changed ();
                                                                   r.done(t ('admin.person.erased',
                                                                             {name : p.display_name}));
                                                           }));
                        confirmBox.replaceChildren(
                                h ('p', {role : 'alert'},
                                   t ('admin.person.erase.why',
                                      {name : p.display_name, username : p.username})),
                                h ('div', {class : 'buttons'}, sure, back));
                        confirmBox.hidden = false;
                        back.focus();
                });
                erase = h ('div', {}, h ('h3', {}, t ('admin.person.erase.title')), ask, confirmBox);
        }

        editor.replaceChildren(heading, form, pwForm, factor, links, erase);
}

// The parents of a student, or the children of a parent: names, unlinking, and linking one
// found by a search (GET .../users?role=&q=).
async function linksPart (ctx, p, base, r, changed)
{
        const {h, t} = ctx;
        const student = (p.roles || []).includes('student');
        const parent = (p.roles || []).includes('parent');
        if (!student && !parent)
                return null;
        const box = h ('div', {'aria-labelledby' : 'person-links'});
        const ids = student ? (p.parents || []) : (p.children || []);
        const people = await Promise.all(ids.map((id) => ctx.api.get(`${base}/${id}`)));
        const linkPath = (other) => student ? `${base}/${p.id}/parents/${other.id}`
                                            : `${base}/${other.id}/parents/${p.id}`;
        const list = h ('ul', {class : 'found'});
        const draw = () => {
                list.replaceChildren(...people.map((o) => {
                        const un = h ('button', {
                                type : 'button',
                                'aria-label' : t ('admin.person.unlink.for', {name : o.display_name})
                        },
                                      t ('admin.person.unlink'));
                        un.addEventListener('click', () => busy (un, r, async () => {
                                                                 await ctx.api.del(linkPath (o));
                                                                 people.splice(people.indexOf(o), 1);
                                                                 draw ();
                                                                 await changed ();
                                                                 r.done(t ('admin.person.unlinked',
                                                                           {name : o.display_name}));
                                                         }));
                        return h ('li', {}, `${o.display_name} (${o.username}) `, un);
                }));
                if (!people.length)
                        list.append(h ('li', {class : 'muted'}, t ('admin.person.links.none')));
        };
        draw ();
        const q = h ('input', {id : 'link-q', type : 'search', maxlength : 200});
        const found = h ('ul', {class : 'found', 'aria-live' : 'polite'});
        const search = h ('form', {class : 'search', role : 'search'},
                          h ('label', {for: 'link-q'},
                             t (student ? 'admin.person.find.parent' : 'admin.person.find.child')),
                          q, h ('button', {type : 'submit'}, t ('admin.people.search.go')));
        search.addEventListener('submit', (ev) => {
                ev.preventDefault();
                busy (null, r, async () => {
                        const page = await ctx.api.get(withQuery (base, {
                                role : student ? 'parent' : 'student',
                                q : q.value.trim(),
                                limit : 10
                        }));
                        found.replaceChildren(...page.items.filter((o) => !people.some((x) => x.id === o.id))
                                                      .map((o) => {
                                                              const add = h ('button', {
                                                                      type : 'button',
                                                                      'aria-label' : t ('admin.person.link.for',
                                                                                        {name : o.display_name})
                                                              },
                                                                             t ('admin.person.link'));
                                                              add.addEventListener('click', () => busy (add, r, async () => {
                                                                                                   await ctx.api.put(linkPath (o));
                                                                                                   people.push(o);
                                                                                                   found.replaceChildren();
                                                                                                   draw ();
                                                                                                   await changed ();
                                                                                                   r.done(t ('admin.person.linked',
                                                                                                             {name : o.display_name}));
                                                                                           }));
                                                              return h ('li', {}, `${o.display_name} (${o.username}) `, add);
                                                      }));
                        if (!found.children.length)
                                found.append(h ('li', {class : 'muted'}, t ('admin.people.none')));
                });
        });
        box.append(h ('h3', {id : 'person-links'},
                      t (student ? 'admin.person.parents' : 'admin.person.children')),
                   list, search, found);
        return box;
}
