import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { testStores } from '../../hub/src/testing/test-stores.js';

/*
 * PostgreSQL for the console's end-to-end tests: `junction start --database-url` on a database
 * made for the run and dropped after it. Whether PostgreSQL is there is decided as the hub's store
 * tests decide it (`testStores`, their helper): unreachable, the PostgreSQL journey is skipped with
 * a message, except in CI (`CI` set), where it is an error.
 */

/** The server the store tests use; a fresh database is made on it for each run. */
const ADMIN_URL = process.env.JUNCTION_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Why the PostgreSQL journey cannot run here (PostgreSQL unreachable outside CI), or undefined when
 * it can. Throws in CI when PostgreSQL is unreachable (the store tests' rule), failing the file.
 */
export async function postgresSkipReason(): Promise<string | undefined> {
  const factories = await testStores();
  return factories.find((f) => f.dialect === 'postgres')?.skip;
}

/** An empty database of its own (no tables: `junction start` migrates it as it would a new one). */
export interface FreshDatabase {
  name: string;
  /** `postgres://…/<name>`, for `junction start --database-url`. */
  url: string;
  /** Reads the database directly, to show the hub really kept its data there. */
  query<Row extends object>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Drops the database (forcing out any connection left behind). */
  drop(): Promise<void>;
}

/** Creates `junction_e2e_<random>` on the store tests' PostgreSQL server. */
export async function createFreshDatabase(): Promise<FreshDatabase> {
  const name = `junction_e2e_${randomBytes(6).toString('hex')}`;
  await asAdmin((client) => client.query(`create database ${name}`));
  const url = withDatabase(ADMIN_URL, name);
  return {
    name,
    url,
    async query<Row extends object>(sql: string, params: unknown[] = []) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<Row>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    drop: async () => {
      await asAdmin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function asAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
