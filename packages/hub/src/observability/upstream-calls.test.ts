import { PdsClient } from '@junction/client';
import { OperationOutcomeError } from '@junction/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/database.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { createMetrics } from './metrics.js';
import {
  LATENCY_BUCKETS_MS,
  quantileFromBuckets,
  readHttpMinutes,
  readLastCalls,
  readUpstreamMinutes,
} from './operations-stats.js';
import { outcomeOf, UpstreamCalls } from './upstream-calls.js';

const MINUTE = '2026-11-25T10:00:00.000Z';
const NEXT = '2026-11-25T10:01:00.000Z';

describe.each(await testStores())('operations statistics on $dialect', (factory) => {
  let t: TestStore;
  let other: Store;

  beforeAll(async () => {
    if (factory.skip) return;
    t = await factory.create();
    other = await t.openAnother();
  });
  afterAll(async () => {
    await other?.close();
    await t?.cleanup();
  });

  it.skipIf(factory.skip)(
    'a request PDS was never sent (a patch too deep to serialise) is no call: not counted, not a failure, not retried',
    async () => {
      const metrics = createMetrics({ defaultMetrics: false });
      const hour = '2026-11-25T09:00:00.000Z';
      const calls = new UpstreamCalls({ store: t.store, metrics, now: () => new Date(hour) });
      const sent: unknown[] = [];
      const fetch: typeof globalThis.fetch = async (...request) => {
        sent.push(request);
        return new Response('{}', { status: 200 });
      };
      const pds = new PdsClient({ baseUrl: 'https://pds.test/personal-demographics/FHIR/R4', fetch });
      let deep: unknown = 'female';
      for (let i = 0; i < 1_000_000; i++) deep = [deep];
      const patches = [{ op: 'replace' as const, path: '/gender', value: deep }];
      const error = await calls
        .time('pds', 'update', () => pds.updatePatient('9000000009', patches, { versionId: '1' }))
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 400, local: true, code: 'INVALID_VALUE' });
      expect(sent).toHaveLength(0);
      expect(await metrics.registry.metrics()).not.toMatch(/service="pds"/);
      await calls.flush();
      expect(await readUpstreamMinutes(t.store, hour, '2026-11-25T09:01:00.000Z')).toEqual([]);
    },
  );

  it.skipIf(factory.skip)(
    'two instances flushing into the same minute add up (calls, failures, latency sum, max, buckets, requests)',
    async () => {
      let clock = new Date('2026-11-25T10:00:10Z');
      const a = new UpstreamCalls({
        store: t.store,
        metrics: createMetrics({ defaultMetrics: false }),
        now: () => clock,
      });
      const b = new UpstreamCalls({
        store: other,
        metrics: createMetrics({ defaultMetrics: false }),
        now: () => clock,
      });
      a.record('pds', 'read', 20, { reachable: true, failed: false });
      a.record('pds', 'read', 700, { reachable: true, failed: false, status: 404 });
      b.record('pds', 'search', 40, { reachable: true, failed: false });
      b.record('pds', 'read', 3_000, { reachable: false, failed: true, status: 503 });
      a.recordRequest(200);
      a.recordRequest(404);
      b.recordRequest(500);
      b.recordRequest(200);
      await a.flush();
      await b.flush();
      // A second flush of the same minute by the same instance adds again (nothing is overwritten).
      clock = new Date('2026-11-25T10:00:50Z');
      a.record('pds', 'read', 5, { reachable: true, failed: false });
      await a.flush();

      const [row] = await readUpstreamMinutes(t.store, MINUTE, NEXT);
      expect(row).toMatchObject({ service: 'pds', minute: MINUTE, calls: 5, failures: 1 });
      expect(row?.latencySumMs).toBeCloseTo(20 + 700 + 40 + 3_000 + 5, 3);
      expect(row?.latencyMaxMs).toBeCloseTo(3_000, 3);
      // le_10: 5 ms; le_25: 20; le_50: 40; le_1000: 700; le_5000: 3000.
      const expected = [1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0];
      expect(row?.buckets).toEqual(expected);
      expect(await readHttpMinutes(t.store, MINUTE, NEXT)).toEqual([
        { minute: MINUTE, requests: 4, clientErrors: 1, serverErrors: 1 },
      ]);
      // Health: the latest call wins, whichever instance made it and whenever it flushed.
      const last = (await readLastCalls(t.store)).get('pds');
      expect(last).toMatchObject({ at: '2026-11-25T10:00:50.000Z', reachable: true });
      // b's older call, flushed later, does not overwrite it.
      clock = new Date('2026-11-25T10:00:30Z');
      b.record('pds', 'read', 1, { reachable: false, failed: true });
      await b.flush();
      expect((await readLastCalls(t.store)).get('pds')?.at).toBe('2026-11-25T10:00:50.000Z');
      await a.close();
      await b.close();
    },
  );

  it.skipIf(factory.skip)(
    'close() writes what was not flushed yet; the sweep deletes minutes older than 7 days',
    async () => {
      let clock = new Date('2026-11-01T08:00:00Z');
      const calls = new UpstreamCalls({
        store: t.store,
        metrics: createMetrics({ defaultMetrics: false }),
        now: () => clock,
      });
      calls.record('mesh', 'send', 12, { reachable: true, failed: false });
      calls.recordRequest(201);
      clock = new Date('2026-11-07T09:00:00Z');
      calls.record('mesh', 'send', 12, { reachable: true, failed: false });
      await calls.close();
      expect(
        await readUpstreamMinutes(t.store, '2026-11-01T08:00:00.000Z', '2026-11-01T08:01:00.000Z'),
      ).toHaveLength(1);

      clock = new Date('2026-11-09T08:30:00Z');
      const sweeper = new UpstreamCalls({
        store: t.store,
        metrics: createMetrics({ defaultMetrics: false }),
        now: () => clock,
      });
      expect(await sweeper.sweep()).toBe(2); // the 1 Nov upstream and http minutes
      expect(
        await readUpstreamMinutes(t.store, '2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z'),
      ).toEqual([]);
      expect(
        await readUpstreamMinutes(t.store, '2026-11-07T09:00:00.000Z', '2026-11-07T09:01:00.000Z'),
      ).toHaveLength(1);
    },
  );

  it.skipIf(factory.skip)(
    'instances flushing at the same moment, rows recorded in opposite orders: no deadlock, nothing lost',
    async () => {
      const clock = new Date('2026-11-25T11:00:00Z');
      const metrics = createMetrics({ defaultMetrics: false });
      const a = new UpstreamCalls({ store: t.store, metrics, now: () => clock });
      const b = new UpstreamCalls({ store: other, metrics, now: () => clock });
      const services = ['pds', 'mesh', 'cis2', 'nhs-login', 'api-platform-auth'] as const;
      for (let round = 0; round < 10; round++) {
        for (const s of services) a.record(s, 'x', 10, { reachable: true, failed: false });
        for (const s of [...services].reverse()) b.record(s, 'x', 10, { reachable: true, failed: false });
        a.recordRequest(200);
        b.recordRequest(200);
        // Two instances on one SQLite file are not a deployment (and better-sqlite3 would block
        // this one process); on PostgreSQL they flush at the same moment.
        if (factory.dialect === 'postgres') await Promise.all([a.flush(), b.flush()]);
        else await a.flush().then(() => b.flush());
      }
      const rows = await readUpstreamMinutes(t.store, '2026-11-25T11:00:00.000Z', '2026-11-25T11:01:00.000Z');
      expect(rows.map((r) => [r.service, r.calls]).sort()).toEqual(services.map((s) => [s, 20]).sort());
      const http = await readHttpMinutes(t.store, '2026-11-25T11:00:00.000Z', '2026-11-25T11:01:00.000Z');
      expect(http[0]?.requests).toBe(20);
    },
  );

  it.skipIf(factory.skip)('a failed flush keeps its minutes for the next one', async () => {
    const clock = new Date('2026-11-20T12:00:00Z');
    const broken = await t.openAnother();
    const calls = new UpstreamCalls({
      store: broken,
      metrics: createMetrics({ defaultMetrics: false }),
      now: () => clock,
    });
    calls.record('cis2', 'token', 80, { reachable: true, failed: false });
    await broken.close();
    await expect(calls.flush()).rejects.toThrow();
    // Same minutes, now through a working store.
    (calls as unknown as { store: Store }).store = t.store;
    await calls.flush();
    const rows = await readUpstreamMinutes(t.store, '2026-11-20T12:00:00.000Z', '2026-11-20T12:01:00.000Z');
    expect(rows).toMatchObject([{ service: 'cis2', calls: 1 }]);
  });
});

describe('latency quantiles from buckets', () => {
  /** A deterministic log-normal-ish sample (median ~120 ms, long tail), as NHS API latencies are. */
  function sample(n: number): number[] {
    const out: number[] = [];
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return (seed + 0.5) / 2 ** 31;
    };
    for (let i = 0; i < n; i++) {
      const z = Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
      out.push(Math.exp(Math.log(120) + 0.8 * z));
    }
    return out;
  }
  const exact = (sorted: number[], q: number) => sorted[Math.ceil(q * sorted.length) - 1] ?? 0;
  const bucketOf = (ms: number) => LATENCY_BUCKETS_MS.findIndex((le) => ms <= le);

  it('p50 and p95 of a known distribution fall in the same bucket as the exact ones, and near them', async () => {
    const latencies = sample(10_000);
    const calls = new UpstreamCalls({
      store: undefined as never,
      metrics: createMetrics({ defaultMetrics: false }),
      now: () => new Date('2026-11-25T10:00:00Z'),
    });
    for (const ms of latencies) calls.record('pds', 'read', ms, { reachable: true, failed: false });
    const [minute] = (
      calls as unknown as { upstream: Map<string, { buckets: number[]; latencyMaxMs: number }> }
    ).upstream.values();
    const sorted = [...latencies].sort((x, y) => x - y);
    for (const q of [0.5, 0.95]) {
      const estimate = quantileFromBuckets(minute?.buckets ?? [], q, minute?.latencyMaxMs ?? 0) ?? -1;
      const truth = exact(sorted, q);
      expect(bucketOf(estimate)).toBe(bucketOf(truth));
      // Linear interpolation inside a bucket: within 15% here (the buckets are ~2.5× wide).
      expect(Math.abs(estimate - truth) / truth).toBeLessThan(0.15);
    }
  });

  it('a uniform 1..1000 ms distribution gives p95 = 950 exactly; no calls give null; the open bucket stops at the max', () => {
    const buckets = LATENCY_BUCKETS_MS.map(() => 0).concat(0);
    for (let ms = 1; ms <= 1000; ms++) {
      const i = bucketOf(ms);
      buckets[i] = (buckets[i] ?? 0) + 1;
    }
    expect(quantileFromBuckets(buckets, 0.95, 1000)).toBe(950);
    expect(quantileFromBuckets(buckets, 0.5, 1000)).toBe(500);
    expect(
      quantileFromBuckets(
        buckets.map(() => 0),
        0.95,
        0,
      ),
    ).toBeNull();
    const slow = buckets.map(() => 0);
    slow[slow.length - 1] = 4; // four calls over 30 s
    expect(quantileFromBuckets(slow, 0.95, 42_000)).toBeLessThanOrEqual(42_000);
    expect(quantileFromBuckets(slow, 0.95, 42_000)).toBeGreaterThan(30_000);
  });
});

describe('how a failed call counts', () => {
  it('an HTTP answer is reachable; 5xx, 429 and no answer are failures; a 404 is not', () => {
    expect(outcomeOf(OperationOutcomeError.spine('RESOURCE_NOT_FOUND'))).toEqual({
      reachable: true,
      failed: false,
      status: 404,
    });
    expect(outcomeOf(OperationOutcomeError.spine('TOO_MANY_REQUESTS'))).toMatchObject({
      reachable: true,
      failed: true,
      status: 429,
    });
    expect(outcomeOf(OperationOutcomeError.spine('UNABLE_TO_CALL_SERVICE'))).toMatchObject({
      reachable: false,
      failed: true,
    });
    expect(outcomeOf(new TypeError('fetch failed'))).toEqual({ reachable: false, failed: true });
  });
});
