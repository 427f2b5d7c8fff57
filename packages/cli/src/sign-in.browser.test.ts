import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decide, listAuditEvents, openStore, type Principal } from '@junction/hub';
import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The console's end-to-end harness runs axe-core (a devDependency of the console) the same way.
import { type AxeViolation, runAxe } from '../../console/e2e/harness.js';
import { runCli } from './program.js';
import { testRuntime } from './test-runtime.js';

// Sign-in end to end: the whole sign-in, for a P9 patient and for a clinician choosing one of
// two roles, in a real headless Chromium against the sandbox and hub that `junction start` runs.
// Debian's Chromium, never one downloaded by a test tool (CI installs it: .ci/run ensure_chromium).
// The page's own globals inside page.evaluate (this is Node code, without the DOM lib).
declare const document: { activeElement: { id: string; className: string } | null };
declare function getComputedStyle(element: unknown): { backgroundColor: string };

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SCREENSHOTS = fileURLToPath(new URL('../test-results/', import.meta.url));
const BROWSER_TIMEOUT_MS = 60_000;

if (!hasChromium) {
  console.warn(
    `sign-in.browser.test.ts: ${CHROMIUM} is absent, browser sign-in tests skipped (apt-get install chromium)`,
  );
}

describe.runIf(!hasChromium && process.env.CI)('browser sign-in in CI', () => {
  it('has Debian Chromium installed', () => {
    expect.fail(`${CHROMIUM} is missing: CI must install it (.ci/run ensure_chromium)`);
  });
});

describe.runIf(hasChromium)('sign-in in headless Chromium against `junction start`', () => {
  let dataDir: string;
  let hubUrl: string;
  let browser: Browser;
  const rt = testRuntime();
  let exited: Promise<number>;

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    dataDir = await mkdtemp(join(tmpdir(), 'junction-sign-in-'));
    exited = runCli(['start', '--port', '0', '--data-dir', dataDir], rt);
    const out = await Promise.race([
      rt.printed('Press Ctrl+C'),
      exited.then((code) => `exited ${code}: ${rt.err()}`),
    ]);
    hubUrl = /hub:\s+(\S+)/.exec(out)?.[1] ?? '';
    expect(hubUrl, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).toContain(`patients, NHS login: ${hubUrl}/auth/nhs-login/login`);
    expect(out).toContain(`clinicians, CIS2:    ${hubUrl}/auth/cis2/login`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, BROWSER_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    rt.stop();
    expect(await exited).toBe(0);
    await rm(dataDir, { recursive: true, force: true });
  }, BROWSER_TIMEOUT_MS);

  /** A fresh browser profile (no cookies) per sign-in. */
  async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    return { context, page: await context.newPage() };
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  /** A sandbox sign-in page meets WCAG 2.2 A and AA as far as axe-core can tell: no violation at all. */
  async function expectAccessible(page: Page, name: string) {
    const { violations, passes } = await runAxe(page);
    expect(passes, `axe checked nothing on ${name}`).toBeGreaterThan(0);
    expect(violations.map(describeViolation), `axe violations on ${name}`).toEqual([]);
  }

  /** Opens a sandbox sign-in page, fresh profile, and collects what the browser complains of there (a CSP refusal, say). */
  async function signInPage(path: string) {
    const { context, page } = await freshPage();
    const complaints: string[] = [];
    page.on('console', (m) => {
      // The sandbox's pages only: the hub's own pages (its callback, a favicon) are not under test here.
      const from = m.location().url;
      if (from.startsWith(`${hubUrl}/`)) return;
      if (m.type() === 'error' || m.type() === 'warning') complaints.push(m.text());
    });
    page.on('pageerror', (e) => complaints.push(String(e)));
    await page.goto(`${hubUrl}${path}`);
    return { context, page, complaints };
  }

  /** The page is styled by the design system's stylesheet, which the sandbox served (not a bare HTML page). */
  async function expectNhsukStyles(page: Page) {
    const header = page.getByRole('banner');
    // nhsuk-frontend's header: NHS blue (#005eb8) behind white text.
    await expect(header.evaluate((e) => getComputedStyle(e).backgroundColor)).resolves.toBe(
      'rgb(0, 94, 184)',
    );
  }

  /** GET on the hub in the browser (the session cookie goes with it); the status and JSON body. */
  async function browse(page: Page, path: string, screenshot: string) {
    const response = await page.goto(`${hubUrl}${path}`);
    if (!response) throw new Error(`no response for ${path}`);
    await shot(page, screenshot);
    return { status: response.status(), body: (await response.json()) as unknown };
  }

  async function sessionCookieOf(context: BrowserContext) {
    return (await context.cookies(hubUrl)).find((c) => c.name === 'junction_session');
  }

  it(
    'signs a P9 patient in with NHS login; they read their own record and not another’s',
    async () => {
      const { context, page, complaints } = await signInPage('/auth/nhs-login/login');
      // The hub sent the browser to the sandbox's NHS login (another origin), with PKCE and vtr.
      expect(new URL(page.url()).pathname).toMatch(/^\/nhs-login\/interaction\//);
      await expect(page.title()).resolves.toBe('Choose a test user – NHS login (sandbox)');
      await expect(page.getByRole('banner').textContent()).resolves.toContain('NHS login (sandbox)');
      await expectNhsukStyles(page);
      // Each test user with their NHS number (3 3 4) and proofing level as the radio's description.
      const jane = page.getByRole('radio', { name: 'Jane Smith', exact: true });
      await expect(jane.getAttribute('aria-describedby')).resolves.toBeTruthy();
      const janeHint = page.locator(`#${await jane.getAttribute('aria-describedby')}`);
      // biome-ignore lint/performance/useDomNodeTextContent: the lines a person sees (the <br> between them) are the point
      await expect(janeHint.innerText()).resolves.toBe(
        'NHS number 900 000 0009\nIdentity proofing level P9 (high): photo ID and physical comparison',
      );
      await expectAccessible(page, 'NHS login sign-in page');
      await shot(page, 'nhs-login-1-sign-in-page');

      // Nothing chosen: the error summary (focused) and the field's own message, both naming what to do.
      expect(complaints).toEqual([]);
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect(page.title()).resolves.toBe('Error: Choose a test user – NHS login (sandbox)');
      // The one complaint: the page came back as a 400, as a refused form should.
      expect(complaints).toEqual([
        'Failed to load resource: the server responded with a status of 400 (Bad Request)',
      ]);
      complaints.length = 0;
      const summary = page.getByRole('alert');
      await expect(summary.textContent()).resolves.toContain('Select the test user to sign in as');
      await expect(page.evaluate(() => document.activeElement?.className)).resolves.toBe(
        'nhsuk-error-summary',
      );
      await expectAccessible(page, 'NHS login sign-in page with an error');
      await shot(page, 'nhs-login-1b-nothing-chosen');
      await summary.getByRole('link', { name: 'Select the test user to sign in as' }).click();
      await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('user');

      await page.getByRole('radio', { name: 'Jane Smith', exact: true }).check();
      await Promise.all([
        page.waitForURL(`${hubUrl}/auth/nhs-login/callback?**`),
        page.getByRole('button', { name: 'Continue' }).click(),
      ]);
      expect(complaints).toEqual([]);
      await shot(page, 'nhs-login-2-back-at-hub');
      const cookie = await sessionCookieOf(context);
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });
      expect(cookie?.value).toMatch(/^jss_/);
      // The callback page shows who signed in, and no token (cookie hand-off).
      expect(await page.textContent('body')).not.toContain(cookie?.value ?? 'jss_');

      const session = await browse(page, '/auth/session', 'nhs-login-3-session');
      expect(session.status).toBe(200);
      expect(session.body).toMatchObject({
        principal: { kind: 'patient', nhsNumber: '9000000009', identityProofingLevel: 'P9' },
      });

      // Through token exchange, PDS answers in patient mode: her own record only.
      const own = await browse(page, '/fhir/R4/Patient/9000000009', 'nhs-login-4-own-record');
      expect(own.status).toBe(200);
      expect(own.body as Patient).toMatchObject({ resourceType: 'Patient', id: '9000000009' });
      expect((own.body as Patient).name?.[0]?.family).toBe('Smith');

      const other = await browse(page, '/fhir/R4/Patient/9000000017', 'nhs-login-5-other-record-denied');
      expect(other.status).toBe(403);
      expect((other.body as OperationOutcome).resourceType).toBe('OperationOutcome');
      expect(spineCode(other.body)).toBe('ACCESS_DENIED');
      await context.close();
    },
    BROWSER_TIMEOUT_MS,
  );

  /** Dr Alex Carter, the sandbox CIS2 user with two roles at two organisations, signs in with one. */
  async function signInAsCarter(roleLabel: string, name: string) {
    const { context, page, complaints } = await signInPage('/auth/cis2/login');
    expect(new URL(page.url()).pathname).toMatch(
      /^\/openam\/oauth2\/realms\/root\/realms\/oidc\/interaction\//,
    );
    await expect(page.title()).resolves.toBe('Choose a smartcard – NHS Care Identity Service 2 (sandbox)');
    await expect(page.getByRole('banner').textContent()).resolves.toContain(
      'NHS Care Identity Service 2 (sandbox)',
    );
    await expectNhsukStyles(page);
    await expectAccessible(page, 'CIS2 smartcard page');
    await shot(page, `${name}-1-smartcard`);
    await page.getByRole('radio', { name: 'Dr Alex Carter' }).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Select your role', level: 1 }).waitFor();
    await expect(page.title()).resolves.toBe('Select your role – NHS Care Identity Service 2 (sandbox)');
    await expectAccessible(page, 'CIS2 role selection');
    await page.getByRole('radio', { name: roleLabel }).check();
    await shot(page, `${name}-2-role`);
    await Promise.all([
      page.waitForURL(`${hubUrl}/auth/cis2/callback?**`),
      page.getByRole('button', { name: 'Continue' }).click(),
    ]);
    await shot(page, `${name}-3-back-at-hub`);
    expect(complaints).toEqual([]);
    expect((await sessionCookieOf(context))?.value).toMatch(/^jss_/);
    const session = await browse(page, '/auth/session', `${name}-4-session`);
    expect(session.status).toBe(200);
    const principal = (session.body as { principal: Principal }).principal;
    // Healthcare-worker mode at PDS (token exchange of the CIS2 id_token): demographics for both roles.
    const read = await browse(page, '/fhir/R4/Patient/9000000017', `${name}-5-read`);
    expect(read.status).toBe(200);
    await context.close();
    return principal;
  }

  it(
    'signs a clinician in with CIS2 under each of their two roles; the chosen role is the one that counts',
    async () => {
      const clinical = await signInAsCarter('Clinical Practitioner Access Role (R8000)', 'cis2-clinical');
      expect(clinical).toMatchObject({
        kind: 'clinician',
        uid: '555000000001',
        roleId: '555000000101',
        roleCode: 'S8000:G8000:R8000',
        organisationOds: 'Y12345',
      });

      const admin = await signInAsCarter('Admin/Clinical Support Access Role (R8008)', 'cis2-admin');
      expect(admin).toMatchObject({
        kind: 'clinician',
        uid: '555000000001',
        roleId: '555000000102',
        roleCode: 'S8001:G8002:R8008',
        organisationOds: 'Y23456',
      });

      // Same person, different role: the hub's policy gives the clinical role the clinical record
      // and the admin/clerical one only demographics (no GP record route exists yet to drive).
      const gpRecord = { action: 'gp-record.read', nhsNumber: '9000000017' } as const;
      expect(decide(clinical, gpRecord).allow).toBe(true);
      expect(decide(admin, gpRecord).allow).toBe(false);

      // Each read is audited with the role and organisation it was made under.
      const store = await openStore({ dataDir });
      try {
        const reads = (await listAuditEvents(store, { nhsNumber: '9000000017', limit: 1000 })).filter(
          (r) => r.actorKind === 'clinician' && r.outcome === 'success',
        );
        expect(reads.map((r) => [r.actorRoleCode, r.actorOrganisationOds])).toEqual(
          expect.arrayContaining([
            ['S8000:G8000:R8000', 'Y12345'],
            ['S8001:G8002:R8008', 'Y23456'],
          ]),
        );
      } finally {
        await store.close();
      }
    },
    BROWSER_TIMEOUT_MS,
  );
});

function describeViolation(v: AxeViolation): string {
  return `[${v.impact}] ${v.id}: ${v.help} (${v.nodes.map((n) => n.html.slice(0, 120)).join(' | ')})`;
}

function spineCode(body: unknown): string | undefined {
  return (body as OperationOutcome).issue?.[0]?.details?.coding?.[0]?.code;
}
