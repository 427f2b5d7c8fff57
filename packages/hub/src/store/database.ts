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
  sessions: SessionsTable;
  auth_requests: AuthRequestsTable;
  proxy_delegations: ProxyDelegationsTable;
  dmd_releases: DmdReleasesTable;
  jobs: JobsTable;
  job_events: JobEventsTable;
  mesh_messages: MeshMessagesTable;
  mesh_message_events: MeshMessageEventsTable;
  mesh_message_bodies: MeshMessageBodiesTable;
  submissions: SubmissionsTable;
  submission_events: SubmissionEventsTable;
  submission_webhooks: SubmissionWebhooksTable;
  admin_accounts: AdminAccountsTable;
  admin_sign_in_failures: AdminSignInFailuresTable;
  hub_settings: HubSettingsTable;
  hub_settings_head: HubSettingsHeadTable;
  clinician_names: ClinicianNamesTable;
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
  /** Canonical form of the hash (1: before access control, 2: with principal and decision). */
  hash_version: ColumnType<number, number | undefined, never>;
  occurred_at: string;
  action: string;
  /** `api-key`, `patient`, `clinician`, `admin` or `operator`; null when unauthenticated (and in v1 records). */
  actor_kind: string | null;
  actor_key_id: string | null;
  actor_key_name: string | null;
  /** NHS login sub / CIS2 user id. */
  actor_user_id: string | null;
  /** National RBAC role code of the selected CIS2 role. */
  actor_role_code: string | null;
  actor_organisation_ods: string | null;
  /** JSON array of NHS numbers (numbers only, never demographics). */
  nhs_numbers: string;
  outcome: string;
  error_code: string | null;
  http_status: number;
  correlation_id: string;
  request_id: string;
  /** `allowed` / `denied` by the access policy; null in v1 records. */
  decision: string | null;
  decision_rule: string | null;
  prev_hash: string;
  hash: string;
}

/** A single row (id = 1) holding the last sequence number and hash: the lock and the anchor. */
export interface AuditChainHeadTable {
  id: Generated<number>;
  seq: ColumnType<number | string, number, number>;
  hash: string;
}

/** Server-side sign-in sessions (NHS login, CIS2). The session token itself is never stored. */
export interface SessionsTable {
  /** Hex SHA-256 of the token's secret part: finds the row. */
  id_hash: string;
  /** `patient`, `clinician` or `admin`. */
  kind: string;
  /** The principal as JSON (`src/access/policy.ts`); no secrets. */
  principal: string;
  /** The id_token, AES-256-GCM encrypted with a key derived from the session token (see sessions.ts). */
  id_token_enc: string | null;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  revoked_at: string | null;
}

/** Sign-ins under way: what the callback needs, keyed by the OAuth `state`; minutes-long. */
export interface AuthRequestsTable {
  state: string;
  provider: string;
  code_verifier: string;
  nonce: string;
  /** Where to send the browser / app afterwards (already checked against the allow-list). */
  return_to: string | null;
  /** `cookie` (browser) or `token` (mobile app: the session token goes back in the redirect fragment). */
  handoff: string;
  created_at: string;
  expires_at: string;
}

/** Proxy access recorded by the GP practice: who may act for which patient, for what, and when. */
export interface ProxyDelegationsTable {
  id: string;
  proxy_nhs_number: string;
  patient_nhs_number: string;
  /** `parent`, `legal-guardian`, `carer`, … (`PROXY_RELATIONSHIPS`). */
  relationship: string;
  /** JSON array of access kinds (`PROXY_ACCESS` in `src/access/policy.ts`). */
  access: string;
  valid_from: string;
  /** Exclusive end; null: until revoked. */
  valid_until: string | null;
  /** Who recorded it: `cli`, `junction-start`, or (later) an API key id. */
  created_by: string;
  created_at: string;
  revoked_at: string | null;
}

/**
 * dm+d releases imported or being imported. The section tables themselves are described
 * by `medicines/store/tables.ts` and queried by name, so they are not listed here.
 */
export interface DmdReleasesTable {
  id: number;
  /** `importing`, `active` (at most one), `superseded`, `failed`. */
  status: string;
  /** The zip or folder given to the importer. */
  source: string;
  release_date: string | null;
  started_at: string;
  /** Refreshed while an import runs; a stale one means the importing process died. */
  heartbeat_at: string;
  finished_at: string | null;
  summary: string | null;
  error: string | null;
}

/** Durable jobs (`src/jobs`): one row per job, kept after it finishes. */
export interface JobsTable {
  id: string;
  /** What to do, e.g. `mesh.send`; picks the handler. */
  kind: string;
  /** JSON. */
  payload: string;
  /** Unique per kind: enqueuing the same key again returns the existing job. */
  idempotency_key: string | null;
  /** `queued`, `running`, `succeeded`, `failed` (will be retried at `run_after`), `dead`. */
  status: string;
  /** Executions started (claims); also the fencing token of the current lease. */
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: number;
  /** Not claimed before this time (next attempt, after backoff). */
  run_after: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  last_error: string | null;
  /** JSON of the handler's result, written once, by the attempt that succeeded. */
  result: string | null;
  /** 1: a run of a recurring series (kind + payload, e.g. `mesh.poll` of one mailbox); 0: one-off work. */
  periodic: ColumnType<number, number | undefined, number>;
  correlation_id: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** A job's history: enqueued, claimed, succeeded, failed, dead, retried, lease-expired, released, … */
export interface JobEventsTable {
  id: Generated<number | string>;
  job_id: string;
  at: string;
  event: string;
  attempt: number;
  owner: string | null;
  detail: string | null;
}

/**
 * Readings a product submitted for a patient's GP (the submitting-data journey,
 * `src/journeys/submit-readings`).
 */
export interface SubmissionsTable {
  id: string;
  api_key_id: string;
  api_key_name: string;
  idempotency_key: string | null;
  nhs_number: string;
  practice_ods: string;
  /** The practice's MESH mailbox (endpoint lookup for GPFED_CONSULT_REPORT). */
  mailbox_id: string;
  /** The hub mailbox it is sent from. */
  from_mailbox_id: string;
  reading_count: number;
  /** `validated`, `queued`, `sent`, `delivered`, `acknowledged`, `failed`. */
  status: string;
  message_log_id: string | null;
  /** The ITK MessageHeader id of the Send Document message (what ITK3 responses reference). */
  itk_message_id: string;
  mesh_message_id: string | null;
  correlation_id: string;
  /** JSON OperationOutcome. */
  errors: string | null;
  /** JSON array of OperationOutcome issues. */
  warnings: string | null;
  created_at: string;
  updated_at: string;
}

export interface SubmissionEventsTable {
  id: Generated<number | string>;
  submission_id: string;
  at: string;
  status: string;
  detail: string | null;
}

export interface SubmissionWebhooksTable {
  api_key_id: string;
  url: string;
  secret: string;
  created_at: string;
  updated_at: string;
}

/** The MESH message log (`src/mesh`): one row per message sent or received. */
export interface MeshMessagesTable {
  id: string;
  /** `outbound` or `inbound`. */
  direction: string;
  /** The hub's own mailbox (sender of outbound, recipient of inbound). */
  mailbox_id: string;
  from_mailbox: string | null;
  to_mailbox: string | null;
  workflow_id: string | null;
  subject: string | null;
  local_id: string | null;
  content_type: string | null;
  /** `DATA` or `REPORT`. */
  message_type: string;
  mesh_message_id: string | null;
  /** A REPORT's `mex-LinkedMsgID`. */
  linked_message_id: string | null;
  status: string;
  dts_event: string | null;
  dts_code: string | null;
  error: string | null;
  bytes: ColumnType<number | string | null, number | null, number | null>;
  chunks: number | null;
  /** Chunks of an outbound message MESH has accepted so far (migration 0009): where an interrupted upload resumes. */
  chunks_sent: ColumnType<number | null, number | null | undefined, number | null>;
  /** A large inbound body's file, relative to the data dir; null when the body is in `mesh_message_bodies`. */
  body_path: string | null;
  correlation_id: string;
  idempotency_key: string | null;
  created_at: string;
  updated_at: string;
}

/** A MESH message's history. */
export interface MeshMessageEventsTable {
  id: Generated<number | string>;
  message_id: string;
  at: string;
  event: string;
  /** The message's status after the event. */
  status: string;
  detail: string | null;
}

/** Small message bodies, in the store so that every hub instance can read them. */
export interface MeshMessageBodiesTable {
  message_id: string;
  body: Uint8Array;
}

/** Hub admin accounts (migration 0008, `src/access/admin-accounts.ts`); never deleted, only disabled. */
export interface AdminAccountsTable {
  id: string;
  username: string;
  /** scrypt hash (`src/access/password-hash.ts`); never the password. */
  password_hash: string;
  created_at: string;
  password_changed_at: string;
  /** Sessions created before this no longer count (password reset, disable). */
  sessions_valid_after: string;
  last_sign_in_at: string | null;
  disabled_at: string | null;
}

/** A CIS2 user's display name by user id, as their latest sign-in gave it (migration 0013). */
export interface ClinicianNamesTable {
  uid: string;
  name: string;
  updated_at: string;
}

/** Failed admin sign-ins per attempted username: the lockout every hub instance shares. */
export interface AdminSignInFailuresTable {
  username: string;
  /** The client's address (an IPv6 client's /64), as `addressKey` gives it. */
  client_address: string;
  failures: number;
  first_failed_at: string;
  locked_until: string | null;
}

export type StoreDialect = 'sqlite' | 'postgres';

/** A setting changed in the console (`src/settings`), over the environment's configuration. */
export interface HubSettingsTable {
  name: string;
  /** JSON; secrets in it are JWE-encrypted with JUNCTION_SECRETS_KEY. */
  value: string;
  updated_at: string;
  /** Who changed it, as the audit trail names them (`admin:<username>`, a CIS2 user id, `api-key:<name>`). */
  updated_by: string;
}

export interface HubSettingsHeadTable {
  id: number;
  /** Up by one with every change of `hub_settings`, in the same transaction. */
  revision: ColumnType<number | string, number, number>;
}

export interface Store {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** Closes the connection pool / file handle. Idempotent. */
  close(): Promise<void>;
}
