// SPDX-License-Identifier: Apache-2.0
// admin.mjs - the portal's admin and operator pages in a real browser (docs/PORTAL.md, "Admin
// and operator pages"). Run by test_portal_admin_browser.py, which starts PostgreSQL and
// atriumd and makes the school (an admin, a teacher, 24 pupils, a room joined
// ATRIUM_JOINS times today); this script only uses the pages.
//
//   node admin.mjs <base url> <screenshot dir>
//   (environment: ATRIUM_SCHOOL, ATRIUM_PASSWORD, ATRIUM_JOINS, ATRIUM_TOOLS_DIR)
//
// A school admin: people (search, paging, create, roles, disable, German), the CSV import
// through its preview (nothing written until "Apply"), modules, groups, the audit log; the
// disabled person cannot sign in; a teacher sees none of it; an operator: schools (list,
// create) and the usage chart, whose bar for today is checked against the joins made. A
// phone's width on the people and import pages. axe-core and a screenshot on every page.
import fs from 'node:fs';

import {audit, check, open, overflow, signIn, signOut, withBrowser} from './lib.mjs';

const [base, shots] = process.argv.slice(2);
const school = process.env.ATRIUM_SCHOOL;
const password = process.env.ATRIUM_PASSWORD;
const joins = Number(process.env.ATRIUM_JOINS);
const users = `/api/v1/schools/${school}/users`;

// The API as the signed-in page sees it (the cookie; a GET needs no CSRF token).
async function find(page, q) {
  return page.evaluate(async (url) => (await (await fetch(url)).json()).items,
                       `${users}?q=${encodeURIComponent(q)}`);
}

const CSV = 'Vorname;Nachname;Klasse;Rolle\r\n' +
            'Jürgen;Müller;7a;Schüler\r\n' +
            'Ayşe;Yıldız;7b;Schüler\r\n' +
            'Broken;Row;7a;Zauberer\r\n';

await withBrowser(shots, async (page, b) => {
  await page.goto(base + '/');

  // ---- a school admin ----
  await signIn(page, school, 'ada', password);
  const nav = page.getByRole('navigation');
  for (const name of ['People', 'Import', 'Access', 'Modules', 'Group administration',
                      'Audit log'])
    check(await nav.getByRole('link', {name, exact: true}).isVisible(), `admin nav: ${name}`);
  await audit(page, b, 'start-admin');

  // People: the first page of 20, the next, back; a search.
  await open(page, 'People');
  const rows = page.locator('main table tbody tr');
  await page.getByText('Page 1').waitFor();
  check(await rows.count() === 20, `page 1 has 20 people (${await rows.count()})`);
  await page.getByRole('button', {name: 'Next page'}).click();
  await page.getByText('Page 2').waitFor();
  const second = await rows.count();
  check(second >= 6 && second < 20, `page 2 has the rest (${second})`);
  check(await page.getByRole('button', {name: 'Next page'}).isDisabled(), 'no page 3');
  await page.getByRole('button', {name: 'Previous page'}).click();
  await page.getByText('Page 1').waitFor();
  // By keyboard: Enter in the search field searches.
  await page.getByLabel('Search by name or username').fill('stella');
  await page.getByLabel('Search by name or username').press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 1);
  await page.getByRole('cell', {name: 'stella', exact: true}).waitFor();

  // Create a person with a first password, change her roles, disable her.
  await page.getByLabel('Name', {exact: true}).fill('Nora Neu');
  await page.getByLabel('Username', {exact: true}).fill('nora.neu');
  await page.getByLabel('First password (optional)').fill(password);
  await page.getByRole('group', {name: 'Roles'}).getByLabel('Student').uncheck();
  await page.getByRole('group', {name: 'Roles'}).getByLabel('Teacher').check();
  await page.getByRole('button', {name: 'Create person'}).click();
  await page.getByRole('status').filter({hasText: 'Nora Neu was created.'}).waitFor();
  await page.getByRole('cell', {name: 'nora.neu', exact: true}).waitFor();
  // By keyboard: the editor opens with Enter and takes the focus; Space ticks a box.
  await page.getByRole('button', {name: 'Edit roles: Nora Neu'}).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', {level: 2, name: 'Roles of Nora Neu'}).waitFor();
  check(await page.evaluate(() => document.activeElement.id) === 'edit-role-admin',
        'the focus is in the editor');
  for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.id) === 'edit-role-staff', 'Tab order');
  await page.keyboard.press('Space');
  await page.getByRole('button', {name: 'Save'}).click();
  await page.getByRole('status').filter({hasText: 'The roles of Nora Neu are saved.'}).waitFor();
  await page.getByRole('cell', {name: 'Teacher, Staff', exact: true}).waitFor();
  await page.getByRole('button', {name: 'Disable: Nora Neu'}).click();
  await page.getByRole('status').filter({hasText: 'Nora Neu is disabled and cannot sign in.'})
    .waitFor();
  await page.getByRole('cell', {name: 'disabled', exact: true}).waitFor();
  const nora = (await find(page, 'nora.neu'))[0];
  check(nora.disabled_at && nora.roles.join() === 'teacher,staff', 'nora as the API has her');
  check(await page.getByRole('button', {name: 'Disable: Ada'}).count() === 0,
        'no disabling oneself');
  await audit(page, b, 'people-admin');
  // A wrong username is refused by the server and said plainly; nothing is created.
  await page.getByLabel('Name', {exact: true}).fill('Bad Name');
  await page.getByLabel('Username', {exact: true}).fill('Bad Name!');
  await page.getByRole('button', {name: 'Create person'}).click();
  await page.getByRole('alert').filter({hasText: /^That did not work: .*username/}).waitFor();
  check((await find(page, 'Bad Name')).length === 0, 'nothing created');

  // The same page in German.
  await page.getByRole('button', {name: 'Auf Deutsch anzeigen'}).click();
  await page.getByRole('heading', {level: 1, name: 'Personen'}).waitFor();
  for (const label of ['Nach Name oder Benutzername suchen', 'Benutzername',
                       'Erstes Passwort (freiwillig)'])
    check(await page.getByLabel(label, {exact: true}).isVisible(), `Label ${label}`);
  check(await page.getByRole('button', {name: 'Person anlegen'}).isVisible(), 'Person anlegen');
  await audit(page, b, 'people-de');
  await page.getByRole('button', {name: 'Show in English'}).click();
  await page.getByRole('heading', {level: 1, name: 'People'}).waitFor();

  // The CSV import: the preview first, nothing written; then "Apply".
  await open(page, 'Import', 'Import people');
  await audit(page, b, 'import');
  await page.getByLabel('CSV file', {exact: true}).setInputFiles(
    {name: 'schild.csv', mimeType: 'application/vnd.ms-excel', buffer: Buffer.from(CSV)});
  await page.getByRole('button', {name: 'Check the file'}).click();
  const preview = page.locator('section.preview');
  await page.getByRole('heading', {level: 2, name: 'Preview'}).waitFor();
  const count = async (term) =>
    (await preview.locator('dt', {hasText: new RegExp(`^${term}$`)}).locator('xpath=following-sibling::dd[1]').textContent());
  check(await count('New') === '2', `preview: 2 new (${await count('New')})`);
  check(await count('Lines with errors') === '1', 'preview: 1 error');
  const line = (n) => preview.locator('tbody tr').filter({has: page.getByRole('cell', {name: String(n), exact: true})});
  check(await line(2).getByRole('cell', {name: 'juergen.mueller'}).count() === 1, 'line 2: juergen.mueller');
  check(await line(3).getByRole('cell', {name: 'ayse.yildiz'}).count() === 1, 'line 3: ayse.yildiz');
  check(/Zauberer/.test(await line(4).textContent()), `line 4 names its error: ${await line(4).textContent()}`);
  check((await find(page, 'juergen')).length === 0, 'nothing written by the preview');
  await audit(page, b, 'import-preview');
  await page.getByRole('button', {name: 'Apply'}).click();
  await page.getByRole('status')
    .filter({hasText: 'Imported: 2 new, 0 changed, 0 disabled, 1 lines with errors.'}).waitFor();
  check(!(await preview.isVisible()), 'the preview is gone once applied');
  const imported = await find(page, 'juergen.mueller');
  check(imported.length === 1 && imported[0].display_name === 'Jürgen Müller', 'imported');

  // Modules: off and on again.
  await open(page, 'Modules');
  await page.getByRole('button', {name: 'Disable: noticeboard'}).click();
  await page.getByRole('status').filter({hasText: 'Module noticeboard is disabled.'}).waitFor();
  await page.getByRole('button', {name: 'Enable: noticeboard'}).waitFor();
  await audit(page, b, 'modules');
  await page.getByRole('button', {name: 'Enable: noticeboard'}).click();
  await page.getByRole('status').filter({hasText: 'Module noticeboard is enabled.'}).waitFor();

  // Groups: the import's class is there; a new group, a member added and removed.
  await open(page, 'Group administration');
  await page.getByRole('cell', {name: '7a', exact: true}).waitFor();
  await page.getByLabel('Name', {exact: true}).fill('Chess club');
  await page.getByLabel('Type', {exact: true}).selectOption({label: 'Workgroup'});
  await page.getByRole('button', {name: 'Create group'}).click();
  await page.getByRole('status').filter({hasText: 'Group Chess club was created'}).waitFor();
  await page.getByRole('heading', {level: 2, name: 'Members of Chess club'}).waitFor();
  await page.getByLabel('Find a person by name or username').fill('stella');
  await page.getByRole('button', {name: 'Find', exact: true}).click();
  await page.getByRole('button', {name: 'Add: Stella'}).click();
  await page.getByRole('status').filter({hasText: 'Stella is in Chess club now.'}).waitFor();
  await page.getByRole('button', {name: 'Remove: Stella'}).waitFor();
  await audit(page, b, 'groups-admin');
  await page.getByRole('button', {name: 'Remove: Stella'}).click();
  await page.getByRole('status').filter({hasText: 'Stella is no longer in Chess club.'}).waitFor();
  check(await page.getByRole('button', {name: 'Remove: Stella'}).count() === 0, 'removed');

  // The audit log: what was just done, narrowed to one action.
  await open(page, 'Audit log');
  const log = page.locator('main table tbody');
  for (const action of ['user.created', 'user.roles_changed', 'user.disabled', 'user.imported',
                        'module.disabled', 'module.enabled'])
    await log.getByRole('cell', {name: action, exact: true}).first().waitFor();
  await page.getByLabel('Action').selectOption('user.disabled');
  check(await log.locator('tr').count() === 1, 'narrowed to the one user.disabled');
  await audit(page, b, 'audit');

  // Access: activation codes for the imported class 7a as a table, for 7b as letters; the
  // second-factor policy saved and read back over the API, then cleared.
  await open(page, 'Access');
  await page.getByRole('heading', {level: 2, name: 'Activation codes'}).waitFor();
  await page.getByLabel('Class', {exact: true}).fill('7a');
  await page.getByLabel('As', {exact: true}).selectOption({label: 'A table (CSV)'});
  const [csv] = await Promise.all([page.waitForEvent('download'),
                                   page.getByRole('button', {name: 'Create codes'}).click()]);
  check(csv.suggestedFilename() === 'activation-codes-7a.csv', `CSV named ${csv.suggestedFilename()}`);
  const table = fs.readFileSync(await csv.path(), 'utf8').trim().split('\r\n');
  check(table[0] === 'school,username,display_name,class,code,expires_at', `CSV header: ${table[0]}`);
  check(table.length === 2 && table[1].includes(',juergen.mueller,'), `CSV rows: ${table.slice(1)}`);
  await page.getByRole('status').filter({hasText: 'The codes are in activation-codes-7a.csv.'}).waitFor();
  await audit(page, b, 'access');
  await page.getByLabel('Class', {exact: true}).fill('7b');
  await page.getByLabel('As', {exact: true}).selectOption({label: 'Letters to print'});
  const [letters] = await Promise.all([page.waitForEvent('download'),
                                       page.getByRole('button', {name: 'Create codes'}).click()]);
  const html = fs.readFileSync(await letters.path(), 'utf8');
  check(/ayse\.yildiz/.test(html) && !/juergen/.test(html), 'letters: the one pupil of 7b');
  // An unknown class: the server's words, nothing downloaded.
  await page.getByLabel('Class', {exact: true}).fill('9z');
  await page.getByRole('button', {name: 'Create codes'}).click();
  await page.getByRole('alert').filter({hasText: /./}).waitFor();
  const policyUrl = `/api/v1/schools/${school}/account-policy`;
  await page.getByRole('checkbox', {name: 'Teacher'}).check();
  await page.getByLabel('Days a device may be remembered (0: never)').fill('7');
  await page.getByRole('button', {name: 'Save'}).click();
  await page.getByRole('status').filter({hasText: 'The policy is saved.'}).waitFor();
  const policy = await page.evaluate(async (url) => (await fetch(url)).json(), policyUrl);
  check(policy.totp_roles.join() === 'teacher' && policy.remember_days === 7,
        `policy saved: ${JSON.stringify(policy)}`);
  await page.getByRole('checkbox', {name: 'Teacher'}).uncheck();
  await page.getByRole('button', {name: 'Save'}).click();
  await page.getByRole('status').filter({hasText: 'The policy is saved.'}).waitFor();

  // A phone: the people page and the import's preview fit its width.
  await page.setViewportSize({width: 360, height: 740});
  await open(page, 'People');
  await page.getByText('Page 1').waitFor();
  check(await overflow(page) <= 0, `people: ${await overflow(page)}px too wide for a phone`);
  await audit(page, b, 'people-phone');
  await open(page, 'Import', 'Import people');
  await page.getByLabel('CSV file', {exact: true}).setInputFiles(
    {name: 'schild.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV)});
  await page.getByRole('button', {name: 'Check the file'}).click();
  await page.getByRole('heading', {level: 2, name: 'Preview'}).waitFor();
  check(await count('Unchanged') === '2', 'the second preview: the two are there now');
  check(await overflow(page) <= 0, `import: ${await overflow(page)}px too wide for a phone`);
  await audit(page, b, 'import-phone');
  await page.setViewportSize({width: 1280, height: 800});
  await signOut(page);

  // The disabled person cannot sign in.
  await page.getByLabel('School', {exact: true}).fill(school);
  await page.getByLabel('Username', {exact: true}).fill('nora.neu');
  await page.getByLabel('Password', {exact: true}).fill(password);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('alert').filter({hasText: 'This account is disabled.'}).waitFor();

  // A teacher sees no admin page but the groups' (teachers hold groups.manage), and cannot
  // open one by its address.
  await signIn(page, school, 'tessa', password);
  for (const name of ['People', 'Import', 'Modules', 'Audit log'])
    check(await nav.getByRole('link', {name, exact: true}).count() === 0, `teacher: no ${name}`);
  check(await nav.getByRole('link', {name: 'Group administration', exact: true}).count() === 1,
        'teacher: Group administration');
  await page.goto(base + '/#/people');
  await page.getByRole('alert').filter({hasText: 'There is no such page.'}).waitFor();
  await signOut(page);

  // ---- an operator ----
  await signIn(page, '', 'root', password);
  for (const name of ['Schools', 'Usage'])
    check(await nav.getByRole('link', {name, exact: true}).isVisible(), `operator nav: ${name}`);
  await audit(page, b, 'start-operator');
  await open(page, 'Schools');
  await page.getByRole('cell', {name: school, exact: true}).waitFor();
  await page.getByLabel('Name', {exact: true}).fill('Second School');
  await page.getByLabel('Address (slug)').fill('second-school');
  await page.getByRole('button', {name: 'Create school'}).click();
  await page.getByRole('status').filter({hasText: 'School Second School (second-school) was created.'}).waitFor();
  await page.getByRole('cell', {name: 'second-school', exact: true}).waitFor();
  await page.getByLabel('Address (slug)').fill('second-school');
  await page.getByLabel('Name', {exact: true}).fill('Again');
  await page.getByRole('button', {name: 'Create school'}).click();
  await page.getByRole('alert').filter({hasText: /^That did not work: .*exists/}).waitFor();
  await audit(page, b, 'schools');

  await open(page, 'Usage');
  const chart = page.getByRole('img', {name: 'Joins per day, last 7 days'});
  await chart.waitFor();
  const bars = chart.locator('rect.bar');
  check(await bars.count() === 7, `seven days, seven bars (${await bars.count()})`);
  const today = new Date().toISOString().slice(0, 10);
  const bar = chart.locator(`rect.bar[data-day="${today}"]`);
  check(await bar.getAttribute('data-value') === String(joins),
        `today's bar: ${await bar.getAttribute('data-value')} joins, made ${joins}`);
  check(Number(await bar.getAttribute('height')) > 0, 'today\'s bar is drawn');
  await audit(page, b, 'usage');
  await page.getByLabel('Period').selectOption({label: 'Last 30 days'});
  await page.getByLabel('Figure in the chart').selectOption({label: 'People'});
  const people = page.getByRole('img', {name: 'People per day, last 30 days'});
  await people.waitFor();
  check(await people.locator('rect.bar').count() === 30, 'thirty bars');
  await page.getByRole('button', {name: 'Auf Deutsch anzeigen'}).click();
  await page.getByRole('heading', {level: 1, name: 'Nutzung'}).waitFor();
  await page.getByRole('img', {name: 'Beitritte pro Tag, letzte 7 Tage'}).waitFor();
  await audit(page, b, 'usage-de');
  await page.getByRole('button', {name: 'Show in English'}).click();
  await signOut(page);
});
