import { readFile } from 'node:fs/promises';
import { claimJobs, enqueueJob, failJob, openStore } from '@junction/hub';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserSession,
  type DomDocument,
  E2E_TIMEOUT_MS,
  expectAccessible,
  expectText,
  expectWrapsAtSeparators,
  hasChromium,
  navigate,
  REFDATA_DMD_ZIP,
  type RunningJunction,
  screenshotter,
  signInAdminAndSupport,
  startJunction,
  startWithChromium,
  stopWithChromium,
  VIEWPORTS,
  zipFolder,
} from './harness.js';

declare const document: DomDocument;

// Each console page driven in headless Chromium against `junction start`: every page is driven
// end to end, axe-core reports no serious violation on any page, and every page is screenshotted.
// One hub and sandbox for the file; each person in their own browser profile: the hub admin
// account (operations, audit, keys, imports; no patient data) and Dr Carter as Admin/Clinical
// Support (R8008: patients and operations, no keys or imports).

describe.runIf(hasChromium)('each console page against `junction start`', () => {
  let running: RunningJunction;
  let browser: Browser;
  const shot = screenshotter('pages');
  let admin: BrowserSession;
  let support: BrowserSession;

  beforeAll(async () => {
    [running, browser] = await startWithChromium(startJunction);
    ({ admin, support } = await signInAdminAndSupport(browser, running));
  }, E2E_TIMEOUT_MS);

  afterAll(() => stopWithChromium(browser, running), E2E_TIMEOUT_MS);

  /** No CSP violation or script error; the hub's refusals a test provokes on purpose aside. */
  const noConsoleErrors = (session: BrowserSession, allowed?: RegExp) =>
    expect(session.errors.filter((e) => !allowed?.test(e))).toEqual([]);

  it('Patients: a restricted record is flagged, shows no address or contact, and lists who accessed it', async () => {
    const { page } = support;
    await navigate(page, 'Patients');
    await expectAccessible(page, 'patients: search forms');
    await shot(page, 'patients search forms');

    // Janet Smythe, 9000000025: PDS security label R (sandbox seed search_patient_9000000025.json).
    await page.getByLabel('NHS number', { exact: true }).fill('9000000025');
    await page.getByRole('button', { name: 'Find patient' }).click();
    await page.getByRole('heading', { level: 1, name: /Janet.*Smythe|SMYTHE.*Janet/i }).waitFor();
    const main = page.getByRole('main');
    await expectText(main, 'Restricted record: address and contact details are not shown');
    // Who accessed it is read once the record is, so this very view is listed on the first visit.
    const firstAccesses = main.getByRole('table', { name: /most recent accesses/ });
    await firstAccesses.waitFor();
    await expectText(firstAccesses, 'patient.read');
    // What Spine holds for her and never releases (seed restricted-spine-held.json) is nowhere on the page.
    const html = (await page.content()).toLowerCase();
    for (const held of ['harewood', 'ls17 9lf', '01632960587', 'janet.smythe@example.com']) {
      expect(html, `restricted detail ${held} leaked`).not.toContain(held);
    }
    expect(await main.getByText('Address', { exact: true }).count()).toBe(0);

    await expectAccessible(page, 'patients: restricted record');
    await shot(page, 'patients restricted record');

    // A search result flags her too, and her page (opened from it) lists who accessed her record: at
    // least the read above, by Dr Carter under his R8008 role at Y23456.
    await navigate(page, 'Patients');
    // The NHS PDS sandbox's restricted-patient search: family name and birth date (gps.js scenario).
    await page.getByLabel('Last name', { exact: true }).fill('Smythe');
    await page.getByLabel('Day', { exact: true }).fill('16');
    await page.getByLabel('Month', { exact: true }).fill('6');
    await page.getByLabel('Year', { exact: true }).fill('2005');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const row = main.getByRole('row', { name: /900 000 0025/ });
    await row.waitFor();
    await expectText(row, 'Restricted');
    expect((await page.content()).toLowerCase()).not.toContain('harewood');
    await shot(page, 'patients search restricted result');
    await row.getByRole('link').first().click();
    await page.getByRole('heading', { level: 1, name: /Janet.*Smythe|SMYTHE.*Janet/i }).waitFor();
    const accesses = main.getByRole('table', { name: /most recent accesses/ });
    await accesses.waitFor();
    await expectText(accesses, 'Y23456');
    await expectText(accesses, 'patient.read');
    for (const held of ['harewood', 'ls17 9lf', '01632960587', 'janet.smythe@example.com']) {
      expect((await page.content()).toLowerCase(), `restricted detail ${held} leaked`).not.toContain(held);
    }
    await expectAccessible(page, 'patients: restricted record with its accesses');
    await shot(page, 'patients restricted record accesses');
    noConsoleErrors(support);
  });

  it('Patients: a form with validation errors shows an error summary that takes focus', async () => {
    const { page } = support;
    await navigate(page, 'Patients');
    await page.getByLabel('NHS number', { exact: true }).fill('12345');
    await page.getByRole('button', { name: 'Find patient' }).click();
    const summary = page.locator('.nhsuk-error-summary');
    await summary.waitFor();
    await expectText(summary, 'Enter a 10 digit NHS number');
    expect(await page.evaluate(() => document.activeElement?.closest('.nhsuk-error-summary') != null)).toBe(
      true,
    );
    await expectAccessible(page, 'patients: validation errors');
    await shot(page, 'patients validation errors');
  });

  it('Patients: an unknown NHS number shows the hub’s error, not a crash', async () => {
    const { page } = support;
    await navigate(page, 'Patients');
    // A valid NHS number with no record: PDS answers 404 RESOURCE_NOT_FOUND (NHS sandbox scenario).
    await page.getByLabel('NHS number', { exact: true }).fill('9111231130');
    await page.getByRole('button', { name: 'Find patient' }).click();
    const summary = page.locator('.nhsuk-error-summary').first();
    await summary.waitFor();
    expect(((await summary.textContent()) ?? '').trim()).not.toBe('');
    await expectAccessible(page, 'patients: error state');
    await shot(page, 'patients error state');
  });

  it('Overview: the services table lists the NHS APIs with their environment, and PDS shows the traces', async () => {
    const { page } = support;
    await navigate(page, 'Overview');
    const main = page.getByRole('main');
    const table = main.getByRole('table', { name: /NHS APIs/ });
    await table.waitFor();
    const pds = table.getByRole('row', { name: /Personal Demographics|PDS/ }).first();
    await pds.waitFor();
    await expectText(pds, 'Sandbox');
    await expectText(pds, 'Reachable');
    // The traces above (her read, the search) went to PDS through the hub: its Calls cell counts them
    // (the overview reads per-minute counts from the store).
    const cells = await pds.getByRole('cell').allTextContents();
    const calls = Number((cells[3] ?? '').replace(/\D/g, ''));
    expect(calls, `PDS row: ${cells.join(' | ')}`).toBeGreaterThanOrEqual(2);
    // Each chart has a text alternative (an image with a name) and a table of its numbers.
    expect(await main.getByRole('img').count()).toBeGreaterThan(0);
    await expectAccessible(page, 'overview');
    await shot(page, 'overview');
    await page.getByLabel('Time window', { exact: true }).selectOption('24h');
    await main.getByRole('table', { name: /last 24 hours/i }).waitFor();
    noConsoleErrors(support);
  });

  it('Medicines: search with filters, a product, and the current release with its history', async () => {
    const { page } = admin;
    await navigate(page, 'Medicines');
    const main = page.getByRole('main');
    await page.getByLabel('Medicine or device name, dm+d id or GTIN', { exact: true }).fill('amox');
    const results = main.getByRole('table', { name: /Results for/ });
    await results.waitFor({ timeout: 20_000 });
    const rows = () => results.getByRole('row').count();
    const all = await rows();
    expect(all).toBeGreaterThan(1);
    await expectText(main, /Current release: .*2025/);
    await main.getByRole('table', { name: 'Import history, newest first' }).waitFor();
    await expectAccessible(page, 'medicines: search results');
    await shot(page, 'medicines search');

    // Filters narrow the results (the URL keeps them, so a link shares the search).
    await page.getByLabel('Show', { exact: true }).selectOption('device');
    await expect.poll(() => new URL(page.url()).searchParams.get('kind')).toBe('device');
    await page.getByLabel('Show', { exact: true }).selectOption('medicine');
    await page.getByLabel('Available', { exact: true }).check();
    await page.getByLabel('Prescribable in NHS primary care', { exact: true }).check();
    await expect.poll(() => new URL(page.url()).searchParams.get('available')).toBe('true');
    await expect.poll(() => new URL(page.url()).searchParams.get('prescribable')).toBe('true');
    await expect
      .poll(async () => ((await results.count()) > 0 ? rows() : 0), { timeout: 10_000 })
      .toBeLessThanOrEqual(all);
    await shot(page, 'medicines search filtered');
    noConsoleErrors(admin);
  });

  it('Settings: an API key created with scopes shows its secret once, works, and stops working when revoked', async () => {
    const { page } = admin;
    await navigate(page, 'Settings');
    const main = page.getByRole('main');
    await main.getByRole('table', { name: 'API keys of this hub' }).waitFor();
    await main.getByRole('table', { name: 'NHS APIs the hub calls and their base URLs' }).waitFor();
    await main.getByRole('table', { name: /MESH mailboxes/ }).waitFor();
    await expectText(main, 'X26ABC1');
    // `junction start` keeps a secrets key beside its data, so mailboxes can be changed here
    // (settings.browser.test.ts drives the changes).
    await main.getByRole('link', { name: 'Add a mailbox' }).waitFor();
    await expectAccessible(page, 'settings');
    await shot(page, 'settings');

    // A form with a validation error first: no name.
    await main.getByRole('button', { name: 'Create key' }).click();
    await page.locator('.nhsuk-error-summary').waitFor();
    await expectAccessible(page, 'settings: create key validation errors');
    await shot(page, 'settings create key validation errors');

    await page.getByLabel('Name', { exact: true }).fill('console e2e key');
    const scopes = main.getByRole('group', { name: /Scopes/ });
    const checked = scopes.getByRole('checkbox', { checked: true });
    while ((await checked.count()) > 0) await checked.first().uncheck();
    await scopes.getByRole('checkbox', { name: 'medicines:read', exact: true }).check();
    await main.getByRole('button', { name: 'Create key' }).click();
    const secretBox = main.locator('#new-secret');
    await secretBox.waitFor();
    const secret = ((await secretBox.textContent()) ?? '').trim();
    expect(secret).toMatch(/^jct_\S+$/);
    const keys = main.getByRole('table', { name: 'API keys of this hub' });
    const row = keys.getByRole('row', { name: /console e2e key/ });
    await row.waitFor();
    await expectText(row, 'medicines:read');
    await expectAccessible(page, 'settings: new key secret shown once');
    await shot(page, 'settings new key secret');

    const withKey = (path: string) =>
      fetch(`${running.hubUrl}${path}`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await withKey('/medicines/search?q=amox')).status).toBe(200);
    // Only the scope asked for: no patient data with it.
    expect((await withKey('/fhir/R4/Patient/9000000009')).status).toBe(403);

    // Shown once: gone after a reload.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await row.waitFor();
    expect(await page.content()).not.toContain(secret);

    await row.getByRole('button', { name: /Revoke/ }).click();
    await expectText(row, /Revoke “console e2e key”\?/);
    await expectAccessible(page, 'settings: revoke confirmation');
    await shot(page, 'settings revoke confirmation');
    await row.getByRole('button', { name: 'Yes, revoke key' }).click();
    await expectText(row, 'Revoked');
    expect((await withKey('/medicines/search?q=amox')).status).toBe(401);
    noConsoleErrors(admin);
  });

  it('Messages and jobs: mailboxes, filters, and Retry of a dead letter with its reason', async () => {
    // A dead job (no attempts left, the reason kept), made in the hub's store as a failing handler would.
    const store = await openStore({ dataDir: running.dataDir });
    let jobId = '';
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
      const lease = { jobId: job.id, owner: 'console-e2e', attempt: 1 };
      expect(await failJob(store, lease, 'synthetic failure: recipient refused', { retryAt: null })).toBe(
        'dead',
      );
    } finally {
      await store.close();
    }

    const { page } = admin;
    await navigate(page, 'Messages and jobs');
    const main = page.getByRole('main');
    const mailboxes = main.getByRole('table', { name: "The hub's MESH mailboxes" });
    await mailboxes.waitFor();
    await expectText(mailboxes, 'X26ABC1');
    await expectAccessible(page, 'messages and jobs');
    await shot(page, 'messages and jobs');

    // Filters: a workflow nobody uses leaves an empty log.
    await page.getByLabel('Workflow', { exact: true }).fill('NO_SUCH_WORKFLOW');
    await main.getByRole('form', { name: 'Message log filters' }).getByRole('button').click();
    await expectText(main, 'No messages match.');
    await expect.poll(() => new URL(page.url()).searchParams.get('workflow')).toBe('NO_SUCH_WORKFLOW');

    // Dead letters, with the reason; Retry puts the job back in the queue.
    await page.getByLabel('Jobs by state', { exact: true }).selectOption('dead');
    const dead = main
      .getByRole('table', { name: /Dead letters/ })
      .getByRole('row', { name: new RegExp(jobId) });
    await dead.waitFor();
    await expectText(dead, 'synthetic failure: recipient refused');
    await expectAccessible(page, 'messages and jobs: dead letters');
    await shot(page, 'jobs dead letters');
    await dead.getByRole('button', { name: `Retry job ${jobId}` }).click();
    await expectText(
      main.getByRole('status').filter({ hasText: /tried again/ }),
      `(${jobId}) will be tried again`,
    );
    await page.getByLabel('Jobs by state', { exact: true }).selectOption('queued');
    const queued = main.getByRole('row', { name: new RegExp(jobId) });
    await queued.waitFor();
    await expectText(queued, /queued/i);
    await shot(page, 'jobs dead letter retried');

    // The job's own page: its history, retried by the admin.
    await queued.getByRole('link').first().click();
    await page.getByRole('heading', { level: 1, name: /Job console\.e2e/ }).waitFor();
    await expectText(main.getByRole('table', { name: 'History' }), /retried/);
    await expectAccessible(page, 'job history');
    await shot(page, 'job history');

    // Successful MESH polls (junction start polls each mailbox every 5 s) are left out of the list,
    // counted per mailbox with its last success, unless asked for.
    await navigate(page, 'Messages and jobs');
    await page.getByLabel('Jobs by state', { exact: true }).selectOption('succeeded');
    const hidden = main.locator('#jobs-hidden-periodic');
    await expectText(hidden, /successful runs? of periodic jobs \(MESH polls\) not listed/);
    await expectText(hidden, /mesh\.poll X26ABC1: [\d,]+, last succeeded \d/);
    expect(await main.getByRole('row').filter({ hasText: 'mesh.poll' }).count()).toBe(0);
    await expectAccessible(page, 'jobs: successful polls left out');
    await shot(page, 'jobs successful polls left out');
    await page.getByLabel('Show successful periodic jobs (MESH polls)').check();
    const jobsTable = main.getByRole('table', { name: 'Jobs, newest first' });
    await jobsTable.getByRole('row').filter({ hasText: 'mesh.poll' }).first().waitFor();
    expect(await hidden.count()).toBe(0);
    await expectAccessible(page, 'jobs: successful polls listed');
    await shot(page, 'jobs successful polls listed');
    // Job ids (UUIDs) and kinds wrap at their hyphens and dots, never mid-part: in the laptop's
    // table the ids do wrap; the tablet's stacked table has room for them on one line.
    const wrapped: string[][] = [];
    for (const size of Object.values(VIEWPORTS)) {
      await page.setViewportSize(size);
      wrapped.push(...(await expectWrapsAtSeparators(jobsTable)));
    }
    await page.setViewportSize(VIEWPORTS.laptop);
    expect(wrapped.some((lines) => lines.length > 1)).toBe(true);
    noConsoleErrors(admin);
  });

  it('Audit: filter, CSV download with the same filter, and "verify chain" says intact', async () => {
    const { page } = admin;
    await navigate(page, 'Audit');
    const main = page.getByRole('main');
    await page.getByLabel('NHS number', { exact: true }).fill('9000000025');
    await main.getByRole('button', { name: 'Search audit trail' }).click();
    const table = main.getByRole('table', { name: 'Audit records, newest first' });
    await table.waitFor();
    const rows = table.getByRole('row');
    await expect.poll(() => rows.count()).toBeGreaterThan(1);
    for (const text of await rows.allTextContents()) {
      if (!/When/.test(text)) expect(text).toContain('900 000 0025');
    }
    // Action names wrap only at their dots, never mid-word: "patient.read" is one line here.
    const action = table.locator('code', { hasText: 'patient.read' }).first();
    const box = await action.boundingBox();
    const style = await action.evaluate((el) => {
      const s = (
        globalThis as unknown as { getComputedStyle(e: unknown): { lineHeight: string; wordBreak: string } }
      ).getComputedStyle(el);
      return { lineHeight: Number.parseFloat(s.lineHeight), wordBreak: s.wordBreak };
    });
    expect(style.wordBreak).not.toBe('break-all');
    expect(box?.height ?? Number.POSITIVE_INFINITY).toBeLessThan(style.lineHeight * 1.5);
    // Dr Carter read her record (above): the trail names him beside his CIS2 user id.
    const carter = table.getByRole('row').filter({ hasText: 'Dr Alex Carter' }).first();
    await expectText(carter, /Dr Alex Carter\s+555000000001\s+clinician, S\d+:G\d+:R8008, Y23456/);
    // Correlation ids and action names wrap only at their hyphens and dots, at both widths.
    for (const size of Object.values(VIEWPORTS)) {
      await page.setViewportSize(size);
      await expectWrapsAtSeparators(table);
    }
    await page.setViewportSize(VIEWPORTS.laptop);
    await expectAccessible(page, 'audit: filtered');
    await shot(page, 'audit filtered');

    // From and To are NHS.UK date inputs (day, month, year in a fieldset), checked before the search.
    const from = main.getByRole('group', { name: /From date/ });
    const to = main.getByRole('group', { name: /To date/ });
    await from.getByLabel('Day', { exact: true }).fill('31');
    await from.getByLabel('Month', { exact: true }).fill('2');
    await from.getByLabel('Year', { exact: true }).fill('2025');
    await to.getByLabel('Day', { exact: true }).fill('1');
    await to.getByLabel('Year', { exact: true }).fill('2025');
    await main.getByRole('button', { name: 'Search audit trail' }).click();
    const summary = page.locator('.nhsuk-error-summary');
    await expectText(summary, 'From date must be a real date');
    await expectText(summary, 'To date must include a month');
    await summary.getByRole('link', { name: 'From date must be a real date' }).click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('audit-from-day');
    await expectAccessible(page, 'audit: date errors');
    await shot(page, 'audit date errors');
    // Today, as a person in England reads the calendar: today's records are found, the URL has the days.
    const today = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/London',
      day: 'numeric',
      month: 'numeric',
      year: 'numeric',
    })
      .format(new Date())
      .split('/');
    for (const group of [from, to]) {
      await group.getByLabel('Day', { exact: true }).fill(today[0] ?? '');
      await group.getByLabel('Month', { exact: true }).fill(today[1] ?? '');
      await group.getByLabel('Year', { exact: true }).fill(today[2] ?? '');
    }
    await main.getByRole('button', { name: 'Search audit trail' }).click();
    await page.waitForURL(/[?&]from=\d{4}-\d{2}-\d{2}&to=\d{4}-\d{2}-\d{2}/);
    expect(await summary.count()).toBe(0);
    await expect.poll(() => rows.count()).toBeGreaterThan(1);
    for (const text of await rows.allTextContents()) {
      if (!/When/.test(text)) expect(text).toContain('900 000 0025');
    }

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      main.getByRole('link', { name: /Download CSV/ }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^junction-audit-.*\.csv$/);
    const csv = await readFile((await download.path()) ?? '', 'utf8');
    const [header = '', ...lines] = csv.trim().split(/\r?\n/);
    expect(header.toLowerCase()).toContain('seq');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toContain('9000000025');

    await main.getByRole('button', { name: 'Verify chain' }).click();
    await expectText(main, /The audit chain is intact: [\d,]+ records checked/);
    await expectAccessible(page, 'audit: chain verified');
    await shot(page, 'audit chain verified');
    noConsoleErrors(admin);
  });

  it('Medicines: an admin uploads a dm+d release zip and watches it import to active', async () => {
    const { page } = admin;
    await navigate(page, 'Medicines');
    const main = page.getByRole('main');
    // The NHS.UK design system's file upload (its styled native input), labelled and hinted.
    const upload = main.getByLabel(/dm\+d release zip/);
    expect(await upload.evaluate((el) => (el as unknown as { className: string }).className)).toBe(
      'nhsuk-file-upload__input',
    );
    const font = await upload.evaluate(
      (el) =>
        (globalThis as unknown as { getComputedStyle(e: unknown): { fontSize: string } }).getComputedStyle(el)
          .fontSize,
    );
    // The design system's 19px body size (16px on small screens), not the browser's 13.33px default.
    expect(Number.parseFloat(font)).toBeGreaterThanOrEqual(16);
    await expectAccessible(page, 'medicines: import form');
    await shot(page, 'medicines import form');
    await upload.setInputFiles({
      name: 'nhsbsa_dmd_3.1.0_20190401000001.zip',
      mimeType: 'application/zip',
      buffer: await zipFolder(REFDATA_DMD_ZIP.folder),
    });
    await shot(page, 'medicines import file chosen');
    await main.getByRole('button', { name: 'Start import' }).click();
    await main.locator('#import-progress').waitFor();
    await shot(page, 'medicines import started');
    await expectText(main.getByRole('status').filter({ hasText: /files/ }), /Active/, 60_000);
    // The new release is the current one, the demo one superseded in the history.
    await expectText(main, /Current release: .*2019/, 15_000);
    await expectText(main.getByRole('table', { name: 'Import history, newest first' }), /Superseded/);
    await expectAccessible(page, 'medicines: import finished');
    await shot(page, 'medicines import active');
    noConsoleErrors(admin);
  });
});
