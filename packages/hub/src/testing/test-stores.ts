import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Store, StoreDialect } from '../store/database.js';
import { openStore } from '../store/open-store.js';

/**
 * Test helper (not exported from the package): store factories for SQLite and PostgreSQL so that
 * every store-using test runs against both with `describe.each(testStores())`.
 *
 * PostgreSQL: `JUNCTION_TEST_DATABASE_URL` or `postgres://postgres@127.0.0.1:5432/postgres`; each
 * store is a fresh database `junction_test_<random>`, dropped by its `cleanup()`. When PostgreSQL
 * is unreachable the PG variants are skipped with a message, except in CI where they fail.
 */
export interface TestStoreFactory {
  dialect: StoreDialect;
  /** A migrated store on a fresh database; `url` opens more connections to the same database. */
  create(): Promise<TestStore>;
  /** Why this factory is skipped (PG unreachable outside CI), or undefined. */
  skip?: string;
}

export interface TestStore {
  store: Store;
  url: string;
  /** Open another store on the same database (another "hub instance"). */
  openAnother(): Promise<Store>;
  cleanup(): Promise<void>;
}

const env = process.env;
const ADMIN_URL = env.JUNCTION_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const IN_CI = Boolean(env.CI);

let pgReachable: Promise<string | undefined> | undefined;

/** Resolves to undefined when PostgreSQL answers, or to the reason it does not. */
function probePostgres(): Promise<string | undefined> {
  pgReachable ??= (async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (error) {
      return `PostgreSQL at ${redactUrl(ADMIN_URL)} unreachable: ${(error as Error).message}`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return pgReachable;
}

const sqliteFactory: TestStoreFactory = {
  dialect: 'sqlite',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'junction-hub-test-'));
    const store = await openStore({ dataDir: dir });
    const others: Store[] = [];
    return {
      store,
      url: join(dir, 'junction.db'),
      async openAnother() {
        const s = await openStore({ dataDir: dir });
        others.push(s);
        return s;
      },
      async cleanup() {
        for (const s of others) await s.close();
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

function postgresFactory(skip: string | undefined): TestStoreFactory {
  const factory: TestStoreFactory = {
    dialect: 'postgres',
    async create() {
      const name = `junction_test_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      const url = withDatabase(ADMIN_URL, name);
      const store = await openStore({ databaseUrl: url });
      const others: Store[] = [];
      return {
        store,
        url,
        async openAnother() {
          const s = await openStore({ databaseUrl: url });
          others.push(s);
          return s;
        },
        async cleanup() {
          for (const s of others) await s.close();
          await store.close();
          const a = new pg.Client({ connectionString: ADMIN_URL });
          await a.connect();
          try {
            await a.query(`drop database if exists ${name} with (force)`);
          } finally {
            await a.end();
          }
        },
      };
    },
  };
  if (skip !== undefined) factory.skip = skip;
  return factory;
}

/**
 * Factories for both databases. Use with top-level await in a test file:
 * `describe.each(await testStores())('api keys on $dialect', (factory) => { … })`.
 */
export async function testStores(): Promise<TestStoreFactory[]> {
  const problem = await probePostgres();
  if (problem !== undefined) {
    if (IN_CI) throw new Error(`${problem} (CI is set, so PostgreSQL tests must run)`);
    console.warn(`[junction hub tests] SKIPPING PostgreSQL variants: ${problem}`);
  }
  return [sqliteFactory, postgresFactory(problem)];
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
