import type { Kysely } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * `admin_sign_in_failures` counted per attempted username and client address (an IPv6 client by
 * its /64) rather than per username alone: failures from one place no longer lock the account for
 * a person signing in from another. The old per-username counts are dropped (they only ever last
 * one lockout window). Rows are pruned to a fixed number (`admin-accounts.ts`).
 */
export async function up(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.dropTable('admin_sign_in_failures').execute();
  await db.schema
    .createTable('admin_sign_in_failures')
    .addColumn('username', 'varchar(64)', (c) => c.notNull())
    .addColumn('client_address', 'varchar(64)', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('first_failed_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('locked_until', 'varchar(32)')
    .addPrimaryKeyConstraint('admin_sign_in_failures_pk', ['username', 'client_address'])
    .execute();
  await db.schema
    .createIndex('admin_sign_in_failures_first_failed_at')
    .on('admin_sign_in_failures')
    .column('first_failed_at')
    .execute();
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.dropTable('admin_sign_in_failures').execute();
  await db.schema
    .createTable('admin_sign_in_failures')
    .addColumn('username', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('first_failed_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('locked_until', 'varchar(32)')
    .execute();
  await db.schema
    .createIndex('admin_sign_in_failures_first_failed_at')
    .on('admin_sign_in_failures')
    .column('first_failed_at')
    .execute();
}
