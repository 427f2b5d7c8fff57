import { type Kysely, sql } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * `jobs.periodic`: 1 for a run of a recurring series (a schedule enqueues the same work again and
 * again, e.g. `mesh.poll` of a mailbox every few seconds), 0 for one-off work. Stored with the job
 * so every reader agrees without knowing the hub's handlers: the retention sweep (a later success
 * supersedes earlier runs of the same series, kind and payload) and the job lists (succeeded runs
 * hidden unless asked for, else they drown the work people look for). Polls enqueued before this
 * migration are marked as such: `mesh.poll` is the one recurring kind so far.
 */
export async function up(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema
    .alterTable('jobs')
    .addColumn('periodic', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update jobs set periodic = 1 where kind = 'mesh.poll'`.execute(db);
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.alterTable('jobs').dropColumn('periodic').execute();
}
