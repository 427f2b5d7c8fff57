import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../store/database.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { countJobs, enqueueJob, getJob, listJobs } from './queue.js';
import { type JobHandler, JobRunner } from './runner.js';

/*
 * Proves that two hub instances on one PostgreSQL work the same queue without running any
 * job twice. Two stores (two connection pools, as two hub processes would have), one runner each,
 * several jobs in flight per runner. SQLite is one hub per file (better-sqlite3 waits for the write
 * lock synchronously, so two connections in one process would stall each other), so this is
 * PostgreSQL only.
 */
const postgres = (await testStores()).filter((f) => f.dialect === 'postgres');
const silent = { warn: () => {}, error: () => {} };

describe.each(postgres)('two hub instances on one $dialect', (factory) => {
  let ts: TestStore;
  let a: Store;
  let b: Store;
  const runners: JobRunner[] = [];

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip();
    ts = await factory.create();
    a = ts.store;
    b = await ts.openAnother();
  });
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop({ graceMs: 0 });
    await ts?.cleanup();
  });

  /** Each execution, by job id: who ran it and at which attempt. */
  function recorder(delayMs: () => number) {
    const runs = new Map<string, string[]>();
    const handler: JobHandler = async (job, ctx) => {
      const list = runs.get(job.id) ?? [];
      list.push(`${ctx.owner}#${ctx.attempt}`);
      runs.set(job.id, list);
      await sleep(delayMs());
      return { by: ctx.owner };
    };
    return { runs, handler };
  }

  async function untilAllSucceeded(store: Store, total: number) {
    for (;;) {
      const counts = await countJobs(store);
      if (counts.succeeded === total) return;
      if (counts.dead > 0) throw new Error(`jobs dead-lettered: ${JSON.stringify(counts)}`);
      await sleep(25);
    }
  }

  async function enqueueMany(n: number) {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { job } = await enqueueJob(i % 2 ? a : b, {
        kind: 'record',
        payload: { i },
        idempotencyKey: `job-${i}`,
      });
      ids.push(job.id);
    }
    return ids;
  }

  async function expectEachRanOnce(ids: string[], runs: Map<string, string[]>) {
    for (const id of ids) expect(runs.get(id), `job ${id}`).toHaveLength(1);
    expect(runs.size).toBe(ids.length);
    const jobs = await listJobs(a, { limit: 1_000 });
    expect(jobs.filter((j) => j.status === 'succeeded' && j.attempts === 1)).toHaveLength(ids.length);
    for (const id of ids.slice(0, 50)) {
      const events = (await getJob(b, id))?.events.map((e) => e.event);
      expect(events).toEqual(['enqueued', 'claimed', 'succeeded']);
    }
  }

  it('a few hundred jobs, two runners with concurrency 8: every job runs exactly once and succeeds', async () => {
    const ids = await enqueueMany(400);
    const { runs, handler } = recorder(() => Math.floor(Math.random() * 3));
    for (const [store, owner] of [
      [a, 'hub-a'],
      [b, 'hub-b'],
    ] as const) {
      const r = new JobRunner(store, {
        handlers: { record: handler },
        owner,
        concurrency: 8,
        pollMs: 10,
        logger: silent,
      });
      runners.push(r);
      r.start();
    }
    await untilAllSucceeded(a, ids.length);
    await Promise.all(runners.map((r) => r.stop()));
    await expectEachRanOnce(ids, runs);
    const owners = [...runs.values()].map((list) => list[0]?.split('#')[0]);
    // Both instances did work (each claims at most 8 at a time, so neither can take all 400).
    expect(new Set(owners)).toEqual(new Set(['hub-a', 'hub-b']));
  }, 120_000);

  it('slow handlers with short leases: renewal keeps each job with its runner, none runs twice', async () => {
    const ids = await enqueueMany(16);
    // Each handler runs for over three lease lengths; only the heartbeat keeps the lease.
    const { runs, handler } = recorder(() => 2_500);
    for (const [store, owner] of [
      [a, 'slow-a'],
      [b, 'slow-b'],
    ] as const) {
      const r = new JobRunner(store, {
        handlers: { record: handler },
        owner,
        concurrency: 4,
        pollMs: 10,
        leaseMs: 1_000,
        renewEveryMs: 100,
        logger: silent,
      });
      runners.push(r);
      r.start();
    }
    await untilAllSucceeded(a, ids.length);
    await Promise.all(runners.map((r) => r.stop()));
    await expectEachRanOnce(ids, runs);
  }, 120_000);
});
