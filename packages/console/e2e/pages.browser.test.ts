import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { claimJobs, enqueueJob, failJob, openStore } from '@junction/hub';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CIS2_ROLES,
  E2E_TIMEOUT_MS,
  expectAccessible,
  freshPage,
  hasChromium,
  launchChromium,
  navigate,
  REFDATA_DMD_ZIP,
  type RunningJunction,
  screenshotter,
  signInAsAdmin,
  signInWithCis2,
  startJunction,
  zipFolder,
} from './harness.js';

// Each console page driven in headless Chromium against `junction start` (issue #6 "done when": the
// end-to-end tests drive each page, axe-core reports no serious violation on any page, screenshots
// of every page). One hub and sandbox for the file; each role in its own browser profile.

describe.runIf(hasChromium)('each console page against `junction start`', () => {
  let running: RunningJunction;
  let browser: Browser;
  const shot = screenshotter('pages');
  /** Sessions kept across tests: the hub admin account and Dr Carter as Admin/Clinical Support. */
  let admin: { context: BrowserContext; page: Page; errors: string[] };
  let support: { context: BrowserContext; page: Page; errors: string[] };

  beforeAll(async () => {
    const bundle = inject('consoleBundle');
    expect(bundle.ok, bundle.detail).toBe(true);
    [running, browser] = await Promise.all([startJunction(), launchChromium()]);
    admin = await freshPage(browser);
    support = await freshPage(browser);
    await signInAsAdmin(admin.page, running.consoleUrl, running.admin);
    await signInWithCis2(support.page, running.consoleUrl, CIS2_ROLES.adminClinicalSupport);
  }, E2E_TIMEOUT_MS);

  afterAll(async () => {
    // No CSP violation or script error on any page, for either person.
    expect(admin?.errors ?? []).toEqual([]);
    expect(support?.errors ?? []).toEqual([]);
    await browser?.close();
    await running?.stop();
  }, E2E_TIMEOUT_MS);

  it('Patients: a restricted record is flagged and shows no address or contact; its accesses are listed', async () => {
    const { page } = support;
    await navigate(page, 'Patients');
    await expectAccessible(page, 'patients: search form');
    await shot(page, 'patients search form');

    // Janet Smythe, 9000000025: PDS security label R (sandbox seed search_patient_9000000025.json).
    await page.getByLabel(/NHS number/i).fill('9000000025');
    await page
      .getByRole('button', { name: /trace|search|find/i })
      .first()
      .click();
    const main = page.getByRole('main');
    await expect(main).toContainText('Restricted record: address and contact details are not shown', {
      timeout: 15_000,
    });
    // What Spine holds for her and never releases (seed restricted-spine-held.json) is nowhere on the page.
    const body = (await page.content()).toLowerCase();
    for (const held of ['harewood', 'ls17', '01632960587', 'janet.smythe@example.com']) {
      expect(body, `restricted detail ${held} leaked`).not.toContain(held);
    }
    await expectAccessible(page, 'patients: restricted record');
    await shot(page, 'patients restricted record');

    // "Who accessed this record": the trace just made is in it, with the role and organisation.
    await expect(main.getByRole('heading', { name: /who accessed this record/i })).toBeVisible();
    await expect(main).toContainText('Y23456');
  });

  it('Patients: a form with validation errors shows an error summary that takes focus', async () => {
    const { page } = support;
    await navigate(page, 'Patients');
    await page.getByLabel(/NHS number/i).fill('1234567890');
    await page
      .getByRole('button', { name: /trace|search|find/i })
      .first()
      .click();
    const summary = page.locator('.nhsuk-error-summary');
    await summary.waitFor();
    await expect(summary).toContainText(/NHS number/i);
    expect(await page.evaluate(() => document.activeElement?.closest('.nhsuk-error-summary') !== null)).toBe(
      true,
    );
    await expectAccessible(page, 'patients: validation errors');
    await shot(page, 'patients validation errors');
  });

  it('Overview: the services table lists the NHS APIs, and PDS shows the calls the traces made', async () => {
    const { page } = support;
    await navigate(page, 'Overview');
    const main = page.getByRole('main');
    const pds = main.getByRole('row', { name: /PDS|Personal Demographics/i }).first();
    await pds.waitFor({ timeout: 15_000 });
    await expect(pds).toContainText(/sandbox/i);
    // Two traces by the tests above (and the journey's own, in its own hub): at least one call.
    const calls = Number((await pds.getByRole('cell').nth(3).textContent())?.replace(/\D/g, '') || '0');
    expect(calls).toBeGreaterThan(0);
    await expectAccessible(page, 'overview');
    await shot(page, 'overview');
  });

  it('Medicines: search with filters and a product hierarchy', async () => {
    const { page } = admin;
    await navigate(page, 'Medicines');
    const main = page.getByRole('main');
    await page
      .getByLabel(/search/i)
      .first()
      .fill('amox');
    await main.getByRole('link', { name: /amox/i }).first().waitFor({ timeout: 20_000 });
    const all = await main.getByRole('link', { name: /amox/i }).count();
    await expectAccessible(page, 'medicines: search results');
    await shot(page, 'medicines search');
    // A filter narrows (or keeps) the results, never widens them.
    await main
      .getByLabel(/devices?/i)
      .first()
      .check();
    await expect
      .poll(async () => main.getByRole('link', { name: /amox/i }).count(), { timeout: 10_000 })
      .toBeLessThanOrEqual(all);
    await shot(page, 'medicines search filtered');
  });

  it('Settings: an API key created with scopes shows its secret once, works, and stops working when revoked', async () => {
    const { page } = admin;
    await navigate(page, 'Settings');
    const main = page.getByRole('main');
    await expectAccessible(page, 'settings');
    await shot(page, 'settings');

    await main.getByLabel(/^name/i).fill('console e2e key');
    for (const box of await main.getByRole('checkbox', { checked: true }).all()) await box.uncheck();
    await main.getByRole('checkbox', { name: /medicines:read/ }).check();
    await main.getByRole('button', { name: /create/i }).click();
    const secret = (await main.getByText(/^jct_/).first().textContent())?.trim() ?? '';
    expect(secret).toMatch(/^jct_\S+$/);
    await expectAccessible(page, 'settings: new key secret shown');
    await shot(page, 'settings new key secret');

    const withKey = (path: string) =>
      fetch(`${running.hubUrl}${path}`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await withKey('/medicines/search?q=amox')).status).toBe(200);
    // Only the scope asked for: no patient data with it.
    expect((await withKey('/fhir/R4/Patient/9000000009')).status).toBe(403);

    // Shown once: after a reload the secret is gone from the page.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    expect(await page.content()).not.toContain(secret);

    const row = main.getByRole('row', { name: /console e2e key/ });
    await row.getByRole('button', { name: /revoke/i }).click();
    await expectAccessible(page, 'settings: revoke confirmation');
    await shot(page, 'settings revoke confirmation');
    await main
      .getByRole('button', { name: /yes|confirm|revoke/i })
      .last()
      .click();
    await expect(row).toContainText(/revoked/i);
    expect((await withKey('/medicines/search?q=amox')).status).toBe(401);
  });

  it('Messages and jobs: filters, a message’s history, and Retry of a dead job', async () => {
    // A dead job (no attempts left, reason kept), made in the hub's store as a failed send would be.
    const store = await openStore({ dataDir: running.dataDir });
    let jobId: string;
    try {
      const { job } = await enqueueJob(store, {
        kind: 'console.e2e',
        payload: { note: 'synthetic' },
        maxAttempts: 1,
      });
      jobId = job.id;
      const [claimed] = await claimJobs(store, {
        owner: 'console-e2e',
        kinds: ['console.e2e'],
        limit: 1,
        leaseMs: 60_000,
      });
      expect(claimed?.id).toBe(job.id);
      expect(
        await failJob(
          store,
          { jobId: job.id, owner: 'console-e2e', attempt: 1 },
          'synthetic failure: recipient mailbox refused',
          { retryAt: null },
        ),
      ).toBe('dead');
    } finally {
      await store.close();
    }

    const { page } = admin;
    await navigate(page, /messages/i, /messages/i);
    const main = page.getByRole('main');
    await expectAccessible(page, 'messages and jobs');
    await shot(page, 'messages and jobs');

    const dead = main.getByRole('row', { name: /synthetic failure: recipient mailbox refused/ });
    await dead.waitFor({ timeout: 15_000 });
    await dead.getByRole('button', { name: /retry/i }).click();
    await expect(main.getByRole('row', { name: new RegExp(jobId.slice(0, 8)) }).first()).toContainText(
      /queued/i,
      {
        timeout: 10_000,
      },
    );
    await shot(page, 'jobs dead job retried');
  });

  it('Audit: filter, CSV download with the same filter, and verify chain says intact', async () => {
    const { page } = admin;
    await navigate(page, 'Audit');
    const main = page.getByRole('main');
    await page.getByLabel(/NHS number/i).fill('9000000025');
    await main
      .getByRole('button', { name: /search|filter|apply/i })
      .first()
      .click();
    await expect(main.getByRole('row').nth(1)).toContainText(/9000000025|900 000 0025/, { timeout: 10_000 });
    await expectAccessible(page, 'audit: filtered');
    await shot(page, 'audit filtered');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      main.getByRole('link', { name: /download csv/i }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^junction-audit-.*\.csv$/);
    const csv = await readFile((await download.path()) ?? '', 'utf8');
    const [header, ...rows] = csv.trim().split(/\r?\n/);
    expect(header).toMatch(/seq/i);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toContain('9000000025');

    await main.getByRole('button', { name: /verify chain/i }).click();
    await expect(main).toContainText(/intact/i, { timeout: 10_000 });
    await expectAccessible(page, 'audit: chain verified');
    await shot(page, 'audit chain verified');
  });

  it.runIf(existsSync(REFDATA_DMD_ZIP.folder))(
    'Medicines: an admin uploads a dm+d release zip and watches it import to active',
    async () => {
      const { page } = admin;
      await navigate(page, 'Medicines');
      const main = page.getByRole('main');
      const zip = await zipFolder(REFDATA_DMD_ZIP.folder);
      await main.getByLabel(/release zip|upload|file/i).setInputFiles({
        name: 'nhsbsa_dmd_2019-04-01.zip',
        mimeType: 'application/zip',
        buffer: zip,
      });
      await main.getByRole('button', { name: /upload|import|start/i }).click();
      await main
        .getByRole('progressbar')
        .or(main.getByText(/importing|queued/i))
        .first()
        .waitFor();
      await shot(page, 'medicines import in progress');
      await expect(main).toContainText(/active/i, { timeout: 60_000 });
      await expectAccessible(page, 'medicines: import finished');
      await shot(page, 'medicines import active');
    },
  );
});
