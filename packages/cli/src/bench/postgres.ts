import pg from 'pg';

/** A PostgreSQL database made for one benchmark run, dropped after it. */
export interface TemporaryDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates `junction_bench_<label>_<pid>` on the server `JUNCTION_TEST_DATABASE_URL` names (default
 * the local one), or says why PostgreSQL is unreachable so the benchmark can skip that row.
 */
export async function temporaryPostgresDatabase(label: string): Promise<TemporaryDatabase | string> {
  const admin = process.env.JUNCTION_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `junction_bench_${label}_${process.pid}`;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query(`drop database if exists ${name}`);
    await client.query(`create database ${name}`);
  } catch (error) {
    await client.end().catch(() => {});
    return `PostgreSQL unreachable (${(error as Error).message})`;
  }
  await client.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
