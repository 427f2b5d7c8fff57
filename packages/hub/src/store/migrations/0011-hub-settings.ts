import type { Kysely } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * The console's Settings: settings changed there, laid over the hub's environment
 * configuration (`src/settings`), in the store so that every hub instance uses the same ones.
 *
 * - `hub_settings`: one row per setting changed in the console (`base-url.pds`, `mesh.mailboxes`…):
 *   its value as JSON (secrets inside it encrypted with `JUNCTION_SECRETS_KEY`), who changed it and
 *   when. No row: the environment's value (or its default).
 * - `hub_settings_head`: one row whose `revision` goes up with every change, in the same
 *   transaction, so that an instance notices any change (a removed row included) with one read.
 */
export async function up(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('hub_settings')
    .addColumn('name', 'varchar(80)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_by', 'varchar(200)', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('hub_settings_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .execute();
  await db
    .insertInto('hub_settings_head' as never)
    .values({ id: 1, revision: 0 } as never)
    .execute();
}
