// SPDX-License-Identifier: Apache-2.0
// lib.mjs - what a browser run of the portal needs, shared by the scripts under tests/browser/
// (admin.mjs; portal.mjs still has its own copy of these, from before this module): Debian's
// Chromium headless with a private profile, driven by playwright-core from tests/tools;
// axe-core on a page (WCAG 2.1 A/AA, no serious or critical violation) with a screenshot of
// it; every Content-Security-Policy violation and page error is collected and fails the next
// check; signing in and out through the portal's own form.
import {createRequire} from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(path.join(process.env.ATRIUM_TOOLS_DIR, 'package.json'));
const {chromium} = require('playwright-core');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const started = Date.now();

export function check(cond, what) {
  if (!cond) throw new Error(`failed: ${what}`);
}

// One browser with a private profile; run(page, browser) gets its first page. Exits the
// process: 0 when run finished, 1 (with the error and the problems seen) when it threw.
export async function withBrowser(shots, run) {
  fs.mkdirSync(shots, {recursive: true});
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.ATRIUM_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    locale: 'en-US',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  const browser = {context, shots, problems: [], n: 0};
  let failed = false;
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text()))
        browser.problems.push(`CSP: ${m.text()}`);
    });
    page.on('pageerror', (e) => browser.problems.push(`page error: ${e.message}`));
    page.setDefaultTimeout(20000);
    await run(page, browser);
  } catch (e) {
    failed = true;
    console.log(String(e.stack || e));
    for (const p of browser.problems) console.log(p);
  } finally {
    await context.close();
    fs.rmSync(profile, {recursive: true, force: true});
  }
  process.exit(failed ? 1 : 0);
}

// axe-core over the page as it is, and a screenshot named NN-<name>.png.
export async function audit(page, browser, name) {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern.
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  browser.n += 1;
  const file = path.join(browser.shots, `${String(browser.n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  for (const v of bad) {
    console.log(`axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length})`);
    for (const node of v.nodes.slice(0, 3)) console.log(`  ${node.target.join(' ')}`);
  }
  check(bad.length === 0, `${name}: ${bad.length} serious or critical axe violations`);
  check(browser.problems.length === 0, `${name}: ${browser.problems.join('; ')}`);
  const at = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`ok ${name} at ${at} s (axe: ${result.passes.length} rules pass; ${file})`);
}

export async function signIn(page, school, who, password) {
  await page.getByLabel(/^(School|Schule)$/).fill(school);
  await page.getByLabel(/^(Username|Benutzername)$/).fill(who);
  await page.getByLabel(/^(Password|Passwort)$/).fill(password);
  await page.getByRole('button', {name: /^(Sign in|Anmelden)$/}).click();
  await page.getByRole('heading', {level: 1, name: /^(Hello|Hallo), /}).waitFor();
}

export async function signOut(page) {
  await page.getByRole('button', {name: /^(Sign out|Abmelden)$/}).click();
  await page.getByRole('button', {name: /^(Sign in|Anmelden)$/}).waitFor();
}

// Opens a page by its navigation link and waits for its heading.
export async function open(page, link, heading = link) {
  await page.getByRole('navigation').getByRole('link', {name: link, exact: true}).click();
  await page.getByRole('heading', {level: 1, name: heading, exact: true}).waitFor();
}

// Whether the page is wider than the window (a phone must never scroll sideways).
export async function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}
