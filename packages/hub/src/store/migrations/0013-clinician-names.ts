import type { Kysely } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * `clinician_names`: the display name of each CIS2 user who signed in to the hub (`Dr Alex Carter`,
 * from CIS2 UserInfo), by their CIS2 user id, so the audit trail can show who a user id is. The
 * audit records themselves keep the user id only (their hash covers what they hold, and a name
 * changes while a user id does not); the latest sign-in's name wins. Staff names, never a patient's.
 */
export async function up(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('clinician_names')
    .addColumn('uid', 'varchar(200)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.dropTable('clinician_names').execute();
}
