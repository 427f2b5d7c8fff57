import type { Kysely } from 'kysely';
import type { StoreDialect } from '../database.js';

/** Upper bounds (ms) of the latency buckets of `ops_upstream_minutes`, one column `le_<ms>` each, then `le_inf`. */
export const LATENCY_BUCKETS_MS = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000] as const;

/**
 * The console's overview: per-minute traffic statistics written by every hub instance
 * (`src/observability/upstream-calls.ts`), and the progress of dm+d imports started over HTTP.
 *
 * - `ops_upstream_minutes`: calls to one NHS API in one UTC minute: how many, how many failed,
 *   latency sum and max, and a histogram (non-cumulative counts per `LATENCY_BUCKETS_MS` bucket) so
 *   that p50/p95 over any set of minutes can be computed by adding rows. Instances add to the same
 *   row (additive upsert), so the columns are counts and sums only.
 * - `ops_upstream_last`: the last call to each NHS API (any instance): its health.
 * - `ops_http_minutes`: requests the hub answered per minute, and how many were 4xx and 5xx.
 * - `dmd_releases.import_id` (the `dmd.import` job that made it) and `progress` (JSON, refreshed
 *   about once a second while it imports), so any instance can show an import's progress.
 *
 * Not patient data and not audit: rows older than 7 days are deleted by a sweep.
 */
export async function up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  const real = dialect === 'postgres' ? 'double precision' : 'real';
  let upstream = db.schema
    .createTable('ops_upstream_minutes')
    .addColumn('service', 'varchar(40)', (c) => c.notNull())
    // Start of the UTC minute, ISO-8601 (`2026-11-25T17:20:00.000Z`): sorts as time.
    .addColumn('minute', 'varchar(32)', (c) => c.notNull())
    .addColumn('calls', 'bigint', (c) => c.notNull())
    .addColumn('failures', 'bigint', (c) => c.notNull())
    .addColumn('latency_sum_ms', real as 'real', (c) => c.notNull())
    .addColumn('latency_max_ms', real as 'real', (c) => c.notNull());
  for (const le of LATENCY_BUCKETS_MS) {
    upstream = upstream.addColumn(`le_${le}`, 'bigint', (c) => c.notNull().defaultTo(0));
  }
  await upstream
    .addColumn('le_inf', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('ops_upstream_minutes_pk', ['service', 'minute'] as never)
    .execute();
  await db.schema
    .createIndex('ops_upstream_minutes_minute')
    .on('ops_upstream_minutes')
    .column('minute')
    .execute();

  await db.schema
    .createTable('ops_upstream_last')
    .addColumn('service', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    // 1: the service answered (any HTTP status but 502/503/504); 0: no answer.
    .addColumn('reachable', 'integer', (c) => c.notNull())
    .addColumn('status', 'integer')
    .execute();

  await db.schema
    .createTable('ops_http_minutes')
    .addColumn('minute', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('requests', 'bigint', (c) => c.notNull())
    .addColumn('client_errors', 'bigint', (c) => c.notNull())
    .addColumn('server_errors', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('dmd_releases').addColumn('import_id', 'varchar(36)').execute();
  await db.schema.alterTable('dmd_releases').addColumn('progress', 'text').execute();
  await db.schema.createIndex('dmd_releases_import_id').on('dmd_releases').column('import_id').execute();
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.dropIndex('dmd_releases_import_id').execute();
  await db.schema.alterTable('dmd_releases').dropColumn('progress').execute();
  await db.schema.alterTable('dmd_releases').dropColumn('import_id').execute();
  await db.schema.dropTable('ops_http_minutes').execute();
  await db.schema.dropTable('ops_upstream_last').execute();
  await db.schema.dropTable('ops_upstream_minutes').execute();
}
