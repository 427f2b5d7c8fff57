import { type Kysely, sql } from 'kysely';
import { writeTransaction } from '../jobs/write-transaction.js';
import type { Database, Store } from '../store/database.js';
import { LATENCY_BUCKETS_MS } from '../store/migrations/0010-operations-stats.js';

/*
 * The per-minute statistics tables of migration 0010 (`ops_*`): how a recorder adds its minutes to
 * them (additive upserts, so any number of hub instances add to the same rows), and how the overview
 * reads them back. Typed here, beside their only user, through Kysely's `withTables`.
 */

export { LATENCY_BUCKETS_MS };

/** Column names of the latency buckets, in order; the last one (`le_inf`) has no upper bound. */
export const BUCKET_COLUMNS = [...LATENCY_BUCKETS_MS.map((ms) => `le_${ms}` as const), 'le_inf' as const];
export type BucketColumn = (typeof BUCKET_COLUMNS)[number];

type Count = number | string;

export interface OpsUpstreamMinutesTable extends Record<BucketColumn, Count> {
  service: string;
  minute: string;
  calls: Count;
  failures: Count;
  latency_sum_ms: number;
  latency_max_ms: number;
}

export interface OpsUpstreamLastTable {
  service: string;
  at: string;
  reachable: number;
  status: number | null;
}

export interface OpsHttpMinutesTable {
  minute: string;
  requests: Count;
  client_errors: Count;
  server_errors: Count;
}

export type OpsTables = {
  ops_upstream_minutes: OpsUpstreamMinutesTable;
  ops_upstream_last: OpsUpstreamLastTable;
  ops_http_minutes: OpsHttpMinutesTable;
};

export type OpsDb = Kysely<Database & OpsTables>;

export function opsDb(store: Pick<Store, 'db'>): OpsDb {
  return store.db.withTables<OpsTables>();
}

/** Calls to one service in one minute, as kept in memory and stored. */
export interface UpstreamMinute {
  service: string;
  /** Start of the UTC minute, ISO-8601. */
  minute: string;
  calls: number;
  failures: number;
  latencySumMs: number;
  latencyMaxMs: number;
  /** Non-cumulative counts per bucket, `BUCKET_COLUMNS` order. */
  buckets: number[];
}

export interface HttpMinute {
  minute: string;
  requests: number;
  clientErrors: number;
  serverErrors: number;
}

export interface LastCall {
  service: string;
  at: string;
  reachable: boolean;
  status?: number;
}

/** The bucket a latency falls in (upper bounds inclusive, as Prometheus's `le`). */
export function bucketIndexOf(latencyMs: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((le) => latencyMs <= le);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/** Start of the UTC minute of `at`, ISO-8601. */
export function minuteOf(at: Date): string {
  return new Date(Math.floor(at.getTime() / 60_000) * 60_000).toISOString();
}

/**
 * Adds minutes to the store in one transaction: `calls = calls + excluded.calls`, … (the same
 * `on conflict … do update` on SQLite ≥ 3.24 and PostgreSQL), max by `max()` / `greatest()`. The
 * last call per service is replaced only by a later one.
 */
export async function addToStore(
  store: Pick<Store, 'db' | 'dialect'>,
  batch: { upstream: UpstreamMinute[]; http: HttpMinute[]; last: LastCall[] },
): Promise<void> {
  if (batch.upstream.length + batch.http.length + batch.last.length === 0) return;
  const greatest = store.dialect === 'postgres' ? sql.raw('greatest') : sql.raw('max');
  // Rows in one order on every instance, so two instances' flushes lock them in the same order
  // (PostgreSQL) and never deadlock.
  const byKey =
    <T>(key: (x: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  const upstream = [...batch.upstream].sort(byKey((m) => `${m.minute} ${m.service}`));
  const http = [...batch.http].sort(byKey((h) => h.minute));
  const last = [...batch.last].sort(byKey((l) => l.service));
  // BEGIN IMMEDIATE on SQLite (the write lock first, waiting busy_timeout), as every hub write.
  await writeTransaction(store, async (db) => {
    const trx = db.withTables<OpsTables>();
    for (const m of upstream) {
      const row: OpsUpstreamMinutesTable = {
        service: m.service,
        minute: m.minute,
        calls: m.calls,
        failures: m.failures,
        latency_sum_ms: m.latencySumMs,
        latency_max_ms: m.latencyMaxMs,
        ...(Object.fromEntries(BUCKET_COLUMNS.map((c, i) => [c, m.buckets[i] ?? 0])) as Record<
          BucketColumn,
          number
        >),
      };
      await trx
        .insertInto('ops_upstream_minutes')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['service', 'minute']).doUpdateSet(() => {
            const add = (c: 'calls' | 'failures' | 'latency_sum_ms' | BucketColumn) =>
              sql<number>`${sql.ref(`ops_upstream_minutes.${c}`)} + ${sql.ref(`excluded.${c}`)}`;
            return {
              calls: add('calls'),
              failures: add('failures'),
              latency_sum_ms: add('latency_sum_ms'),
              latency_max_ms: sql<number>`${greatest}(ops_upstream_minutes.latency_max_ms, excluded.latency_max_ms)`,
              ...Object.fromEntries(BUCKET_COLUMNS.map((c) => [c, add(c)])),
            };
          }),
        )
        .execute();
    }
    for (const h of http) {
      await trx
        .insertInto('ops_http_minutes')
        .values({
          minute: h.minute,
          requests: h.requests,
          client_errors: h.clientErrors,
          server_errors: h.serverErrors,
        })
        .onConflict((oc) =>
          oc.column('minute').doUpdateSet((eb) => ({
            requests: eb(eb.ref('ops_http_minutes.requests'), '+', eb.ref('excluded.requests')),
            client_errors: eb(
              eb.ref('ops_http_minutes.client_errors'),
              '+',
              eb.ref('excluded.client_errors'),
            ),
            server_errors: eb(
              eb.ref('ops_http_minutes.server_errors'),
              '+',
              eb.ref('excluded.server_errors'),
            ),
          })),
        )
        .execute();
    }
    for (const l of last) {
      await trx
        .insertInto('ops_upstream_last')
        .values({ service: l.service, at: l.at, reachable: l.reachable ? 1 : 0, status: l.status ?? null })
        .onConflict((oc) =>
          oc
            .column('service')
            .doUpdateSet((eb) => ({
              at: eb.ref('excluded.at'),
              reachable: eb.ref('excluded.reachable'),
              status: eb.ref('excluded.status'),
            }))
            .where(({ eb, ref }) => eb(ref('excluded.at'), '>=', ref('ops_upstream_last.at'))),
        )
        .execute();
    }
  });
}

/** Deletes minutes that started before `before` (ISO-8601); returns how many rows went. */
export async function deleteMinutesBefore(store: Pick<Store, 'db'>, before: string): Promise<number> {
  const db = opsDb(store);
  const a = await db.deleteFrom('ops_upstream_minutes').where('minute', '<', before).executeTakeFirst();
  const b = await db.deleteFrom('ops_http_minutes').where('minute', '<', before).executeTakeFirst();
  return Number(a.numDeletedRows) + Number(b.numDeletedRows);
}

/** The rows of a per-minute table whose minute is in [from, to), oldest first. */
async function minutesIn<T extends 'ops_upstream_minutes' | 'ops_http_minutes'>(
  store: Pick<Store, 'db'>,
  table: T,
  from: string,
  to: string,
): Promise<OpsTables[T][]> {
  const name: 'ops_upstream_minutes' | 'ops_http_minutes' = table;
  const rows = await opsDb(store)
    .selectFrom(name)
    .selectAll()
    .where('minute', '>=', from)
    .where('minute', '<', to)
    .orderBy('minute')
    .execute();
  return rows as OpsTables[T][];
}

/** Stored upstream minutes in [from, to) (ISO-8601 minute starts). */
export async function readUpstreamMinutes(
  store: Pick<Store, 'db'>,
  from: string,
  to: string,
): Promise<UpstreamMinute[]> {
  const rows = await minutesIn(store, 'ops_upstream_minutes', from, to);
  return rows.map((r) => ({
    service: r.service,
    minute: r.minute,
    calls: Number(r.calls),
    failures: Number(r.failures),
    latencySumMs: Number(r.latency_sum_ms),
    latencyMaxMs: Number(r.latency_max_ms),
    buckets: BUCKET_COLUMNS.map((c) => Number(r[c])),
  }));
}

/** Stored hub request minutes in [from, to) (ISO-8601 minute starts). */
export async function readHttpMinutes(
  store: Pick<Store, 'db'>,
  from: string,
  to: string,
): Promise<HttpMinute[]> {
  const rows = await minutesIn(store, 'ops_http_minutes', from, to);
  return rows.map((r) => ({
    minute: r.minute,
    requests: Number(r.requests),
    clientErrors: Number(r.client_errors),
    serverErrors: Number(r.server_errors),
  }));
}

export async function readLastCalls(store: Pick<Store, 'db'>): Promise<Map<string, LastCall>> {
  const rows = await opsDb(store).selectFrom('ops_upstream_last').selectAll().execute();
  const out = new Map<string, LastCall>();
  for (const r of rows) {
    const last: LastCall = { service: r.service, at: r.at, reachable: Number(r.reachable) === 1 };
    if (r.status !== null) last.status = Number(r.status);
    out.set(r.service, last);
  }
  return out;
}

/**
 * The `q` quantile (0..1) of latencies known only by bucket counts, interpolating linearly inside
 * the bucket the rank falls in (as Prometheus's `histogram_quantile`), with the top of the open
 * last bucket, and of any bucket, capped at the largest latency seen. Null when there are no calls.
 */
export function quantileFromBuckets(buckets: readonly number[], q: number, maxMs: number): number | null {
  const total = buckets.reduce((n, c) => n + c, 0);
  if (total === 0) return null;
  const rank = q * total;
  let before = 0;
  for (const [i, count] of buckets.entries()) {
    if (count > 0 && before + count >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] ?? 0);
      const upper = Math.min(LATENCY_BUCKETS_MS[i] ?? maxMs, maxMs);
      if (upper <= lower) return round1(Math.min(maxMs, lower));
      return round1(lower + ((upper - lower) * (rank - before)) / count);
    }
    before += count;
  }
  return round1(maxMs);
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
