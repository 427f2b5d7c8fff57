import { dirname } from 'node:path';
import { enqueueJob, type Job, JobRunner, type JobWithEvents, PermanentJobError } from '@junction/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestStore, testStores } from '../../../hub/src/testing/test-stores.js';
import { runCli } from '../program.js';
import { testRuntime } from '../test-runtime.js';

// `junction jobs list|show|retry` in-process over a store (SQLite and PostgreSQL) whose jobs were enqueued with
// the hub's enqueueJob and worked by its JobRunner: the CLI opens the same store as another process would.

const quiet = { warn: () => {}, error: () => {} };

describe.each(await testStores())('junction jobs on $dialect', (factory) => {
  let t: TestStore;
  let store: string[];
  let dead: Job;
  let succeeded: Job;
  let queued: Job;
  let failed: Job;
  /** What the `mesh.send` handler does for each message log id: throw, or return a result. */
  const behaviour = new Map<string, () => unknown>();

  const run = async (args: string[]) => {
    const rt = testRuntime();
    const code = await runCli([...args, ...store], rt);
    return { code, out: rt.out(), err: rt.err() };
  };
  const runner = () =>
    new JobRunner(t.store, {
      logger: quiet,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
      random: () => 0.5,
      handlers: {
        'mesh.send': async (job) => {
          const id = (job.payload as { messageLogId: string }).messageLogId;
          return behaviour.get(id)?.();
        },
      },
    });

  beforeAll(async () => {
    if (factory.skip) return;
    t = await factory.create();
    store = factory.dialect === 'sqlite' ? ['--data-dir', dirname(t.url)] : ['--database-url', t.url];
    // One second apart (all due already), so "newest first" has one answer.
    let second = 0;
    const at = { now: () => new Date(Date.now() - 600_000 + 1_000 * ++second) };
    const enqueue = async (id: string, correlationId: string, maxAttempts: number) =>
      (
        await enqueueJob(
          t.store,
          {
            kind: 'mesh.send',
            payload: { messageLogId: id },
            idempotencyKey: `mesh.send:${id}`,
            correlationId,
            maxAttempts,
          },
          at,
        )
      ).job;
    dead = await enqueue('log-1', 'corr-A', 3);
    succeeded = await enqueue('log-2', 'corr-B', 3);
    failed = await enqueue('log-3', 'corr-B', 3);
    // No handler for this kind in the runner: it stays queued.
    queued = (
      await enqueueJob(
        t.store,
        {
          kind: 'mesh.poll',
          payload: { mailboxId: 'X26ABC1' },
          correlationId: 'corr-C',
        },
        at,
      )
    ).job;
    behaviour.set('log-1', () => {
      throw new PermanentJobError('MESH send message failed: HTTP 417, SEND 12 Unregistered to address');
    });
    behaviour.set('log-2', () => ({ messageId: '20250101000000000000_ABCDEF' }));
    behaviour.set('log-3', () => {
      throw new Error('MESH send message failed (Error ECONNREFUSED)');
    });
    const summary = await runner().runOnce();
    expect(summary.outcomes).toMatchObject({ dead: 1, succeeded: 1, failed: 1 });
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  const itDb = factory.skip ? it.skip : it;

  itDb(
    'lists jobs newest first with a count per status, and filters by status, kind, correlation id',
    async () => {
      const all = await run(['jobs', 'list']);
      expect(all.code, all.err).toBe(0);
      const lines = all.out.trimEnd().split('\n');
      expect(lines[0]).toBe('jobs: queued 1, running 0, succeeded 1, failed 1, dead 1');
      expect(lines[1]).toMatch(/^id +kind +status +attempts +created +next run \/ finished +last error$/);
      // Newest first: the poll job was enqueued last.
      expect(lines.slice(2).map((l) => l.split(/ +/)[0])).toEqual([
        queued.id,
        failed.id,
        succeeded.id,
        dead.id,
      ]);
      expect(all.out).toMatch(
        new RegExp(
          `^${dead.id} +mesh\\.send +dead +1/3 .*: MESH send message failed: HTTP 417, SEND 12 Unregistered`,
          'm',
        ),
      );
      expect(all.out).toMatch(new RegExp(`^${failed.id} +mesh\\.send +failed +1/3 .*ECONNREFUSED`, 'm'));

      const deadOnly = await run(['jobs', 'list', '--status', 'dead', '--json']);
      expect((JSON.parse(deadOnly.out) as Job[]).map((j) => j.id)).toEqual([dead.id]);
      const polls = await run(['jobs', 'list', '--kind', 'mesh.poll', '--json']);
      expect((JSON.parse(polls.out) as Job[]).map((j) => [j.id, j.status])).toEqual([[queued.id, 'queued']]);
      const corrB = await run(['jobs', 'list', '--correlation-id', 'corr-B', '--json']);
      expect((JSON.parse(corrB.out) as Job[]).map((j) => j.id).sort()).toEqual(
        [succeeded.id, failed.id].sort(),
      );
      const one = await run(['jobs', 'list', '--limit', '1']);
      expect(one.out).toContain(queued.id);
      expect(one.out).not.toContain(dead.id);
      expect(one.out).toContain('(first 1; --limit for more, up to 1000)');
      const nothing = await run(['jobs', 'list', '--correlation-id', 'no-such-correlation']);
      expect(nothing.out).toMatch(/\nno job matches\n$/);

      const badStatus = await run(['jobs', 'list', '--status', 'stuck']);
      expect(badStatus.code).toBe(1);
      expect(badStatus.err).toContain(
        "argument 'stuck' is invalid. Allowed choices are queued, running, succeeded, failed, dead.",
      );
    },
  );

  itDb('shows one job with its payload and full history', async () => {
    const shown = await run(['jobs', 'show', dead.id]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(new RegExp(`^job: +${dead.id}$`, 'm'));
    expect(shown.out).toMatch(/^status: +dead$/m);
    expect(shown.out).toMatch(/^attempts: +1 of 3$/m);
    expect(shown.out).toMatch(/^correlation id: +corr-A$/m);
    expect(shown.out).toMatch(/^idempotency key: +mesh\.send:log-1$/m);
    expect(shown.out).toMatch(/^payload: +\{"messageLogId":"log-1"\}$/m);
    expect(shown.out).toMatch(
      /^last error: +PermanentJobError: MESH send message failed: HTTP 417, SEND 12 Unregistered to address$/m,
    );
    const history = shown.out.slice(shown.out.indexOf('history:'));
    expect(
      history
        .split('\n')
        .slice(2, -1)
        .map((l) => l.trim().split(/ +/)[1]),
    ).toEqual(['enqueued', 'claimed', 'failed', 'dead']);
    expect(history).toMatch(
      /dead +1 +\S+ +failed permanently: PermanentJobError: MESH send message failed: HTTP 417, SEND 12/,
    );

    const json = await run(['jobs', 'show', succeeded.id, '--json']);
    const job = JSON.parse(json.out) as JobWithEvents;
    expect(job).toMatchObject({
      id: succeeded.id,
      status: 'succeeded',
      result: { messageId: '20250101000000000000_ABCDEF' },
    });
    expect(job.events.map((e) => e.event)).toEqual(['enqueued', 'claimed', 'succeeded']);

    const missing = await run(['jobs', 'show', 'no-such-job']);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('junction: no job with id no-such-job (see `junction jobs list`)\n');
  });

  itDb(
    'retries a dead job (it then runs and succeeds) and a failed one (due now); refuses others plainly',
    async () => {
      const retried = await run(['jobs', 'retry', dead.id]);
      expect(retried.code, retried.err).toBe(0);
      expect(retried.out).toBe(
        `job ${dead.id} (mesh.send) queued again: was dead, 1 more attempt(s) allowed; a running hub runs it on its next claim\n`,
      );
      const after = JSON.parse((await run(['jobs', 'show', dead.id, '--json'])).out) as JobWithEvents;
      expect(after).toMatchObject({ status: 'queued', attempts: 1, maxAttempts: 2, finishedAt: null });
      expect(after.events.at(-1)).toMatchObject({
        event: 'retried',
        owner: 'cli',
        detail: 'was dead; 1 more attempt(s) allowed',
      });

      // The cause is fixed: the hub's runner takes the job again and it succeeds.
      behaviour.set('log-1', () => ({ messageId: '20250101000000000001_ABCDEF' }));
      behaviour.set('log-3', () => ({ messageId: '20250101000000000002_ABCDEF' }));
      const beforeFailed = JSON.parse(
        (await run(['jobs', 'show', failed.id, '--json'])).out,
      ) as JobWithEvents;
      expect(beforeFailed.status).toBe('failed');
      // Its backoff (60 s) has not passed: a runner leaves it alone until retried.
      expect(Date.parse(beforeFailed.runAfter)).toBeGreaterThan(Date.now());
      const retriedFailed = await run(['jobs', 'retry', failed.id, '--json']);
      expect(retriedFailed.code, retriedFailed.err).toBe(0);
      const due = JSON.parse(retriedFailed.out) as Job;
      expect(due).toMatchObject({ id: failed.id, status: 'queued', maxAttempts: 3 });
      expect(Date.parse(due.runAfter)).toBeLessThanOrEqual(Date.now());

      const summary = await runner().runOnce();
      expect(summary.outcomes.succeeded).toBe(2);
      const done = JSON.parse((await run(['jobs', 'show', dead.id, '--json'])).out) as JobWithEvents;
      expect(done).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        result: { messageId: '20250101000000000001_ABCDEF' },
      });
      expect(done.events.map((e) => e.event)).toEqual([
        'enqueued',
        'claimed',
        'failed',
        'dead',
        'retried',
        'claimed',
        'succeeded',
      ]);

      const refused = await run(['jobs', 'retry', succeeded.id]);
      expect(refused.code).toBe(1);
      expect(refused.err).toBe(
        `junction: job ${succeeded.id} is succeeded; only failed or dead jobs can be retried\n`,
      );
      const unknown = await run(['jobs', 'retry', 'no-such-job']);
      expect(unknown.code).toBe(1);
      expect(unknown.err).toBe('junction: no job with id no-such-job (see `junction jobs list`)\n');
    },
  );

  itDb(
    'leaves out successful runs of periodic jobs (mesh.poll), saying how many and when each series last succeeded; --include-periodic or --kind lists them; a dead poll always shows',
    async () => {
      const polls = new JobRunner(t.store, {
        logger: quiet,
        handlers: {
          'mesh.poll': async (job) => {
            const { mailboxId } = job.payload as { mailboxId: string };
            if (mailboxId === 'X26ZZZ9')
              throw new PermanentJobError(`MESH mailbox ${mailboxId} is not configured`);
            return { received: 0 };
          },
        },
      });
      // As the hub's poll schedule enqueues them: one attempt, periodic.
      const poll = async (mailboxId: string) => {
        const { job } = await enqueueJob(t.store, {
          kind: 'mesh.poll',
          payload: { mailboxId },
          maxAttempts: 1,
          periodic: true,
        });
        await polls.runOnce();
        return job.id;
      };
      const ok1 = await poll('X26ABC2');
      const ok2 = await poll('X26ABC2');
      const deadPoll = await poll('X26ZZZ9');
      const shown = JSON.parse((await run(['jobs', 'show', ok2, '--json'])).out) as JobWithEvents;
      expect(shown.status).toBe('succeeded');

      const list = await run(['jobs', 'list']);
      expect(list.code, list.err).toBe(0);
      expect(list.out).not.toContain(ok1);
      expect(list.out).not.toContain(ok2);
      expect(list.out).toMatch(new RegExp(`^${deadPoll} +mesh\\.poll +dead +1/1 .*not configured`, 'm'));
      expect(list.out).toContain(
        '\nnot listed: 2 successful run(s) of periodic jobs (--include-periodic lists them)\n' +
          `  mesh.poll {"mailboxId":"X26ABC2"}: 2, last succeeded ${shown.finishedAt}\n`,
      );
      const all = await run(['jobs', 'list', '--include-periodic']);
      expect(all.out).toContain(ok1);
      expect(all.out).toContain(ok2);
      expect(all.out).not.toContain('not listed');
      const succeededCount = (out: string) => Number(/succeeded (\d+)/.exec(out)?.[1]);
      expect(succeededCount(all.out)).toBe(succeededCount(list.out) + 2);
      const byKind = JSON.parse((await run(['jobs', 'list', '--kind', 'mesh.poll', '--json'])).out) as Job[];
      expect(byKind.map((j) => j.id)).toEqual(expect.arrayContaining([ok1, ok2, deadPoll]));
    },
  );
});
