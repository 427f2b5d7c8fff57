import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../store/database.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import {
  claimJobs,
  completeJob,
  countJobs,
  enqueueJob,
  failJob,
  getJob,
  type Job,
  JobError,
  listJobs,
  retryJob,
} from './queue.js';
import { type JobContext, type JobHandler, JobRunner, PermanentJobError } from './runner.js';

const T0 = Date.parse('2025-03-01T09:00:00.000Z');
const silent = { warn: () => {}, error: () => {} };

describe.each(await testStores())('durable jobs on $dialect', (factory) => {
  let ts: TestStore;
  let store: Store;
  let t: number;
  const now = () => new Date(t);
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip();
    ts = await factory.create();
    store = ts.store;
    t = T0;
  });
  afterEach(async () => {
    await ts?.cleanup();
  });

  function runner(
    handlers: Record<string, JobHandler>,
    extra: Partial<ConstructorParameters<typeof JobRunner>[1]> = {},
  ) {
    return new JobRunner(store, {
      handlers,
      owner: 'runner-a',
      leaseMs: 60_000,
      now,
      random: () => 0.5,
      logger: silent,
      ...extra,
    });
  }

  const events = async (id: string) =>
    (await getJob(store, id))?.events.map((e) => `${e.event}:${e.attempt}:${e.owner ?? '-'}`);

  it('enqueue: a job is a queued row; the same kind + idempotency key returns the first job', async () => {
    const first = await enqueueJob(
      store,
      { kind: 'mesh.send', payload: { n: 1 }, idempotencyKey: 'msg-1', correlationId: 'corr-1' },
      { now },
    );
    expect(first.created).toBe(true);
    expect(first.job).toMatchObject({
      kind: 'mesh.send',
      payload: { n: 1 },
      idempotencyKey: 'msg-1',
      status: 'queued',
      attempts: 0,
      maxAttempts: 10,
      runAfter: iso(T0),
      correlationId: 'corr-1',
      result: null,
    });
    const again = await enqueueJob(
      store,
      { kind: 'mesh.send', payload: { n: 2 }, idempotencyKey: 'msg-1' },
      { now },
    );
    expect(again.created).toBe(false);
    expect(again.job.id).toBe(first.job.id);
    expect(again.job.payload).toEqual({ n: 1 });
    const otherKind = await enqueueJob(store, { kind: 'mesh.track', payload: {}, idempotencyKey: 'msg-1' });
    expect(otherKind.created).toBe(true);
    const noKey = await enqueueJob(store, { kind: 'mesh.send', payload: null });
    expect(noKey.job.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await events(first.job.id)).toEqual(['enqueued:0:-']);
    expect((await countJobs(store)).queued).toBe(3);
  });

  it('enqueue: concurrent enqueues of one key (from two hub instances on PostgreSQL) create one job', async () => {
    // better-sqlite3 waits for a lock synchronously, so two connections in one process would block
    // each other: SQLite is one hub per file, and its concurrent enqueues share one connection.
    const other = factory.dialect === 'postgres' ? await ts.openAnother() : store;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        enqueueJob(i % 2 ? store : other, { kind: 'k', payload: i, idempotencyKey: 'same' }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
    expect(await listJobs(store)).toHaveLength(1);
  });

  it('enqueue refuses a bad kind, key, payload or maxAttempts', async () => {
    await expect(enqueueJob(store, { kind: 'no spaces', payload: 1 })).rejects.toThrow(JobError);
    await expect(enqueueJob(store, { kind: 'k', payload: 1, idempotencyKey: '' })).rejects.toThrow(
      /idempotencyKey/,
    );
    await expect(enqueueJob(store, { kind: 'k', payload: undefined })).rejects.toThrow(/JSON/);
    await expect(enqueueJob(store, { kind: 'k', payload: 1, maxAttempts: 0 })).rejects.toThrow(/maxAttempts/);
    await expect(enqueueJob(store, { kind: 'k', payload: 1, runAfter: new Date('soon') })).rejects.toThrow(
      /runAfter/,
    );
    expect(await listJobs(store)).toEqual([]);
  });

  it('success: the handler gets payload, attempt, key and correlation id; the result is recorded once', async () => {
    const { job } = await enqueueJob(
      store,
      { kind: 'echo', payload: { text: 'hi' }, idempotencyKey: 'key-1', correlationId: 'corr-9' },
      { now },
    );
    const seen: JobContext[] = [];
    const r = runner({
      echo: async (j, ctx) => {
        seen.push(ctx);
        return { echoed: (j.payload as { text: string }).text };
      },
    });
    expect(await r.runOnce()).toMatchObject({ claimed: 1, outcomes: { succeeded: 1 } });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      jobId: job.id,
      attempt: 1,
      idempotencyKey: 'key-1',
      correlationId: 'corr-9',
      owner: 'runner-a',
    });
    const done = await getJob(store, job.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      result: { echoed: 'hi' },
      leaseOwner: null,
      finishedAt: iso(T0),
    });
    expect(await events(job.id)).toEqual(['enqueued:0:-', 'claimed:1:runner-a', 'succeeded:1:runner-a']);
    expect((await r.runOnce()).claimed).toBe(0);
  });

  it('a job without a key gives its handler its id as the key; runAfter in the future waits', async () => {
    const { job } = await enqueueJob(
      store,
      { kind: 'echo', payload: 1, runAfter: new Date(T0 + 5_000) },
      { now },
    );
    const keys: string[] = [];
    const r = runner({ echo: async (_j, ctx) => keys.push(ctx.idempotencyKey) });
    expect((await r.runOnce()).claimed).toBe(0);
    t = T0 + 5_000;
    expect((await r.runOnce()).claimed).toBe(1);
    expect(keys).toEqual([job.id]);
  });

  it('a runner claims only the kinds it has handlers for', async () => {
    await enqueueJob(store, { kind: 'theirs', payload: 1 }, { now });
    expect((await runner({ mine: async () => 1 }).runOnce()).claimed).toBe(0);
  });

  it('failure: retried with exponential backoff and full jitter (computed run_after), then dead-lettered', async () => {
    const { job } = await enqueueJob(store, { kind: 'flaky', payload: {}, maxAttempts: 3 }, { now });
    const r = runner(
      { flaky: async (_j, ctx) => Promise.reject(new Error(`remote said no (${ctx.attempt})`)) },
      { backoff: { baseMs: 1_000, maxMs: 1_500, jitter: 'full' } },
    );
    expect((await r.runOnce()).outcomes.failed).toBe(1);
    // attempt 1: min(1500, 1000·2⁰) · 0.5 = 500 ms
    let j = (await getJob(store, job.id)) as Job;
    expect(j).toMatchObject({
      status: 'failed',
      attempts: 1,
      runAfter: iso(T0 + 500),
      lastError: 'remote said no (1)',
    });
    t = T0 + 499;
    expect((await r.runOnce()).claimed).toBe(0);
    t = T0 + 500;
    expect((await r.runOnce()).outcomes.failed).toBe(1);
    // attempt 2: min(1500, 1000·2¹) · 0.5 = 750 ms
    j = (await getJob(store, job.id)) as Job;
    expect(j).toMatchObject({ status: 'failed', attempts: 2, runAfter: iso(T0 + 500 + 750) });
    t = T0 + 1_250;
    expect((await r.runOnce()).outcomes.dead).toBe(1);
    const dead = await getJob(store, job.id);
    expect(dead).toMatchObject({
      status: 'dead',
      attempts: 3,
      lastError: 'remote said no (3)',
      finishedAt: iso(T0 + 1_250),
    });
    expect(dead?.events.at(-1)?.detail).toBe('failed 3 of 3 attempts; last error: remote said no (3)');
    expect(dead?.events.map((e) => e.event)).toEqual([
      'enqueued',
      'claimed',
      'failed',
      'claimed',
      'failed',
      'claimed',
      'failed',
      'dead',
    ]);
    t += 10_000_000;
    expect((await r.runOnce()).claimed).toBe(0);
  });

  it('a PermanentJobError dead-letters at once', async () => {
    const { job } = await enqueueJob(store, { kind: 'bad', payload: {} }, { now });
    const r = runner({ bad: async () => Promise.reject(new PermanentJobError('unknown recipient')) });
    expect((await r.runOnce()).outcomes.dead).toBe(1);
    const dead = await getJob(store, job.id);
    expect(dead).toMatchObject({
      status: 'dead',
      attempts: 1,
      lastError: 'PermanentJobError: unknown recipient',
    });
    expect(dead?.events.at(-1)?.detail).toBe('failed permanently: PermanentJobError: unknown recipient');
  });

  it('a result that is not JSON fails the attempt instead of crashing', async () => {
    const { job } = await enqueueJob(store, { kind: 'k', payload: {}, maxAttempts: 1 }, { now });
    const r = runner({ k: async () => ({ n: 1n }) });
    expect((await r.runOnce()).outcomes.dead).toBe(1);
    expect((await getJob(store, job.id))?.lastError).toMatch(/cannot be stored as JSON/);
  });

  it('manual retry: a dead job runs again (one more attempt by default); other states are refused', async () => {
    const { job } = await enqueueJob(store, { kind: 'k', payload: {}, maxAttempts: 1 }, { now });
    let fail = true;
    const r = runner({
      k: async () => {
        if (fail) throw new Error('down');
        return 'ok';
      },
    });
    await r.runOnce();
    expect((await getJob(store, job.id))?.status).toBe('dead');
    t += 60_000;
    const retried = await retryJob(store, job.id, { now, by: 'cli' });
    expect(retried).toMatchObject({
      status: 'queued',
      attempts: 1,
      maxAttempts: 2,
      runAfter: iso(t),
      finishedAt: null,
    });
    fail = false;
    expect((await r.runOnce()).outcomes.succeeded).toBe(1);
    const done = await getJob(store, job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, result: 'ok' });
    expect(done?.events.find((e) => e.event === 'retried')).toMatchObject({
      owner: 'cli',
      detail: 'was dead; 1 more attempt(s) allowed',
    });
    await expect(retryJob(store, job.id)).rejects.toMatchObject({ code: 'not-retryable' });
    await expect(retryJob(store, '00000000-0000-0000-0000-000000000000')).rejects.toMatchObject({
      code: 'not-found',
    });
  });

  it('manual retry of a failed job makes it due now without changing its budget', async () => {
    const { job } = await enqueueJob(store, { kind: 'k', payload: {}, maxAttempts: 5 }, { now });
    await runner(
      { k: async () => Promise.reject(new Error('x')) },
      { backoff: { baseMs: 60_000 } },
    ).runOnce();
    expect((await getJob(store, job.id))?.runAfter).toBe(iso(T0 + 30_000));
    const retried = await retryJob(store, job.id, { now, attempts: 3 });
    expect(retried).toMatchObject({ status: 'queued', runAfter: iso(T0), maxAttempts: 5 });
  });

  it('lease expiry: a crashed runner’s job is reclaimed after its lease, as a new attempt, in the history', async () => {
    const { job } = await enqueueJob(store, { kind: 'k', payload: {} }, { now });
    const [crashed] = await claimJobs(store, {
      owner: 'crashed',
      kinds: ['k'],
      limit: 5,
      leaseMs: 1_000,
      now,
    });
    expect(crashed).toMatchObject({
      id: job.id,
      status: 'running',
      attempts: 1,
      leaseOwner: 'crashed',
      leaseExpiresAt: iso(T0 + 1_000),
    });
    const attempts: number[] = [];
    const r = runner({
      k: async (_j, ctx) => {
        attempts.push(ctx.attempt);
        return ctx.attempt;
      },
    });
    expect((await r.runOnce()).claimed).toBe(0);
    t = T0 + 1_000;
    expect((await r.runOnce()).claimed).toBe(0);
    t = T0 + 1_001;
    expect(await r.runOnce()).toMatchObject({ claimed: 1, outcomes: { succeeded: 1 } });
    expect(attempts).toEqual([2]);
    expect(await events(job.id)).toEqual([
      'enqueued:0:-',
      'claimed:1:crashed',
      'lease-expired:1:crashed',
      'claimed:2:runner-a',
      'succeeded:2:runner-a',
    ]);
    // The crashed runner comes back and tries to finish: refused, noted, result unchanged.
    const stale = { jobId: job.id, owner: 'crashed', attempt: 1 };
    expect(await completeJob(store, stale, 'late', { now })).toBe(false);
    expect(await failJob(store, stale, 'late error', { now, retryAt: null })).toBe('refused');
    const after = await getJob(store, job.id);
    expect(after).toMatchObject({ status: 'succeeded', result: 2 });
    expect(after?.events.slice(-2).map((e) => e.event)).toEqual(['stale-completion', 'stale-completion']);
  });

  it('a lease that expires on the last attempt dead-letters the job with the reason', async () => {
    const { job } = await enqueueJob(store, { kind: 'k', payload: {}, maxAttempts: 1 }, { now });
    await claimJobs(store, { owner: 'crashed', kinds: ['k'], limit: 1, leaseMs: 1_000, now });
    t = T0 + 2_000;
    expect((await runner({ k: async () => 1 }).runOnce()).claimed).toBe(0);
    const dead = await getJob(store, job.id);
    expect(dead?.status).toBe('dead');
    expect(dead?.lastError).toMatch(
      /lease of attempt 1 held by crashed expired at .*no attempts remain \(1 of 1\)/,
    );
  });

  it('stale owner: after the lease is re-taken, only the new owner can record the result', async () => {
    const other = await ts.openAnother();
    const { job } = await enqueueJob(store, { kind: 'k', payload: {} }, { now });
    const [a] = await claimJobs(store, { owner: 'A', kinds: ['k'], limit: 1, leaseMs: 1_000, now });
    t += 1_001;
    const [b] = await claimJobs(other, { owner: 'B', kinds: ['k'], limit: 1, leaseMs: 1_000, now });
    expect([a?.attempts, b?.attempts]).toEqual([1, 2]);
    expect(await completeJob(store, { jobId: job.id, owner: 'A', attempt: 1 }, 'from A', { now })).toBe(
      false,
    );
    expect(await completeJob(other, { jobId: job.id, owner: 'B', attempt: 2 }, 'from B', { now })).toBe(true);
    expect(await completeJob(other, { jobId: job.id, owner: 'B', attempt: 2 }, 'twice', { now })).toBe(false);
    const done = await getJob(store, job.id);
    expect(done).toMatchObject({ status: 'succeeded', result: 'from B' });
    expect(done?.events.filter((e) => e.event === 'succeeded')).toHaveLength(1);
  });

  it('a runner whose lease is lost aborts its handler, and its outcome is refused', async () => {
    const { job } = await enqueueJob(store, { kind: 'k', payload: {} }, { now });
    let aborted = false;
    const r = runner(
      {
        k: (_j, ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              reject(ctx.signal.reason);
            }),
          ),
      },
      // Runner A's clock stands still, so its renewals keep extending to T0 + 1 s, while B's clock
      // is 10 s later: B finds the lease expired whenever A's heartbeat runs (A stalled).
      { leaseMs: 1_000, renewEveryMs: 5, now: () => new Date(T0) },
    );
    const pass = r.runOnce();
    while ((await getJob(store, job.id))?.status !== 'running')
      await new Promise((res) => setTimeout(res, 5));
    // On PostgreSQL a claim skips a row locked at that instant by A's renewal: try again.
    let taken: Job | undefined;
    while (!taken) {
      [taken] = await claimJobs(store, {
        owner: 'B',
        kinds: ['k'],
        limit: 1,
        leaseMs: 60_000,
        now: () => new Date(T0 + 10_000),
      });
    }
    expect(taken.attempts).toBe(2);
    expect(await pass).toMatchObject({ outcomes: { refused: 1 } });
    expect(aborted).toBe(true);
    expect((await getJob(store, job.id))?.leaseOwner).toBe('B');
  });

  it('jobs survive a restart: close the store, reopen, the job is there and runs; a crashed run is reclaimed', async () => {
    const { job: queued } = await enqueueJob(
      store,
      { kind: 'k', payload: { a: 1 }, idempotencyKey: 'survivor' },
      { now },
    );
    const { job: interrupted } = await enqueueJob(store, { kind: 'k', payload: { a: 2 } }, { now });
    await claimJobs(store, { owner: 'dies', kinds: ['k'], limit: 1, leaseMs: 30_000, now }); // takes the first due
    await store.close();
    const reopened = await ts.openAnother();
    expect((await listJobs(reopened)).map((j) => j.status).sort()).toEqual(['queued', 'running']);
    const ran: unknown[] = [];
    const r = new JobRunner(reopened, {
      handlers: { k: async (j) => ran.push(j.payload) },
      now,
      logger: silent,
      leaseMs: 30_000,
    });
    await r.runOnce();
    t += 30_001;
    await r.runOnce();
    expect(ran).toHaveLength(2);
    expect((await getJob(reopened, queued.id))?.status).toBe('succeeded');
    expect((await getJob(reopened, interrupted.id))?.status).toBe('succeeded');
  });

  it('stop(): running handlers may finish within the grace period', async () => {
    const { job } = await enqueueJob(store, { kind: 'k', payload: {} });
    let finish: () => void = () => {};
    let started: () => void = () => {};
    const startedP = new Promise<void>((res) => {
      started = res;
    });
    const r = new JobRunner(store, {
      handlers: {
        k: () => {
          started();
          return new Promise((res) => {
            finish = () => res('finished');
          });
        },
      },
      pollMs: 10,
      logger: silent,
    });
    r.start();
    await startedP;
    const stopping = r.stop({ graceMs: 30_000 });
    finish();
    await stopping;
    expect((await getJob(store, job.id))?.status).toBe('succeeded');
  });

  it('stop(): a handler still running after the grace period is aborted and its job released', async () => {
    const { job } = await enqueueJob(store, { kind: 'k', payload: {} });
    let started: () => void = () => {};
    const startedP = new Promise<void>((res) => {
      started = res;
    });
    let aborted = false;
    const r = new JobRunner(store, {
      handlers: {
        k: (_j, ctx) => {
          started();
          return new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              reject(ctx.signal.reason);
            }),
          );
        },
      },
      pollMs: 10,
      logger: silent,
    });
    r.start();
    await startedP;
    await r.stop({ graceMs: 20 });
    expect(aborted).toBe(true);
    const released = await getJob(store, job.id);
    expect(released).toMatchObject({ status: 'queued', leaseOwner: null, attempts: 1 });
    expect(released?.events.map((e) => e.event)).toContain('released');
    // Due again at once for any runner.
    expect(
      (await new JobRunner(store, { handlers: { k: async () => 'ok' }, logger: silent }).runOnce()).outcomes
        .succeeded,
    ).toBe(1);
  });

  it('listJobs filters by status, kind and correlation id, newest first', async () => {
    for (let i = 0; i < 5; i++) {
      t = T0 + i;
      await enqueueJob(
        store,
        { kind: i % 2 ? 'odd' : 'even', payload: i, correlationId: i < 2 ? 'c-low' : 'c-high' },
        { now },
      );
    }
    expect((await listJobs(store)).map((j) => j.payload)).toEqual([4, 3, 2, 1, 0]);
    expect((await listJobs(store, { kind: 'odd' })).map((j) => j.payload)).toEqual([3, 1]);
    expect((await listJobs(store, { correlationId: 'c-low' })).map((j) => j.payload)).toEqual([1, 0]);
    expect((await listJobs(store, { limit: 2, offset: 1 })).map((j) => j.payload)).toEqual([3, 2]);
    await runner({ even: async () => 'done' }).runOnce();
    expect((await listJobs(store, { status: 'succeeded' })).map((j) => j.payload)).toEqual([4, 2, 0]);
    expect(await countJobs(store)).toEqual({ queued: 2, running: 0, succeeded: 3, failed: 0, dead: 0 });
  });
});
