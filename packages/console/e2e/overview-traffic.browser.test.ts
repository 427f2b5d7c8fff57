import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendAuditEvent,
  type Cis2Port,
  createHub,
  type Hub,
  loadConfig,
  randomAdminPassword,
  resetAdminAccount,
} from '@junction/hub';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONSOLE_DIST,
  E2E_TIMEOUT_MS,
  expectAccessible,
  expectConsoleBundle,
  expectText,
  freePort,
  freshPage,
  hasChromium,
  launchChromium,
  navigate,
  SCREENSHOTS,
  signInAsAdmin,
  VIEWPORTS,
} from './harness.js';

/*
 * The Overview with a day of traffic behind it, as nobody sees it on a fresh hub: 25 hours of
 * per-minute rows written straight into the hub's store (the tables every hub instance adds to,
 * migration 0010), then the 1h / 6h / 24h windows as the admin sees them: the numbers of the
 * charts' tables are the ones written, the outage shows as failures at its times (UK time), the
 * axis labels are readable. Synthetic counts only: no patient data.
 *
 * The hub's clock is fixed on a summer afternoon so that UK time (BST) differs from UTC and the
 * windows do not move while the test runs.
 */

/** 14:37:30 BST. */
const NOW = new Date('2026-07-14T13:37:30Z');
const MINUTE_MS = 60_000;
/** An hour more than the widest window: rows before a window must not count in it. */
const HISTORY_MINUTES = 25 * 60;
/** PDS answers nothing for 20 minutes about 3 hours ago: 11:30–11:50 BST. */
const OUTAGE = { from: Date.parse('2026-07-14T10:30:00Z'), to: Date.parse('2026-07-14T10:50:00Z') };
const WINDOWS = {
  '1h': { label: 'Last hour', ms: 3_600_000, bucketMs: 60_000 },
  '6h': { label: 'Last 6 hours', ms: 21_600_000, bucketMs: 300_000 },
  '24h': { label: 'Last 24 hours', ms: 86_400_000, bucketMs: 900_000 },
} as const;
type WindowName = keyof typeof WINDOWS;

/** Upper bounds of the latency columns `le_<ms>` of ops_upstream_minutes (migration 0010), then `le_inf`. */
const LATENCY_BUCKETS_MS = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000] as const;

interface Minute {
  at: number;
  service: 'pds' | 'mesh' | 'cis2';
  calls: number;
  failures: number;
  /** Calls per latency bucket upper bound (ms). */
  latencies: Partial<Record<(typeof LATENCY_BUCKETS_MS)[number], number>>;
}
interface HubMinute {
  at: number;
  requests: number;
  clientErrors: number;
  serverErrors: number;
}

/** UK hour of the day, fractional (July: BST, UTC+1). */
const ukHour = (at: number) => (((at / 3_600_000 + 1) % 24) + 24) % 24;

/** A day's plausible traffic, one row per service and minute, deterministic. */
function traffic(): { upstream: Minute[]; hub: HubMinute[] } {
  const upstream: Minute[] = [];
  const hub: HubMinute[] = [];
  const currentMinute = Math.floor(NOW.getTime() / MINUTE_MS) * MINUTE_MS;
  for (let i = HISTORY_MINUTES; i >= 0; i--) {
    const at = currentMinute - i * MINUTE_MS;
    // PDS: ~20 calls a minute at night, ~200 in the early afternoon.
    const h = ukHour(at);
    const daytime = h >= 7 && h < 22 ? Math.sin((Math.PI * (h - 7)) / 15) : 0;
    const pdsCalls = 20 + Math.round(180 * daytime) + (i % 13);
    const down = at >= OUTAGE.from && at < OUTAGE.to;
    const pdsFailures = down ? pdsCalls : i % 17 === 0 ? 1 : 0;
    const ok = pdsCalls - pdsFailures;
    const slow = Math.round(ok * 0.25);
    const slower = Math.round(ok * 0.05);
    upstream.push({
      at,
      service: 'pds',
      calls: pdsCalls,
      failures: pdsFailures,
      // Timeouts after 10 s while down; otherwise mostly 100–250 ms.
      latencies: down
        ? { 10000: pdsCalls }
        : { 250: ok - slow - slower, 500: slow, 1000: slower + pdsFailures },
    });
    // MESH: the inbox polled every 5 seconds.
    upstream.push({ at, service: 'mesh', calls: 12, failures: 0, latencies: { 50: 12 } });
    // CIS2: a sign-in three times an hour.
    const minuteOfHour = new Date(at).getUTCMinutes();
    if (minuteOfHour % 20 === 7) {
      upstream.push({ at, service: 'cis2', calls: 1, failures: 0, latencies: { 500: 1 } });
    }
    // The hub's requests: one per PDS call, three per sign-in, the console's own; some 404s; 503s while PDS is down.
    const signIns = minuteOfHour % 20 === 7 ? 1 : 0;
    hub.push({
      at,
      requests: pdsCalls + 3 * signIns + 2,
      clientErrors: Math.floor(pdsCalls / 50),
      serverErrors: down ? pdsCalls : 0,
    });
  }
  return { upstream, hub };
}

const TRAFFIC = traffic();

/** Writes the rows as the hub's recorder would have (one row per service and UTC minute). */
async function writeTraffic(hub: Hub) {
  type Row = Record<string, string | number>;
  const db = hub.store.db.withTables<{
    ops_upstream_minutes: Row;
    ops_http_minutes: Row;
    ops_upstream_last: Row;
  }>();
  const upstreamRows = TRAFFIC.upstream.map((m): Row => {
    const row: Row = {
      service: m.service,
      minute: new Date(m.at).toISOString(),
      calls: m.calls,
      failures: m.failures,
      latency_sum_ms: 0,
      latency_max_ms: 0,
      le_inf: 0,
    };
    for (const le of LATENCY_BUCKETS_MS) {
      const n = m.latencies[le] ?? 0;
      row[`le_${le}`] = n;
      // Each call at 80% of its bucket's bound: plausible sums and maxima.
      row.latency_sum_ms = Number(row.latency_sum_ms) + n * le * 0.8;
      if (n > 0) row.latency_max_ms = Math.max(Number(row.latency_max_ms), le * 0.8);
    }
    return row;
  });
  const hubRows = TRAFFIC.hub.map(
    (h): Row => ({
      minute: new Date(h.at).toISOString(),
      requests: h.requests,
      client_errors: h.clientErrors,
      server_errors: h.serverErrors,
    }),
  );
  const lastOf = (service: Minute['service']) =>
    TRAFFIC.upstream.filter((m) => m.service === service).at(-1)?.at ?? 0;
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < upstreamRows.length; i += 100) {
      await trx
        .insertInto('ops_upstream_minutes')
        .values(upstreamRows.slice(i, i + 100))
        .execute();
    }
    for (let i = 0; i < hubRows.length; i += 100) {
      await trx
        .insertInto('ops_http_minutes')
        .values(hubRows.slice(i, i + 100))
        .execute();
    }
    await trx
      .insertInto('ops_upstream_last')
      .values(
        (['pds', 'mesh', 'cis2'] as const).map((service) => ({
          service,
          at: new Date(lastOf(service) + 20_000).toISOString(),
          reachable: 1,
          status: 200,
        })),
      )
      .execute();
  });
}

/** What a window's points hold: `sum` of the minutes in each, oldest point first. */
function expectedPoints<T extends { at: number }>(
  window: WindowName,
  minutes: T[],
  sum: (minutes: T[]) => number[],
): { at: number; values: number[] }[] {
  const { ms, bucketMs } = WINDOWS[window];
  const end = Math.floor(NOW.getTime() / bucketMs) * bucketMs + bucketMs;
  const from = end - ms;
  return Array.from({ length: ms / bucketMs }, (_, i) => {
    const at = from + i * bucketMs;
    return { at, values: sum(minutes.filter((m) => m.at >= at && m.at < at + bucketMs)) };
  });
}

const total = <T>(rows: T[], value: (row: T) => number) => rows.reduce((n, r) => n + value(r), 0);

/** "14:37": the time of day in the UK, as a person in England reads the console. */
const ukClock = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour: '2-digit',
  minute: '2-digit',
});
const ukDay = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'short' });
/** A point's time as its table row says it: "14:30", with the day ("13 Jul 14:45") when not today. */
const pointTime = (at: number) => {
  const day = ukDay.format(new Date(at));
  return day === ukDay.format(NOW) ? ukClock.format(new Date(at)) : `${day} ${ukClock.format(new Date(at))}`;
};
/** The table's times: the newest point is the bucket still filling. */
const pointTimes = (points: { at: number }[]) =>
  points.map((p, i) => `${pointTime(p.at)}${i === points.length - 1 ? ' (so far)' : ''}`);

/** The figure of one chart, by its heading. */
const figureOf = (main: Locator, title: string) =>
  main.locator('figure').filter({ has: main.page().getByRole('heading', { name: title, exact: true }) });

/** A number as the console prints it ("139,123"). */
const numberIn = (text: string | undefined) => Number((text ?? '').replace(/,/g, ''));

/** The cells of the table alternative of one chart (opened as a person would), one array per row. */
async function chartTable(main: Locator, title: string): Promise<string[][]> {
  const figure = figureOf(main, title);
  const details = figure.locator('details');
  if ((await details.getAttribute('open')) === null) {
    await figure.getByText(`${title}: as a table`).click();
  }
  return figure
    .locator('table tbody tr')
    .evaluateAll((rows: { children: ArrayLike<{ textContent: string | null }> }[]) =>
      rows.map((row) => Array.from(row.children, (cell) => (cell.textContent ?? '').trim())),
    );
}

interface Box {
  text: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The x-axis labels of a chart, left to right, with where the browser drew them. */
async function xAxisLabels(main: Locator, title: string): Promise<Box[]> {
  const figure = figureOf(main, title);
  return figure.locator('svg .app-chart__label--x').evaluateAll(
    (
      labels: {
        textContent: string | null;
        getBoundingClientRect(): { left: number; right: number; top: number; bottom: number };
      }[],
    ) =>
      labels
        .map((label) => {
          const { left, right, top, bottom } = label.getBoundingClientRect();
          return { text: (label.textContent ?? '').trim(), left, right, top, bottom };
        })
        .sort((a, b) => a.left - b.left),
  );
}

/** Labels drawn apart, with some room between them, at every width the console is used at. */
async function expectReadableAxis(page: Page, main: Locator, title: string) {
  for (const size of Object.values(VIEWPORTS)) {
    await page.setViewportSize(size);
    const labels = await xAxisLabels(main, title);
    expect(labels.length, `${title}: x-axis labels`).toBeGreaterThanOrEqual(3);
    expect(labels.length, `${title}: x-axis labels`).toBeLessThanOrEqual(12);
    for (const [i, label] of labels.entries()) {
      const next = labels[i + 1];
      if (next) {
        expect(
          next.left - label.right,
          `${title} at ${size.width}px: "${label.text}" and "${next.text}" overlap or touch`,
        ).toBeGreaterThan(4);
      }
    }
  }
  await page.setViewportSize(VIEWPORTS.laptop);
  return xAxisLabels(main, title);
}

/** The page at both widths (`overview-traffic-<state>--laptop.png`, `--tablet.png`). */
async function screenshots(page: Page, state: string) {
  await mkdir(SCREENSHOTS, { recursive: true });
  // Focus back on the page's heading: no focus ring from the last click in the picture.
  await page.getByRole('heading', { level: 1 }).focus();
  for (const [name, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    await page.screenshot({
      path: join(SCREENSHOTS, `overview-traffic-${state}--${name}.png`),
      fullPage: true,
    });
  }
  await page.setViewportSize(VIEWPORTS.laptop);
}

/** Never asked: the admin signs in with the form. Its presence lists CIS2 among the hub's NHS APIs. */
const unusedCis2: Cis2Port = {
  authorizationUrl: () => {
    throw new Error('not used');
  },
  exchangeCode: () => Promise.reject(new Error('not used')),
  userinfo: () => Promise.reject(new Error('not used')),
};

describe.runIf(hasChromium)('Overview with a day of traffic', () => {
  let hub: Hub;
  let hubUrl: string;
  let dataDir: string;
  let browser: Browser;
  const admin = { username: 'admin', password: randomAdminPassword() };

  beforeAll(async () => {
    expectConsoleBundle();
    dataDir = await mkdtemp(join(tmpdir(), 'junction-console-e2e-traffic-'));
    const port = await freePort();
    // PDS, a MESH mailbox (never polled: no job runner) and CIS2, as `junction start` lists them.
    const config = loadConfig(
      {},
      {
        port,
        host: '127.0.0.1',
        dataDir,
        logLevel: 'warn',
        mesh: {
          mailboxes: [
            {
              mailboxId: 'X26ABC1',
              password: 'synthetic',
              sharedKey: 'synthetic',
              baseUrl: 'http://127.0.0.1:9',
              pollIntervalMs: 5_000,
            },
          ],
        },
      },
    );
    hub = await createHub(config, {
      consoleDir: CONSOLE_DIST,
      now: () => NOW,
      startJobs: false,
      cis2: unusedCis2,
    });
    await resetAdminAccount(hub.store, { ...admin, by: 'junction start', now: () => NOW });
    await writeTraffic(hub);
    // A record the hub wrote itself, outside any request (a submission's MESH delivery).
    await appendAuditEvent(
      hub.store,
      {
        action: 'readings.status',
        actor: { kind: 'operator', userId: 'junction-hub/mesh', organisationOds: null },
        nhsNumbers: ['9000000009'],
        outcome: 'success',
        httpStatus: 0,
        correlationId: 'overview-traffic-submission',
        requestId: 'overview-traffic-submission',
        decision: { allowed: true, rule: 'submission.delivered' },
      },
      () => NOW,
    );
    await hub.app.listen({ port, host: '127.0.0.1' });
    hubUrl = `http://127.0.0.1:${port}`;
    browser = await launchChromium();
  }, E2E_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, E2E_TIMEOUT_MS);

  it('the admin switches 1h / 6h / 24h and sees the traffic written, the outage at its times, readable axes', async () => {
    const { context, page, errors, failures } = await freshPage(browser);
    await signInAsAdmin(page, `${hubUrl}/console/`, admin);
    failures.length = 0;
    const main = page.getByRole('main');
    await navigate(page, 'Overview');

    for (const window of ['1h', '6h', '24h'] as const) {
      const { label } = WINDOWS[window];
      await page.getByLabel('Time window', { exact: true }).selectOption(window);
      const services = main.getByRole('table', { name: `NHS APIs: ${label.toLowerCase()}` });
      await services.waitFor();

      // The services table: each API's calls in the window, PDS's errors and latency.
      const upstream = expectedPoints(window, TRAFFIC.upstream, (ms) => [
        total(ms, (m) => m.calls - m.failures),
        total(ms, (m) => m.failures),
      ]);
      const callsOf = (service: Minute['service']) =>
        total(
          expectedPoints(window, TRAFFIC.upstream, (ms) => [
            total(
              ms.filter((m) => m.service === service),
              (m) => m.calls,
            ),
          ]),
          (p) => p.values[0] ?? 0,
        );
      for (const [service, name] of [
        ['pds', 'Personal Demographics Service'],
        ['mesh', 'MESH'],
        ['cis2', 'CIS2 Authentication'],
      ] as const) {
        const row = services.getByRole('row', { name: new RegExp(name) });
        await expectText(row, 'Reachable');
        // Polled: the row shows the previous window's figures until the new window's answer arrives.
        const callsCell = async () =>
          ((await row.getByRole('cell').allTextContents())[3] ?? '').replace(/\D/g, '');
        await expect
          .poll(async () => Number(await callsCell()), {
            timeout: 10_000,
            message: `${window} ${name} calls`,
          })
          .toBe(callsOf(service));
      }
      const pdsCells = await services
        .getByRole('row', { name: /Personal Demographics/ })
        .getByRole('cell')
        .allTextContents();
      const [p50, p95] = [pdsCells[5], pdsCells[6]].map((c) => numberIn(/([\d,]+) ms/.exec(c ?? '')?.[1]));
      // Most calls took 100–250 ms, so that is the median in every window. The outage's 10 s timeouts
      // are 6% of the last 6 hours' calls, so its p95 is one of them (5–10 s); 2.5% of the day's, so
      // not the day's p95; none of the last hour's.
      expect(p50, `${window} PDS p50`).toBeGreaterThan(100);
      expect(p50, `${window} PDS p50`).toBeLessThanOrEqual(250);
      const p95Range = { '1h': [250, 1_000], '6h': [5_000, 10_000], '24h': [250, 1_000] }[window];
      expect(p95, `${window} PDS p95`).toBeGreaterThan(p95Range[0] ?? 0);
      expect(p95, `${window} PDS p95`).toBeLessThanOrEqual(p95Range[1] ?? 0);

      // NHS API calls: the chart's summary and its table hold exactly what was written, point by point.
      const succeeded = total(upstream, (p) => p.values[0] ?? 0);
      const failed = total(upstream, (p) => p.values[1] ?? 0);
      const count = (n: number) => n.toLocaleString('en-GB');
      await expectText(
        main,
        `${count(succeeded + failed)} calls, ${count(failed)} failed, ${label.toLowerCase()}.`,
      );
      const callRows = await chartTable(main, 'NHS API calls');
      const times = pointTimes(upstream);
      expect(callRows.map((r) => [r[0], numberIn(r[1]), numberIn(r[2])])).toEqual(
        upstream.map((p, i) => [times[i], p.values[0], p.values[1]]),
      );
      // The outage: the points where most calls failed are the 20 minutes from 11:30 BST (3 hours
      // ago, outside the last hour).
      const outagePoints = callRows.filter((r) => numberIn(r[2]) > numberIn(r[1])).map((r) => r[0]);
      expect(outagePoints, `${window}: points with more failures than successes`).toEqual(
        { '1h': [], '6h': ['11:30', '11:35', '11:40', '11:45'], '24h': ['11:30'] }[window],
      );
      if (window === '6h') {
        // Pointing at a bar tells its numbers (MESH's polls still succeeding while PDS is down) (the SVG title of its column, which browsers show on hover).
        const first = upstream.find((p) => ukClock.format(new Date(p.at)) === '11:30');
        const tooltips = await figureOf(main, 'NHS API calls').locator('svg g > title').allTextContents();
        expect(tooltips).toContain(
          `11:30 to 11:35: Succeeded: ${count(first?.values[0] ?? -1)}, Failed: ${count(first?.values[1] ?? -1)}`,
        );
      }
      if (window === '24h') {
        // The quarter from 11:45 holds the outage's last 5 minutes: a third of its calls failed.
        const quarter = callRows.find((r) => r[0] === '11:45');
        expect(numberIn(quarter?.[2])).toBeGreaterThan(numberIn(quarter?.[1]) / 3);
      }
      // The newest point is the one holding now (14:37 BST), the oldest a whole window before it.
      expect(callRows.at(-1)?.[0]).toBe(
        `${{ '1h': '14:37', '6h': '14:35', '24h': '14:30' }[window]} (so far)`,
      );
      expect(callRows[0]?.[0]).toBe({ '1h': '13:38', '6h': '08:40', '24h': '13 Jul 14:45' }[window]);

      // Requests to the hub: as written, but for the newest point, to which the console's own
      // requests of this test are added.
      const hubPoints = expectedPoints(window, TRAFFIC.hub, (ms) => [
        total(ms, (h) => h.requests - h.clientErrors - h.serverErrors),
        total(ms, (h) => h.clientErrors),
        total(ms, (h) => h.serverErrors),
      ]);
      const hubRows = (await chartTable(main, 'Requests to the hub')).map((r) => [
        r[0],
        numberIn(r[1]),
        numberIn(r[2]),
        numberIn(r[3]),
      ]);
      const expectedHub = hubPoints.map((p, i) => [times[i], ...p.values]);
      expect(hubRows.slice(0, -1)).toEqual(expectedHub.slice(0, -1));
      expect(hubRows.at(-1)?.[0]).toBe(expectedHub.at(-1)?.[0]);
      expect(Number(hubRows.at(-1)?.[1])).toBeGreaterThanOrEqual(Number(expectedHub.at(-1)?.[1]));

      // Axis labels: UK clock times at round intervals, apart from each other at both widths.
      for (const title of ['NHS API calls', 'Requests to the hub']) {
        const labels = await expectReadableAxis(page, main, title);
        for (const l of labels)
          expect(l.text, `${window} ${title} x-axis`).toMatch(/^\d{2}:\d{2}$|^\d{1,2} \w{3}$/);
        const times = labels.map((l) => l.text).filter((t) => /^\d{2}:\d{2}$/.test(t));
        const step = { '1h': 10, '6h': 60, '24h': 180 }[window];
        for (const t of times) {
          const [hh, mm] = t.split(':').map(Number);
          expect(
            ((hh ?? 0) * 60 + (mm ?? 0)) % step,
            `${window} label ${t} on a multiple of ${step} minutes`,
          ).toBe(0);
        }
      }
      // The bucket width, in words a person reads.
      await expectText(
        main,
        {
          '1h': 'in buckets of 1 minute.',
          '6h': 'in buckets of 5 minutes.',
          '24h': 'in buckets of 15 minutes.',
        }[window],
      );

      // Tables closed again for the picture: the charts are what a person looks at first.
      const openTables = main.locator('details[open] > summary');
      while ((await openTables.count()) > 0) await openTables.first().click();
      await expectAccessible(page, `overview traffic ${window}`);
      await screenshots(page, window);
      // The first chart up close, as a reviewer would look at it.
      await figureOf(main, 'NHS API calls').screenshot({
        path: join(SCREENSHOTS, `overview-traffic-${window}-chart--laptop.png`),
      });
    }

    expect(errors).toEqual([]);
    expect(failures).toEqual([]);
    await context.close();
  });

  it('Audit: records written outside HTTP say where they came from (command line, hub background work), not "HTTP 0"', async () => {
    const { context, page, errors, failures } = await freshPage(browser);
    await signInAsAdmin(page, `${hubUrl}/console/`, admin);
    failures.length = 0;
    const main = page.getByRole('main');
    await navigate(page, 'Audit');
    const table = main.getByRole('table', { name: 'Audit records, newest first' });
    const rowOf = (action: string) => table.getByRole('row').filter({ hasText: action }).first();
    // `junction start` made the admin account on the store: the command line.
    await expectText(rowOf('admin.create'), /Success\s+command line/);
    await expectText(rowOf('admin.create'), 'junction start');
    await expectText(rowOf('readings.status'), /Success\s+hub background work/);
    // A request's record keeps its HTTP status.
    await expectText(rowOf('session.create'), /HTTP 2\d\d/);
    for (const text of await table.getByRole('row').allTextContents()) expect(text).not.toMatch(/HTTP 0\b/);
    await expectAccessible(page, 'overview traffic audit');
    await screenshots(page, 'audit');

    // The CSV names who wrote such a record (actor kind and id) for a reader without the console.
    const csv = await (await page.request.get(`${hubUrl}/audit/events.csv`)).text();
    const [header, ...lines] = csv.trim().split('\r\n');
    const columns = (header ?? '').split(',');
    const made = (lines.find((l) => l.includes(',admin.create,')) ?? '').split(',');
    const field = (name: string) => made[columns.indexOf(name)];
    expect([field('actor_kind'), field('actor_id')]).toEqual(['operator', 'junction start']);

    expect(errors).toEqual([]);
    expect(failures).toEqual([]);
    await context.close();
  });
});
