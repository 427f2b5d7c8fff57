import { randomUUID } from 'node:crypto';
import { type ExpressionBuilder, type Kysely, type Selectable, sql } from 'kysely';
import type { Database, JobEventsTable, JobsTable, Store } from '../store/database.js';
import { JOB_STATUSES, type JobStatus } from './job-status.js';
import { writeTransaction } from './write-transaction.js';

/*
 * The durable job queue: rows in `jobs` (migration 0005), every change in one write transaction
 * together with its `job_events` row. A claim takes a lease (owner + expiry) and increments
 * `attempts`; `attempts` is then the lease's fencing token, so only the attempt that holds the
 * current lease can record a result or a failure, and a job whose lease was lost and re-taken
 * never records two results.
 */

export { JOB_STATUSES, type JobStatus } from './job-status.js';

export const JOB_EVENT_TYPES = [
  'enqueued',
  'claimed',
  'succeeded',
  'failed',
  'dead',
  'retried',
  'lease-expired',
  'released',
  'stale-completion',
] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

export const DEFAULT_MAX_ATTEMPTS = 10;
const KIND = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
const MAX_KEY = 200;
const MAX_ERROR = 4_000;

export interface Job {
  id: string;
  kind: string;
  payload: unknown;
  idempotencyKey: string | null;
  status: JobStatus;
  /** Executions started so far (the current one included while `running`). */
  attempts: number;
  maxAttempts: number;
  /** Earliest time of the next attempt (ISO-8601). */
  runAfter: string;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  lastError: string | null;
  /** What the succeeding attempt's handler returned (JSON), else null. */
  result: unknown;
  /** One run of a recurring series (see {@link EnqueueJobInput.periodic}). */
  periodic: boolean;
  correlationId: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface JobEvent {
  at: string;
  event: JobEventType;
  /** The attempt it concerns (0 before the first claim). */
  attempt: number;
  /** The runner involved (claimer, failing or stale owner), or who retried it. */
  owner: string | null;
  /** The error, the reason or the next run time. */
  detail: string | null;
}

export interface JobWithEvents extends Job {
  events: JobEvent[];
}

/** Identifies one attempt of a job: only its holder may complete, fail, renew or release it. */
export interface JobLease {
  jobId: string;
  owner: string;
  attempt: number;
}

/**
 * The fence every change by a lease holder goes through: the job is still running under this
 * owner and this attempt (a holder whose lease expired and was re-taken changes nothing).
 */
function heldUnder(lease: JobLease) {
  return (eb: ExpressionBuilder<Database, 'jobs'>) =>
    eb.and([
      eb('id', '=', lease.jobId),
      eb('status', '=', 'running'),
      eb('lease_owner', '=', lease.owner),
      eb('attempts', '=', lease.attempt),
    ]);
}

/** Something the queue refuses: an unknown job, or a retry of a job that is not failed or dead. */
export class JobError extends Error {
  override readonly name = 'JobError';
  constructor(
    readonly code: 'not-found' | 'not-retryable' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

type Db = Pick<Store, 'db' | 'dialect'>;
type NewJobEvent = Omit<Selectable<JobEventsTable>, 'id'>;
type Clock = () => Date;
const systemClock: Clock = () => new Date();

export interface EnqueueJobInput {
  /** Selects the handler, e.g. `mesh.send`: letters, digits, `.`, `_`, `:`, `-` (≤ 100). */
  kind: string;
  /** Anything JSON can represent; stored as JSON. */
  payload: unknown;
  /**
   * Enqueuing the same key again for the same kind returns the first job (its payload wins) and
   * creates nothing. Handlers receive it to make their side effect idempotent.
   */
  idempotencyKey?: string;
  /** Carried to the handler and to logs (default: a new UUID). */
  correlationId?: string;
  /** Not run before this time (default now). */
  runAfter?: Date;
  /** Attempts before the job is dead-lettered (default 10). */
  maxAttempts?: number;
  /**
   * One run of a recurring series that a schedule enqueues again and again (e.g. `mesh.poll` of a
   * mailbox): the series is the kind and the payload. A later successful run supersedes earlier
   * ones (the retention sweep lets them go), and job lists hide its successful runs unless asked.
   */
  periodic?: boolean;
}

export interface EnqueuedJob {
  job: Job;
  /** False when a job with the same kind and idempotency key already existed. */
  created: boolean;
}

/**
 * Adds a job to the queue (or finds the one with the same kind and idempotency key). Pass
 * `{ db: trx, dialect }` to enqueue inside your own transaction, so the job exists only if the
 * rest of your write commits.
 * @example
 * const { job } = await enqueueJob(store, { kind: 'mesh.send', payload: { messageId },
 *   idempotencyKey: `mesh.send:${messageId}`, correlationId });
 */
export async function enqueueJob(
  store: Db,
  input: EnqueueJobInput,
  options: { now?: Clock } = {},
): Promise<EnqueuedJob> {
  if (!KIND.test(input.kind)) {
    throw new JobError('invalid', `job kind ${JSON.stringify(input.kind)} must match ${KIND.source}`);
  }
  if (
    input.idempotencyKey !== undefined &&
    (input.idempotencyKey === '' || input.idempotencyKey.length > MAX_KEY)
  ) {
    throw new JobError('invalid', `idempotencyKey must be 1–${MAX_KEY} characters`);
  }
  if (
    input.correlationId !== undefined &&
    (input.correlationId === '' || input.correlationId.length > MAX_KEY)
  ) {
    throw new JobError('invalid', `correlationId must be 1–${MAX_KEY} characters`);
  }
  const maxAttempts = input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new JobError('invalid', `maxAttempts must be a whole number ≥ 1 (got ${maxAttempts})`);
  }
  const payload = JSON.stringify(input.payload);
  if (payload === undefined) throw new JobError('invalid', 'job payload must be representable as JSON');
  const stamp = (options.now ?? systemClock)().toISOString();
  if (input.runAfter !== undefined && Number.isNaN(input.runAfter.getTime())) {
    throw new JobError('invalid', 'runAfter is not a valid date');
  }
  const runAfter = input.runAfter?.toISOString() ?? stamp;
  const row: Selectable<JobsTable> = {
    id: randomUUID(),
    kind: input.kind,
    payload,
    idempotency_key: input.idempotencyKey ?? null,
    status: 'queued',
    attempts: 0,
    max_attempts: maxAttempts,
    run_after: runAfter,
    lease_owner: null,
    lease_expires_at: null,
    last_error: null,
    result: null,
    periodic: input.periodic ? 1 : 0,
    correlation_id: input.correlationId ?? randomUUID(),
    created_at: stamp,
    updated_at: stamp,
    finished_at: null,
  };
  if (store.dialect === 'postgres') {
    // One statement (one round trip): the row and its `enqueued` event, or nothing on a duplicate.
    const { rows } = await sql<{ n: number }>`
      with inserted as (
        insert into jobs (id, kind, payload, idempotency_key, status, attempts, max_attempts, run_after,
          periodic, correlation_id, created_at, updated_at)
        values (${row.id}, ${row.kind}, ${row.payload}, ${row.idempotency_key}, 'queued', 0, ${maxAttempts},
          ${runAfter}, ${row.periodic}, ${row.correlation_id}, ${stamp}, ${stamp})
        on conflict (kind, idempotency_key) do nothing
        returning id
      ), logged as (
        insert into job_events (job_id, at, event, attempt) select id, ${stamp}, 'enqueued', 0 from inserted
      )
      select count(*)::int as n from inserted`.execute(store.db);
    if (rows[0]?.n === 1) return { job: toJob(row), created: true };
    const existing = await store.db
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', input.kind)
      .where('idempotency_key', '=', row.idempotency_key)
      .executeTakeFirstOrThrow();
    return { job: toJob(existing), created: false };
  }
  return writeTransaction(store, async (trx) => {
    const inserted = await trx
      .insertInto('jobs')
      .values(row)
      .onConflict((oc) => oc.columns(['kind', 'idempotency_key']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) {
      await addEvents(trx, [event(row.id, stamp, 'enqueued', 0, null, null)]);
      return { job: toJob(row), created: true };
    }
    const existing = await trx
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', input.kind)
      .where('idempotency_key', '=', row.idempotency_key)
      .executeTakeFirstOrThrow();
    return { job: toJob(existing), created: false };
  });
}

export interface ClaimJobsOptions {
  /** Who claims (unique per runner: several runners must not share an owner). */
  owner: string;
  /** Only jobs of these kinds (the runner's handlers). */
  kinds: readonly string[];
  limit: number;
  leaseMs: number;
  now?: Clock;
  /** Also look for expired leases (default true; a busy runner looks only now and then). */
  includeExpired?: boolean;
}

/**
 * Claims up to `limit` due jobs: queued or failed ones whose `run_after` has come, and running ones
 * whose lease has expired (their runner crashed or stalled: recorded as `lease-expired`, and the
 * new claim is a new attempt; one with no attempts left is dead-lettered instead). On PostgreSQL
 * the rows are locked `for update skip locked`, so concurrent claimers on other hub instances take
 * different jobs and never wait for each other; on SQLite the claim is one immediate write
 * transaction (one writer at a time).
 */
export async function claimJobs(store: Db, options: ClaimJobsOptions): Promise<Job[]> {
  if (options.kinds.length === 0 || options.limit < 1) return [];
  const now = (options.now ?? systemClock)();
  const stamp = now.toISOString();
  const leaseExpiresAt = new Date(now.getTime() + options.leaseMs).toISOString();
  const claim = { ...options, stamp, leaseExpiresAt };
  // Expired leases are rare: a cheap look (partial index) first, the locking claim only if needed.
  const expired =
    options.includeExpired === false
      ? []
      : await store.db
          .selectFrom('jobs')
          .select('id')
          .where('status', '=', 'running')
          .where('lease_expires_at', '<', stamp)
          .where('kind', 'in', options.kinds)
          .limit(1)
          .execute();
  const claimed = expired.length > 0 ? await claimInTransaction(store, claim, 'expired') : [];
  const rest = options.limit - claimed.length;
  if (rest > 0) {
    const more = { ...claim, limit: rest };
    claimed.push(
      ...(store.dialect === 'postgres'
        ? await claimDuePostgres(store, more)
        : await claimInTransaction(store, more, 'due')),
    );
  }
  return claimed;
}

interface Claim extends ClaimJobsOptions {
  stamp: string;
  leaseExpiresAt: string;
}

/**
 * PostgreSQL, due jobs: one statement (one round trip, its own transaction) that picks rows
 * `for update skip locked`, leases them and writes their `claimed` events.
 */
async function claimDuePostgres(store: Db, c: Claim): Promise<Job[]> {
  const { rows } = await sql<Selectable<JobsTable>>`
    with due as (
      select id from jobs
      where status in ('queued', 'failed') and run_after <= ${c.stamp} and kind in (${sql.join(c.kinds)})
      order by run_after, id
      limit ${c.limit}
      for update skip locked
    ), claimed as (
      update jobs set status = 'running', attempts = jobs.attempts + 1, lease_owner = ${c.owner},
        lease_expires_at = ${c.leaseExpiresAt}, updated_at = ${c.stamp}
      from due where jobs.id = due.id
      returning jobs.*
    ), logged as (
      insert into job_events (job_id, at, event, attempt, owner)
      select id, ${c.stamp}, 'claimed', attempts, ${c.owner} from claimed
    )
    select * from claimed order by run_after, id`.execute(store.db);
  return rows.map(toJob);
}

/** Claims in one write transaction: expired leases (any database) or due jobs (SQLite). */
async function claimInTransaction(store: Db, c: Claim, which: 'expired' | 'due'): Promise<Job[]> {
  const { stamp, leaseExpiresAt } = c;
  return writeTransaction(store, async (trx) => {
    let due = trx.selectFrom('jobs').selectAll().where('kind', 'in', c.kinds);
    due =
      which === 'expired'
        ? due
            .where('status', '=', 'running')
            .where('lease_expires_at', '<', stamp)
            .orderBy('lease_expires_at')
        : due
            .where('status', 'in', ['queued', 'failed'])
            .where('run_after', '<=', stamp)
            .orderBy('run_after');
    due = due.orderBy('id').limit(c.limit);
    if (store.dialect === 'postgres') due = due.forUpdate().skipLocked();
    const rows = await due.execute();
    if (rows.length === 0) return [];

    const events: NewJobEvent[] = [];
    const claimIds: string[] = [];
    for (const r of rows) {
      if (r.status === 'running') {
        const detail = `lease of attempt ${r.attempts} held by ${r.lease_owner} expired at ${r.lease_expires_at}`;
        events.push(event(r.id, stamp, 'lease-expired', r.attempts, r.lease_owner, detail));
        if (r.attempts >= r.max_attempts) {
          const reason = `${detail} (the process running it stopped or stalled); no attempts remain (${r.attempts} of ${r.max_attempts})`;
          await trx
            .updateTable('jobs')
            .set({
              status: 'dead',
              last_error: reason,
              lease_owner: null,
              lease_expires_at: null,
              updated_at: stamp,
              finished_at: stamp,
            })
            .where('id', '=', r.id)
            .execute();
          events.push(event(r.id, stamp, 'dead', r.attempts, null, reason));
          continue;
        }
      }
      claimIds.push(r.id);
    }
    let claimed: Selectable<JobsTable>[] = [];
    if (claimIds.length > 0) {
      claimed = await trx
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running',
          attempts: eb('attempts', '+', 1),
          lease_owner: c.owner,
          lease_expires_at: leaseExpiresAt,
          updated_at: stamp,
        }))
        .where('id', 'in', claimIds)
        .returningAll()
        .execute();
      for (const r of claimed) events.push(event(r.id, stamp, 'claimed', r.attempts, c.owner, null));
    }
    await addEvents(trx, events);
    const order = new Map(claimIds.map((id, i) => [id, i]));
    return claimed.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0)).map(toJob);
  });
}

/**
 * Records the attempt's result and marks the job succeeded, if `lease` is still the job's current
 * lease. Otherwise (the lease expired and another runner took the job, or it was released) nothing
 * changes, a `stale-completion` event records the refusal, and false is returned.
 */
export async function completeJob(
  store: Db,
  lease: JobLease,
  result: unknown,
  options: { now?: Clock } = {},
): Promise<boolean> {
  const json = JSON.stringify(result ?? null);
  const stamp = (options.now ?? systemClock)().toISOString();
  if (store.dialect === 'postgres') {
    // One statement (one round trip) when the lease is held, which is nearly always.
    const { rows } = await sql<{ n: number }>`
      with done as (
        update jobs set status = 'succeeded', result = ${json}, lease_owner = null, lease_expires_at = null,
          updated_at = ${stamp}, finished_at = ${stamp}
        where id = ${lease.jobId} and status = 'running' and lease_owner = ${lease.owner}
          and attempts = ${lease.attempt}
        returning id
      ), logged as (
        insert into job_events (job_id, at, event, attempt, owner)
        select id, ${stamp}, 'succeeded', ${lease.attempt}, ${lease.owner} from done
      )
      select count(*)::int as n from done`.execute(store.db);
    if (rows[0]?.n === 1) return true;
    await writeTransaction(store, (trx) => refused(trx, lease, stamp, 'succeeded'));
    return false;
  }
  return writeTransaction(store, async (trx) => {
    const updated = await trx
      .updateTable('jobs')
      .set({
        status: 'succeeded',
        result: json,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: stamp,
        finished_at: stamp,
      })
      .where(heldUnder(lease))
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 1) {
      await addEvents(trx, [event(lease.jobId, stamp, 'succeeded', lease.attempt, lease.owner, null)]);
      return true;
    }
    await refused(trx, lease, stamp, 'succeeded');
    return false;
  });
}

export interface FailJobOptions {
  now?: Clock;
  /** When to try again; null: never (dead-letter now, e.g. a permanent error). */
  retryAt: Date | null;
}

/**
 * Records a failed attempt, if `lease` is still current: the job waits for `retryAt` (`failed`),
 * or is dead-lettered when it has no attempts left or `retryAt` is null. Returns the new status, or
 * `refused` when the lease is no longer the job's.
 */
export async function failJob(
  store: Db,
  lease: JobLease,
  error: string,
  options: FailJobOptions,
): Promise<'failed' | 'dead' | 'refused'> {
  const stamp = (options.now ?? systemClock)().toISOString();
  const message = error.length > MAX_ERROR ? `${error.slice(0, MAX_ERROR)}…` : error;
  return writeTransaction(store, async (trx) => {
    // Locked on PostgreSQL so a release or reclaim cannot slip in between this read and the write.
    let lookup = trx
      .selectFrom('jobs')
      .select(['status', 'lease_owner', 'attempts', 'max_attempts'])
      .where('id', '=', lease.jobId);
    if (store.dialect === 'postgres') lookup = lookup.forUpdate();
    const current = await lookup.executeTakeFirst();
    if (!current || !isHolder(current, lease)) {
      await refused(trx, lease, stamp, 'failed', message);
      return 'refused';
    }
    const exhausted = current.attempts >= current.max_attempts;
    if (exhausted || options.retryAt === null) {
      const reason = exhausted
        ? `failed ${current.attempts} of ${current.max_attempts} attempts; last error: ${message}`
        : `failed permanently: ${message}`;
      await trx
        .updateTable('jobs')
        .set({
          status: 'dead',
          last_error: message,
          lease_owner: null,
          lease_expires_at: null,
          updated_at: stamp,
          finished_at: stamp,
        })
        .where('id', '=', lease.jobId)
        .execute();
      await addEvents(trx, [
        event(lease.jobId, stamp, 'failed', lease.attempt, lease.owner, message),
        event(lease.jobId, stamp, 'dead', lease.attempt, lease.owner, reason),
      ]);
      return 'dead';
    }
    const runAfter = options.retryAt.toISOString();
    await trx
      .updateTable('jobs')
      .set({
        status: 'failed',
        last_error: message,
        run_after: runAfter,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: stamp,
      })
      .where('id', '=', lease.jobId)
      .execute();
    await addEvents(trx, [
      event(
        lease.jobId,
        stamp,
        'failed',
        lease.attempt,
        lease.owner,
        `${message} (next attempt after ${runAfter})`,
      ),
    ]);
    return 'failed';
  });
}

/** Extends the lease (a heartbeat while the handler runs). False: the lease is no longer held. */
export async function renewLease(
  store: Db,
  lease: JobLease,
  leaseMs: number,
  options: { now?: Clock } = {},
): Promise<boolean> {
  const now = (options.now ?? systemClock)();
  const updated = await store.db
    .updateTable('jobs')
    .set({
      lease_expires_at: new Date(now.getTime() + leaseMs).toISOString(),
      updated_at: now.toISOString(),
    })
    .where(heldUnder(lease))
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/**
 * Gives a running job back (a runner stopping before its handler finished): it is due again at
 * once, and the attempt is not held against it as a failure. False: the lease was no longer held.
 */
export async function releaseJob(
  store: Db,
  lease: JobLease,
  reason: string,
  options: { now?: Clock } = {},
): Promise<boolean> {
  const stamp = (options.now ?? systemClock)().toISOString();
  return writeTransaction(store, async (trx) => {
    const updated = await trx
      .updateTable('jobs')
      .set({
        status: 'queued',
        run_after: stamp,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: stamp,
      })
      .where(heldUnder(lease))
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return false;
    await addEvents(trx, [event(lease.jobId, stamp, 'released', lease.attempt, lease.owner, reason)]);
    return true;
  });
}

export interface RetryJobOptions {
  now?: Clock;
  /** Attempts granted to a dead job beyond those it has used (default 1). */
  attempts?: number;
  /** Who asked (recorded in the job's history), e.g. `cli`. */
  by?: string;
}

/**
 * Manual retry: a dead job is queued again with `attempts` more attempts; a failed one (waiting for
 * its backoff) becomes due now. Any other status is refused with a `JobError`.
 * @example await retryJob(store, jobId, { by: 'cli' });
 */
export async function retryJob(store: Db, id: string, options: RetryJobOptions = {}): Promise<Job> {
  const extra = options.attempts ?? 1;
  if (!Number.isInteger(extra) || extra < 1) {
    throw new JobError('invalid', `attempts must be a whole number ≥ 1 (got ${extra})`);
  }
  const stamp = (options.now ?? systemClock)().toISOString();
  return writeTransaction(store, async (trx) => {
    let lookup = trx.selectFrom('jobs').selectAll().where('id', '=', id);
    if (store.dialect === 'postgres') lookup = lookup.forUpdate();
    const row = await lookup.executeTakeFirst();
    if (!row) throw new JobError('not-found', `no job ${id}`);
    if (row.status !== 'dead' && row.status !== 'failed') {
      throw new JobError(
        'not-retryable',
        `job ${id} is ${row.status}; only failed or dead jobs can be retried`,
      );
    }
    const maxAttempts = row.status === 'dead' ? row.attempts + extra : row.max_attempts;
    const updated = await trx
      .updateTable('jobs')
      .set({
        status: 'queued',
        run_after: stamp,
        max_attempts: maxAttempts,
        finished_at: null,
        updated_at: stamp,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const detail = `was ${row.status}; ${maxAttempts - row.attempts} more attempt(s) allowed`;
    await addEvents(trx, [event(id, stamp, 'retried', row.attempts, options.by ?? null, detail)]);
    return toJob(updated);
  });
}

export interface ListJobsOptions {
  status?: JobStatus;
  kind?: string;
  correlationId?: string;
  /** Default 50, at most 1,000. */
  limit?: number;
  offset?: number;
  /** Leave out successful runs of periodic jobs (what `jobListing` does for people). */
  excludeSucceededPeriodic?: boolean;
}

/** Jobs, newest first, optionally filtered. */
export async function listJobs(store: Db, options: ListJobsOptions = {}): Promise<Job[]> {
  let q = store.db.selectFrom('jobs').selectAll();
  if (options.status !== undefined) q = q.where('status', '=', options.status);
  if (options.kind !== undefined) q = q.where('kind', '=', options.kind);
  if (options.correlationId !== undefined) q = q.where('correlation_id', '=', options.correlationId);
  if (options.excludeSucceededPeriodic) {
    q = q.where((eb) => eb.or([eb('periodic', '=', 0), eb('status', '!=', 'succeeded')]));
  }
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 1), 1_000);
  q = q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
  if (options.offset !== undefined && options.offset > 0) q = q.offset(Math.trunc(options.offset));
  return (await q.execute()).map(toJob);
}

/** Number of jobs in each status. */
export async function countJobs(
  store: Db,
  options: { kind?: string } = {},
): Promise<Record<JobStatus, number>> {
  let q = store.db
    .selectFrom('jobs')
    .select((eb) => ['status', eb.fn.countAll().as('n')])
    .groupBy('status');
  if (options.kind !== undefined) q = q.where('kind', '=', options.kind);
  const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  for (const r of await q.execute()) counts[r.status as JobStatus] = Number(r.n);
  return counts;
}

/** A job and its full history, or undefined. */
export async function getJob(store: Db, id: string): Promise<JobWithEvents | undefined> {
  const row = await store.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const events = await store.db
    .selectFrom('job_events')
    .select(['at', 'event', 'attempt', 'owner', 'detail'])
    .where('job_id', '=', id)
    .orderBy('id')
    .execute();
  return { ...toJob(row), events: events.map((e) => ({ ...e, event: e.event as JobEventType })) };
}

function isHolder(
  row: { status: string; lease_owner: string | null; attempts: number },
  lease: JobLease,
): boolean {
  return row.status === 'running' && row.lease_owner === lease.owner && row.attempts === lease.attempt;
}

/** Notes in the job's history that a runner which no longer held the lease tried to finish it. */
async function refused(
  trx: Kysely<Database>,
  lease: JobLease,
  stamp: string,
  outcome: 'succeeded' | 'failed',
  error?: string,
): Promise<void> {
  const row = await trx
    .selectFrom('jobs')
    .select(['status', 'lease_owner', 'attempts'])
    .where('id', '=', lease.jobId)
    .executeTakeFirst();
  if (!row) return;
  const now = `job is ${row.status}${row.lease_owner ? ` under ${row.lease_owner}` : ''} at attempt ${row.attempts}`;
  const detail = `attempt ${lease.attempt} ${outcome} after losing its lease (${now}); not recorded${error ? `: ${error}` : ''}`;
  await addEvents(trx, [event(lease.jobId, stamp, 'stale-completion', lease.attempt, lease.owner, detail)]);
}

function event(
  jobId: string,
  at: string,
  type: JobEventType,
  attempt: number,
  owner: string | null,
  detail: string | null,
): NewJobEvent {
  return { job_id: jobId, at, event: type, attempt, owner, detail };
}

async function addEvents(trx: Kysely<Database>, events: NewJobEvent[]): Promise<void> {
  if (events.length > 0) await trx.insertInto('job_events').values(events).execute();
}

function toJob(r: Selectable<JobsTable>): Job {
  return {
    id: r.id,
    kind: r.kind,
    payload: JSON.parse(r.payload) as unknown,
    idempotencyKey: r.idempotency_key,
    status: r.status as JobStatus,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    runAfter: r.run_after,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    lastError: r.last_error,
    result: r.result === null ? null : (JSON.parse(r.result) as unknown),
    periodic: Number(r.periodic) === 1,
    correlationId: r.correlation_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}
