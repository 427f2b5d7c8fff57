import type { Kysely } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * The console: hub admin accounts (people who run the hub, signed in with a username
 * and password rather than CIS2) and the failed sign-ins that lock an account for a while.
 *
 * - `admin_accounts`: the username (unique, never reused: accounts are disabled, not deleted, so
 *   the audit trail's `actor_user_id` keeps naming one person), the scrypt hash of the password
 *   (`src/access/password-hash.ts`), and `sessions_valid_after`: a sign-in session made before it
 *   (before a password reset or a disable) no longer counts.
 * - `admin_sign_in_failures`: failures per attempted username in the current window and the lock,
 *   in the store so that every hub instance counts the same failures.
 */
export async function up(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('admin_accounts')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('username', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('password_hash', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('password_changed_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('sessions_valid_after', 'varchar(32)', (c) => c.notNull())
    .addColumn('last_sign_in_at', 'varchar(32)')
    .addColumn('disabled_at', 'varchar(32)')
    .execute();

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

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.dropTable('admin_sign_in_failures').execute();
  await db.schema.dropTable('admin_accounts').execute();
}
