// SPDX-License-Identifier: Apache-2.0
// account.mjs - the portal's account pages in a real browser (docs/PORTAL.md, "My account").
// Run by test_portal_account_browser.py, which starts PostgreSQL and atriumd and makes the
// school (rita, whose password the admin set; tina, a teacher whom the school's policy makes
// enrol a second factor; paul with a second factor; sam, eric, petra); this script only uses
// the pages.
//
//   node account.mjs <base url> <screenshot dir>
//   (environment: ATRIUM_SCHOOL, ATRIUM_PASSWORD, ATRIUM_TEMP, ATRIUM_TOOLS_DIR)
//
// The forced password change, also after a reload; "My account": enrolling TOTP (the code is
// computed here, RFC 6238, from the key read off the page; the QR code's screenshot is decoded
// with zbarimg and must say the otpauth:// URI), the recovery codes, German, a phone's width;
// signing in with a recovery code and with a code; turning it off; the enrolment a school's
// policy forces, also after a reload, and done; an admin renames sam, gives him a one-time password (he
// must then change it), removes paul's second factor, links and unlinks a parent, erases eric.
// axe-core and a screenshot on every page.
import {execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import {audit, check, open, overflow, signIn, signOut, withBrowser} from './lib.mjs';

const [base, shots] = process.argv.slice(2);
const school = process.env.ATRIUM_SCHOOL;
const password = process.env.ATRIUM_PASSWORD;
const temp = process.env.ATRIUM_TEMP;
const fresh = 'Fresh-Secret-Pass-1';

// RFC 4226 / RFC 6238: HMAC-SHA1 of the 30-second step, dynamic truncation, six digits.
function base32(s) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/[\s=]/g, '').toUpperCase()) {
    const v = abc.indexOf(c);
    check(v >= 0, `base32 character ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

function hotp(key, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', key).update(msg).digest();
  const off = mac[19] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// Each code must be for a later step than the last one accepted for that key, within one
// step of the server's now when it checks it. A code for the step before now is refused if
// the step turns over before the server checks it, and one for the step after now can only
// be had a step early: in either case wait for the next step rather than race it.
const lastStep = new Map();
async function nextCode(key) {
  for (;;) {
    const t = Date.now() / 1000;
    const now = Math.floor(t / 30);
    const step = Math.max((lastStep.get(key.toString('hex')) || 0) + 1, now - 1);
    if ((step < now && t % 30 > 25) || step > now + 1) {
      await new Promise((done) => setTimeout(done, (30 - (t % 30)) * 1000 + 200));
      continue;
    }
    lastStep.set(key.toString('hex'), step);
    return hotp(key, step);
  }
}

async function signInTo(page, who, pw) {
  await page.getByLabel(/^(School|Schule)$/).fill(school);
  await page.getByLabel(/^(Username|Benutzername)$/).fill(who);
  await page.getByLabel(/^(Password|Passwort)$/).fill(pw);
  await page.getByRole('button', {name: /^(Sign in|Anmelden)$/}).click();
}

async function me(page) {
  return page.evaluate(async () => (await fetch('/api/v1/me')).json());
}

const users = `/api/v1/schools/${school}/users`;
async function find(page, q) {
  return page.evaluate(async (url) => (await (await fetch(url)).json()).items,
                       `${users}?q=${encodeURIComponent(q)}`);
}

async function manage(page, q, name) {
  await page.getByLabel('Search by name or username').fill(q);
  await page.getByLabel('Search by name or username').press('Enter');
  await page.getByRole('button', {name: `Manage: ${name}`}).click();
  await page.getByRole('heading', {level: 2, name: `Manage ${name}`}).waitFor();
}

await withBrowser(shots, async (page, b) => {
  await page.goto(base + '/');

  // ---- rita: the password the admin set must be changed, also after a reload ----
  await signInTo(page, 'rita', temp);
  const changeTitle = page.getByRole('heading', {level: 1, name: 'Choose a new password'});
  await changeTitle.waitFor();
  check(await page.getByLabel('Current password').count() === 0,
        'right after signing in the page knows the password');
  await page.reload();
  await changeTitle.waitFor();
  await audit(page, b, 'forced-change-after-reload');
  await page.getByLabel('Current password').fill('not-the-password');
  await page.getByLabel('New password', {exact: true}).fill(fresh);
  await page.getByLabel('New password again').fill(fresh);
  await page.getByRole('button', {name: 'Save and continue'}).click();
  await page.getByRole('alert').filter({hasText: 'The current password is wrong.'}).waitFor();
  await page.getByLabel('Current password').fill(temp);
  await page.getByRole('button', {name: 'Save and continue'}).click();
  await page.getByRole('heading', {level: 1, name: /^Hello, /}).waitFor();
  check(!(await me(page)).must_change_password, 'the change is done');

  // ---- My account: enrolling a second factor ----
  await page.getByRole('link', {name: 'My account'}).click();
  await page.getByRole('heading', {level: 1, name: 'My account'}).waitFor();
  await page.getByText('A second factor is not set up.').waitFor();
  await audit(page, b, 'account');
  await page.getByRole('button', {name: 'Set up a second factor'}).click();
  const qr = page.getByRole('img', {name: 'QR code for your authenticator app'});
  await qr.waitFor();
  const secret = (await page.locator('#totp-secret').textContent()).replace(/\s/g, '');
  await page.getByText('Show the setup link').click();
  const uri = await page.locator('#totp-uri').textContent();
  check(uri.startsWith('otpauth://totp/') && uri.includes(`secret=${secret}`),
        `the URI has the key shown (${uri})`);
  const qrFile = path.join(shots, 'qr.png');
  await qr.screenshot({path: qrFile});
  const decoded = execFileSync('zbarimg', ['--raw', '-q', qrFile], {encoding: 'utf8'}).trim();
  check(decoded === uri, `the QR code says the URI (${decoded})`);
  await audit(page, b, 'totp-enrol');
  await page.setViewportSize({width: 360, height: 740});
  check(await overflow(page) <= 0, 'no sideways scrolling at 360 px');
  await audit(page, b, 'totp-enrol-phone');
  await page.setViewportSize({width: 1280, height: 800});
  const key = base32(secret);
  // A code of long ago is refused, said in words, and nothing is turned on.
  await page.getByLabel('Code from the app').fill(hotp(key, Math.floor(Date.now() / 30000) - 50));
  await page.getByRole('button', {name: 'Turn on'}).click();
  await page.getByRole('alert').filter({hasText: 'That code is wrong'}).waitFor();
  await page.getByLabel('Code from the app').fill(await nextCode(key));
  await page.getByRole('button', {name: 'Turn on'}).click();
  const codes = page.getByRole('list', {name: 'Recovery codes'}).getByRole('listitem');
  await codes.first().waitFor();
  check(await codes.count() === 10, 'ten recovery codes');
  const recovery = (await codes.first().textContent()).trim();
  await audit(page, b, 'recovery-codes');
  await page.getByRole('button', {name: 'I have saved these codes'}).click();
  await page.getByRole('status').filter({hasText: 'The second factor is on.'}).waitFor();
  check((await me(page)).totp_enabled, 'the server has it on');
  // German.
  await page.getByRole('button', {name: 'Auf Deutsch anzeigen'}).click();
  await page.getByRole('heading', {level: 1, name: 'Mein Konto'}).waitFor();
  await page.getByRole('button', {name: 'Ausschalten'}).waitFor();
  await audit(page, b, 'account-de');
  await page.getByRole('button', {name: 'Show in English'}).click();
  await page.getByRole('heading', {level: 1, name: 'My account'}).waitFor();
  await signOut(page);

  // Signing in with a recovery code, then with a code from the app.
  await signInTo(page, 'rita', fresh);
  await page.getByRole('heading', {level: 1, name: 'Second step: your code'}).waitFor();
  await page.getByLabel('Code', {exact: true}).fill(recovery.toLowerCase());
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('heading', {level: 1, name: /^Hello, /}).waitFor();
  await signOut(page);
  await signInTo(page, 'rita', fresh);
  await page.getByLabel('Code', {exact: true}).fill(await nextCode(key));
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('heading', {level: 1, name: /^Hello, /}).waitFor();
  // Turning it off needs a current code.
  await page.getByRole('link', {name: 'My account'}).click();
  await page.getByLabel('Code from the app').fill(await nextCode(key));
  await page.getByRole('button', {name: 'Turn off'}).click();
  await page.getByRole('status').filter({hasText: 'The second factor is off.'}).waitFor();
  check(!(await me(page)).totp_enabled, 'the server has it off');
  await signOut(page);

  // ---- tina: the school's policy makes her enrol, also after a reload ----
  await signInTo(page, 'tina', password);
  const enrolTitle = page.getByRole('heading', {level: 1, name: 'Set up a second factor'});
  await enrolTitle.waitFor();
  await page.getByText('Your school requires a second factor').waitFor();
  check(await page.getByRole('navigation').count() === 0, 'nothing else is offered');
  await page.reload();
  await enrolTitle.waitFor();
  await audit(page, b, 'forced-enrol-after-reload');
  // Another address does not get round it.
  // (This listener comes after the shell's, so the shell has drawn when it resolves.)
  await page.evaluate(() => new Promise((done) => {
    window.addEventListener('hashchange', done, {once: true});
    location.hash = '#/start';
  }));
  await enrolTitle.waitFor();
  check(await page.getByRole('navigation').count() === 0, 'still nothing else');
  // Done, the portal opens.
  await page.getByRole('button', {name: 'Set up a second factor'}).click();
  const tinaKey = base32(await page.locator('#totp-secret').textContent());
  await page.getByLabel('Code from the app').fill(await nextCode(tinaKey));
  await page.getByRole('button', {name: 'Turn on'}).click();
  await page.getByRole('button', {name: 'I have saved these codes'}).click();
  await page.getByRole('heading', {level: 1, name: /^Hello, /}).waitFor();
  check(await page.getByRole('navigation').count() === 1, 'the portal is open');
  await signOut(page);

  // ---- ada, a school admin: one person at a time ----
  await signIn(page, school, 'ada', password);
  await open(page, 'People');
  await manage(page, 'sam', 'Sam Sommer');
  await audit(page, b, 'person-editor');
  // A username someone has is refused in words, and nothing changes.
  await page.locator('#edit-name').fill('Samuel Sommer');
  await page.locator('#edit-username').fill('paul');
  await page.getByRole('button', {name: 'Save name and username'}).click();
  await page.getByRole('alert')
    .filter({hasText: 'The username paul is taken by someone else; nothing was changed.'}).waitFor();
  check((await find(page, 'sam'))[0].display_name === 'Sam Sommer', 'nothing changed');
  await page.locator('#edit-username').fill('samuel');
  await page.getByRole('button', {name: 'Save name and username'}).click();
  await page.getByRole('status').filter({hasText: 'Samuel Sommer is saved.'}).waitFor();
  await page.getByRole('cell', {name: 'samuel', exact: true}).waitFor();
  await manage(page, 'samuel', 'Samuel Sommer');
  await page.getByRole('button', {name: 'Set password'}).click();
  const oneTime = (await page.locator('#person-onetime').textContent()).trim();
  check(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(oneTime), `a one-time password (${oneTime})`);
  check((await find(page, 'samuel'))[0].must_change_password, 'sam must change it');

  // Paul lost his phone; his mother is linked and unlinked.
  await manage(page, 'paul', 'Paul Factor');
  await page.getByRole('button', {name: 'Remove second factor'}).click();
  await page.getByRole('status').filter({hasText: 'The second factor of Paul Factor is removed.'})
    .waitFor();
  await page.getByText('No second factor is set up.').waitFor();
  check(await page.getByText('A second factor is on.').count() === 0, 'the editor says it is off');
  await page.getByLabel('Find a parent to link').fill('petra');
  await page.getByLabel('Find a parent to link').press('Enter');
  await page.getByRole('button', {name: 'Link: Petra Parent'}).click();
  await page.getByRole('status').filter({hasText: 'Petra Parent is linked.'}).waitFor();
  const petra = (await find(page, 'petra'))[0];
  check((await find(page, 'paul'))[0].parents.includes(petra.id), 'the server has the link');
  await audit(page, b, 'person-parents');
  await page.getByRole('button', {name: 'Unlink: Petra Parent'}).click();
  await page.getByRole('status').filter({hasText: 'Petra Parent is unlinked.'}).waitFor();
  check((await find(page, 'paul'))[0].parents.length === 0, 'the server has no link');

  // Erasing, after a confirmation that names the person.
  await manage(page, 'eric', 'Eric Erase');
  await page.getByRole('button', {name: 'Erase Eric Erase…'}).click();
  await page.getByRole('alert').filter({hasText: 'Erasing Eric Erase (eric) removes'}).waitFor();
  await audit(page, b, 'erase-confirm');
  await page.getByRole('button', {name: 'Erase Eric Erase for good'}).click();
  await page.getByRole('status').filter({hasText: 'Eric Erase was erased.'}).waitFor();
  check((await find(page, 'eric')).length === 0, 'eric is gone');
  await page.setViewportSize({width: 360, height: 740});
  await manage(page, 'paul', 'Paul Factor');
  check(await overflow(page) <= 0, 'the editor has no sideways scrolling at 360 px');
  await audit(page, b, 'person-editor-phone');
  await page.setViewportSize({width: 1280, height: 800});
  await signOut(page);

  // ---- sam signs in with the one-time password and must change it ----
  await signInTo(page, 'samuel', oneTime);
  await changeTitle.waitFor();
  await page.getByLabel('New password', {exact: true}).fill('Sams-Own-Secret-9');
  await page.getByLabel('New password again').fill('Sams-Own-Secret-9');
  await page.getByRole('button', {name: 'Save and continue'}).click();
  await page.getByRole('heading', {level: 1, name: /^Hello, /}).waitFor();
  await audit(page, b, 'start-after-change');
});
