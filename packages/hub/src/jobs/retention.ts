import type { Kysely } from 'kysely';
import type { Database, Store } from '../store/database.js';
import { writeTransaction } from './write-transaction.js';

/*
 * Job retention. Finished jobs are history a person may want to look at for a while, then noise:
 * `junction start` polls MESH every 5 s, ~17k `mesh.poll` rows (+ ~50k events) a day. What goes:
 * - succeeded jobs of any kind that finished longer ago than the retention period;
 * - runs of a *periodic* series (`jobs.periodic`: a schedule enqueues the same work again and
 *   again, e.g. `mesh.poll` of a mailbox) that a later successful run of the same series
 *   supersedes: dead ones at once, successful ones an hour after they finished (recent polls stay
 *   to look at; the latest success always stays, it says when the series last worked);
 * - dead periodic runs older than the retention period.
 *   A series is the kind and the payload: the runs of `mesh.poll` for `{"mailboxId":"X26ABC1"}`.
 * Dead and failed jobs of every other kind stay until a person retries them: they are work that
 * did not happen. Queued and running jobs are never touched.
 *
 * Deletes are batched: each batch is one short write transaction (on SQLite the write lock is held
 * for one batch only, and other writers get their turn between batches); on PostgreSQL the batch's
 * rows are taken `for update skip locked`, so several hub instances sweeping at once delete
 * different rows and never wait for each other, and a row a person is retrying right now is skipped.
 */

type Db = Pick<Store, 'db' | 'dialect'>;
type Clock = () => Date;

export const DAY_MS = 86_400_000;
/** How long a successful periodic run stays once a later one succeeded: an hour of polls to look at. */
export const PERIODIC_SUCCESS_KEPT_MS = 3_600_000;
const DEFAULT_BATCH = 500;

export interface PurgeJobsOptions {
  /** How long finished jobs are kept (ms); 0 keeps every job forever (nothing is deleted). */
  retentionMs: number;
  now?: Clock;
  /** Jobs deleted per transaction (default 500). */
  batchSize?: number;
}

export interface PurgeJobsSummary {
  /** Succeeded jobs older than the retention period, and successful periodic runs superseded an hour ago. */
  succeeded: number;
  /** Dead periodic runs that a later run of the same series made good. */
  superseded: number;
  /** Dead periodic runs older than the retention period. */
  expired: number;
}

/**
 * Deletes the jobs (and their history) that retention lets go, in short batches; see the module
 * comment for which. Safe to run from several hub instances at once.
 * @example
 * await purgeJobs(store, { retentionMs: 7 * DAY_MS });
 */
export async function purgeJobs(store: Db, options: PurgeJobsOptions): Promise<PurgeJobsSummary> {
  const summary: PurgeJobsSummary = { succeeded: 0, superseded: 0, expired: 0 };
  if (!(options.retentionMs > 0)) return summary;
  const batch = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError('batchSize must be a whole number ≥ 1');
  const now = (options.now ?? (() => new Date()))().getTime();
  const cutoff = new Date(now - options.retentionMs).toISOString();
  const supersededBefore = new Date(now - PERIODIC_SUCCESS_KEPT_MS).toISOString();

  // The latest successful run of each periodic series; its earlier runs are superseded.
  const latest = await store.db
    .selectFrom('jobs')
    .select(['kind', 'payload', (eb) => eb.fn.max('created_at').as('last')])
    .where('periodic', '=', 1)
    .where('status', '=', 'succeeded')
    .groupBy(['kind', 'payload'])
    .execute();
  for (const series of latest) {
    const earlier = (db: Kysely<Database>, status: 'dead' | 'succeeded') =>
      db
        .selectFrom('jobs')
        .select('id')
        .where('periodic', '=', 1)
        .where('status', '=', status)
        .where('kind', '=', series.kind)
        .where('payload', '=', series.payload)
        .where('created_at', '<', String(series.last));
    summary.superseded += await deleteInBatches(store, batch, (db) => earlier(db, 'dead'));
    summary.succeeded += await deleteInBatches(store, batch, (db) =>
      earlier(db, 'succeeded').where('finished_at', '<', supersededBefore),
    );
  }
  summary.expired += await deleteInBatches(store, batch, (db) =>
    db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', 'dead')
      .where('periodic', '=', 1)
      .where('finished_at', '<', cutoff),
  );

  // A job finishes after it was created, so `created_at < cutoff` bounds the rows looked at with
  // the created_at index; only old rows are read, whatever the table's size.
  summary.succeeded += await deleteInBatches(store, batch, (db) =>
    db
      .selectFrom('jobs')
      .select('id')
      .where('created_at', '<', cutoff)
      .where('status', '=', 'succeeded')
      .where('finished_at', '<', cutoff),
  );
  return summary;
}

type PickIds = (db: Kysely<Database>) => ReturnType<typeof selectIds>;
function selectIds(db: Kysely<Database>) {
  return db.selectFrom('jobs').select('id');
}

/** Deletes the jobs `pick` selects, `batch` per write transaction, events first. */
async function deleteInBatches(store: Db, batch: number, pick: PickIds): Promise<number> {
  let deleted = 0;
  for (;;) {
    const n = await writeTransaction(store, async (trx) => {
      // No order: any `batch` of them will do, and sorting would read every candidate each time.
      let q = pick(trx).limit(batch);
      if (store.dialect === 'postgres') q = q.forUpdate().skipLocked();
      const ids = (await q.execute()).map((r) => r.id);
      if (ids.length === 0) return 0;
      // Explicitly, not by the foreign key's cascade: SQLite enforces it only with foreign_keys on.
      await trx.deleteFrom('job_events').where('job_id', 'in', ids).execute();
      const result = await trx.deleteFrom('jobs').where('id', 'in', ids).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
    deleted += n;
    if (n < batch) return deleted;
    // Let other writers (claims, completions) in between two batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
