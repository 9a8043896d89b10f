// SPDX-License-Identifier: Apache-2.0
// areas.mjs - the portal's mail page, the start page's "today" and the calendar's views in a
// real browser: Debian's Chromium, headless, with a private profile, driven by playwright-core
// (pinned in tests/tools). Run by tests/integration/test_portal_areas_browser.py, which starts
// PostgreSQL and atriumd and makes the school over REST; this script only uses the pages.
//
//   node areas.mjs <base url> <screenshot dir>
//   (environment: ATRIUM_SCHOOL, ATRIUM_PASSWORD, ATRIUM_MAIL_DOMAIN, ATRIUM_TOOLS_DIR)
//
// Every page is checked with axe-core (WCAG 2.1 A/AA; no serious or critical violation) and
// kept as a screenshot. Any Content-Security-Policy violation or page error fails the run.
// Prints one line per step; exits non-zero on the first failure.
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
const domain = process.env.ATRIUM_MAIL_DOMAIN;
fs.mkdirSync(shots, {recursive: true});

const problems = [];
function watch(page) {
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => problems.push(`a dialog opened: ${d.message()}`));
}

function check(cond, what) {
  if (!cond) throw new Error(`failed: ${what}`);
}

let n = 0;
async function audit(page, name) {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern.
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  n += 1;
  const file = path.join(shots, `${String(n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  for (const v of bad) {
    console.log(`axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length})`);
    for (const node of v.nodes.slice(0, 3)) console.log(`   ${node.target.join(' ')}`);
  }
  check(bad.length === 0, `${name}: ${bad.length} serious or critical axe violations`);
  check(problems.length === 0, `${name}: ${problems.join('; ')}`);
  console.log(`ok ${name} (axe: ${result.passes.length} rules pass; ${file})`);
}

async function signIn(page, who) {
  await page.getByLabel(/^(School|Schule)$/).fill(school);
  await page.getByLabel(/^(Username|Benutzername)$/).fill(who);
  await page.getByLabel(/^(Password|Passwort)$/).fill(password);
  await page.getByRole('button', {name: /^(Sign in|Anmelden)$/}).click();
  await page.getByRole('heading', {level: 1, name: /^(Hello|Hallo), /}).waitFor();
}

async function signOut(page) {
  await page.getByRole('button', {name: /^(Sign out|Abmelden)$/}).click();
  await page.getByRole('button', {name: /^(Sign in|Anmelden)$/}).waitFor();
}

async function open(page, link, heading) {
  await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: link}).click();
  await page.getByRole('heading', {level: 1, name: heading}).waitFor();
}

// The teacher's start page: what matters today, from each enabled module.
async function startPage(page) {
  const today = page.getByRole('region', {name: 'Today', exact: true});
  await today.getByText("Parents' evening").waitFor();
  await today.getByRole('link', {name: /1 unread/}).waitFor();
  await today.getByText('worksheet.txt').waitFor();
  await today.getByText('Staff room').waitFor();
  await audit(page, 'start-today');
  await page.getByRole('button', {name: 'Auf Deutsch anzeigen'}).click();
  const heute = page.getByRole('region', {name: 'Heute', exact: true});
  await heute.getByRole('link', {name: '1 ungelesene Nachricht'}).waitFor();
  await heute.getByText('ganztägig').waitFor();
  await audit(page, 'start-today-de');
  await page.getByRole('button', {name: 'Show in English'}).click();
  await page.getByRole('region', {name: 'Today', exact: true}).waitFor();
}

// The teacher reads the student's mail, writes to the class with an attachment, replies.
async function teacherMail(page) {
  await open(page, 'Mail', 'Mail');
  await page.getByRole('heading', {level: 2, name: 'Inbox'}).waitFor();
  await page.getByRole('button', {name: 'Inbox 1 unread'}).waitFor();
  await audit(page, 'mail-inbox');
  await page.getByRole('button', {name: /^Question about homework /}).click();
  const reader = page.getByRole('article');
  await reader.getByRole('heading', {level: 2, name: 'Question about homework'}).waitFor();
  await reader.getByText('is the homework on?').waitFor();
  check(await reader.locator('.mail-body b').textContent() === 'page', 'bold text kept');
  check(await reader.locator('script, img, [onclick]').count() === 0, 'no script, no image');
  check(await reader.getByRole('link', {name: 'click'}).count() === 0,
        'the javascript: link is not a link');
  const book = reader.getByRole('link', {name: 'the book'});
  check(await book.getAttribute('href') === 'https://example.org/book', 'the link is kept');
  check(await book.getAttribute('rel') === 'noopener noreferrer nofollow', 'rel forced');
  check(await page.title() !== 'pwned', 'no script ran');
  // Read now: the folder's count goes.
  await page.getByRole('button', {name: 'Inbox', exact: true}).waitFor();
  await audit(page, 'mail-read');

  // A new message to the class, its address from the address book, a file from home.
  await page.getByRole('button', {name: 'New message'}).click();
  await page.getByRole('heading', {level: 2, name: 'New message'}).waitFor();
  // An address nobody has: the server's refusal is said, and nothing typed is lost.
  await page.getByLabel('To', {exact: true}).fill(`nobody@${domain}`);
  await page.getByLabel('Subject').fill('Excursion on Monday');
  const text = 'We meet at 8 at the main gate.\nBring the worksheet.';
  await page.getByLabel('Message', {exact: true}).fill(text);
  await page.getByLabel('worksheet.txt').check();
  await page.getByRole('button', {name: 'Send'}).click();
  await page.getByRole('alert').filter({hasText: /^That did not work: .*nobody@/}).waitFor();
  check(await page.getByLabel('Message', {exact: true}).inputValue() === text, 'text kept');
  check(await page.getByLabel('worksheet.txt').isChecked(), 'attachment kept');
  await page.getByLabel('To', {exact: true}).fill('');
  await page.getByLabel('Address book').selectOption({label: 'Class 7a (group)'});
  await page.getByRole('button', {name: 'Add recipient'}).click();
  check(await page.getByLabel('To', {exact: true}).inputValue() === `class-7a@${domain}`,
        'the class address is in To');
  await page.getByLabel('Cc', {exact: true}).fill(`ada@${domain}`);
  await audit(page, 'mail-compose');
  await page.getByRole('button', {name: 'Send'}).click();
  await page.getByRole('status').filter({hasText: 'Your message was sent.'}).waitFor();

  // A reply to the student: To, subject and the reference come from the message.
  await page.getByRole('button', {name: /^Question about homework /}).click();
  await page.getByRole('article').getByRole('button', {name: 'Reply'}).click();
  await page.getByRole('heading', {level: 2, name: 'Reply'}).waitFor();
  check(await page.getByLabel('To', {exact: true}).inputValue() === `stella@${domain}`,
        'the reply goes to the sender');
  check(await page.getByLabel('Subject').inputValue() === 'Re: Question about homework',
        'the reply\'s subject');
  await page.getByLabel('Message', {exact: true}).press('Control+Home');
  await page.getByLabel('Message', {exact: true}).pressSequentially('Page 42.');
  await page.getByRole('button', {name: 'Send'}).click();
  await page.getByRole('status').filter({hasText: 'Your message was sent.'}).waitFor();

  // Search finds the sent mail; the Sent folder has both.
  await page.getByLabel('Search mail').fill('excursion');
  await page.getByRole('button', {name: 'Search', exact: true}).click();
  await page.getByRole('heading', {level: 2, name: 'Results for “excursion”'}).waitFor();
  await page.getByRole('button', {name: /^Excursion on Monday /}).waitFor();
  check(await page.locator('.mail-list li').count() === 1, 'one result');
  await audit(page, 'mail-search');
  await page.getByRole('button', {name: 'Sent', exact: true}).click();
  await page.getByRole('heading', {level: 2, name: 'Sent'}).waitFor();
  await page.getByRole('button', {name: /^Re: Question about homework /}).waitFor();
  await page.getByRole('button', {name: /^Excursion on Monday /}).waitFor();

  // In German.
  await page.getByRole('button', {name: 'Auf Deutsch anzeigen'}).click();
  await page.getByRole('heading', {level: 1, name: 'E-Mail'}).waitFor();
  await page.getByRole('heading', {level: 2, name: 'Posteingang'}).waitFor();
  await page.getByRole('button', {name: 'Neue Nachricht'}).click();
  await page.getByLabel('Adressbuch').waitFor();
  await page.getByLabel('An', {exact: true}).waitFor();
  await audit(page, 'mail-compose-de');
  await page.getByRole('button', {name: 'Show in English'}).click();
  await page.getByRole('heading', {level: 1, name: 'Mail'}).waitFor();
}

// A member of the class reads the mail to the class (the check) on a phone.
async function memberMail(page) {
  await page.setViewportSize({width: 360, height: 740});
  // The start page on a phone: one column.
  await page.getByRole('region', {name: 'Today', exact: true})
    .getByRole('link', {name: '2 unread messages'}).waitFor();
  const startWide =
    await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(startWide <= 0, `the start page is ${startWide}px wider than the phone`);
  await audit(page, 'start-member-phone');
  await open(page, 'Mail', 'Mail');
  await page.getByRole('button', {name: 'Inbox 2 unread'}).waitFor();
  // By keyboard: Enter on the message opens it and moves the focus to its heading.
  await page.getByRole('button', {name: /^Excursion on Monday .* · unread$/}).focus();
  await page.keyboard.press('Enter');
  const reader = page.getByRole('article');
  await reader.getByRole('heading', {level: 2, name: 'Excursion on Monday'}).waitFor();
  check(await page.evaluate(() => document.activeElement.id) === 'mail-read-h',
        'the focus is on the message');
  await reader.getByText('We meet at 8 at the main gate.').waitFor();
  check((await reader.locator('dd').first().textContent()).includes(`tessa@${domain}`),
        'from the teacher');
  check((await reader.locator('dd').nth(1).textContent()).includes(`class-7a@${domain}`),
        'to the class');
  const att = reader.getByRole('link', {name: 'worksheet.txt'});
  const [download] = await Promise.all([page.waitForEvent('download'), att.click()]);
  const got = fs.readFileSync(await download.path(), 'utf8');
  check(got === 'Worksheet for the excursion\n', `the attachment: ${JSON.stringify(got)}`);
  await page.getByRole('button', {name: /^Re: Question about homework /}).click();
  await reader.getByText('Page 42.').waitFor();
  // Both read now: the folder and the list say so.
  await page.getByRole('button', {name: 'Inbox', exact: true}).waitFor();
  check(await page.locator('.mail-list').getByText('unread').count() === 0, 'nothing unread');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(wide <= 0, `the mail page is ${wide}px wider than the phone`);
  await audit(page, 'mail-member-phone');
  await reader.getByRole('button', {name: 'Move to trash'}).click();
  await page.getByRole('status').filter({hasText: 'The message is in the trash.'}).waitFor();
  check(await page.getByRole('button', {name: /^Re: Question about homework /}).count() === 0,
        'the reply left the inbox');
  await page.setViewportSize({width: 1280, height: 900});
}

// The calendar: month and day views, an event made, edited (title, time, repeat rule) and
// deleted, and a subscription link that works until it is revoked.
async function calendar(page) {
  await open(page, 'Calendar', 'Calendar');
  const views = page.getByRole('group', {name: 'View'});
  await page.locator('.week').getByRole('button', {name: "Parents' evening"}).waitFor();
  check(await views.getByRole('button', {name: 'Week'}).getAttribute('aria-pressed') === 'true',
        'the week is the first view');
  await views.getByRole('button', {name: 'Month'}).click();
  const month = page.locator('table.month');
  await month.waitFor();
  const monthName = new Date().toLocaleDateString('en-US', {month: 'long', year: 'numeric'});
  await page.getByRole('heading', {level: 2, name: monthName}).waitFor();
  await month.locator('td.today').getByRole('button', {name: "Parents' evening"}).waitFor();
  await page.getByRole('button', {name: 'Next month'}).waitFor();
  await audit(page, 'calendar-month');
  await page.getByRole('button', {name: 'Auf Deutsch anzeigen'}).click();
  await page.getByRole('group', {name: 'Ansicht'}).getByRole('button', {name: 'Monat'}).click();
  await page.getByRole('button', {name: 'Voriger Monat'}).waitFor();
  await page.getByRole('heading', {level: 2, name: 'Neuer Termin'}).waitFor();
  await page.getByRole('heading', {level: 2, name: 'In einer Kalender-App abonnieren'}).waitFor();
  await audit(page, 'calendar-month-de');
  await page.getByRole('button', {name: 'Show in English'}).click();
  await views.getByRole('button', {name: 'Month'}).click();
  await page.getByRole('button', {name: 'Next month'}).waitFor();

  // A weekly event of three, made on the form; then edited: title, time, every day twice.
  await page.getByLabel('Title').fill('Chess club');
  await page.getByLabel('Starts').fill('15:00');
  await page.getByLabel('Ends').fill('16:00');
  await page.getByLabel('Repeats').selectOption({label: 'Every week'});
  await page.getByLabel('Number of times').fill('3');
  await page.getByRole('button', {name: 'Save'}).click();
  await page.getByRole('status').filter({hasText: 'Chess club is in your calendar.'}).waitFor();
  await month.locator('td.today').getByRole('button', {name: 'Chess club'}).click();
  await page.getByRole('heading', {level: 2, name: 'Edit event'}).waitFor();
  check(await page.getByLabel('Title').inputValue() === 'Chess club', 'the title is read');
  check(await page.getByLabel('Starts').inputValue() === '15:00', 'the start is read');
  check(await page.getByLabel('Repeats').inputValue() === 'weekly', 'the rule is read');
  check(await page.getByLabel('Number of times').inputValue() === '3', 'the count is read');
  await audit(page, 'calendar-edit');
  await page.getByLabel('Title').fill('Chess club (hall)');
  await page.getByLabel('Starts').fill('15:30');
  await page.getByLabel('Repeats').selectOption({label: 'Every day'});
  await page.getByLabel('Number of times').fill('2');
  await page.getByRole('button', {name: 'Save'}).click();
  await page.getByRole('status').filter({hasText: 'Chess club (hall) is saved.'}).waitFor();
  check(await page.getByRole('heading', {level: 2, name: 'New event'}).isVisible(),
        'the form is back to a new event');

  // The day view: today and tomorrow have it at 15:30, the day after has nothing.
  await views.getByRole('button', {name: 'Day'}).click();
  const day = page.locator('.day-view');
  await day.getByRole('button', {name: 'Chess club (hall)'}).waitFor();
  check(await day.getByText(/^03:30 PM–04:00 PM$/).count() === 1, 'today at 15:30');
  await audit(page, 'calendar-day');
  await page.getByRole('button', {name: 'Next day'}).click();
  await page.waitForFunction(() => !document.querySelector('.day-view li button')
    || document.querySelector('.day-view').textContent.includes('Chess club (hall)'));
  await day.getByRole('button', {name: 'Chess club (hall)'}).waitFor();
  await page.getByRole('button', {name: 'Next day'}).click();
  await day.getByText('Nothing planned.').waitFor();
  await page.getByRole('button', {name: 'Today'}).click();
  await day.getByRole('button', {name: 'Chess club (hall)'}).click();
  await page.getByRole('heading', {level: 2, name: 'Edit event'}).waitFor();
  check(await page.getByLabel('Repeats').inputValue() === 'daily', 'the new rule is read');
  await page.getByRole('button', {name: 'Delete event'}).click();
  await page.getByRole('status').filter({hasText: 'Chess club (hall) is deleted.'}).waitFor();
  check(await day.getByText('Chess club').count() === 0, 'deleted');

  // The subscription link: shown once, works, and stops working when revoked.
  await page.getByLabel('Calendar', {exact: true}).selectOption({label: 'My calendar'});
  await page.getByRole('button', {name: 'Make a subscription link'}).click();
  const url = await page.getByLabel('Subscription link').inputValue();
  check(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/calendar\/ical\/[\w-]{43}\.ics$/.test(url),
        `the link: ${url}`);
  const feed = await page.request.get(url);
  check(feed.status() === 200 && (await feed.text()).includes("SUMMARY:Parents' evening"),
        'the feed has the calendar');
  await audit(page, 'calendar-feed');
  await page.getByRole('button', {name: /^Revoke the link made /}).click();
  await page.getByText('The link no longer works.').waitFor();
  check((await page.request.get(url)).status() === 404, 'the revoked link is gone');

  // A phone: the month is a list, nothing wider than the screen.
  await page.setViewportSize({width: 360, height: 740});
  await views.getByRole('button', {name: 'Month'}).click();
  await month.getByRole('button', {name: "Parents' evening"}).waitFor();
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(wide <= 0, `the month is ${wide}px wider than the phone`);
  await audit(page, 'calendar-month-phone');
  await page.setViewportSize({width: 1280, height: 900});
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.ATRIUM_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  locale: 'en-US',
  acceptDownloads: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
let failed = false;
try {
  const page = context.pages()[0] || (await context.newPage());
  watch(page);
  page.setDefaultTimeout(20000);
  await page.goto(base + '/');
  await signIn(page, 'tessa');
  await startPage(page);
  await teacherMail(page);
  await calendar(page);
  await signOut(page);
  await signIn(page, 'stella');
  await memberMail(page);
  await signOut(page);
} catch (e) {
  failed = true;
  console.log(String(e.stack || e));
  for (const p of problems) console.log(p);
} finally {
  await context.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
process.exit(failed ? 1 : 0);
