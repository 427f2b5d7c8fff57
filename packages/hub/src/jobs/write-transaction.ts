import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, Store } from '../store/database.js';

/**
 * Runs `fn` in a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
 * taken at the start (waiting `busy_timeout`), so a transaction that reads and then writes can
 * never fail to upgrade because another connection wrote in between. On PostgreSQL it is an
 * ordinary READ COMMITTED transaction; callers lock rows themselves (`for update skip locked`).
 * When `db` is already a transaction, `fn` runs in it.
 */
export async function writeTransaction<T>(
  store: Pick<Store, 'db' | 'dialect'>,
  fn: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (store.db.isTransaction) return fn(store.db);
  if (store.dialect === 'postgres') {
    return store.db.transaction().execute((trx: Transaction<Database>) => fn(trx));
  }
  return store.db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    let result: T;
    try {
      result = await fn(conn);
    } catch (error) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw error;
    }
    await sql`commit`.execute(conn);
    return result;
  });
}
