import { type Kysely, sql } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * Proxy access: who may act for whom (a parent for a child, a carer for an adult), as
 * the GP practice verified and recorded it. NHS login does not carry this for third parties, so
 * the hub keeps it; rows are revoked, never deleted, so the history stays with the audit trail.
 */
export async function up(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('proxy_delegations')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('proxy_nhs_number', 'varchar(10)', (c) => c.notNull())
    .addColumn('patient_nhs_number', 'varchar(10)', (c) => c.notNull())
    .addColumn('relationship', 'varchar(32)', (c) => c.notNull())
    .addColumn('access', 'text', (c) => c.notNull())
    .addColumn('valid_from', 'varchar(32)', (c) => c.notNull())
    .addColumn('valid_until', 'varchar(32)')
    .addColumn('created_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('revoked_at', 'varchar(32)')
    .addCheckConstraint('proxy_delegations_not_self', sql`proxy_nhs_number <> patient_nhs_number`)
    .execute();
  await db.schema
    .createIndex('proxy_delegations_proxy')
    .on('proxy_delegations')
    .column('proxy_nhs_number')
    .execute();
  await db.schema
    .createIndex('proxy_delegations_patient')
    .on('proxy_delegations')
    .column('patient_nhs_number')
    .execute();
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.dropTable('proxy_delegations').execute();
}
