import { createHash } from 'node:crypto';
import type { AccessAction } from '../access/policy.js';

/** Who acted, as audited. API keys fill `keyId`/`keyName`; people fill `userId` (and `roleCode` for CIS2). */
export interface AuditActor {
  kind: AuditActorKind;
  keyId?: string | null;
  keyName?: string | null;
  /** NHS login `sub`, CIS2 user id or hub admin username. Never an NHS number: that belongs in `nhsNumbers`. */
  userId?: string | null;
  /** National RBAC code of the selected CIS2 role, `S…:G…:R…`. */
  roleCode?: string | null;
  organisationOds: string | null;
}

export type PrincipalKind = 'api-key' | 'patient' | 'clinician' | 'admin';
/** Principals, and `operator`: someone running the hub's CLI on its store (`userId` says which tool). */
export type AuditActorKind = PrincipalKind | 'operator';

/** What a caller records; the chain fields (seq, prevHash, hash) are added by appendAuditEvent. */
export interface AuditEventInput {
  action: AuditAction;
  /** Null when the caller presented no valid credentials. */
  actor: AuditActor | null;
  /** NHS numbers touched, numbers only. */
  nhsNumbers: string[];
  outcome: AuditOutcome;
  /** Spine / hub error code when outcome is 'error' or 'denied' (e.g. TOO_MANY_REQUESTS). */
  errorCode?: string | null;
  httpStatus: number;
  correlationId: string;
  requestId: string;
  /** The access policy's decision for this request (`src/access/policy.ts`). */
  decision?: { allowed: boolean; rule: string } | null;
}

export type AuditAction =
  | AccessAction
  | 'session.create'
  | 'session.end'
  // Hub admin accounts (the console): created, disabled or their password reset from the CLI.
  | 'admin.create'
  | 'admin.disable'
  | 'admin.reset'
  // Products' API keys created and revoked from the console (keys.manage is the access decision).
  | 'api-key.create'
  | 'api-key.revoke'
  // Settings changed in the console (settings.manage is the access decision): src/settings.
  | 'settings.base-url.change'
  | 'settings.mailbox.change'
  | 'settings.mailbox.remove'
  | 'settings.reset'
  | 'proxy.grant'
  | 'proxy.revoke'
  // The submitting-data journey: a submission's status changed in the background (MESH delivery,
  // ITK3 acknowledgement).
  | 'readings.status';
export type AuditOutcome = 'success' | 'not-found' | 'denied' | 'error';

export interface AuditRecord {
  seq: number;
  /** Canonical form the hash was computed with: 1 (before access control) or 2. */
  hashVersion: number;
  occurredAt: string;
  action: string;
  actorKind: string | null;
  actorKeyId: string | null;
  actorKeyName: string | null;
  actorUserId: string | null;
  actorRoleCode: string | null;
  actorOrganisationOds: string | null;
  nhsNumbers: string[];
  outcome: string;
  errorCode: string | null;
  httpStatus: number;
  correlationId: string;
  requestId: string;
  /** `allowed` / `denied`; null in version-1 records. */
  decision: string | null;
  decisionRule: string | null;
  prevHash: string;
  hash: string;
}

/** The canonical form new records are hashed with. */
export const CURRENT_HASH_VERSION = 2;

/**
 * The canonical serialisation: a JSON *array* of the fields in a fixed order (no object key order
 * to depend on), each with a fixed type (strings, integers, null, a string array). JSON.stringify
 * of these is deterministic on every Node version and database, because timestamps are stored as
 * ISO text and `bigint` columns are read back as numbers before hashing. The previous hash is part
 * of the serialisation, which is what chains the records.
 *
 * The version tag leads the array, so a record cannot be passed off under another version: v1
 * records (written before access control) keep their v1 form and stay verifiable; v2 adds the
 * principal kind, user id, role code and the policy decision.
 */
export function canonicalAuditRecord(r: Omit<AuditRecord, 'hash'>): string {
  if (r.hashVersion === 1) {
    return JSON.stringify([
      'junction-audit-v1',
      r.seq,
      r.occurredAt,
      r.action,
      r.actorKeyId,
      r.actorKeyName,
      r.actorOrganisationOds,
      r.nhsNumbers,
      r.outcome,
      r.errorCode,
      r.httpStatus,
      r.correlationId,
      r.requestId,
      r.prevHash,
    ]);
  }
  if (r.hashVersion !== 2) throw new RangeError(`unknown audit hash version ${r.hashVersion}`);
  return JSON.stringify([
    'junction-audit-v2',
    r.seq,
    r.occurredAt,
    r.action,
    r.actorKind,
    r.actorKeyId,
    r.actorKeyName,
    r.actorUserId,
    r.actorRoleCode,
    r.actorOrganisationOds,
    r.nhsNumbers,
    r.outcome,
    r.errorCode,
    r.httpStatus,
    r.correlationId,
    r.requestId,
    r.decision,
    r.decisionRule,
    r.prevHash,
  ]);
}

/** Hex SHA-256 of the canonical serialisation. */
export function hashAuditRecord(r: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalAuditRecord(r), 'utf8').digest('hex');
}
