import type { Kysely } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * Access control: who acted and what the policy decided, on every audit record; sign-in
 * sessions; sign-ins under way. Adding columns with a constant default touches no existing row,
 * so the append-only triggers are not involved and old records keep `hash_version` 1.
 */
export async function up(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  const columns = [
    ['actor_kind', 'varchar(16)'],
    ['actor_user_id', 'varchar(200)'],
    ['actor_role_code', 'varchar(64)'],
    ['decision', 'varchar(16)'],
    ['decision_rule', 'varchar(64)'],
  ] as const;
  await db.schema
    .alterTable('audit_events')
    .addColumn('hash_version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  for (const [name, type] of columns) {
    await db.schema.alterTable('audit_events').addColumn(name, type).execute();
  }

  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('id_token_enc', 'text')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('last_seen_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('revoked_at', 'varchar(32)')
    .execute();
  await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('auth_requests')
    .addColumn('state', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('provider', 'varchar(16)', (c) => c.notNull())
    .addColumn('code_verifier', 'varchar(128)', (c) => c.notNull())
    .addColumn('nonce', 'varchar(128)', (c) => c.notNull())
    .addColumn('return_to', 'text')
    .addColumn('handoff', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.dropTable('auth_requests').execute();
  await db.schema.dropTable('sessions').execute();
  // SQLite ≥ 3.35 and PostgreSQL both drop columns; v2 records would then no longer verify.
  for (const name of [
    'decision_rule',
    'decision',
    'actor_role_code',
    'actor_user_id',
    'actor_kind',
    'hash_version',
  ]) {
    await db.schema.alterTable('audit_events').dropColumn(name).execute();
  }
}
