import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliRuntime, runCli } from '@junction/cli';
import { createHub, loadConfig, randomAdminPassword, resetAdminAccount } from '@junction/hub';
import { zipSync } from 'fflate';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { DMD_2019 } from '../../hub/src/testing/reference.js';

/*
 * The console's end-to-end harness: `junction start` as a user runs it (in-process through the CLI's
 * own entry point, so the hub and sandbox are this checkout's sources), Debian's Chromium driven by
 * playwright-core (never a browser downloaded by a test tool; CI installs it in .ci/run), sign-in
 * through the sandbox CIS2 or the hub admin form, axe-core on every state, and screenshots at a
 * laptop and a tablet width for a reviewer.
 */

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
/** Generous: a cold Chromium, the first dm+d search index build and a MESH poll all fit well inside. */
export const E2E_TIMEOUT_MS = 90_000;
export const SCREENSHOTS = fileURLToPath(new URL('../test-results/screenshots/', import.meta.url));
export const AXE_RESULTS = fileURLToPath(new URL('../test-results/axe/', import.meta.url));

/** Widths a person uses the console at: a small laptop and a tablet held upright. */
export const VIEWPORTS = {
  laptop: { width: 1366, height: 768 },
  tablet: { width: 768, height: 1024 },
} as const;

/** Dr Alex Carter's two roles (sandbox CIS2 user 555000000001), as the role selection page labels them. */
export const CIS2_ROLES = {
  /** R8008 at SANDBOX COMMUNITY HEALTH TRUST (Y23456): runs the hub (overview, messages, jobs, audit) and traces patients. */
  adminClinicalSupport: 'Admin/Clinical Support Access Role (R8008)',
  /** R8000 at SANDBOX GP PRACTICE (Y12345): a clinician: patients, medicines, messages; no operations or audit. */
  clinicalPractitioner: 'Clinical Practitioner Access Role (R8000)',
} as const;

export interface RunningJunction {
  hubUrl: string;
  sandboxUrl: string;
  consoleUrl: string;
  dataDir: string;
  /** The hub admin account `junction start` makes and prints. */
  admin: { username: string; password: string };
  /** Everything `junction start` printed. */
  startOutput: string;
  stop(): Promise<void>;
}

/** A CLI runtime whose output is captured; `stop()` is Ctrl+C for `start`. */
export function cliRuntime(env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const waiters: { text: string; resolve: (out: string) => void }[] = [];
  const rt: CliRuntime = {
    env,
    stdout: (text) => {
      out += text;
      for (const w of waiters.filter((w) => out.includes(w.text))) w.resolve(out);
    },
    stderr: (text) => {
      err += text;
    },
    untilStopped: () => stopped,
  };
  return {
    rt,
    out: () => out,
    err: () => err,
    stop: () => stop(),
    printed: (text: string) =>
      out.includes(text)
        ? Promise.resolve(out)
        : new Promise<string>((resolve) => waiters.push({ text, resolve })),
  };
}

/** Runs one `junction …` command line to its end: exit code and output. */
export async function junction(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = cliRuntime(env);
  const code = await runCli(args, cli.rt);
  return { code, out: cli.out(), err: cli.err() };
}

/**
 * `junction start --port 0 --data-dir <tmp>`, as the README tells a new user, until `stop()`; with
 * `databaseUrl`, `--database-url <it>` too: the hub's store is that PostgreSQL database (the data
 * dir still holds the sandbox's MESH messages).
 */
export async function startJunction(options: { databaseUrl?: string } = {}): Promise<RunningJunction> {
  const dataDir = await mkdtemp(join(tmpdir(), 'junction-console-e2e-'));
  // The hub logs every request at info; only warnings belong in a test run's output.
  const cli = cliRuntime({ JUNCTION_LOG_LEVEL: 'warn' });
  const args = ['start', '--port', '0', '--data-dir', dataDir];
  if (options.databaseUrl !== undefined) args.push('--database-url', options.databaseUrl);
  const exited = runCli(args, cli.rt);
  const out = await Promise.race([
    cli.printed('Press Ctrl+C'),
    exited.then((code) => `exited ${code}: ${cli.err()}`),
  ]);
  const hubUrl = /hub:\s+(\S+)/.exec(out)?.[1] ?? '';
  const sandboxUrl = /sandbox:\s+(\S+)/.exec(out)?.[1] ?? '';
  expect(hubUrl, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return {
    hubUrl,
    sandboxUrl,
    consoleUrl: `${hubUrl}/console/`,
    dataDir,
    admin: adminAccountOf(out),
    startOutput: out,
    stop: async () => {
      cli.stop();
      expect(await exited, cli.err()).toBe(0);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** What a test needs of a running hub with no sandbox beside it. */
export type RunningHub = Pick<RunningJunction, 'hubUrl' | 'consoleUrl' | 'dataDir' | 'admin' | 'stop'>;

/**
 * A brand-new hub as an operator first meets it: the hub alone, made by `createHub` as `junction
 * start` makes it (this checkout's console bundle, a fresh SQLite store in a temporary data dir) but
 * with nothing `start` adds for a demo: no MESH mailbox, no dm+d release, no API key, no sandbox (so
 * no NHS call is made), only the admin account `start` would print. For the console's empty states.
 */
export async function startEmptyHub(): Promise<RunningHub> {
  const dataDir = await mkdtemp(join(tmpdir(), 'junction-console-e2e-empty-'));
  // The port is fixed before the hub is built: its public URL (the CSRF origin) names it.
  const port = await freePort();
  const config = loadConfig({}, { port, host: '127.0.0.1', dataDir, logLevel: 'warn' });
  const hub = await createHub(config, { consoleDir: CONSOLE_DIST });
  const admin = { username: 'admin', password: randomAdminPassword() };
  await resetAdminAccount(hub.store, { ...admin, by: 'junction start' });
  await hub.app.listen({ port, host: '127.0.0.1' });
  const hubUrl = `http://127.0.0.1:${port}`;
  return {
    hubUrl,
    consoleUrl: `${hubUrl}/console/`,
    dataDir,
    admin,
    stop: async () => {
      await hub.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on now, for a hub whose public URL must name its port before it listens. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Fails the suite with the global setup's words when the console bundle could not be built. */
export function expectConsoleBundle(): void {
  const bundle = inject('consoleBundle');
  expect(bundle.ok, bundle.detail).toBe(true);
}

/** A hub (`startJunction`, `startEmptyHub`) and Chromium, started together once the bundle is known to be built. */
export async function startWithChromium<H>(start: () => Promise<H>): Promise<[H, Browser]> {
  expectConsoleBundle();
  return Promise.all([start(), launchChromium()]);
}

/** Stops what `startWithChromium` started; either may be missing when it failed. */
export async function stopWithChromium(
  browser: Browser | undefined,
  hub: { stop(): Promise<void> } | undefined,
): Promise<void> {
  await browser?.close();
  await hub?.stop();
}

/** The hub admin account from `junction start`'s line `  console admin: <username> / <password> (…)`. */
function adminAccountOf(out: string): { username: string; password: string } {
  const found = /console admin:\s+(\S+)\s+\/\s+(\S+)/.exec(out);
  return { username: found?.[1] ?? '', password: found?.[2] ?? '' };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}

/** A browser profile with what went wrong in it. */
export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions (a CSP violation, a failed script). */
  errors: string[];
  /** Hub answers of 400 and above: `<status> <method> <path>`. */
  failures: string[];
}

/**
 * A fresh browser profile (no cookies) at laptop width. Console errors and the hub's error answers
 * are collected so a test can assert there were none but those it provoked.
 */
export async function freshPage(browser: Browser): Promise<BrowserSession> {
  // As a person in England sees it: British date formats (the native date inputs too), UK time.
  const context = await browser.newContext({
    viewport: VIEWPORTS.laptop,
    locale: 'en-GB',
    timezoneId: 'Europe/London',
  });
  // Pages answer in well under a second here; a missing element fails in 15 s rather than 30.
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors: string[] = [];
  const failures: string[] = [];
  page.on('console', (message) => {
    // A failed fetch is logged by Chromium too; the response listener has it with its URL.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      errors.push(message.text());
    }
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('response', (response) => {
    if (response.status() >= 400) {
      const url = new URL(response.url());
      failures.push(`${response.status()} ${response.request().method()} ${url.pathname}${url.search}`);
    }
  });
  return { context, page, errors, failures };
}

/**
 * Signs in through the console's "Sign in with CIS2 (smartcard)" link: the sandbox CIS2 smartcard
 * page, Dr Alex Carter's card, one of his roles, and back at the console.
 */
export async function signInWithCis2(page: Page, consoleUrl: string, roleLabel: string): Promise<void> {
  await page.goto(consoleUrl);
  await page.getByRole('link', { name: /sign in with cis2/i }).click();
  await page.waitForURL(/\/openam\/oauth2\/realms\/root\/realms\/oidc\/interaction\//);
  await page.getByRole('radio', { name: 'Dr Alex Carter' }).check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Select your role', level: 1 }).waitFor();
  await page.getByRole('radio', { name: roleLabel }).check();
  await Promise.all([
    page.waitForURL(`${consoleUrl}**`),
    page.getByRole('button', { name: 'Continue' }).click(),
  ]);
  await signedIn(page);
}

/** Signs in with the console's hub admin form. */
export async function signInAsAdmin(
  page: Page,
  consoleUrl: string,
  admin: { username: string; password: string },
) {
  await page.goto(consoleUrl);
  await page.getByLabel('Username', { exact: true }).fill(admin.username);
  await page.getByLabel('Password', { exact: true }).fill(admin.password);
  await page.getByRole('button', { name: 'Sign in as administrator' }).click();
  await signedIn(page);
}

/**
 * The two people the pages and settings tests drive, each in their own browser profile and signed in: the hub admin
 * account `junction start` made (operations, audit, keys, settings; no patient data) and Dr Carter
 * as Admin/Clinical Support (R8008: patients and operations, nothing to change).
 */
export async function signInAdminAndSupport(
  browser: Browser,
  running: RunningJunction,
): Promise<{ admin: BrowserSession; support: BrowserSession }> {
  const admin = await freshPage(browser);
  const support = await freshPage(browser);
  await signInAsAdmin(admin.page, running.consoleUrl, running.admin);
  await signInWithCis2(support.page, running.consoleUrl, CIS2_ROLES.adminClinicalSupport);
  return { admin, support };
}

/** Signed in: the console offers "Sign out". */
async function signedIn(page: Page) {
  await page
    .getByRole('button', { name: /sign out/i })
    .or(page.getByRole('link', { name: /sign out/i }))
    .first()
    .waitFor();
}

/** Waits (up to `timeoutMs`) until the text of `locator` contains `text` (a string) or matches it (a RegExp). */
export async function expectText(locator: Locator, text: string | RegExp, timeoutMs = 10_000): Promise<void> {
  await expect
    // biome-ignore lint/performance/useDomNodeTextContent: the text a person sees (layout-aware) is the point
    .poll(async () => ((await locator.count()) > 0 ? locator.first().innerText() : ''), {
      timeout: timeoutMs,
    })
    .toMatch(text);
}

/**
 * The lines a machine value (`.app-breakable`: ids, URLs, action names) is laid out on, read from
 * the browser's layout character by character; and that each line but the last ends at one of its
 * separators (`.`, `/`, `-`, `_`), where BreakableText's `<wbr>`s let it wrap, never mid-part.
 * Returns every value's lines, so a test can also see that something did wrap.
 */
export async function expectWrapsAtSeparators(scope: Locator): Promise<string[][]> {
  const all: string[][] = [];
  for (const value of await scope.locator('.app-breakable').all()) {
    const lines = await value.evaluate((element) => {
      // biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node program
      const doc = (globalThis as any).document;
      const out: string[] = [];
      let current = '';
      let top: number | undefined;
      // NodeFilter.SHOW_TEXT
      const walker = doc.createTreeWalker(element, 4);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.data.length; i++) {
          const range = doc.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const rect = range.getClientRects()[0];
          if (!rect) continue;
          if (top !== undefined && rect.top > top + rect.height / 2) {
            out.push(current);
            current = '';
          }
          top = rect.top;
          current += node.data[i];
        }
      }
      out.push(current);
      return out;
    });
    for (const line of lines.slice(0, -1)) {
      expect(line, `"${lines.join('')}" wrapped mid-part: ${JSON.stringify(lines)}`).toMatch(/[./_-]$/);
    }
    all.push(lines);
  }
  return all;
}

/** Follows a link of the console's primary navigation; the new page's h1 is awaited. */
export async function navigate(page: Page, name: string | RegExp, heading: string | RegExp = name) {
  await page
    .getByRole('navigation', { name: /primary|main|console/i })
    .getByRole('link', { name })
    .click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/**
 * The few DOM names the tests use inside `page.evaluate` (run in the page, typed here): this is a Node
 * program, and the DOM lib would clash with Node's own fetch types. Each test file declares
 * `declare const document: DomDocument;` for itself.
 */
export interface DomElement {
  tagName: string;
  id: string;
  textContent: string | null;
  closest(selector: string): DomElement | null;
  append(...nodes: DomElement[]): void;
}
export interface DomDocument {
  activeElement: DomElement | null;
  querySelector(selector: string): DomElement | null;
  createElement(tag: string): DomElement;
}
declare const document: DomDocument;

const requireCjs = createRequire(import.meta.url);
let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; html: string; failureSummary?: string }[];
}

/** WCAG 2.0, 2.1 and 2.2, levels A and AA (axe-core's tags; 2.2 adds AA rules only, so no wcag22a). */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** axe-core's WCAG 2.2 A/AA rules run on the page as it is now (evaluated through the DevTools protocol). */
export async function runAxe(page: Page): Promise<{ violations: AxeViolation[]; passes: number }> {
  axeSource ??= await readFile(requireCjs.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource);
  return page.evaluate(async (tags) => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected above, untyped in the page
    const axe = (globalThis as any).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return { violations: result.violations as AxeViolation[], passes: (result.passes as unknown[]).length };
  }, WCAG_TAGS);
}

/**
 * Runs axe-core on the page as it is now and fails on any serious or critical WCAG 2.2 A/AA
 * violation, printing every violation found (lesser ones too). axe is evaluated through the
 * DevTools protocol, so the console's Content-Security-Policy stays on (an injected inline
 * `<script>` would be refused by it, as it should be). Results are kept under test-results/axe/.
 */
export async function expectAccessible(page: Page, state: string): Promise<AxeViolation[]> {
  const before = page.viewportSize() ?? VIEWPORTS.laptop;
  const found: AxeViolation[] = [];
  // At both widths: the tablet layout (stacked tables, wrapped navigation) is a page of its own.
  for (const [width, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    const { violations, passes } = await runAxe(page);
    await mkdir(AXE_RESULTS, { recursive: true });
    await writeFile(
      join(AXE_RESULTS, `${slug(state)}--${width}.json`),
      JSON.stringify({ url: page.url(), passes, violations }, null, 2),
    );
    // Rules ran (a page axe could not read would pass nothing).
    expect(passes, `axe checked nothing on ${state} (${width})`).toBeGreaterThan(0);
    if (violations.length > 0) {
      console.log(`axe (${state}, ${width}, ${page.url()}):\n${describeViolations(violations)}`);
    }
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(
      serious,
      `serious or critical axe violations on ${state} (${width}):\n${describeViolations(serious)}`,
    ).toEqual([]);
    found.push(...violations);
  }
  await page.setViewportSize(before);
  return found;
}

function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${v.nodes
          .slice(0, 5)
          .map((n) => `      ${JSON.stringify(n.target)} ${n.html.slice(0, 160)}`)
          .join('\n')}`,
    )
    .join('\n');
}

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/**
 * Full-page screenshots of the page as it is at both widths, `<suite>-<nn>-<state>--laptop.png`
 * and `--tablet.png`, numbered in the order taken so the folder reads as the journey.
 */
export function screenshotter(suite: string) {
  let n = 0;
  return async (page: Page, state: string) => {
    await mkdir(SCREENSHOTS, { recursive: true });
    const base = `${suite}-${String(++n).padStart(2, '0')}-${slug(state)}`;
    const before = page.viewportSize() ?? VIEWPORTS.laptop;
    for (const [name, size] of Object.entries(VIEWPORTS)) {
      await page.setViewportSize(size);
      await page.screenshot({ path: join(SCREENSHOTS, `${base}--${name}.png`), fullPage: true });
    }
    await page.setViewportSize(before);
  };
}

/**
 * A small real dm+d release (the 2019-04-01 sample, reference/refdata/dmd/openprescribing-2019-04-01),
 * zipped in the test as NHSBSA ships releases: the console's import upload takes a zip.
 */
export const REFDATA_DMD_ZIP = { folder: DMD_2019 };

/** The files of `folder` (not its subfolders) as one zip, deflated. */
export async function zipFolder(folder: string): Promise<Buffer> {
  const entries: Record<string, Uint8Array> = {};
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    if (entry.isFile()) entries[entry.name] = await readFile(join(folder, entry.name));
  }
  return Buffer.from(zipSync(entries, { level: 6 }));
}

/** The console's built bundle (the globalSetup builds it when missing or older than its sources). */
export const CONSOLE_DIST = fileURLToPath(new URL('../dist/', import.meta.url));
