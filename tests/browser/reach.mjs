// SPDX-License-Identifier: Apache-2.0
// reach.mjs - the portal's pages that reach past one's own things, in a real browser
// (docs/PORTAL.md): group folders, moves and share links (files), adding members and roles
// (groups), guest links and ending a room (conference), one occurrence of a series
// (calendar). Run by tests/integration/test_portal_reach_browser.py, which starts PostgreSQL
// and atriumd and makes the school over REST; this script only uses the pages, and checks
// what they made with plain HTTP from Node where a page's result is a URL for someone else.
//
//   node reach.mjs <base url> <screenshot dir>
//   (environment: ATRIUM_SCHOOL, ATRIUM_PASSWORD, ATRIUM_MONDAY, ATRIUM_TOOLS_DIR)
//
// axe-core and a screenshot on every page; any CSP violation or page error fails the run.
import {audit, check, open, overflow, signIn, signOut, withBrowser} from './lib.mjs';

const [base, shots] = process.argv.slice(2);
const school = process.env.ATRIUM_SCHOOL;
const password = process.env.ATRIUM_PASSWORD;

// An anonymous GET (no cookie, no token), as someone the link was sent to.
async function anonymous(url, headers = {}) {
  const res = await fetch(url, {headers, redirect: 'manual'});
  return {status: res.status, headers: res.headers, text: await res.text()};
}

async function toEnglish(page) {
  await page.getByRole('button', {name: 'Show in English'}).click();
}

async function toGerman(page) {
  await page.getByRole('button', {name: 'Auf Deutsch anzeigen'}).click();
}

// The teacher moves a file into the class's folder and makes share links.
async function teacherFiles(page, b) {
  await open(page, 'Files');
  const space = page.getByLabel('Show files of');
  await space.waitFor();
  await page.getByRole('link', {name: 'Download worksheet.txt'}).waitFor();
  await audit(page, b, 'files-home');

  // Move worksheet.txt into the class's Homework folder.
  await page.getByRole('button', {name: 'Move: worksheet.txt'}).click();
  await page.getByRole('heading', {level: 2, name: 'Move worksheet.txt'}).waitFor();
  await page.getByLabel('To the files of').selectOption({label: 'Group Class 7a'});
  await page.getByLabel('Into the folder (empty: the top level)').fill('Homework');
  await audit(page, b, 'files-move');
  await page.getByRole('button', {name: 'Move here'}).click();
  await page.getByRole('status')
    .filter({hasText: 'worksheet.txt was moved to Group Class 7a: /Homework.'}).waitFor();
  check(await page.getByRole('link', {name: 'Download worksheet.txt'}).count() === 0,
        'the file left the home folder');

  // The class's folder: Homework, and the file in it.
  await space.selectOption({label: 'Group Class 7a'});
  await page.getByRole('button', {name: 'Folder Homework'}).click();
  await page.getByRole('link', {name: 'Download worksheet.txt'}).waitFor();
  await space.selectOption({label: 'My files'});
  await page.getByRole('link', {name: 'Download plans.txt'}).waitFor();

  // A share link with a password, then one without.
  const links = [];
  const inThreeDays = await page.evaluate(() => {
    const d = new Date();
    d.setDate(d.getDate() + 3);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-` +
           `${String(d.getDate()).padStart(2, '0')}`;
  });
  for (const pw of ['tulips-in-spring', '']) {
    await page.getByRole('button', {name: 'Share link: plans.txt'}).click();
    await page.getByRole('heading', {level: 2, name: 'Share link for plans.txt'}).waitFor();
    if (pw) {
      await page.getByLabel('The link works for').selectOption({label: 'one day'});
    } else {  // the route's other form: a last day (expires_at)
      await page.getByLabel('The link works for').selectOption({label: 'until a date'});
      await page.getByLabel('Last day of the link').fill(inThreeDays);
    }
    await page.getByLabel('Password (optional, at least 4 characters)').fill(pw);
    await page.getByRole('button', {name: 'Create link'}).click();
    const field = page.getByLabel('Link for plans.txt', {exact: true});
    await field.waitFor();
    links.push(await field.inputValue());
    await page.getByText(pw ? 'Anyone who has it and the password can download the file.'
                            : 'Anyone who has it can download the file.').waitFor();
    if (pw) await audit(page, b, 'files-share');
    await page.getByRole('button', {name: 'Close'}).click();
  }
  for (const l of links)
    check(l.startsWith(`${base}/api/v1/files/share/`), `a share link: ${l}`);
  // Fetched by someone without an account: the password is asked for, then the bytes come.
  const locked = await anonymous(links[0]);
  check(locked.status === 401 && /^Basic/.test(locked.headers.get('www-authenticate') || ''),
        `the link with a password asks for it (${locked.status})`);
  const basic = 'Basic ' + Buffer.from(`anyone:tulips-in-spring`).toString('base64');
  const opened = await anonymous(links[0], {Authorization: basic});
  check(opened.status === 200 && opened.text === 'Plans for the term\n',
        `the link with its password downloads the file (${opened.status})`);
  const free = await anonymous(links[1]);
  check(free.status === 200 && free.text === 'Plans for the term\n',
        `the link without a password downloads the file (${free.status})`);

  // The list of one's links; the one without a password is revoked.
  await page.getByRole('button', {name: 'My share links'}).click();
  const table = page.getByRole('region', {name: 'My share links'});
  await table.getByRole('heading', {level: 2, name: 'My share links'}).waitFor();
  const rows = table.locator('tbody tr');
  check(await rows.count() === 2, `two links listed (${await rows.count()})`);
  await audit(page, b, 'files-links');
  await rows.filter({has: page.getByRole('cell', {name: 'no', exact: true})})
    .getByRole('button', {name: 'Revoke: My files: /plans.txt'}).click();
  await page.getByRole('status')
    .filter({hasText: 'The link for My files: /plans.txt no longer works.'}).waitFor();
  check(await rows.count() === 1, 'one link left');
  const gone = await anonymous(links[1]);
  check(gone.status === 404, `a revoked link answers 404 (${gone.status})`);
  check((await anonymous(links[0], {Authorization: basic})).status === 200,
        'the other link still works');

}

// A member of the class (added on the groups page) finds the moved file in the class's folder
// and downloads it; a pupil is offered nothing there that would change it.
async function memberFiles(page, b) {
  await open(page, 'Files');
  await page.getByLabel('Show files of').selectOption({label: 'Group Class 7a'});
  await page.getByRole('button', {name: 'Folder Homework'}).click();
  const link = page.getByRole('link', {name: 'Download worksheet.txt'});
  const href = await link.getAttribute('href');
  const got = await page.evaluate(async (u) => (await fetch(u)).text(), href);
  check(got === 'Worksheet for the excursion\n', `the member downloads the moved file: ${got}`);
  // A pupil reads the class's folder but may not change it: no buttons that would be refused.
  check(await page.getByRole('button', {name: /^(Move to trash|Rename|Move): /}).count() === 0,
        'no changes offered in a folder the pupil only reads');
  check(await page.getByLabel('Upload files').isHidden(), 'no upload there');
  await page.getByLabel('Show files of').selectOption({label: 'My files'});
  await page.getByLabel('Upload files').waitFor();
  await audit(page, b, 'files-member-group');
}

// The class's owner adds a pupil found by a search and makes a member an owner.
async function ownerGroups(page, b) {
  await open(page, 'Groups');
  await page.getByRole('button', {name: 'Show members of Class 7a'}).click();
  await page.getByRole('heading', {level: 2, name: 'Members of Class 7a'}).waitFor();
  await page.getByLabel('Find a person (name or username)').fill('otto');
  await page.getByLabel('Find a person (name or username)').press('Enter');
  await page.getByLabel('Add as').selectOption({label: 'member'});
  await page.getByRole('button', {name: 'Add Otto (otto)'}).click();
  await page.getByRole('status').filter({hasText: 'Otto is now in the group as member.'}).waitFor();
  await page.getByRole('cell', {name: 'otto', exact: true}).waitFor();
  // Someone in the group already is said so, not offered again.
  await page.getByLabel('Find a person (name or username)').fill('sid');
  await page.getByRole('button', {name: 'Search'}).click();
  await page.getByText('already in the group').waitFor();
  // A member becomes an owner.
  await page.getByRole('button', {name: 'Make owner: Stella'}).click();
  await page.getByRole('status').filter({hasText: 'Stella is now owner.'}).waitFor();
  await page.getByRole('button', {name: 'Make member: Stella'}).waitFor();
  await audit(page, b, 'groups-members');
}

// An anonymous POST, as a guest's client would send to the guest link.
async function anonymousPost(url) {
  const res = await fetch(url, {method: 'POST'});
  return {status: res.status, body: await res.text()};
}

// The room's moderator makes a guest link, checks it, revokes it and ends the meeting.
async function moderatorRoom(page, b) {
  await open(page, 'Video rooms');
  const room = "Parents' consultation";
  await page.getByRole('heading', {level: 3, name: `Guest links for ${room}`}).waitFor();
  await page.getByText('No guest links yet.').waitFor();
  await page.getByLabel("Guest's name").fill('Mr Weber');
  await page.getByLabel('The link works for').selectOption({label: 'one day'});
  await page.getByRole('button', {name: 'Make guest link'}).click();
  const field = page.getByLabel('Guest link for Mr Weber', {exact: true});
  await field.waitFor();
  const link = await field.inputValue();
  const m = link.match(new RegExp(`^${base}/#/guest/${school}/([A-Za-z0-9_-]+)$`));
  check(m, `the guest link opens the portal's guest page: ${link}`);
  const url = `${base}/api/v1/schools/${school}/conference/guest/${m[1]}/join`;
  await page.getByRole('button', {name: 'Revoke: Mr Weber'}).waitFor();
  await audit(page, b, 'conference-guest-link');
  // The guest's page: one button, which joins without an account and opens the meeting's
  // signed URL (answered here by the test, not by a Jitsi server).
  await page.route('https://meet.example.org/**',
                   (route) => route.fulfill({contentType: 'text/plain', body: 'the meeting'}));
  await page.goto(link);
  await page.getByRole('heading', {level: 1, name: 'You are invited to a video meeting'}).waitFor();
  await audit(page, b, 'conference-guest-page');
  await page.getByRole('button', {name: 'Join the meeting'}).click();
  await page.waitForURL(/^https:\/\/meet\.example\.org\/.*jwt=/);
  await page.goto(base);
  await open(page, 'Video rooms');
  await page.getByRole('button', {name: 'Revoke: Mr Weber'}).waitFor();
  // The join route itself, as a guest's client would call it: a signed Jitsi URL.
  const joined = await anonymousPost(url);
  check(joined.status === 200, `the guest link joins (${joined.status} ${joined.body})`);
  const answer = JSON.parse(joined.body);
  check(answer.url.startsWith('https://meet.example.org/') && answer.url.includes('jwt='),
        `a signed Jitsi URL for the guest: ${answer.url}`);
  check(answer.moderator === false, 'the guest does not moderate');
  // Revoked: the link stops working; the list says so.
  await page.getByRole('button', {name: 'Revoke: Mr Weber'}).click();
  await page.getByRole('status')
    .filter({hasText: 'The guest link for Mr Weber no longer works.'}).waitFor();
  await page.getByRole('cell', {name: 'revoked', exact: true}).waitFor();
  const refused = await anonymousPost(url);
  check(refused.status === 404, `a revoked guest link answers 404 (${refused.status})`);
  await page.goto(link);
  await page.getByRole('button', {name: 'Join the meeting'}).click();
  await page.getByText('This link does not work any more').waitFor();
  await page.goto(base);
  await open(page, 'Video rooms');
  // Ending the meeting for everyone.
  await page.getByRole('button', {name: `End the meeting in ${room}`}).click();
  await page.getByRole('status')
    .filter({hasText: `The meeting in ${room} has ended for everyone.`}).waitFor();
}

// One time of a daily series of three (Monday to Wednesday of this week, 10:00):
// Tuesday's is moved to Thursday afternoon, Wednesday's cancelled, in the week view.
async function oneOccurrence(page, b) {
  await open(page, 'Calendar');
  const monday = process.env.ATRIUM_MONDAY;
  const day = (n) => page.evaluate(([m, k]) => {
    const d = new Date(`${m}T12:00:00`);
    d.setDate(d.getDate() + k);
    return {label: d.toLocaleDateString('en', {weekday: 'long', day: 'numeric', month: 'long'}),
            key: `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-` +
                 `${String(d.getDate()).padStart(2, '0')}`};
  }, [monday, n]);
  const [tue, wed, thu] = [await day(1), await day(2), await day(3)];
  const region = (d) => page.getByRole('region', {name: d.label, exact: true});
  await region(tue).getByRole('button', {name: 'Choir'}).click();
  // The series first, as the form always opened; this one time is one choice away.
  await page.getByRole('heading', {level: 2, name: 'Edit event'}).waitFor();
  check(await page.getByLabel('every time of the series').isChecked(), 'the series first');
  check(!(await page.getByLabel('Repeats').isHidden()), 'the series has its repeat rule');
  const only = page.getByLabel(`only this time (${tue.label})`);
  await only.check();
  await page.getByRole('heading', {level: 2, name: 'Edit one time of a series'}).waitFor();
  check(await page.getByLabel('Repeats').isHidden(), 'no repeat rule for one time');
  check(await page.getByLabel('Date').inputValue() === tue.key, 'the time\'s own day');
  await page.getByLabel('Date').fill(thu.key);
  await page.getByLabel('Starts').fill('14:00');
  await page.getByLabel('Ends').fill('15:00');
  await audit(page, b, 'calendar-one-time');
  await page.getByRole('button', {name: 'Save'}).click();
  await page.getByRole('status').filter({hasText: `Choir on ${tue.label} is changed`}).waitFor();
  await region(thu).getByRole('button', {name: 'Choir'}).waitFor();
  check(await region(tue).getByRole('button', {name: 'Choir'}).count() === 0, 'Tuesday is free');
  check(await region(wed).getByRole('button', {name: 'Choir'}).count() === 1, 'Wednesday stays');
  // Wednesday's is cancelled.
  await region(wed).getByRole('button', {name: 'Choir'}).click();
  await page.getByLabel(`only this time (${wed.label})`).check();
  await page.getByRole('button', {name: 'Cancel this time'}).click();
  await page.getByRole('status').filter({hasText: `Choir on ${wed.label} is cancelled`}).waitFor();
  check(await region(wed).getByRole('button', {name: 'Choir'}).count() === 0, 'Wednesday is free');
  check(await page.getByRole('button', {name: 'Choir'}).count() === 2, 'two times are left');
}

// Each page again in German at a phone's width: the labels said, one column, axe.
async function germanPhone(page, b) {
  await page.setViewportSize({width: 360, height: 740});
  await toGerman(page);
  const fits = async (what) => {
    const wide = await overflow(page);
    check(wide <= 0, `the ${what} page is ${wide}px wider than a phone`);
  };
  await open(page, 'Dateien');
  await page.getByLabel('Dateien zeigen von').waitFor();
  await page.getByRole('button', {name: 'Verschieben: plans.txt'}).click();
  await page.getByLabel('In die Dateien von').waitFor();
  await audit(page, b, 'files-de-phone');
  await fits('files');
  await page.getByRole('button', {name: 'Freigabelink: plans.txt'}).click();
  await page.getByLabel('Der Link gilt').waitFor();
  await fits('files (share link)');
  await open(page, 'Gruppen');
  await page.getByRole('button', {name: 'Mitglieder von Class 7a zeigen'}).click();
  await page.getByLabel('Person suchen (Name oder Benutzername)').waitFor();
  await page.getByRole('button', {name: 'Zum Mitglied machen: Stella'}).waitFor();
  await audit(page, b, 'groups-de-phone');
  await fits('groups');
  const room = "Parents' consultation";
  await open(page, 'Videoräume');
  await page.getByRole('heading', {level: 3, name: `Gastlinks für ${room}`}).waitFor();
  await page.getByLabel('Name des Gastes').waitFor();
  await audit(page, b, 'conference-de-phone');
  await fits('conference');
  await open(page, 'Kalender');
  await page.getByRole('button', {name: 'Choir'}).first().click();
  await page.getByLabel(/^nur diesen Termin/).check();
  await page.getByRole('heading', {level: 2, name: 'Einen Termin einer Serie bearbeiten'}).waitFor();
  await page.getByRole('button', {name: 'Diesen Termin absagen'}).waitFor();
  await audit(page, b, 'calendar-de-phone');
  await fits('calendar');
  await toEnglish(page);
  await page.getByRole('heading', {level: 1, name: 'Calendar'}).waitFor();
  await page.setViewportSize({width: 1280, height: 800});
}

// A pupil who owns the class now (no users.read, so no search) adds someone by username.
async function pupilOwnerGroups(page, b) {
  await open(page, 'Groups');
  await page.getByRole('button', {name: 'Show members of Class 7a'}).click();
  check(await page.getByLabel('Find a person (name or username)').count() === 0,
        'no search for a pupil');
  const name = page.getByLabel('Username of the person to add');
  await name.fill('pauline');
  await page.getByRole('button', {name: 'Add', exact: true}).click();
  await page.getByRole('alert')
    .filter({hasText: 'That did not work: nobody has the username pauline'}).waitFor();
  check(await name.inputValue() === 'pauline', 'the username typed is kept');
  await name.fill('paula');
  await page.getByRole('button', {name: 'Add', exact: true}).click();
  await page.getByRole('status').filter({hasText: 'paula is now in the group as member.'})
    .waitFor();
  await page.getByRole('cell', {name: 'paula', exact: true}).waitFor();
  await audit(page, b, 'groups-by-username');
}

await withBrowser(shots, async (page, b) => {
  await page.goto(base + '/');
  await signIn(page, school, 'tessa', password);
  await teacherFiles(page, b);
  await ownerGroups(page, b);
  await moderatorRoom(page, b);
  await oneOccurrence(page, b);
  await germanPhone(page, b);
  await signOut(page);

  await signIn(page, school, 'stella', password);
  await pupilOwnerGroups(page, b);
  await signOut(page);

  // The pupil who was added sees the class (and, a student, nothing to manage there), and
  // the file the teacher moved into its folder.
  await signIn(page, school, 'otto', password);
  await open(page, 'Groups');
  await page.getByRole('button', {name: 'Show members of Class 7a'}).click();
  await page.getByRole('heading', {level: 2, name: 'Members of Class 7a'}).waitFor();
  check(await page.getByRole('button', {name: /^Remove: /}).count() === 0, 'otto manages nothing');
  await memberFiles(page, b);
  await signOut(page);
});
