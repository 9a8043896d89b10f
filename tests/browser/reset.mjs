// SPDX-License-Identifier: Apache-2.0
// reset.mjs - a forgotten password in a real browser (docs/ACCOUNTS.md, "Resets by a mailed
// link"): "Forgot your password?" on the sign-in page, the link read from the mail the
// stand-in sendmail kept, the link's page (its token gone from the address bar), a new
// password, then signing in with it. Run by tests/integration/test_account_reset_mail.py.
//
//   node reset.mjs <base url> <screenshot dir>
//   (environment: ATRIUM_SCHOOL, ATRIUM_LOGIN (an address), ATRIUM_USER, ATRIUM_MAILDIR,
//    ATRIUM_TOOLS_DIR)
import fs from 'node:fs';
import path from 'node:path';
import {audit, check, signIn, withBrowser} from './lib.mjs';

const [base, shots] = process.argv.slice(2);
const school = process.env.ATRIUM_SCHOOL;
const calls = path.join(process.env.ATRIUM_MAILDIR, 'calls');

// The link in the one mail the stand-in sendmail got (it is written before the 202).
function mailedLink() {
  const runs = fs.readdirSync(calls);
  check(runs.length === 1, `one mail was handed to sendmail (${runs.length})`);
  const text = fs.readFileSync(path.join(calls, runs[0], 'stdin'), 'utf8');
  const m = text.match(/^(http:\/\/\S+\/#\/reset\/[a-z0-9-]+\/[A-Za-z0-9_-]{43})\r?$/m);
  check(m, 'the mail holds a reset link');
  return m[1];
}

await withBrowser(shots, async (page, b) => {
  await page.goto(base);
  await page.getByRole('button', {name: 'Forgot your password?'}).click();
  await page.getByRole('heading', {level: 1, name: 'Forgot your password?'}).waitFor();
  await audit(page, b, 'forgot');
  await page.getByRole('button', {name: 'Send the link'}).click();
  await page.getByText('Fill in the school').waitFor();
  await page.getByLabel('School', {exact: true}).fill(school);
  await page.getByLabel('Username or e-mail address').fill(process.env.ATRIUM_LOGIN);
  await page.getByRole('button', {name: 'Send the link'}).click();
  await page.getByText('a link is on its way').waitFor();
  await audit(page, b, 'forgot-sent');

  const link = mailedLink();
  await page.goto(link);
  await page.getByRole('heading', {level: 1, name: 'Choose a new password'}).waitFor();
  check(!page.url().includes('reset'), `the token left the address bar (${page.url()})`);
  await audit(page, b, 'reset');
  await page.getByLabel('New password', {exact: true}).fill('my own new secret');
  await page.getByLabel('New password again').fill('not the same');
  await page.getByRole('button', {name: 'Save the new password'}).click();
  await page.getByText('The two passwords are not the same.').waitFor();
  await page.getByLabel('New password again').fill('my own new secret');
  await page.getByRole('button', {name: 'Save the new password'}).click();
  await page.getByText('Your new password is set. Sign in with it.').waitFor();
  await audit(page, b, 'reset-done');
  await signIn(page, school, process.env.ATRIUM_USER, 'my own new secret');

  // The same link again, in German: used, said so.
  await page.getByRole('button', {name: /^(Sign out|Abmelden)$/}).click();
  await page.getByRole('button', {name: 'Sign in'}).waitFor();
  await page.goto(link);
  await page.getByRole('heading', {level: 1, name: 'Choose a new password'}).waitFor();
  await page.getByLabel('New password', {exact: true}).fill('yet another secret');
  await page.getByLabel('New password again').fill('yet another secret');
  await page.getByRole('button', {name: 'Save the new password'}).click();
  await page.getByText('This link does not work any more').waitFor();
  await audit(page, b, 'reset-used');
});
