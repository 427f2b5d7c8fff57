import { sql } from 'kysely';
import type { Store } from '../store/database.js';
import {
  type AuditEventInput,
  type AuditRecord,
  CURRENT_HASH_VERSION,
  hashAuditRecord,
} from './audit-hash.js';

const AUDIT_FIELD_MAX = 200;

/**
 * Appends one record to the audit chain and returns it.
 *
 * Appends are serialised so the chain cannot fork, even with several hub instances:
 * - PostgreSQL: `SELECT … FOR UPDATE` on the single `audit_chain_head` row inside the transaction;
 *   a second writer blocks there until the first commits, then reads the new head.
 * - SQLite: the transaction's first statement writes the head row, which takes SQLite's one write
 *   lock at once (waiting `busy_timeout`), so no other connection or process can read a stale head
 *   and then write.
 * The head row also anchors the tail: deleting the last records is detected by verify.
 * @example
 * await appendAuditEvent(store, { action: 'patient.read', actor, nhsNumbers: ['9000000009'],
 *   outcome: 'success', httpStatus: 200, correlationId, requestId });
 */
export async function appendAuditEvent(
  store: Store,
  event: AuditEventInput,
  now: () => Date = () => new Date(),
): Promise<AuditRecord> {
  for (const n of event.nhsNumbers) {
    // Numbers only: anything else here would be patient data leaking into the audit trail.
    if (!/^\d{10}$/.test(n)) throw new RangeError('audit nhsNumbers must be 10-digit NHS numbers');
  }
  return store.db.transaction().execute(async (trx) => {
    if (store.dialect === 'sqlite') {
      await sql`update audit_chain_head set seq = seq where id = 1`.execute(trx);
    }
    let head = trx.selectFrom('audit_chain_head').select(['seq', 'hash']).where('id', '=', 1);
    if (store.dialect === 'postgres') head = head.forUpdate();
    const current = await head.executeTakeFirstOrThrow();
    const unhashed = {
      seq: Number(current.seq) + 1,
      hashVersion: CURRENT_HASH_VERSION,
      occurredAt: now().toISOString(),
      action: event.action,
      actorKind: event.actor?.kind ?? null,
      actorKeyId: event.actor?.keyId ?? null,
      actorKeyName: event.actor?.keyName ?? null,
      actorUserId: clip(event.actor?.userId),
      actorRoleCode: clip(event.actor?.roleCode, 64),
      actorOrganisationOds: event.actor?.organisationOds ?? null,
      nhsNumbers: [...event.nhsNumbers],
      outcome: event.outcome,
      errorCode: event.errorCode ?? null,
      httpStatus: event.httpStatus,
      correlationId: event.correlationId.slice(0, AUDIT_FIELD_MAX),
      requestId: event.requestId.slice(0, 64),
      decision: event.decision ? (event.decision.allowed ? 'allowed' : 'denied') : null,
      decisionRule: clip(event.decision?.rule, 64),
      prevHash: current.hash,
    };
    const record: AuditRecord = { ...unhashed, hash: hashAuditRecord(unhashed) };
    await trx
      .insertInto('audit_events')
      .values({
        seq: record.seq,
        hash_version: record.hashVersion,
        occurred_at: record.occurredAt,
        action: record.action,
        actor_kind: record.actorKind,
        actor_key_id: record.actorKeyId,
        actor_key_name: record.actorKeyName,
        actor_user_id: record.actorUserId,
        actor_role_code: record.actorRoleCode,
        actor_organisation_ods: record.actorOrganisationOds,
        nhs_numbers: JSON.stringify(record.nhsNumbers),
        outcome: record.outcome,
        error_code: record.errorCode,
        http_status: record.httpStatus,
        correlation_id: record.correlationId,
        request_id: record.requestId,
        decision: record.decision,
        decision_rule: record.decisionRule,
        prev_hash: record.prevHash,
        hash: record.hash,
      })
      .execute();
    await trx
      .updateTable('audit_chain_head')
      .set({ seq: record.seq, hash: record.hash })
      .where('id', '=', 1)
      .execute();
    return record;
  });
}

function clip(value: string | null | undefined, max = AUDIT_FIELD_MAX): string | null {
  return value == null ? null : value.slice(0, max);
}
