import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CIS2_ROLES,
  type DomDocument,
  E2E_TIMEOUT_MS,
  expectAccessible,
  expectText,
  freshPage,
  hasChromium,
  navigate,
  type RunningJunction,
  runAxe,
  screenshotter,
  signInWithCis2,
  startJunction,
  startWithChromium,
  stopWithChromium,
} from './harness.js';

declare const document: DomDocument;

// Signing in, keyboard use and role-based pages, in headless Chromium against `junction start`:
// WCAG 2.2 AA 2.4.1 (bypass blocks: the skip link first), 2.4.3 (focus order: focus on the new
// page's h1 after a navigation, on the error summary after a failed submit), 2.1.1 (keyboard: the
// admin form used with the keyboard alone); and what a person sees follows their role, the hub
// refusing (403) what the console does not offer.

describe.runIf(hasChromium)('console sign-in, keyboard use and roles against `junction start`', () => {
  let running: RunningJunction;
  let browser: Browser;
  const shot = screenshotter('access');

  beforeAll(async () => {
    [running, browser] = await startWithChromium(startJunction);
  }, E2E_TIMEOUT_MS);

  afterAll(() => stopWithChromium(browser, running), E2E_TIMEOUT_MS);

  /** `junction start` printed the hub admin account it made. */
  const expectAdminAccount = () => {
    expect(running.admin.username, running.startOutput).not.toBe('');
    expect(running.admin.password, running.startOutput).not.toBe('');
  };

  const activeElement = (page: Page) =>
    page.evaluate(() => {
      const el = document.activeElement;
      return {
        tag: el?.tagName.toLowerCase() ?? '',
        id: el?.id ?? '',
        text: (el?.textContent ?? '').trim(),
        inErrorSummary:
          el?.closest('.nhsuk-error-summary') !== null && el?.closest('.nhsuk-error-summary') !== undefined,
      };
    });

  it('signed out: served with a strict CSP and caching headers, the console sends a person to sign in; the skip link is first and leads to the main content', async () => {
    const { context, page, errors } = await freshPage(browser);
    const assets: { url: string; cacheControl: string | undefined }[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/console/assets/')) {
        assets.push({ url: r.url(), cacheControl: r.headers()['cache-control'] });
      }
    });
    const served = await page.goto(running.consoleUrl);
    // Served by the hub with a strict CSP; the page revalidated, its hashed assets cached for good.
    expect(served?.headers()['content-security-policy']).toContain("default-src 'self'");
    expect(served?.headers()['cache-control']).toContain('no-cache');
    await page.getByRole('heading', { level: 1, name: 'Sign in to the Junction console' }).waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/console\/sign-in/);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expect(asset.cacheControl, asset.url).toContain('immutable');
    await expectAccessible(page, 'access: signed out');
    await shot(page, 'signed out');

    await page.keyboard.press('Tab');
    expect(await activeElement(page)).toMatchObject({ tag: 'a', text: 'Skip to main content' });
    await page.keyboard.press('Enter');
    // The skip link moves the keyboard to the page's content: the next Tab lands inside <main>.
    await page.keyboard.press('Tab');
    const afterSkip = await page.evaluate(() => document.activeElement?.closest('main')?.id ?? '');
    expect(afterSkip).toBe('maincontent');
    expect(errors).toEqual([]);

    // The checker itself can fail: an input with no label, added to the page, is a critical violation.
    await page.evaluate(() => document.querySelector('main')?.append(document.createElement('input')));
    const { violations } = await runAxe(page);
    expect(violations.find((v) => v.id === 'label')?.impact).toBe('critical');
    await context.close();
  });

  it('the admin form: empty fields give an error summary with focus; a wrong password gives the hub’s 401', async () => {
    expectAdminAccount();
    const { context, page } = await freshPage(browser);
    await page.goto(running.consoleUrl);
    await page.getByRole('button', { name: /sign in as administrator/i }).click();
    const summary = page.locator('.nhsuk-error-summary');
    await summary.waitFor();
    await expectText(summary, 'Enter your username');
    await expectText(summary, 'Enter your password');
    expect((await activeElement(page)).inErrorSummary).toBe(true);
    // Each message links to its field (NHS.UK error summary).
    await summary.getByRole('link', { name: 'Enter your username' }).click();
    expect((await activeElement(page)).id).toBe('username');
    await expectAccessible(page, 'access: admin form validation errors');
    await shot(page, 'admin form validation errors');

    await page.getByLabel('Username', { exact: true }).fill(running.admin.username);
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/auth/admin/login')),
      page.getByRole('button', { name: /sign in as administrator/i }).click(),
    ]);
    expect(answer.status()).toBe(401);
    await expectText(summary, /./);
    expect(await summary.textContent()).not.toContain('Enter your');
    // The message does not echo what was typed.
    expect(await summary.textContent()).not.toContain('not the password');
    await expectAccessible(page, 'access: admin wrong password');
    await shot(page, 'admin wrong password');
    await context.close();
  });

  it('the admin signs in with the keyboard alone, and each navigation puts focus on the new page’s h1', async () => {
    expectAdminAccount();
    const { context, page, errors } = await freshPage(browser);
    await page.goto(running.consoleUrl);
    await page.getByRole('heading', { level: 1, name: 'Sign in to the Junction console' }).waitFor();
    await tabTo(page, 'username');
    await page.keyboard.type(running.admin.username);
    await page.keyboard.press('Tab');
    expect((await activeElement(page)).id).toBe('password');
    await page.keyboard.type(running.admin.password);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: /sign out/i }).waitFor();
    await shot(page, 'admin signed in');

    // An admin runs the hub and sees no patient data: no Patients section.
    const nav = page.getByRole('navigation', { name: 'Console sections' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Overview',
      'Medicines',
      'Messages and jobs',
      'Audit',
      'Settings',
    ]);

    for (const section of ['Medicines', 'Audit', 'Settings', 'Overview']) {
      await navigate(page, section, new RegExp(section));
      await expect
        .poll(async () => (await activeElement(page)).tag, { message: `focus after going to ${section}` })
        .toBe('h1');
      expect((await activeElement(page)).text).toContain(section);
    }
    // A link followed with the keyboard does the same.
    await nav.getByRole('link', { name: 'Medicines' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: /Medicines/ }).waitFor();
    await expect.poll(async () => (await activeElement(page)).tag).toBe('h1');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a clinician (R8000) traces with the keyboard alone, sees no Overview, Audit or Settings, and the hub refuses them there (403), the console says so', async () => {
    const { context, page, errors } = await freshPage(browser);
    await signInWithCis2(page, running.consoleUrl, CIS2_ROLES.clinicalPractitioner);
    const nav = page.getByRole('navigation', { name: 'Console sections' });
    await nav.waitFor();
    // R8000: patients, medicines and the message log; nothing of running the hub.
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Patients',
      'Medicines',
      'Messages and jobs',
    ]);
    // The name CIS2's UserInfo gives (title, given and family name), not the smartcard's user id.
    await expectText(page.getByRole('banner'), 'Dr Alex Carter, Clinical Practitioner Access Role (Y12345)');
    expect(await page.getByRole('banner').getByText('555000000001').count()).toBe(0);
    await shot(page, 'clinician signed in');

    // The trace form with the keyboard alone: Tab to the NHS number, type it, Enter.
    await nav.getByRole('link', { name: 'Patients' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Patients' }).waitFor();
    await tabTo(page, 'nhs-number');
    await page.keyboard.type('9000000009');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: /Jane.*Smith|SMITH.*Jane/i }).waitFor();

    // Straight to the pages the console does not offer them: the hub refuses its data (403) to this
    // very session, and the console shows one "no access" page (what is needed, a way back) and
    // nothing of the page itself: no form, no table, no call the hub would refuse.
    const hub = (path: string) => context.request.get(`${running.hubUrl}${path}`);
    for (const route of ['/audit/events', '/operations/overview', '/settings', '/api-keys']) {
      expect((await hub(route)).status(), `${route} for R8000`).toBe(403);
    }
    const refusedCalls: string[] = [];
    page.on('response', (r) => {
      if (r.status() === 403) refusedCalls.push(new URL(r.url()).pathname);
    });
    for (const [path, permission] of [
      ['audit', 'audit.read'],
      ['overview', 'operations.read'],
      ['settings', 'keys.manage'],
    ] as const) {
      await page.goto(`${running.consoleUrl}${path}`);
      await page.getByRole('heading', { level: 1, name: 'You do not have access to this page' }).waitFor();
      const main = page.getByRole('main');
      await expectText(main, permission);
      await expectText(main, 'Dr Alex Carter');
      expect(await main.getByRole('link').allTextContents()).toEqual(['Go to Patients']);
      for (const role of ['form', 'table', 'button'] as const) {
        expect(await main.getByRole(role).count(), `${role} on ${path}`).toBe(0);
      }
      expect(await main.getByText(/Download CSV|Verify chain/).count()).toBe(0);
      if (path === 'audit') {
        await expectAccessible(page, 'access: clinician refused audit');
        await shot(page, 'clinician refused audit');
      }
      if (path === 'settings') await shot(page, 'clinician on settings');
    }
    expect(refusedCalls).toEqual([]);
    // The way back works.
    await page.getByRole('main').getByRole('link', { name: 'Go to Patients' }).click();
    await page.getByRole('heading', { level: 1, name: 'Patients' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});

/** Presses Tab until the element with `id` has focus (at most 30 times). */
async function tabTo(page: Page, id: string) {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
  }
  throw new Error(`#${id} is not reachable with Tab`);
}
