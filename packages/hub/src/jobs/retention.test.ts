import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../store/database.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { HubJobs, type HubJobsOptions } from './hub-jobs.js';
import { countJobs, enqueueJob, getJob, listJobs } from './queue.js';
import { DAY_MS, PERIODIC_SUCCESS_KEPT_MS, purgeJobs } from './retention.js';
import { type JobHandler, PermanentJobError } from './runner.js';

/*
 * Job retention through the public surface: enqueue, run (HubJobs' runner), move the clock, sweep
 * (HubJobs.sweep, what its schedule runs), look (getJob / listJobs / countJobs).
 */
const T0 = Date.parse('2025-03-01T09:00:00.000Z');
const MIN = 60_000;
const silent = { warn: () => {}, error: () => {} };

describe.each(await testStores())('job retention on $dialect', (factory) => {
  let ts: TestStore;
  let store: Store;
  let t: number;
  const now = () => new Date(t);
  /** Outcome of the next run of each mesh.poll mailbox, and of mesh.send. */
  let pollFails: Set<string>;
  const hubs: HubJobs[] = [];

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip();
    ts = await factory.create();
    store = ts.store;
    t = T0;
    pollFails = new Set();
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const h of hubs.splice(0)) await h.stop();
    await ts?.cleanup();
  });

  const poll: JobHandler = async (job) => {
    const { mailboxId } = job.payload as { mailboxId: string };
    if (pollFails.has(mailboxId)) throw new Error(`MESH ${mailboxId} did not answer`);
    return { mailboxId, received: 0 };
  };
  const send: JobHandler = async (job) => {
    if ((job.payload as { refuse?: boolean }).refuse) throw new PermanentJobError('MESH refused: SEND 12');
    return { sent: true };
  };
  const report: JobHandler = async () => ({ ok: true });

  function hubJobs(retentionDays: number, extra: Partial<HubJobsOptions> = {}, on: Store = store) {
    const jobs = new HubJobs(on, {
      now,
      logger: silent,
      concurrency: 50,
      random: () => 0,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
      retention: { retentionDays, ...extra.retention },
      ...extra,
    });
    jobs.register('mesh.poll', poll);
    jobs.register('mesh.send', send);
    jobs.register('report', report);
    hubs.push(jobs);
    return jobs;
  }

  /** Enqueues and runs one job now (a `mesh.poll` as the poll schedule does: periodic); returns its id. */
  async function run(jobs: HubJobs, kind: string, payload: unknown, maxAttempts?: number) {
    const { job } = await enqueueJob(
      store,
      { kind, payload, ...(maxAttempts ? { maxAttempts } : {}), periodic: kind === 'mesh.poll' },
      { now },
    );
    await jobs.runner.runOnce();
    return job.id;
  }
  const exists = async (id: string) => (await getJob(store, id)) !== undefined;
  const eventRows = async (id: string) =>
    (await store.db.selectFrom('job_events').select('id').where('job_id', '=', id).execute()).length;

  it('succeeded jobs go with their history after 7 days; queued, failed and dead jobs of other kinds stay', async () => {
    const jobs = hubJobs(7);
    const old = await run(jobs, 'report', { n: 1 });
    const dead = await run(jobs, 'mesh.send', { refuse: true });
    const sent = await run(jobs, 'mesh.send', { refuse: false, n: 2 });
    const { job: later } = await enqueueJob(
      store,
      { kind: 'report', payload: { n: 3 }, runAfter: new Date(T0 + 365 * DAY_MS) },
      { now },
    );
    // One that fails and waits for its retry (failed), by a handler that throws once.
    let throwOnce = true;
    const flaky = new HubJobs(store, { now, logger: silent, backoff: { baseMs: DAY_MS, maxMs: DAY_MS } });
    hubs.push(flaky);
    flaky.register('flaky', async () => {
      if (throwOnce) {
        throwOnce = false;
        throw new Error('try later');
      }
    });
    const { job: failed } = await enqueueJob(store, { kind: 'flaky', payload: {} }, { now });
    await flaky.runner.runOnce();
    expect((await getJob(store, dead))?.status).toBe('dead');
    expect((await getJob(store, failed.id))?.status).toBe('failed');
    expect(await eventRows(old)).toBe(3); // enqueued, claimed, succeeded

    t = T0 + 6 * DAY_MS;
    const young = await run(jobs, 'report', { n: 4 });
    expect(await jobs.sweep()).toEqual({ succeeded: 0, superseded: 0, expired: 0 });

    t = T0 + 7 * DAY_MS + MIN;
    expect(await jobs.sweep()).toEqual({ succeeded: 2, superseded: 0, expired: 0 }); // old, and the successful send
    expect(await exists(old)).toBe(false);
    expect(await eventRows(old)).toBe(0);
    expect(await exists(sent)).toBe(false);
    for (const id of [dead, later.id, failed.id, young]) expect(await exists(id), id).toBe(true);

    t = T0 + 400 * DAY_MS;
    expect(await jobs.sweep()).toEqual({ succeeded: 1, superseded: 0, expired: 0 });
    expect(await exists(young)).toBe(false);
    // Work that did not happen stays until a person acts: dead, failed (waiting), queued.
    expect((await listJobs(store)).map((j) => j.id).sort()).toEqual([dead, later.id, failed.id].sort());
  });

  it('a dead periodic run (mesh.poll) goes once a later run of the same mailbox succeeded, or after 7 days', async () => {
    const jobs = hubJobs(7);
    pollFails = new Set(['X26ABC1', 'X26ABC2']);
    const x1 = await run(jobs, 'mesh.poll', { mailboxId: 'X26ABC1' }, 1);
    const y1 = await run(jobs, 'mesh.poll', { mailboxId: 'X26ABC2' }, 1);
    const sendDead = await run(jobs, 'mesh.send', { refuse: true });
    expect((await countJobs(store)).dead).toBe(3);
    t += 5_000;
    expect(await jobs.sweep()).toEqual({ succeeded: 0, superseded: 0, expired: 0 }); // no later success yet

    pollFails = new Set(['X26ABC2']);
    const x2 = await run(jobs, 'mesh.poll', { mailboxId: 'X26ABC1' }, 1);
    t += 5_000;
    pollFails = new Set(['X26ABC1', 'X26ABC2']);
    const x3 = await run(jobs, 'mesh.poll', { mailboxId: 'X26ABC1' }, 1); // dead after the success
    expect((await getJob(store, x2))?.status).toBe('succeeded');
    expect(await jobs.sweep()).toEqual({ succeeded: 0, superseded: 1, expired: 0 });
    expect(await exists(x1)).toBe(false);
    expect(await eventRows(x1)).toBe(0);
    // Another mailbox's failures are not made good by X26ABC1's success; a newer failure stays too.
    for (const id of [y1, x2, x3, sendDead]) expect(await exists(id), id).toBe(true);

    t = T0 + 7 * DAY_MS + MIN;
    expect(await jobs.sweep()).toEqual({ succeeded: 1, superseded: 0, expired: 2 });
    expect((await listJobs(store)).map((j) => j.id)).toEqual([sendDead]);
  });

  it('a successful periodic run goes an hour after it finished once a later run of its series succeeded; the latest stays', async () => {
    const jobs = hubJobs(7);
    const first = await run(jobs, 'mesh.poll', { mailboxId: 'X26ABC1' }, 1);
    const other = await run(jobs, 'mesh.poll', { mailboxId: 'X26ABC2' }, 1);
    const report1 = await run(jobs, 'report', { n: 1 });
    t += 5_000;
    const second = await run(jobs, 'mesh.poll', { mailboxId: 'X26ABC1' }, 1);
    t = T0 + PERIODIC_SUCCESS_KEPT_MS - 1;
    expect(await jobs.sweep()).toEqual({ succeeded: 0, superseded: 0, expired: 0 }); // an hour of polls stays
    t = T0 + PERIODIC_SUCCESS_KEPT_MS + 1;
    expect(await jobs.sweep()).toEqual({ succeeded: 1, superseded: 0, expired: 0 });
    expect(await exists(first)).toBe(false);
    // The latest success of each series stays (it says when the series last worked); one-off jobs too.
    for (const id of [second, other, report1]) expect(await exists(id), id).toBe(true);
  });

  it('retention 0 keeps every job forever', async () => {
    const jobs = hubJobs(0);
    pollFails = new Set(['X26ABC1']);
    await run(jobs, 'mesh.poll', { mailboxId: 'X26ABC1' }, 1);
    pollFails.clear();
    await run(jobs, 'mesh.poll', { mailboxId: 'X26ABC1' }, 1);
    await run(jobs, 'report', {});
    t = T0 + 10_000 * DAY_MS;
    expect(await jobs.sweep()).toEqual({ succeeded: 0, superseded: 0, expired: 0 });
    expect(await countJobs(store)).toMatchObject({ succeeded: 2, dead: 1 });
  });

  it('deletes in batches until nothing old is left (260 jobs, 40 per transaction)', async () => {
    const jobs = hubJobs(7, { retention: { retentionDays: 7, batchSize: 40 } });
    for (let i = 0; i < 260; i++) await enqueueJob(store, { kind: 'report', payload: { i } }, { now });
    while ((await jobs.runner.runOnce()).claimed > 0) {}
    expect((await countJobs(store)).succeeded).toBe(260);
    t = T0 + 8 * DAY_MS;
    expect(await jobs.sweep()).toEqual({ succeeded: 260, superseded: 0, expired: 0 });
    expect((await countJobs(store)).succeeded).toBe(0);
    expect((await store.db.selectFrom('job_events').select('id').execute()).length).toBe(0);
    await expect(purgeJobs(store, { retentionMs: DAY_MS, batchSize: 0 })).rejects.toThrow(RangeError);
  });

  it('runs on its schedule once started (every 10 minutes by default)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const jobs = hubJobs(7);
    const old = await run(jobs, 'report', {});
    t = T0 + 8 * DAY_MS;
    jobs.start();
    vi.advanceTimersByTime(10 * MIN - 1);
    expect(await exists(old)).toBe(true);
    vi.advanceTimersByTime(1);
    await vi.waitFor(async () => expect(await exists(old)).toBe(false));
  });

  it.runIf(factory.dialect === 'postgres')(
    'two hub instances sweeping at once delete each job once and never wait for each other',
    async () => {
      const other = await ts.openAnother();
      const a = hubJobs(7);
      const b = hubJobs(7, { retention: { retentionDays: 7, batchSize: 25 } }, other);
      for (let i = 0; i < 300; i++) await enqueueJob(store, { kind: 'report', payload: { i } }, { now });
      while ((await a.runner.runOnce()).claimed > 0) {}
      t = T0 + 8 * DAY_MS;
      const [sa, sb] = await Promise.all([a.sweep(), b.sweep()]);
      expect((sa?.succeeded ?? 0) + (sb?.succeeded ?? 0)).toBe(300);
      expect((await countJobs(store)).succeeded).toBe(0);
    },
  );
});
