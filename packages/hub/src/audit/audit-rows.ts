import type { Selectable } from 'kysely';
import type { AuditEventsTable } from '../store/database.js';
import type { AuditRecord } from './audit-hash.js';

/** A stored row as the hash sees it. Throws on a malformed nhs_numbers column (caught by verify). */
export function fromRow(row: Selectable<AuditEventsTable>): AuditRecord {
  return {
    seq: Number(row.seq),
    hashVersion: Number(row.hash_version),
    occurredAt: row.occurred_at,
    action: row.action,
    actorKind: row.actor_kind,
    actorKeyId: row.actor_key_id,
    actorKeyName: row.actor_key_name,
    actorUserId: row.actor_user_id,
    actorRoleCode: row.actor_role_code,
    actorOrganisationOds: row.actor_organisation_ods,
    nhsNumbers: JSON.parse(row.nhs_numbers) as string[],
    outcome: row.outcome,
    errorCode: row.error_code,
    httpStatus: Number(row.http_status),
    correlationId: row.correlation_id,
    requestId: row.request_id,
    decision: row.decision,
    decisionRule: row.decision_rule,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
