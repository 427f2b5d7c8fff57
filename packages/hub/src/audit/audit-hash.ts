import { createHash } from 'node:crypto';

/** What a caller records; the chain fields (seq, prevHash, hash) are added by appendAuditEvent. */
export interface AuditEventInput {
  action: AuditAction;
  actor: { keyId: string; keyName: string; organisationOds: string | null } | null;
  /** NHS numbers touched, numbers only. */
  nhsNumbers: string[];
  outcome: AuditOutcome;
  /** Spine / hub error code when outcome is 'error' or 'denied' (e.g. TOO_MANY_REQUESTS). */
  errorCode?: string | null;
  httpStatus: number;
  correlationId: string;
  requestId: string;
}

export type AuditAction = 'patient.read' | 'patient.search' | 'patient.update';
export type AuditOutcome = 'success' | 'not-found' | 'denied' | 'error';

export interface AuditRecord {
  seq: number;
  occurredAt: string;
  action: string;
  actorKeyId: string | null;
  actorKeyName: string | null;
  actorOrganisationOds: string | null;
  nhsNumbers: string[];
  outcome: string;
  errorCode: string | null;
  httpStatus: number;
  correlationId: string;
  requestId: string;
  prevHash: string;
  hash: string;
}

/** Bumped if the canonical form ever changes; part of every hash so versions cannot be confused. */
const CANONICAL_VERSION = 'junction-audit-v1';

/**
 * The canonical serialisation: a JSON *array* of the fields in a fixed order (no object key order
 * to depend on), each with a fixed type (strings, integers, null, a string array). JSON.stringify
 * of these is deterministic on every Node version and database, because timestamps are stored as
 * ISO text and `bigint` columns are read back as numbers before hashing. The previous hash is part
 * of the serialisation, which is what chains the records.
 */
export function canonicalAuditRecord(r: Omit<AuditRecord, 'hash'>): string {
  return JSON.stringify([
    CANONICAL_VERSION,
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

/** Hex SHA-256 of the canonical serialisation. */
export function hashAuditRecord(r: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalAuditRecord(r), 'utf8').digest('hex');
}
