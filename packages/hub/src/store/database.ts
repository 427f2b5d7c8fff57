import type { ColumnType, Generated, Kysely } from 'kysely';

/**
 * The hub's schema as Kysely sees it. Types are chosen to be portable between SQLite and
 * PostgreSQL: timestamps are ISO-8601 UTC text (so they hash identically on both), lists are
 * JSON text, and `bigint` columns are read back through `Number()` because `pg` returns strings.
 */
export interface Database {
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  audit_chain_head: AuditChainHeadTable;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  organisation_ods: string | null;
  /** JSON array of scope strings. */
  scopes: string;
  /** Public, random part of the key used to find the row; unique. */
  prefix: string;
  /** Hex SHA-256 of the secret part. */
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface AuditEventsTable {
  /** Position in the chain, 1, 2, 3, … assigned under the chain lock (never by the database). */
  seq: ColumnType<number | string, number, never>;
  occurred_at: string;
  action: string;
  actor_key_id: string | null;
  actor_key_name: string | null;
  actor_organisation_ods: string | null;
  /** JSON array of NHS numbers (numbers only, never demographics). */
  nhs_numbers: string;
  outcome: string;
  error_code: string | null;
  http_status: number;
  correlation_id: string;
  request_id: string;
  prev_hash: string;
  hash: string;
}

/** A single row (id = 1) holding the last sequence number and hash: the lock and the anchor. */
export interface AuditChainHeadTable {
  id: Generated<number>;
  seq: ColumnType<number | string, number, number>;
  hash: string;
}

export type StoreDialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** Closes the connection pool / file handle. Idempotent. */
  close(): Promise<void>;
}
