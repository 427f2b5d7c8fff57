import { randomBytes } from 'node:crypto';
import { createHub, loadConfig } from '@junction/hub';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserSession,
  type DomDocument,
  E2E_TIMEOUT_MS,
  expectAccessible,
  expectText,
  freshPage,
  hasChromium,
  navigate,
  type RunningJunction,
  screenshotter,
  signInAdminAndSupport,
  signInAsAdmin,
  startEmptyHub,
  startJunction,
  startWithChromium,
  stopWithChromium,
} from './harness.js';

/** An element as the overflow check reads it (the DOM lib is not loaded in this Node program). */
interface BoxedElement {
  tagName: string;
  id: string;
  className: string;
  getBoundingClientRect(): { right: number };
  contains(other: BoxedElement): boolean;
}
declare const document: DomDocument & {
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelectorAll(selector: string): Iterable<BoxedElement>;
};

// The console's Settings: an NHS API's base URL and the MESH mailboxes changed by a hub
// admin account in Chromium, against `junction start` (whose secrets key, kept beside its data,
// seals mailbox passwords, and whose sandbox URLs and X26ABC1 mailbox are "set when the hub was
// started"); each change checked where it takes effect (the hub's own answers, the
// Messages and jobs page), errors shown with the NHS.UK error summary and inline messages; an
// R8008 clinician shown the same tables without a single change control; and a hub without
// JUNCTION_SECRETS_KEY explaining why its mailboxes cannot be changed.

/** The sandbox's second seeded MESH mailbox (X26ABC1 is the one `junction start` gives the hub). */
const SECOND_MAILBOX = 'X26ABC2';
const PDS = 'Personal Demographics Service (PDS FHIR API)';
/** How the tables say that `junction start` gave a value (its sandbox's URLs, its X26ABC1 mailbox). */
const SET_AT_START = 'Set when the hub was started (junction start or a command-line flag)';
/** A base URL that is no environment's: the hub tags it Custom (and PDS calls fail while it is set: no such host). */
const CUSTOM_PDS_URL = 'https://pds-proxy.example.invalid/personal-demographics/FHIR/R4';

describe.runIf(hasChromium)('Settings: NHS API base URLs and MESH mailboxes against `junction start`', () => {
  let running: RunningJunction;
  let browser: Browser;
  let admin: BrowserSession;
  let support: BrowserSession;
  const shot = screenshotter('settings');

  beforeAll(async () => {
    [running, browser] = await startWithChromium(startJunction);
    ({ admin, support } = await signInAdminAndSupport(browser, running));
  }, E2E_TIMEOUT_MS);

  afterAll(() => stopWithChromium(browser, running), E2E_TIMEOUT_MS);

  /** The id of the focused element, and whether it is (in) the error summary or a success banner. */
  const focused = (page: Page) =>
    page.evaluate(() => {
      const el = document.activeElement;
      return {
        id: el?.id ?? '',
        text: (el?.textContent ?? '').trim(),
        inErrorSummary: (el?.closest('.nhsuk-error-summary') ?? null) !== null,
        inSuccessBanner: (el?.closest('.nhsuk-notification-banner--success') ?? null) !== null,
      };
    });

  /** Nothing wider than a tablet held upright (768 px): no sideways scrolling (what sticks out is named). */
  const expectNoOverflowOnTablet = async (page: Page) => {
    const before = page.viewportSize();
    await page.setViewportSize({ width: 768, height: 1024 });
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wider = [...document.querySelectorAll('main *')].filter(
        (el) => el.getBoundingClientRect().right > width + 0.5,
      );
      return {
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: width,
        // The innermost of them: what to fix.
        culprits: wider
          .filter((el) => !wider.some((other) => other !== el && el.contains(other)))
          .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`)
          .slice(0, 5),
      };
    });
    expect(
      overflow.scrollWidth,
      `the page scrolls sideways at 768 px: ${overflow.culprits.join(', ')}`,
    ).toBeLessThanOrEqual(overflow.clientWidth);
    if (before) await page.setViewportSize(before);
  };

  /** The inline error message of a field: the element its aria-describedby names that is an error. */
  const inlineError = async (page: Page, input: Locator) => {
    const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
    for (const id of ids) {
      const described = page.locator(`[id="${id}"].nhsuk-error-message`);
      if ((await described.count()) > 0) return ((await described.textContent()) ?? '').trim();
    }
    return '';
  };

  /** The hub's own view of its settings, as the signed-in admin (the browser's session cookie). */
  const hubSettings = async (page: Page) => {
    const response = await page.request.get(`${running.hubUrl}/settings`);
    expect(response.status()).toBe(200);
    return (await response.json()) as {
      environments: { service: string; baseUrl: string; source: string }[];
      mailboxes: {
        mailboxId: string;
        pollIntervalMs: number;
        mutualTls: boolean;
        source: string;
        inEnvironment: boolean;
      }[];
    };
  };
  const meshMailboxes = async (page: Page) => {
    const response = await page.request.get(`${running.hubUrl}/mesh/mailboxes`);
    expect(response.status()).toBe(200);
    return (
      (await response.json()) as {
        mailboxes: { mailboxId: string; pollIntervalMs: number; lastPoll?: { status: string } }[];
      }
    ).mailboxes;
  };
  const demoApiKey = () => /demo API key:\s+(\S+)/.exec(running.startOutput)?.[1] ?? '';
  const tracePatient = () =>
    fetch(`${running.hubUrl}/fhir/R4/Patient/9000000009`, {
      headers: { authorization: `Bearer ${demoApiKey()}` },
    });

  it("an admin changes PDS's base URL: a bad URL is refused with the error summary, another URL is in force at once, and the environment's value comes back", async () => {
    const { page } = admin;
    await navigate(page, 'Settings');
    const main = page.getByRole('main');
    const apis = main.getByRole('table', { name: 'NHS APIs the hub calls and their base URLs' });
    const pdsRow = apis.getByRole('row', { name: new RegExp(PDS.replace(/[()]/g, '\\$&')) });
    await pdsRow.waitFor();
    await expectText(pdsRow, 'Sandbox');
    await expectText(pdsRow, `${running.sandboxUrl}/personal-demographics/FHIR/R4`);
    // `junction start` gives the hub its sandbox's URLs: no environment variable is behind them.
    await expectText(pdsRow, SET_AT_START);
    expect((await hubSettings(page)).environments.find((e) => e.service === 'pds')?.source).toBe('startup');
    await main.getByRole('table', { name: 'MESH mailboxes the hub uses' }).waitFor();
    await expectAccessible(page, 'settings: view');
    await expectNoOverflowOnTablet(page);
    await shot(page, 'view');

    // With the keyboard alone: the Change link opens the form by the address, and focus moves to
    // its heading.
    await pdsRow.getByRole('link', { name: `Change the base URL of ${PDS}` }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('change')).toBe('base-url.pds');
    const form = main.getByRole('form', { name: `Change the base URL of ${PDS}` });
    await form.waitFor();
    expect((await focused(page)).id).toBe('base-url-pds-heading');
    await expect.poll(() => form.getByLabel('Sandbox').isChecked()).toBe(true);
    // Only the hub's own NHS environment is offered: its keys and client ids are registered there.
    expect(await form.getByLabel('INT (integration testing)').count()).toBe(0);
    expect(await form.getByLabel('Live').count()).toBe(0);

    // "Another URL" (arrow keys through the radios) reveals its input, next in the tab order; a
    // value that is no URL, sent with Enter, is refused by the hub.
    const urlInput = form.getByLabel('Base URL', { exact: true });
    expect(await urlInput.isVisible()).toBe(false);
    await page.keyboard.press('Tab');
    expect((await focused(page)).id).toBe('base-url-pds-sandbox');
    await page.keyboard.press('ArrowDown');
    expect(await form.getByLabel('Another URL').isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    expect((await focused(page)).id).toBe('base-url-pds-url');
    await page.keyboard.type('pds proxy on port 8443');
    await page.keyboard.press('Enter');
    const summary = main.locator('.nhsuk-error-summary');
    await summary.waitFor();
    await expectText(
      summary,
      'Enter the full URL of the API (the hub says: expected an http:// or https:// URL)',
    );
    expect((await focused(page)).inErrorSummary).toBe(true);
    expect(await inlineError(page, urlInput)).toMatch(/Enter the full URL of the API/);
    // The summary's link leads to the field.
    expect(await summary.getByRole('link').first().getAttribute('href')).toBe('#base-url-pds-url');
    await expectAccessible(page, 'settings: base URL refused');
    await shot(page, 'base url refused');
    expect((await hubSettings(page)).environments.find((e) => e.service === 'pds')?.source).not.toBe(
      'console',
    );

    // Typed in by hand, INT's published URL is refused too, saying how to use INT.
    await urlInput.fill('https://int.api.service.nhs.uk/personal-demographics/FHIR/R4');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => inlineError(page, urlInput))
      .toMatch(/is in NHS INT, but this hub runs against sandbox \(JUNCTION_NHS_ENVIRONMENT\)/);

    await urlInput.fill(CUSTOM_PDS_URL);
    await form.getByRole('button', { name: 'Save' }).click();
    const banner = main.locator('.nhsuk-notification-banner--success');
    await expectText(banner, `${PDS} now uses ${CUSTOM_PDS_URL}; in force on every hub instance.`);
    expect((await focused(page)).inSuccessBanner).toBe(true);
    await form.waitFor({ state: 'detached' });
    expect(new URL(page.url()).searchParams.get('change')).toBeNull();
    await expectText(pdsRow, 'Custom');
    await expectText(pdsRow, CUSTOM_PDS_URL);
    await expectText(pdsRow, /Changed in the console by admin admin on \d{1,2} \w+ \d{4} at \d{2}:\d{2}/);
    const inForce = (await hubSettings(page)).environments.find((e) => e.service === 'pds');
    expect(inForce).toMatchObject({ baseUrl: CUSTOM_PDS_URL, source: 'console' });
    // In force without a restart: a trace now goes to that host, which does not exist.
    expect((await tracePatient()).status).toBe(502);
    await expectAccessible(page, 'settings: base URL changed');
    await shot(page, 'base url changed');

    // Reopened, the form shows the URL in force; the environment's value is one button away.
    await pdsRow.getByRole('link', { name: `Change the base URL of ${PDS}` }).click();
    await form.waitFor();
    expect(await form.getByLabel('Another URL').isChecked()).toBe(true);
    expect(await urlInput.inputValue()).toBe(CUSTOM_PDS_URL);
    await expectAccessible(page, 'settings: base URL form with a console change');
    await expectNoOverflowOnTablet(page);
    await shot(page, 'base url form');
    await form.getByRole('button', { name: "Use the environment's value" }).click();
    await expectText(
      banner,
      `${PDS} uses the value set when the hub was started again: ${running.sandboxUrl}/personal-demographics/FHIR/R4`,
    );
    expect((await focused(page)).inSuccessBanner).toBe(true);
    await expectText(pdsRow, 'Sandbox');
    await expectText(pdsRow, SET_AT_START);
    expect((await hubSettings(page)).environments.find((e) => e.service === 'pds')?.source).toBe('startup');
    // The hub calls the sandbox's PDS again: a trace works.
    expect((await tracePatient()).status).toBe(200);

    // Cancel closes the form and puts focus on the section's heading.
    await pdsRow.getByRole('link', { name: `Change the base URL of ${PDS}` }).click();
    await form.waitFor();
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'detached' });
    expect((await focused(page)).id).toBe('nhs-apis-heading');
    expect(admin.errors).toEqual([]);
  });

  it('an admin adds a MESH mailbox (the hub polls it), changes its poll interval, and stops using it; an environment mailbox stopped can be used again', async () => {
    const { page } = admin;
    await navigate(page, 'Settings');
    const main = page.getByRole('main');
    const mailboxes = main.getByRole('table', { name: 'MESH mailboxes the hub uses' });
    const row = (id: string) => mailboxes.getByRole('row', { name: new RegExp(id) });
    await expectText(row('X26ABC1'), SET_AT_START);
    const banner = main.locator('.nhsuk-notification-banner--success');

    // Add: the console asks for what it needs first.
    await main.getByRole('link', { name: 'Add a mailbox' }).click();
    const addForm = main.getByRole('form', { name: 'Add a mailbox' });
    await addForm.waitFor();
    expect((await focused(page)).id).toBe('mailbox-new-heading');
    await addForm.getByRole('button', { name: 'Save' }).click();
    const summary = main.locator('.nhsuk-error-summary');
    await expectText(summary, 'Enter the mailbox id');
    await expectText(summary, 'Enter the MESH host');
    await expectText(summary, "Enter the mailbox's password");
    await expectText(summary, "Enter the MESH environment's shared key");
    expect((await focused(page)).inErrorSummary).toBe(true);
    const password = addForm.getByLabel('Password', { exact: true });
    expect(await password.getAttribute('type')).toBe('password');
    expect(await password.getAttribute('autocomplete')).toBe('new-password');
    expect(await inlineError(page, password)).toBe("Error: Enter the mailbox's password");
    await expectAccessible(page, 'settings: add mailbox errors');
    await shot(page, 'add mailbox errors');

    await addForm.getByLabel('Mailbox id', { exact: true }).fill(SECOND_MAILBOX.toLowerCase());
    await addForm.getByLabel('MESH host', { exact: true }).fill(running.sandboxUrl);
    await password.fill('password');
    await addForm.getByLabel('Shared key', { exact: true }).fill('TestKey');
    await addForm.getByLabel('Poll interval in seconds', { exact: true }).fill('2');
    await addForm.getByRole('button', { name: 'Save' }).click();
    await expectText(
      banner,
      `Mailbox ${SECOND_MAILBOX} added, polled every 2 s; in force on every hub instance.`,
    );
    expect((await focused(page)).inSuccessBanner).toBe(true);
    await expectText(row(SECOND_MAILBOX), /Sandbox/);
    await expectText(row(SECOND_MAILBOX), /2 s/);
    await expectText(row(SECOND_MAILBOX), /Changed in the console by admin admin/);
    // The hub polls it, with the password it was given.
    await expect
      .poll(
        async () => (await meshMailboxes(page)).find((m) => m.mailboxId === SECOND_MAILBOX)?.lastPoll?.status,
        {
          timeout: 20_000,
        },
      )
      .toBe('succeeded');
    await shot(page, 'mailbox added');

    // On the Messages and jobs page too.
    await navigate(page, 'Messages and jobs');
    await expectText(main.getByRole('table', { name: "The hub's MESH mailboxes" }), SECOND_MAILBOX);
    await navigate(page, 'Settings');

    // Change: the password and shared key are kept when left blank; the hub's rules still apply.
    await row(SECOND_MAILBOX)
      .getByRole('link', { name: `Change mailbox ${SECOND_MAILBOX}` })
      .click();
    const changeForm = main.getByRole('form', { name: `Change mailbox ${SECOND_MAILBOX}` });
    await changeForm.waitFor();
    await expectText(changeForm, 'Leave blank to keep the current one');
    expect(await changeForm.getByLabel('MESH host', { exact: true }).inputValue()).toBe(running.sandboxUrl);
    const poll = changeForm.getByLabel('Poll interval in seconds', { exact: true });
    expect(await poll.inputValue()).toBe('2');
    await poll.fill('0.01');
    await changeForm.getByRole('button', { name: 'Save' }).click();
    // The hub's "at least 100 ms", in the seconds the form asks for.
    await expectText(summary, 'Poll interval must be at least 0.1 seconds');
    expect(await inlineError(page, poll)).toBe('Error: Poll interval must be at least 0.1 seconds');
    await poll.fill('30');
    await changeForm.getByRole('button', { name: 'Save' }).click();
    await expectText(banner, `Mailbox ${SECOND_MAILBOX} changed, polled every 30 s`);
    await expectText(row(SECOND_MAILBOX), /30 s/);
    expect((await meshMailboxes(page)).find((m) => m.mailboxId === SECOND_MAILBOX)?.pollIntervalMs).toBe(
      30_000,
    );

    // Stop using it, after a warning.
    await row(SECOND_MAILBOX)
      .getByRole('link', { name: `Change mailbox ${SECOND_MAILBOX}` })
      .click();
    await changeForm.waitFor();
    await changeForm.getByRole('button', { name: 'Stop using this mailbox' }).click();
    const warning = changeForm.locator(`#mailbox-${SECOND_MAILBOX}-stop`);
    await expectText(warning, `Stop using mailbox ${SECOND_MAILBOX}?`);
    await expectText(warning, 'It was added here: to use it again, add it again');
    await expectAccessible(page, 'settings: stop using a mailbox');
    await shot(page, 'stop mailbox confirmation');
    await warning.getByRole('button', { name: `Yes, stop using ${SECOND_MAILBOX}` }).click();
    await expectText(banner, `The hub no longer uses mailbox ${SECOND_MAILBOX}`);
    await row(SECOND_MAILBOX).waitFor({ state: 'detached' });
    expect((await meshMailboxes(page)).map((m) => m.mailboxId)).toEqual(['X26ABC1']);

    // The environment's mailbox: stopped, listed, and used again.
    await row('X26ABC1').getByRole('link', { name: 'Change mailbox X26ABC1' }).click();
    // Nothing changed in the console to undo.
    expect(await main.getByRole('button', { name: "Use the environment's settings" }).count()).toBe(0);
    await main.getByRole('button', { name: 'Stop using this mailbox' }).click();
    await expectText(
      main.locator('#mailbox-X26ABC1-stop'),
      'The hub was started with it, so it can be used again from this page.',
    );
    await main.getByRole('button', { name: 'Yes, stop using X26ABC1' }).click();
    await expectText(banner, 'The hub no longer uses mailbox X26ABC1');
    const stopped = main.getByRole('table', {
      name: "Mailboxes of the hub's environment it no longer uses",
    });
    await expectText(stopped, /X26ABC1[\s\S]*By admin admin on \d{1,2} \w+ \d{4} at \d{2}:\d{2}/);
    expect(await meshMailboxes(page)).toEqual([]);
    await expectAccessible(page, 'settings: environment mailbox stopped');
    await shot(page, 'environment mailbox stopped');
    await stopped.getByRole('button', { name: /Use it again/ }).click();
    await expectText(
      banner,
      'Mailbox X26ABC1 is used again, with the settings given when the hub was started.',
    );
    await expectText(row('X26ABC1'), SET_AT_START);
    expect((await meshMailboxes(page)).map((m) => m.mailboxId)).toEqual(['X26ABC1']);
    expect(admin.errors).toEqual([]);
  });

  it("an admin changes the mailbox `junction start` gave the hub, then uses the environment's settings again; a TLS file the hub cannot read is refused on its field", async () => {
    const { page } = admin;
    await navigate(page, 'Settings');
    const main = page.getByRole('main');
    const row = main.getByRole('table', { name: 'MESH mailboxes the hub uses' }).getByRole('row', {
      name: /X26ABC1/,
    });
    const started = (await hubSettings(page)).mailboxes.find((m) => m.mailboxId === 'X26ABC1');
    expect(started).toMatchObject({ source: 'startup', inEnvironment: true, pollIntervalMs: 5_000 });
    await expectText(row, /5 s/);
    await expectText(row, SET_AT_START);
    const form = main.getByRole('form', { name: 'Change mailbox X26ABC1' });
    const banner = main.locator('.nhsuk-notification-banner--success');
    const summary = main.locator('.nhsuk-error-summary');

    // A client certificate path the hub cannot read: refused when saved, on that field.
    await row.getByRole('link', { name: 'Change mailbox X26ABC1' }).click();
    await form.waitFor();
    await form.getByText('Advanced: inbox page size, chunk size, mutual TLS').click();
    const certPath = form.getByLabel('Client certificate (optional)', { exact: true });
    await certPath.fill('/nonexistent/junction-e2e/cert.pem');
    await form
      .getByLabel('Private key of the client certificate (optional)', { exact: true })
      .fill('/nonexistent/junction-e2e/key.pem');
    await form.getByRole('button', { name: 'Save' }).click();
    const unreadable =
      "Client certificate: the hub cannot read /nonexistent/junction-e2e/cert.pem (a PEM file on the hub's machine)";
    await expectText(summary, unreadable);
    expect((await focused(page)).inErrorSummary).toBe(true);
    expect(await inlineError(page, certPath)).toBe(`Error: ${unreadable}`);
    expect(await summary.getByRole('link').first().getAttribute('href')).toBe('#mailbox-X26ABC1-cert');
    await expectAccessible(page, 'settings: TLS file refused');
    await shot(page, 'tls file refused');
    expect((await hubSettings(page)).mailboxes.find((m) => m.mailboxId === 'X26ABC1')).toMatchObject({
      source: 'startup',
      mutualTls: false,
    });

    // Without the TLS files, a new poll interval is saved: changed in the console.
    await certPath.fill('');
    await form.getByLabel('Private key of the client certificate (optional)', { exact: true }).fill('');
    await form.getByLabel('Poll interval in seconds', { exact: true }).fill('7');
    await form.getByRole('button', { name: 'Save' }).click();
    await expectText(banner, 'Mailbox X26ABC1 changed, polled every 7 s; in force on every hub instance.');
    await expectText(row, /7 s/);
    await expectText(row, /Changed in the console by admin admin/);
    expect((await hubSettings(page)).mailboxes.find((m) => m.mailboxId === 'X26ABC1')).toMatchObject({
      source: 'console',
      inEnvironment: true,
      pollIntervalMs: 7_000,
    });

    // Reopened: the settings it was started with are one button away, and stopping it says what
    // happens to the change.
    await row.getByRole('link', { name: 'Change mailbox X26ABC1' }).click();
    await form.waitFor();
    await form.getByRole('button', { name: 'Stop using this mailbox' }).click();
    await expectText(
      form.locator('#mailbox-X26ABC1-stop'),
      'The hub was started with it, so it can be used again from this page, with the settings it was started with (the changes made here are not kept).',
    );
    await form.locator('#mailbox-X26ABC1-stop').getByRole('button', { name: 'Cancel' }).click();
    await expectText(form, 'Forget the change to use mailbox X26ABC1 as the hub was started with it');
    await expectAccessible(page, 'settings: mailbox form with a console change');
    await shot(page, 'mailbox form with a console change');
    await form.getByRole('button', { name: "Use the environment's settings" }).click();
    await expectText(
      banner,
      'Mailbox X26ABC1 uses the settings given when the hub was started again; in force on every hub instance.',
    );
    expect((await focused(page)).inSuccessBanner).toBe(true);
    await form.waitFor({ state: 'detached' });
    expect((await hubSettings(page)).mailboxes.find((m) => m.mailboxId === 'X26ABC1')).toEqual(started);
    await expectText(row, /5 s/);
    await expectText(row, SET_AT_START);
    expect((await meshMailboxes(page)).find((m) => m.mailboxId === 'X26ABC1')?.pollIntervalMs).toBe(5_000);
    expect(admin.errors).toEqual([]);
  });

  it('an R8008 clinician sees the tables and no change control, even at a change address', async () => {
    const { page } = support;
    await navigate(page, 'Settings');
    const main = page.getByRole('main');
    await main.getByRole('table', { name: 'NHS APIs the hub calls and their base URLs' }).waitFor();
    await main.getByRole('table', { name: 'MESH mailboxes the hub uses' }).waitFor();
    await expectText(main, 'X26ABC1');
    expect(await main.getByRole('link', { name: /^Change/ }).count()).toBe(0);
    expect(await main.getByRole('link', { name: 'Add a mailbox' }).count()).toBe(0);
    expect(await main.getByRole('button').count()).toBe(0);
    await expectAccessible(page, 'settings: read only');
    await shot(page, 'read only');

    await page.goto(`${running.consoleUrl}settings?change=base-url.pds`);
    await main.getByRole('table', { name: 'NHS APIs the hub calls and their base URLs' }).waitFor();
    expect(await main.getByRole('form').count()).toBe(0);
    // The hub refuses the change all the same.
    const refused = await page.request.put(`${running.hubUrl}/settings/base-urls/pds`, {
      data: { baseUrl: CUSTOM_PDS_URL },
      headers: { origin: running.hubUrl },
    });
    expect(refused.status()).toBe(403);
    expect(support.errors).toEqual([]);
  });
  it('a hub without JUNCTION_SECRETS_KEY: the admin is told how to give it one, and offered no mailbox change', async () => {
    // The hub alone as createHub makes it from an empty environment: no secrets key, no mailbox.
    const hub = await startEmptyHub();
    const session = await freshPage(browser);
    try {
      const { page } = session;
      await signInAsAdmin(page, hub.consoleUrl, hub.admin);
      await navigate(page, 'Settings');
      const main = page.getByRole('main');
      const mailboxes = main.getByRole('region', { name: 'MESH mailboxes' });
      await expectText(mailboxes, 'The hub uses no MESH mailbox.');
      await expectText(mailboxes, /once the hub has JUNCTION_SECRETS_KEY[\s\S]*openssl rand -base64 32/);
      expect(await mailboxes.getByRole('link', { name: 'Add a mailbox' }).count()).toBe(0);
      // Base URLs need no secret: they can still be changed.
      await main
        .getByRole('table', { name: 'NHS APIs the hub calls and their base URLs' })
        .getByRole('link', { name: `Change the base URL of ${PDS}` })
        .waitFor();
      // The hub refuses a mailbox all the same, saying why.
      const refused = await page.request.put(`${hub.hubUrl}/settings/mailboxes/${SECOND_MAILBOX}`, {
        data: { baseUrl: 'https://msg.intspineservices.nhs.uk', password: 'password', sharedKey: 'TestKey' },
        headers: { origin: hub.hubUrl },
      });
      expect(refused.status()).toBe(409);
      expect(await refused.text()).toContain('JUNCTION_SECRETS_KEY');
      expect(await main.locator('.nhsuk-card--warning').count()).toBe(0);

      // Another instance on the same store, with a key, stores a mailbox: this hub cannot open
      // it, and the page says so first, as the hub words it.
      const keyed = await createHub(
        loadConfig(
          { JUNCTION_SECRETS_KEY: randomBytes(32).toString('base64') },
          { dataDir: hub.dataDir, logLevel: 'warn' },
        ),
        { startJobs: false },
      );
      try {
        await keyed.settings.putMailbox(
          'X26ABC3',
          { baseUrl: 'https://mesh.example.invalid', password: 'password', sharedKey: 'TestKey' },
          'admin elsewhere',
        );
      } finally {
        await keyed.close();
      }
      const problems = main.locator('.nhsuk-card--warning');
      await expect
        .poll(
          async () => {
            await page.reload();
            await main.getByRole('table', { name: 'NHS APIs the hub calls and their base URLs' }).waitFor();
            return problems.count();
          },
          { timeout: 15_000, interval: 1_000 },
        )
        .toBe(1);
      await expectText(problems, 'Some settings changed in the console are not used');
      await expectText(problems, /X26ABC3.*JUNCTION_SECRETS_KEY is not set/);
      // First on the page, right under its heading (before the API keys).
      expect(
        await page.evaluate(() => document.querySelector('main > h1 + .nhsuk-card--warning') !== null),
      ).toBe(true);
      await expectAccessible(page, 'settings: no secrets key, a mailbox it cannot open');
      await shot(page, 'no secrets key');
      expect(session.errors).toEqual([]);
    } finally {
      await session.context.close();
      await hub.stop();
    }
  });
});
