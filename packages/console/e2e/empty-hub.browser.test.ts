import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  E2E_TIMEOUT_MS,
  expectAccessible,
  expectText,
  freshPage,
  hasChromium,
  navigate,
  type RunningHub,
  screenshotter,
  signInAsAdmin,
  startEmptyHub,
  startWithChromium,
  stopWithChromium,
} from './harness.js';

// The console on a brand-new hub: no NHS call yet, no MESH mailbox, no dm+d release, no API key,
// no job or message, an audit trail holding only the admin account and its sign-in. Every page must
// still say what is there and what to do next (NHS.UK inset text, "no results" wording), and stay
// accessible.

describe.runIf(hasChromium)('console on an empty hub', () => {
  let running: RunningHub;
  let browser: Browser;
  const shot = screenshotter('empty');

  beforeAll(async () => {
    [running, browser] = await startWithChromium(startEmptyHub);
  }, E2E_TIMEOUT_MS);

  afterAll(() => stopWithChromium(browser, running), E2E_TIMEOUT_MS);

  it('the hub admin finds every page saying what is missing and how to add it', async () => {
    const { context, page, errors, failures } = await freshPage(browser);
    await signInAsAdmin(page, running.consoleUrl, running.admin);
    // Signed out, the console's first look at the session is a 401; from here on nothing may fail.
    failures.length = 0;
    const main = page.getByRole('main');

    await navigate(page, 'Overview');
    // The one NHS API is listed, never called; no empty chart, a sentence instead.
    await expectText(main.getByRole('table'), 'Personal Demographics Service');
    await expectText(main.getByRole('table'), 'No recent calls');
    await expectText(main, 'No calls yet in the last hour');
    expect(await main.getByRole('img', { name: 'NHS API calls' }).count()).toBe(0);
    await expectAccessible(page, 'empty: overview');
    await shot(page, 'overview');

    await navigate(page, 'Medicines');
    await expectText(main, 'No dm+d release has been imported yet');
    await expectText(main, 'Upload a release zip below or run junction dmd import <zip>');
    // Nothing to search: no search box that could only answer 503.
    expect(await page.locator('#medicine-query').count()).toBe(0);
    await main.getByRole('heading', { level: 2, name: 'Import a release' }).waitFor();
    expect(await main.getByRole('heading', { level: 2, name: 'Releases' }).count()).toBe(0);
    await expectAccessible(page, 'empty: medicines');
    await shot(page, 'medicines');

    await navigate(page, 'Messages and jobs');
    await expectText(main, 'This hub has no MESH mailbox configured');
    await expectText(main, 'JUNCTION_MESH_MAILBOXES');
    await expectText(main, 'Add one in Settings');
    await expectText(main, 'No MESH messages yet');
    await expectText(main, 'No dead letters');
    await page.getByLabel('Jobs by state').selectOption('');
    await expectText(main, 'No jobs yet');
    await expectAccessible(page, 'empty: messages');
    await shot(page, 'messages');

    await navigate(page, 'Audit');
    // The trail holds the admin account's making and this sign-in, nothing about any patient.
    const records = main.getByRole('table', { name: /Audit records/ });
    await expectText(records, 'session.create');
    await expectText(records, 'admin.create');
    await shot(page, 'audit');
    await main.getByLabel('NHS number').fill('9000000009');
    await main.getByRole('button', { name: 'Search audit trail' }).click();
    await expectText(main, 'No audit records match');
    await expectAccessible(page, 'empty: audit, no match');
    await shot(page, 'audit no match');

    await navigate(page, 'Settings');
    await expectAccessible(page, 'empty: settings');
    await shot(page, 'settings');

    // Hub admin accounts hold no patient-data action: the no-access page names who does, from the
    // hub's policy (GET /access/holders), every role the hub grants anything to.
    await page.goto(`${running.consoleUrl}patients`);
    await page.getByRole('heading', { level: 1, name: 'You do not have access to this page' }).waitFor();
    await expectText(
      main,
      /patient\.search \(every CIS2 access role .*R8000.*R8008.*; never hub admin accounts\)/,
    );
    await expectAccessible(page, 'empty: patients refused');
    await shot(page, 'patients refused');

    expect(errors).toEqual([]);
    expect(failures).toEqual([]);
    await context.close();
  });
});
