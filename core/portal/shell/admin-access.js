// SPDX-License-Identifier: Apache-2.0
// admin-access.js - a school admin's "Access" page (docs/ACCOUNTS.md): activation codes for a
// class or a group, as letters to print or a CSV table (POST .../activation-codes with
// Accept text/html or text/csv), and the school's account policy (GET and PUT
// .../account-policy: the roles that must use a second factor, and how many days a device may
// be remembered). Both need users.manage. The codes are in the answer once: the page hands
// them over as a download and keeps nothing.
import {allPages, busy, regions, rolePicker, schoolApi, useStyles} from './admin-common.js';

export async function render (root, ctx)
{
        useStyles ();
        const {h, t} = ctx;
        const r = regions (ctx);

        // ---- activation codes ----
        const kind = h ('select', {id : 'codes-kind'},
                        h ('option', {value : 'class'}, t ('admin.access.kind.class')),
                        h ('option', {value : 'group'}, t ('admin.access.kind.group')));
        const className = h ('input', {id : 'codes-class', type : 'text', maxlength : '100'});
        const group = h ('select', {id : 'codes-group'});
        const classRow = h ('p', {class : 'field narrow'}, h ('label', {for: 'codes-class'}, t ('admin.access.class')),
                            className);
        const groupRow = h ('p', {class : 'field narrow', hidden : true},
                            h ('label', {for: 'codes-group'}, t ('admin.access.group')), group);
        const days = h ('input',
                        {id : 'codes-days', type : 'number', min : '1', max : '90', value : '14'});
        const format = h ('select', {id : 'codes-format'},
                          h ('option', {value : 'text/html'}, t ('admin.access.format.letters')),
                          h ('option', {value : 'text/csv'}, t ('admin.access.format.csv')));
        const create = h ('button', {type : 'submit'}, t ('admin.access.create'));
        const download = h ('p', {class : 'status'});
        kind.addEventListener('change', () => {
                classRow.hidden = kind.value !== 'class';
                groupRow.hidden = kind.value !== 'group';
        });
        try { /* groups are there where the school has the groups module */
                const list = await allPages (ctx, `${schoolApi (ctx)}/groups`);
                group.replaceChildren(...list.map((g) => h ('option', {value : g.id}, g.name)));
        } catch (e) {
                kind.querySelector('option[value="group"]').remove();
        }
        const codes = h ('form', {}, h ('h2', {}, t ('admin.access.codes.title')),
                         h ('p', {}, t ('admin.access.codes.intro')),
                         h ('p', {class : 'field narrow'}, h ('label', {for: 'codes-kind'}, t ('admin.access.kind')), kind),
                         classRow, groupRow,
                         h ('p', {class : 'field narrow'}, h ('label', {for: 'codes-days'}, t ('admin.access.days')), days),
                         h ('p', {class : 'field narrow'}, h ('label', {for: 'codes-format'}, t ('admin.access.format')),
                            format),
                         create, download);
        codes.addEventListener('submit', (ev) => {
                ev.preventDefault();
                busy (create, r, async () => {
                        const body = {valid_days : Number (days.value)};
                        let name;
                        if (kind.value === 'class') {
                                body.class = name = className.value.trim();
                        } else {
                                body.group = group.value;
                                name = group.selectedOptions[0] ? group.selectedOptions[0].text : '';
                        }
                        const blob = await ctx.api.post(`${schoolApi (ctx)}/activation-codes`, body,
                                                        {headers : {Accept : format.value}});
                        const ext = format.value === 'text/csv' ? 'csv' : 'html';
                        const file = `activation-codes-${
                                name.replace(/[^\p{L}\p{N}_-]+/gu, '-') || 'school'}.${ext}`;
                        const old = download.querySelector('a');
                        if (old) /* the codes of the last request: replaced, let go */
                                URL.revokeObjectURL(old.href);
                        const link = h ('a', {href : URL.createObjectURL(blob), download : file},
                                        t ('admin.access.download', {file}));
                        download.replaceChildren(link);
                        link.click();
                        r.done(t ('admin.access.created', {file}));
                });
        });

        // ---- the account policy ----
        const policyUrl = `${schoolApi (ctx)}/account-policy`;
        const policy = await ctx.api.get(policyUrl);
        const roles = rolePicker (ctx, 'policy-role', policy.totp_roles);
        const remember = h ('input', {
                id : 'policy-remember',
                type : 'number',
                min : '0',
                max : '90',
                value : String (policy.remember_days)
        });
        const save = h ('button', {type : 'submit'}, t ('admin.access.policy.save'));
        const policyForm = h ('form', {}, h ('h2', {}, t ('admin.access.policy.title')),
                              h ('p', {}, t ('admin.access.policy.intro')), roles.fieldset,
                              h ('p', {class : 'field narrow'},
                                 h ('label', {for: 'policy-remember'},
                                   t ('admin.access.policy.remember')),
                                 remember),
                              save);
        policyForm.addEventListener('submit', (ev) => {
                ev.preventDefault();
                busy (save, r, async () => {
                        await ctx.api.put(policyUrl, {
                                totp_roles : roles.value(),
                                remember_days : Number (remember.value)
                        });
                        r.done(t ('admin.access.policy.saved'));
                });
        });

        root.append(h ('h1', {}, t ('admin.access.title')), r.error, r.status, codes, policyForm);
}
