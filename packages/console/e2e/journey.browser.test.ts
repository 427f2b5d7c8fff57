import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM,
  CIS2_ROLES,
  E2E_TIMEOUT_MS,
  expectAccessible,
  expectConsoleBundle,
  expectText,
  freshPage,
  hasChromium,
  junction,
  launchChromium,
  navigate,
  type RunningJunction,
  screenshotter,
  signInWithCis2,
  startJunction,
} from './harness.js';
import { createFreshDatabase, type FreshDatabase, postgresSkipReason } from './postgres.js';

// The whole console journey, as one person does it: `junction start` serves the console; a new
// user opens it, signs in through the sandbox CIS2 with a synthetic smartcard user, traces a
// patient, finds a medicine, sends a MESH message from the CLI and watches it appear in the message
// log. Debian's Chromium only (CI installs it in .ci/run; absent locally, these are skipped).

if (!hasChromium) {
  console.warn(
    `console e2e: ${CHROMIUM} is absent, console browser tests skipped (apt-get install chromium)`,
  );
}

describe.runIf(!hasChromium && process.env.CI)('console e2e in CI', () => {
  it('has Debian Chromium installed', () => {
    expect.fail(`${CHROMIUM} is missing: CI must install it (.ci/run ensure_chromium)`);
  });
});

// The same journey on both stores the hub runs on: the embedded SQLite a new user starts with, and
// PostgreSQL (`junction start --database-url`, a database made for the run and dropped after it).
// PostgreSQL unreachable: skipped with a message, or in CI an error (the hub's store tests' rule).
const postgresSkip = await postgresSkipReason();
if (postgresSkip !== undefined) console.warn(`console e2e: PostgreSQL journey skipped: ${postgresSkip}`);
const STORES = [
  { store: 'SQLite', postgres: false, skip: undefined },
  { store: 'PostgreSQL', postgres: true, skip: postgresSkip },
] as const;

describe.each(STORES)(
  'the console journey against `junction start` on $store',
  ({ store, postgres, skip }) => {
    let running: RunningJunction;
    let browser: Browser;
    let dir: string;
    let database: FreshDatabase | undefined;
    // The pages are the same on either store: one set of screenshots for a reviewer (the SQLite run).
    const shot = postgres ? async () => {} : screenshotter('journey');
    const runs = hasChromium && skip === undefined;

    beforeAll(async () => {
      if (!runs) return;
      expectConsoleBundle();
      dir = await mkdtemp(join(tmpdir(), 'junction-console-journey-'));
      database = postgres ? await createFreshDatabase() : undefined;
      const startOptions = database ? { databaseUrl: database.url } : {};
      [running, browser] = await Promise.all([startJunction(startOptions), launchChromium()]);
    }, E2E_TIMEOUT_MS);

    afterAll(async () => {
      await browser?.close();
      await running?.stop();
      await database?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    }, E2E_TIMEOUT_MS);

    it.runIf(runs)(
      'a new user signs in with a CIS2 smartcard, traces a patient, finds a medicine and sees a MESH message sent from the CLI arrive',
      async () => {
        const { context, page, errors, failures } = await freshPage(browser);

        // `junction start` printed the console's address; a new user opens it, signed out.
        expect(running.startOutput).toMatch(new RegExp(`console:\\s+${running.consoleUrl}`));
        await page.goto(running.consoleUrl);
        await page.getByRole('heading', { level: 1, name: 'Sign in to the Junction console' }).waitFor();
        await expectAccessible(page, 'journey: signed out');
        await shot(page, 'signed out');

        // Sandbox CIS2: Dr Alex Carter's smartcard, as Admin/Clinical Support (R8008), back to the console.
        await signInWithCis2(page, running.consoleUrl, CIS2_ROLES.adminClinicalSupport);
        await expectText(page.getByRole('banner'), 'Y23456');
        await shot(page, 'signed in with CIS2');

        // Trace a patient by NHS number (PDS sandbox 9000000009, Jane Smith)...
        await navigate(page, 'Patients');
        await page.getByLabel('NHS number', { exact: true }).fill('9000000009');
        await page.getByRole('button', { name: 'Find patient' }).click();
        const main = page.getByRole('main');
        await page.getByRole('heading', { level: 1, name: /Jane.*Smith|SMITH.*Jane/i }).waitFor();
        await expectText(main, '900 000 0009');
        await expectText(main, /22 October 2010|22 Oct 2010|2010-10-22/);
        await expectAccessible(page, 'journey: patient traced by NHS number');
        await shot(page, 'patient traced by NHS number');

        // ...and by demographics (PDS search): last name, first name, gender and the NHS.UK date input.
        await navigate(page, 'Patients');
        await page.getByLabel('Last name', { exact: true }).fill('Smith');
        await page.getByLabel('First name (optional)', { exact: true }).fill('Jane');
        await page.getByLabel('Gender (optional)', { exact: true }).selectOption('female');
        await page.getByLabel('Day', { exact: true }).fill('22');
        await page.getByLabel('Month', { exact: true }).fill('10');
        await page.getByLabel('Year', { exact: true }).fill('2010');
        await page.getByRole('button', { name: 'Search', exact: true }).click();
        const found = main.getByRole('row', { name: /900 000 0009/ });
        await found.waitFor();
        await expectAccessible(page, 'journey: patients found by demographics');
        await shot(page, 'patient traced by demographics');
        await found.getByRole('link').first().click();
        await page.getByRole('heading', { level: 1, name: /Jane.*Smith|SMITH.*Jane/i }).waitFor();

        // Find a medicine in the synthetic dm+d `junction start` seeds, and walk its hierarchy
        // VTM → VMP → AMP → packs (dm+d data model: a VMP's AMPs, an AMP's AMPPs).
        await navigate(page, 'Medicines');
        await page.getByLabel('Medicine or device name, dm+d id or GTIN', { exact: true }).fill('amox');
        const vmp = main
          .getByRole('row')
          .filter({ has: page.locator('abbr', { hasText: /^VMP$/ }) })
          .first();
        await vmp.waitFor({ timeout: 20_000 });
        await expectAccessible(page, 'journey: medicines search results');
        await shot(page, 'medicines search amox');
        const vmpName = ((await vmp.getByRole('link').first().textContent()) ?? '').trim();
        expect(vmpName).toMatch(/amox/i);
        await vmp.getByRole('link').first().click();
        await page.getByRole('heading', { level: 1, name: vmpName }).waitFor();
        const hierarchy = page.getByRole('navigation', { name: 'Product hierarchy' });
        await expectText(hierarchy, /VTM[\s\S]*VMP/);
        const below = main.getByRole('table', { name: /Below this product/ });
        const amp = below
          .getByRole('row')
          .filter({ has: page.locator('abbr', { hasText: /^AMP$/ }) })
          .first();
        await amp.waitFor();
        await expectAccessible(page, 'journey: a VMP and its hierarchy');
        await shot(page, 'medicine VMP hierarchy');
        await amp.getByRole('link').first().click();
        await expectText(hierarchy, /VTM[\s\S]*VMP[\s\S]*AMP/);
        await below
          .getByRole('row')
          .filter({ has: page.locator('abbr', { hasText: /^AMPP$/ }) })
          .first()
          .waitFor();
        await shot(page, 'medicine AMP and its packs');

        // The message log, then a MESH message sent from the CLI to the hub's mailbox (X26ABC1). The page
        // is not reloaded: a marker set on the page's global object now must still be there when the message shows.
        await navigate(page, 'Messages and jobs');
        await page.evaluate(() => {
          (globalThis as unknown as { e2eMarker: string }).e2eMarker = 'not reloaded';
        });
        const subject = `console journey ${Date.now()}`;
        const file = join(dir, 'console-e2e.txt');
        await writeFile(file, 'synthetic message for the console journey\n');
        // mesh-sandbox workflows: TEST_WORKFLOW goes X26ABC1 → X26ABC2 only; X26ABC2 → X26ABC1 is TEST_WORKFLOW_ACK.
        const sent = await junction([
          'mesh',
          'send',
          file,
          '--base-url',
          running.sandboxUrl,
          '--mailbox',
          'X26ABC2',
          '--to',
          'X26ABC1',
          '--workflow',
          'TEST_WORKFLOW_ACK',
          '--subject',
          subject,
        ]);
        expect(sent.code, sent.err).toBe(0);
        const messageId = sent.out.trim();
        expect(messageId).toMatch(/^[A-Za-z0-9_-]+$/);
        // The hub polls X26ABC1 every 5 s; the log refreshes itself every few seconds and says so politely.
        const row = main.getByRole('row', { name: new RegExp(subject) });
        await row.waitFor({ timeout: 45_000 });
        await expectText(row, /Inbound/);
        await expectText(row, /X26ABC2 → X26ABC1/);
        await expectText(row, 'TEST_WORKFLOW_ACK');
        // (at least this one: the mailbox's seed message may be collected after the page opened too).
        await expectText(
          main.getByRole('status').filter({ hasText: /new message/ }),
          /[1-9]\d* new messages? since you opened the log/,
        );
        expect(await page.evaluate(() => (globalThis as unknown as { e2eMarker?: string }).e2eMarker)).toBe(
          'not reloaded',
        );
        await expectAccessible(page, 'journey: message log with the new message');
        await shot(page, 'message from the CLI in the log');

        // Its full history, and the MESH message id the CLI printed.
        await row.getByRole('link').click();
        await page.getByRole('heading', { level: 1, name: new RegExp(subject) }).waitFor();
        await expectText(main, messageId);
        await main.getByRole('table', { name: /History/ }).waitFor();
        await expectAccessible(page, 'journey: message history');
        await shot(page, 'message history');

        expect(errors, 'browser console errors (CSP violations, failed scripts)').toEqual([]);
        // The only refusals on the way: the signed-out session checks before signing in.
        expect(failures.filter((f) => f !== '401 GET /auth/session')).toEqual([]);
        await context.close();

        // The hub kept all this in the store it was started on: on PostgreSQL, the message is a row of
        // that database and no SQLite file was made in the data dir.
        const sqliteFile = existsSync(join(running.dataDir, 'junction.db'));
        expect(sqliteFile, `${store}: SQLite file in the data dir`).toBe(!postgres);
        if (database) {
          const rows = await database.query<{ direction: string; subject: string }>(
            'select direction, subject from mesh_messages where mesh_message_id = $1',
            [messageId],
          );
          expect(rows).toEqual([{ direction: 'inbound', subject }]);
        }
      },
      E2E_TIMEOUT_MS,
    );
  },
);
