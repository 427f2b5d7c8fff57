import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { createDataDir, createDataFile } from '../config/data-dir.js';
import type { Database, Store, StoreDialect } from './database.js';
import { migrationProvider } from './migrations/index.js';

export interface OpenStoreOptions {
  /** `postgres://…` selects PostgreSQL; anything else (or nothing) selects SQLite. */
  databaseUrl?: string;
  /** Directory of the SQLite file `junction.db` (default `./data`). */
  dataDir?: string;
  /** PostgreSQL pool size (default 10). */
  poolMax?: number;
}

const SQLITE_FILE = 'junction.db';
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** Whether a database URL selects PostgreSQL. */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

/**
 * Opens the hub's store, runs pending migrations and returns it. Pair with `store.close()`.
 * @example
 * const store = await openStore({ dataDir: './data' });
 * try { ... } finally { await store.close(); }
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  let dialect: StoreDialect;
  let db: Kysely<Database>;
  if (isPostgresUrl(options.databaseUrl)) {
    dialect = 'postgres';
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolMax ?? 10 });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    const file = sqlitePath(options);
    // Owner-only before SQLite opens it: its -wal and -shm files take the database file's mode.
    if (file !== ':memory:') createDataFile(file);
    const sqlite = new BetterSqlite3(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    // WAL: readers don't block the writer; NORMAL sync is durable at checkpoints and safe with WAL.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  }

  let closed = false;
  const store: Store = {
    db,
    dialect,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
  try {
    await migrate(store);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function sqlitePath(options: OpenStoreOptions): string {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    return options.databaseUrl.replace(/^(sqlite|file):(\/\/)?/, '');
  }
  const dir = options.dataDir ?? './data';
  createDataDir(dir);
  return join(dir, SQLITE_FILE);
}

/** Brings the schema up to date; safe to run from several hub instances at once (Kysely locks). */
export async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    // No migration ran: the database could not be reached or locked, not a broken migration.
    const what = failed ? `migration ${failed} failed` : `cannot prepare the ${store.dialect} store`;
    throw new Error(`${what}: ${reason}`, { cause: error });
  }
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * better-sqlite3 behind a bounded cache of prepared statements. Kysely prepares every query anew,
 * and for the hub's small queries preparing costs more than running them (seen in `npm run bench`
 * profiles). Safe because better-sqlite3 runs each statement to completion synchronously and
 * re-prepares by itself after a schema change.
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE)
          statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
