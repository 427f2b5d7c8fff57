import { type Kysely, sql } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * Durable jobs: a queue in the store that survives restarts and is shared by every hub
 * instance on one database (see `src/jobs`). `job_events` is each job's history, append-only by
 * convention (the queue only inserts), so a person can see what happened to a job and when.
 * Timestamps are ISO-8601 UTC text like the rest of the store, so comparisons are text comparisons.
 */
export async function up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(100)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'varchar(200)')
    // queued → running → succeeded | failed (waits for run_after, then runs again) | dead.
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('run_after', 'varchar(32)', (c) => c.notNull())
    .addColumn('lease_owner', 'varchar(200)')
    .addColumn('lease_expires_at', 'varchar(32)')
    .addColumn('last_error', 'text')
    .addColumn('result', 'text')
    .addColumn('correlation_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('finished_at', 'varchar(32)')
    // Both databases treat NULLs as distinct here: jobs without a key never collide.
    .addUniqueConstraint('jobs_kind_idempotency_key', ['kind', 'idempotency_key'])
    .execute();
  // Claiming: due jobs in run order, and running jobs by lease expiry. Partial, so finished jobs
  // (most rows, kept as history) cost the claim nothing.
  await db.schema
    .createIndex('jobs_due')
    .on('jobs')
    .columns(['run_after', 'id'])
    .where(sql.ref('status'), 'in', ['queued', 'failed'])
    .execute();
  await db.schema
    .createIndex('jobs_leased')
    .on('jobs')
    .column('lease_expires_at')
    .where(sql.ref('status'), '=', 'running')
    .execute();
  await db.schema.createIndex('jobs_status_kind').on('jobs').columns(['status', 'kind']).execute();
  await db.schema.createIndex('jobs_correlation_id').on('jobs').column('correlation_id').execute();
  await db.schema.createIndex('jobs_created_at').on('jobs').column('created_at').execute();

  await db.schema
    .createTable('job_events')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('job_id', 'varchar(36)', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addColumn('event', 'varchar(32)', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('owner', 'varchar(200)')
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('job_events_job_id').on('job_events').columns(['job_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.dropTable('job_events').execute();
  await db.schema.dropTable('jobs').execute();
}
