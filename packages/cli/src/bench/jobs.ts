import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { countJobs, enqueueJob, JobRunner, openStore, type Store } from '@junction/hub';
import { temporaryPostgresDatabase } from './postgres.js';

/** Jobs per database (`JUNCTION_BENCH_JOBS` to change). */
const JOBS = Number(process.env.JUNCTION_BENCH_JOBS ?? 2_000);
const CONCURRENCY = 8;

interface Figures {
  store: string;
  /** Baseline: one insert + commit per job row, sequential, same store and durability settings. */
  rawPerSecond: number;
  enqueuePerSecond: number;
  /** The runner alone: claim, run a no-op handler, record success. */
  runPerSecond: number;
  /** Enqueue and run, end to end. */
  jobsPerSecond: number;
}

async function measure(label: string, store: Store, n: number): Promise<Figures> {
  // Raw: the same row into the same table (same indexes), one autocommitted insert each, without
  // the queue's work (history row, idempotency lookup, claiming, completion).
  let t = performance.now();
  for (let i = 0; i < n; i++) {
    const stamp = new Date().toISOString();
    await store.db
      .insertInto('jobs')
      .values({
        id: randomUUID(),
        kind: 'bench.raw',
        payload: JSON.stringify({ i }),
        idempotency_key: `raw-${i}`,
        status: 'succeeded',
        max_attempts: 1,
        run_after: stamp,
        lease_owner: null,
        lease_expires_at: null,
        last_error: null,
        result: null,
        correlation_id: randomUUID(),
        created_at: stamp,
        updated_at: stamp,
        finished_at: null,
      })
      .execute();
  }
  const rawSeconds = (performance.now() - t) / 1000;
  await store.db.deleteFrom('jobs').where('kind', '=', 'bench.raw').execute();

  t = performance.now();
  for (let i = 0; i < n; i++) {
    await enqueueJob(store, { kind: 'bench.noop', payload: { i }, idempotencyKey: `bench-${i}` });
  }
  const enqueueSeconds = (performance.now() - t) / 1000;

  const runner = new JobRunner(store, {
    handlers: { 'bench.noop': async () => null },
    concurrency: CONCURRENCY,
    pollMs: 5,
  });
  t = performance.now();
  runner.start();
  for (;;) {
    const counts = await countJobs(store);
    if (counts.succeeded === n) break;
    if (counts.dead > 0 || counts.failed > 0) throw new Error(`bench jobs failed: ${JSON.stringify(counts)}`);
    await sleep(5);
  }
  const runSeconds = (performance.now() - t) / 1000;
  await runner.stop();
  return {
    store: label,
    rawPerSecond: n / rawSeconds,
    enqueuePerSecond: n / enqueueSeconds,
    runPerSecond: n / runSeconds,
    jobsPerSecond: n / (enqueueSeconds + runSeconds),
  };
}

const perSecond = (x: number) => `${Math.round(x).toLocaleString('en-GB')}/s`;

function row(...cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(12) : c.padStart(14))).join(' ');
}

/**
 * Jobs throughput: durable jobs completed per second (enqueue N, run them with a `JobRunner`,
 * no-op handler) against raw inserts into the same database at the same durability (one insert and
 * commit per row, as each job is enqueued in its own transaction), in the same run.
 */
export async function benchJobs(log: (line: string) => void): Promise<void> {
  const results: Figures[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'junction-bench-jobs-'));
  try {
    const sqlite = await openStore({ dataDir: dir });
    try {
      results.push(await measure('SQLite', sqlite, JOBS));
    } finally {
      await sqlite.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const target = await temporaryPostgresDatabase('jobs');
  let note = '';
  if (typeof target === 'string') note = `PostgreSQL skipped: ${target}`;
  else {
    const store = await openStore({ databaseUrl: target.url });
    try {
      results.push(await measure('PostgreSQL', store, JOBS));
    } finally {
      await store.close();
      await target.drop();
    }
  }
  log(`${JOBS.toLocaleString('en-GB')} jobs per database, runner concurrency ${CONCURRENCY}, no-op handler`);
  log(row('', 'raw inserts', 'enqueue', 'run', 'jobs (e2e)', 'jobs ÷ raw'));
  for (const r of results) {
    log(
      row(
        r.store,
        perSecond(r.rawPerSecond),
        perSecond(r.enqueuePerSecond),
        perSecond(r.runPerSecond),
        perSecond(r.jobsPerSecond),
        `${(r.jobsPerSecond / r.rawPerSecond).toFixed(2)}×`,
      ),
    );
  }
  log(
    'raw: one autocommitted insert of a job row each; run: claim + no-op + record success; e2e: enqueue and run',
  );
  if (note) log(note);
}
