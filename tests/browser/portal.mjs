// SPDX-License-Identifier: Apache-2.0
// portal.mjs - the portal in a real browser: Debian's Chromium, headless, with a private
// profile, driven by playwright-core (pinned in tests/tools). Run by test_portal_browser.py,
// which starts PostgreSQL and atriumd and makes the school; this script only uses the pages.
//
//   node portal.mjs <base url> <screenshot dir>   (environment: ATRIUM_SCHOOL, ATRIUM_PASSWORD)
//
// Every page is checked with axe-core (WCAG 2.1 A/AA rules; no serious or critical violation)
// and kept as a screenshot. Any Content-Security-Policy violation, page error or failed
// request of the portal's own fails the run. Prints one line per step; exits non-zero on the
// first failure.
import {createRequire} from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(path.join(process.env.ATRIUM_TOOLS_DIR, 'package.json'));
const {chromium} = require('playwright-core');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const [base, shots] = process.argv.slice(2);
const school = process.env.ATRIUM_SCHOOL;
const password = process.env.ATRIUM_PASSWORD;
fs.mkdirSync(shots, {recursive: true});

const problems = [];
function watch(page) {
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}

function check(cond, what) {
  if (!cond) throw new Error(`failed: ${what}`);
}

let n = 0;
async function audit(page, name) {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern: the page
  // itself keeps its policy.
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  n += 1;
  const file = path.join(shots, `${String(n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  for (const v of bad) console.log(`axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length})`);
  check(bad.length === 0, `${name}: ${bad.length} serious or critical axe violations`);
  check(problems.length === 0, `${name}: ${problems.join('; ')}`);
  console.log(`ok ${name} (axe: ${result.passes.length} rules pass; ${file})`);
}

async function signIn(page, who, schoolSlug = school) {
  await page.getByLabel(/^(School|Schule)$/).fill(schoolSlug);
  await page.getByLabel(/^(Username|Benutzername)$/).fill(who);
  await page.getByLabel(/^(Password|Passwort)$/).fill(password);
  await page.getByRole('button', {name: /^(Sign in|Anmelden)$/}).click();
  await page.getByRole('heading', {level: 1, name: /^(Hello|Hallo), /}).waitFor();
}

async function signOut(page) {
  await page.getByRole('button', {name: /^(Sign out|Abmelden)$/}).click();
  await page.getByRole('button', {name: /^(Sign in|Anmelden)$/}).waitFor();
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.ATRIUM_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  locale: 'en-US',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
let failed = false;
try {
  const page = context.pages()[0] || (await context.newPage());
  watch(page);
  page.setDefaultTimeout(20000);

  // Sign-in page, English (the browser's language). The shell draws it after asking whether a
  // session exists; isVisible() does not wait, so wait for the form first.
  await page.goto(base + '/');
  await page.getByRole('button', {name: 'Sign in'}).waitFor();
  for (const label of ['School', 'Username', 'Password'])
    check(await page.getByLabel(label, {exact: true}).isVisible(), `label ${label}`);
  check(await page.getByRole('button', {name: 'Sign in'}).isVisible(), 'button Sign in');
  await audit(page, 'signin-en');

  // A wrong password is said plainly.
  await page.getByLabel('School', {exact: true}).fill(school);
  await page.getByLabel('Username', {exact: true}).fill('tessa');
  await page.getByLabel('Password', {exact: true}).fill('not the password');
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('alert').filter({hasText: 'Wrong username or password.'}).waitFor();
  await audit(page, 'signin-error');

  // Throttling is said plainly too: five failures for one account, then the sixth waits.
  await page.getByLabel('Username', {exact: true}).fill('guesswork');
  for (let i = 0; i < 6; i++) {
    await page.getByLabel('Password', {exact: true}).fill(`guess ${i}`);
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/browser-session')),
      page.getByRole('button', {name: 'Sign in'}).click(),
    ]);
    // The response arrives before the form has handled it: the form then empties the password
    // field, which would wipe the next guess typed too early (and the form would not post it).
    await page.waitForFunction(
        () => !document.querySelector('form.signin button[type=submit]').disabled);
  }
  await page.getByRole('alert')
    .filter({hasText: /^Too many failed attempts\. Try again in \d+ minutes\.$/}).waitFor();
  await audit(page, 'signin-throttled');

  // Switch to German on the page; the labels follow.
  await page.getByRole('button', {name: 'Auf Deutsch anzeigen'}).click();
  for (const label of ['Schule', 'Benutzername', 'Passwort'])
    check(await page.getByLabel(label, {exact: true}).isVisible(), `Label ${label}`);
  check(await page.getByRole('button', {name: 'Anmelden'}).isVisible(), 'Knopf Anmelden');
  await audit(page, 'signin-de');
  await page.getByRole('button', {name: 'Show in English'}).click();

  // The teacher: start page, the noticeboard (drawn by its plugin), posting with the cookie
  // and the CSRF token.
  await signIn(page, 'tessa');
  check(await page.getByRole('navigation').getByRole('link', {name: 'Noticeboard'}).isVisible(),
        'the noticeboard in the navigation');
  await audit(page, 'start-teacher');
  await page.getByRole('navigation').getByRole('link', {name: 'Noticeboard'}).click();
  await page.getByRole('heading', {level: 1, name: 'Noticeboard'}).waitFor();
  await page.getByLabel('Title').fill('Sports day on Friday');
  await page.getByLabel('Text').fill('Bring trainers.');
  await page.getByRole('button', {name: 'Post'}).click();
  await page.getByRole('heading', {level: 2, name: 'Sports day on Friday'}).waitFor();
  await audit(page, 'noticeboard-teacher');

  // Files (drawn by the files plugin): upload with the picker, download, rename, a folder,
  // the trash and back.
  await page.getByRole('navigation').getByRole('link', {name: 'Files'}).click();
  await page.getByRole('heading', {level: 1, name: 'Files'}).waitFor();
  const content = 'Atrium portal upload: \u00e4\u00f6\u00fc\n'.repeat(2000);
  await page.getByLabel('Upload files').setInputFiles(
    {name: 'homework.txt', mimeType: 'text/plain', buffer: Buffer.from(content)});
  const link = page.getByRole('link', {name: 'Download homework.txt'});
  await link.waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const got = fs.readFileSync(await download.path(), 'utf8');
  check(got === content, `the download is what was uploaded (${got.length} characters)`);
  check(download.suggestedFilename() === 'homework.txt', 'the download keeps its name');
  await page.getByRole('button', {name: 'Rename: homework.txt'}).click();
  await page.getByLabel('New name for homework.txt').fill('essay.txt');
  await page.getByRole('button', {name: 'Save'}).click();
  await page.getByRole('link', {name: 'Download essay.txt'}).waitFor();
  // Drag and drop: a drop event carrying a file, as a file manager's would.
  const dropped = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped onto the page\n'], 'dropped.txt', {type: 'text/plain'}));
    return dt;
  });
  await page.locator('.drop').dispatchEvent('drop', {dataTransfer: dropped});
  await page.getByRole('link', {name: 'Download dropped.txt'}).waitFor();
  await page.getByLabel('New folder').fill('Projects');
  await page.getByRole('button', {name: 'Create'}).click();
  await page.getByRole('button', {name: 'Folder Projects'}).waitFor();
  await audit(page, 'files-teacher');
  await page.getByRole('button', {name: 'Move to trash: essay.txt'}).click();
  await page.getByRole('status').filter({hasText: 'essay.txt is in the trash.'}).waitFor();
  // The status is said once the list is drawn again: the file is gone from it.
  check(await page.getByRole('link', {name: 'Download essay.txt'}).count() === 0, 'trashed');
  await page.getByRole('button', {name: 'Trash', exact: true}).click();
  await page.getByRole('button', {name: 'Restore: essay.txt'}).click();
  await page.getByRole('link', {name: 'Download essay.txt'}).waitFor();
  await audit(page, 'files-trash');
  await page.getByRole('button', {name: 'Folder Projects'}).click();
  await page.getByText('This folder is empty.').waitFor();
  await page.getByRole('navigation').getByRole('link', {name: 'Noticeboard'}).click();
  await page.getByRole('heading', {level: 1, name: 'Noticeboard'}).waitFor();

  // Calendar (drawn by the calendar plugin): a weekly event, seen this week and next.
  await page.getByRole('navigation').getByRole('link', {name: 'Calendar'}).click();
  await page.getByRole('heading', {level: 1, name: 'Calendar'}).waitFor();
  await page.getByLabel('Title').fill('Physics');
  await page.getByLabel('Starts').fill('08:00');
  await page.getByLabel('Ends').fill('08:45');
  await page.getByLabel('Repeats').selectOption({label: 'Every week'});
  await page.getByLabel('Number of times').fill('5');
  await page.getByRole('button', {name: 'Save'}).click();
  await page.getByRole('status').filter({hasText: 'Physics is in your calendar.'}).waitFor();
  const week = page.locator('.week');
  await week.getByText('Physics').waitFor();
  check(await week.getByText('08:00').count() === 1, 'this week: one occurrence at 08:00');
  await audit(page, 'calendar-week');
  await page.getByRole('button', {name: 'Next week'}).click();
  await page.waitForFunction(() => !document.querySelector('.week .today'));
  await week.getByText('Physics').waitFor();
  check(await week.getByText('(repeats)').count() === 1, 'next week: the series again');
  await page.getByRole('button', {name: 'Next week'}).click();
  await page.getByRole('button', {name: 'Next week'}).click();
  await page.getByRole('button', {name: 'Next week'}).click();
  await page.getByRole('button', {name: 'Next week'}).click();
  await page.waitForFunction(() => document.querySelectorAll('.week li').length === 0);
  await audit(page, 'calendar-after-series');
  await page.getByRole('navigation').getByRole('link', {name: 'Noticeboard'}).click();
  await page.getByRole('heading', {level: 1, name: 'Noticeboard'}).waitFor();

  // Groups (drawn by the groups plugin): the teacher's class, its members, one removed.
  await page.getByRole('navigation').getByRole('link', {name: 'Groups'}).click();
  await page.getByRole('heading', {level: 1, name: 'Groups'}).waitFor();
  await page.getByRole('button', {name: 'Show members of Class 7a'}).click();
  await page.getByRole('heading', {level: 2, name: 'Members of Class 7a'}).waitFor();
  await page.getByRole('cell', {name: 'stella', exact: true}).waitFor();
  await audit(page, 'groups-teacher');
  // A pupil of the class gets a new one-time password from the teacher (users.reset_password);
  // no such button for oneself.
  check(await page.getByRole('button', {name: 'New password for Tessa'}).count() === 0,
        'no reset of oneself');
  await page.getByRole('button', {name: 'New password for Sina'}).click();
  await page.getByRole('button', {name: 'Make the new password'}).click();
  const resetText = await page.getByRole('status')
    .filter({hasText: 'One-time password for Sina'}).textContent();
  const oneTime = /: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})\./.exec(resetText);
  check(oneTime !== null, `the one-time password is shown: ${resetText}`);
  await audit(page, 'groups-teacher-reset');
  await page.getByRole('button', {name: 'Remove: Sid'}).click();
  await page.getByRole('status').filter({hasText: 'Sid is no longer in the group.'}).waitFor();
  check(await page.getByRole('cell', {name: 'sid', exact: true}).count() === 0, 'sid removed');
  await page.getByRole('navigation').getByRole('link', {name: 'Noticeboard'}).click();
  await page.getByRole('heading', {level: 1, name: 'Noticeboard'}).waitFor();

  // Video rooms (drawn by the conference plugin): a new room, joined; the signed URL of the
  // school's Jitsi is checked, not opened.
  await page.getByRole('navigation').getByRole('link', {name: 'Video rooms'}).click();
  await page.getByRole('heading', {level: 1, name: 'Video rooms'}).waitFor();
  await page.getByLabel('Name').fill('Maths revision');
  await page.getByRole('button', {name: 'Create room'}).click();
  await page.getByRole('status').filter({hasText: 'Room Maths revision is ready.'}).waitFor();
  await page.getByRole('button', {name: 'Join Maths revision'}).click();
  const join = page.getByRole('link', {name: 'Open Maths revision (jitsi)'});
  await join.waitFor();
  const href = await join.getAttribute('href');
  check(/^https:\/\/meet\.example\.org\/[^?]+\?jwt=[\w-]+\.[\w-]+\.[\w-]+$/.test(href),
        `the join URL: ${href}`);
  check(await join.getAttribute('target') === '_blank', 'the meeting opens in a new tab');
  await audit(page, 'conference-teacher');
  await page.getByRole('navigation').getByRole('link', {name: 'Noticeboard'}).click();
  await page.getByRole('heading', {level: 1, name: 'Noticeboard'}).waitFor();

  // A reload keeps the session (the cookie) and asks for the CSRF token again.
  await page.reload();
  await page.getByRole('heading', {level: 1, name: 'Noticeboard'}).waitFor();
  await page.getByRole('heading', {level: 2, name: 'Sports day on Friday'}).waitFor();
  const cookies = await context.cookies();
  const c = cookies.find((x) => x.name === 'atrium_session');
  check(c && c.httpOnly && c.sameSite === 'Lax' && c.path === '/', 'cookie attributes');
  check(!(await page.evaluate(() => document.cookie.includes('atrium_session'))),
        'the session cookie is invisible to scripts');
  await signOut(page);
  check(!(await context.cookies()).some((x) => x.name === 'atrium_session'), 'cookie dropped');

  // Every other role signs in; a student, a parent and staff read but cannot post.
  for (const [who, role] of [['stella', 'student'], ['paul', 'parent'], ['stefan', 'staff'],
                             ['ada', 'admin']]) {
    await signIn(page, who);
    await audit(page, `start-${role}`);
    await page.getByRole('navigation').getByRole('link', {name: 'Noticeboard'}).click();
    await page.getByRole('heading', {level: 2, name: 'Sports day on Friday'}).waitFor();
    const canPost = await page.getByRole('button', {name: 'Post'}).count();
    check(canPost === (role === 'admin' ? 1 : 0), `${role}: posting form shown only to posters`);
    await audit(page, `noticeboard-${role}`);
    if (role === 'student') {
      await page.getByRole('navigation').getByRole('link', {name: 'Groups'}).click();
      await page.getByRole('button', {name: 'Show members of Class 7a'}).click();
      await page.getByRole('cell', {name: 'tessa', exact: true}).waitFor();
      check(await page.getByRole('button', {name: /^Remove: /}).count() === 0,
            'a member cannot remove others');
      await audit(page, 'groups-student');
    }
    await signOut(page);
  }

  // An operator has no school: the start page without areas.
  await signIn(page, 'root', '');
  await audit(page, 'start-operator');
  await signOut(page);

  // A phone: one column, nothing wider than the screen.
  await page.setViewportSize({width: 360, height: 740});
  await audit(page, 'signin-phone');
  await signIn(page, 'stella');
  await page.getByRole('navigation').getByRole('link', {name: 'Noticeboard'}).click();
  await page.getByRole('heading', {level: 2, name: 'Sports day on Friday'}).waitFor();
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(wide <= 0, `the page is ${wide}px wider than the phone`);
  await audit(page, 'noticeboard-phone');

  // The sign-in lifecycle (docs/ACCOUNTS.md). An activation code from a letter: the first
  // password, then the portal. The code is typed as people type it (lower case, no dashes).
  await page.setViewportSize({width: 1280, height: 800});
  await signOut(page);
  await page.getByRole('button', {name: 'I have an activation code'}).click();
  await page.getByLabel('School', {exact: true}).fill(school);
  await page.getByLabel('Username', {exact: true}).fill('neo');
  await page.getByLabel('Activation code', {exact: true})
    .fill(process.env.ATRIUM_ACTIVATION_CODE.replaceAll('-', '').toLowerCase());
  await page.getByLabel('New password', {exact: true}).fill('neo');
  await page.getByLabel('New password again', {exact: true}).fill('neo');
  await page.getByRole('button', {name: 'Activate and sign in'}).click();
  await page.getByRole('alert').filter({hasText: 'at least 8 characters'}).waitFor();
  await audit(page, 'activate-refused');
  await page.getByLabel('New password', {exact: true}).fill('my very first password');
  await page.getByLabel('New password again', {exact: true}).fill('my very first password');
  await page.getByRole('button', {name: 'Activate and sign in'}).click();
  await page.getByRole('heading', {level: 1, name: /^Hello, /}).waitFor();
  await signOut(page);

  // A password the admin set: a new one before the portal opens.
  await page.getByLabel('School', {exact: true}).fill(school);
  await page.getByLabel('Username', {exact: true}).fill('sid');
  await page.getByLabel('Password', {exact: true}).fill('set by the admin');
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('heading', {level: 1, name: 'Choose a new password'}).waitFor();
  await audit(page, 'forced-change');
  await page.getByLabel('New password', {exact: true}).fill('sid chose this');
  await page.getByLabel('New password again', {exact: true}).fill('another one');
  await page.getByRole('button', {name: 'Save and continue'}).click();
  await page.getByRole('alert').filter({hasText: 'not the same'}).waitFor();
  await page.getByLabel('New password again', {exact: true}).fill('sid chose this');
  await page.getByRole('button', {name: 'Save and continue'}).click();
  await page.getByRole('alert').filter({hasText: 'must not contain your username'}).waitFor();
  await page.getByLabel('New password', {exact: true}).fill('chosen by me at last');
  await page.getByLabel('New password again', {exact: true}).fill('chosen by me at last');
  await page.getByRole('button', {name: 'Save and continue'}).click();
  await page.getByRole('heading', {level: 1, name: /^Hello, /}).waitFor();
  await audit(page, 'after-forced-change');

  // The teacher's one-time password: Sina signs in with it and chooses her own.
  await signOut(page);
  await page.getByLabel('School', {exact: true}).fill(school);
  await page.getByLabel('Username', {exact: true}).fill('sina');
  await page.getByLabel('Password', {exact: true}).fill(oneTime[1]);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('heading', {level: 1, name: 'Choose a new password'}).waitFor();
  await page.getByLabel('New password', {exact: true}).fill('my own words now');
  await page.getByLabel('New password again', {exact: true}).fill('my own words now');
  await page.getByRole('button', {name: 'Save and continue'}).click();
  await page.getByRole('heading', {level: 1, name: /^Hello, /}).waitFor();

  // Keyboard only: from the address bar's focus, Tab reaches the skip link first.
  await signOut(page);
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement && document.activeElement.className);
  check(first === 'skip' || first === '', `first Tab stop: ${first}`);
} catch (e) {
  failed = true;
  console.log(String(e.stack || e));
  for (const p of problems) console.log(p);
} finally {
  await context.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
process.exit(failed ? 1 : 0);
