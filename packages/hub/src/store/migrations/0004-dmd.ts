import type { Kysely } from 'kysely';
import { DMD_TABLES, sqlTypeOf } from '../../medicines/store/tables.js';
import type { StoreDialect } from '../database.js';

/**
 * The dm+d. One table per section of the release (medicines/store/tables.ts, derived
 * from the XSD shapes in medicines/records.ts as of dm+d XSD v2.3 / GTIN v2.0), each keyed by
 * `release_id` first so that a new release is written beside the active one and switched to in
 * one transaction. Changing those shapes later needs a new migration: `tables.test.ts` compares
 * the live columns with the shapes, so drift cannot go unnoticed.
 */
export async function up(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('dmd_releases')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    // importing → active → superseded; importing → failed (an error, or found interrupted).
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('release_date', 'varchar(10)')
    .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('heartbeat_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('finished_at', 'varchar(32)')
    /** JSON: records per table, and warnings (dangling references). */
    .addColumn('summary', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('dmd_releases_status').on('dmd_releases').column('status').execute();

  for (const table of DMD_TABLES) {
    let create = db.schema.createTable(table.name).addColumn('release_id', 'integer', (c) => c.notNull());
    if (table.discriminator) {
      create = create.addColumn(table.discriminator.column, 'varchar(40)', (c) => c.notNull());
    }
    for (const col of table.columns) {
      create = create.addColumn(col.name, sqlTypeOf(col.kind) as 'text', (c) =>
        col.notNull ? c.notNull() : c,
      );
    }
    if (table.key)
      create = create.addPrimaryKeyConstraint(`${table.name}_pk`, ['release_id', ...table.key] as never);
    await create.execute();
    for (const index of table.indexes) {
      await db.schema
        .createIndex(`${table.name}_${index.join('_')}`)
        .on(table.name)
        .columns(['release_id', ...index])
        .execute();
    }
  }
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  for (const table of [...DMD_TABLES].reverse()) await db.schema.dropTable(table.name).execute();
  await db.schema.dropTable('dmd_releases').execute();
}
