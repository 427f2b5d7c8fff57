import { type Kysely, sql } from 'kysely';
import type { StoreDialect } from '../database.js';

/** Genesis value of `prev_hash` for the first audit record. */
export const GENESIS_HASH = '0'.repeat(64);

export async function up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('organisation_ods', 'varchar(16)')
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('prefix', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('secret_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('revoked_at', 'varchar(32)')
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('occurred_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('action', 'varchar(64)', (c) => c.notNull())
    .addColumn('actor_key_id', 'varchar(36)')
    .addColumn('actor_key_name', 'varchar(200)')
    .addColumn('actor_organisation_ods', 'varchar(16)')
    .addColumn('nhs_numbers', 'text', (c) => c.notNull())
    .addColumn('outcome', 'varchar(32)', (c) => c.notNull())
    .addColumn('error_code', 'varchar(64)')
    .addColumn('http_status', 'integer', (c) => c.notNull())
    .addColumn('correlation_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('request_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('prev_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('hash', 'varchar(64)', (c) => c.notNull().unique())
    .execute();

  await db.schema
    .createTable('audit_chain_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'varchar(64)', (c) => c.notNull())
    .execute();
  await sql`insert into audit_chain_head (id, seq, hash) values (1, 0, ${GENESIS_HASH})`.execute(db);

  // Append-only at the database level too. Verification does not rely on it: whoever can drop a
  // trigger can edit rows, and verifyAuditChain still finds that.
  if (dialect === 'sqlite') {
    for (const op of ['UPDATE', 'DELETE']) {
      await sql
        .raw(
          `create trigger audit_events_no_${op.toLowerCase()} before ${op} on audit_events
           begin select raise(abort, 'audit_events is append-only'); end`,
        )
        .execute(db);
    }
  } else {
    await sql
      .raw(
        `create function audit_events_append_only() returns trigger language plpgsql as $$
         begin raise exception 'audit_events is append-only'; end $$`,
      )
      .execute(db);
    await sql
      .raw(
        `create trigger audit_events_no_update_delete before update or delete on audit_events
         for each row execute function audit_events_append_only()`,
      )
      .execute(db);
  }
}

export async function down(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  await db.schema.dropTable('audit_chain_head').execute();
  await db.schema.dropTable('audit_events').execute();
  await db.schema.dropTable('api_keys').execute();
  if (dialect === 'postgres') await sql.raw('drop function audit_events_append_only()').execute(db);
}
