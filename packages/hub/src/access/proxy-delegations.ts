import { randomUUID } from 'node:crypto';
import { isValidNhsNumber } from '@junction/core';
import type { Selectable } from 'kysely';
import { appendAuditEvent } from '../audit/append-audit-event.js';
import type { ProxyDelegationsTable, Store } from '../store/database.js';
import { PROXY_ACCESS_KINDS, type ProxyAccess, type ProxyDelegation } from './policy.js';
import { PROXY_RELATIONSHIPS, type ProxyRelationship } from './proxy-relationships.js';

/**
 * Proxy access: a parent acting for a child, a carer for an adult. In the NHS the GP
 * practice verifies the relationship and records it; NHS login does not carry it in its claims for
 * third parties. The hub keeps the record here and the policy reads the active ones for every
 * request. Granting and revoking are access decisions about patient data, so both are audited
 * (`proxy.grant`, `proxy.revoke`; NHS numbers only).
 */

export { PROXY_RELATIONSHIPS, type ProxyRelationship } from './proxy-relationships.js';

export interface ProxyDelegationInfo {
  id: string;
  proxyNhsNumber: string;
  patientNhsNumber: string;
  relationship: ProxyRelationship;
  access: ProxyAccess[];
  validFrom: string;
  /** Exclusive end, or null: until revoked. */
  validUntil: string | null;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface GrantProxyDelegationInput {
  proxyNhsNumber: string;
  patientNhsNumber: string;
  relationship: ProxyRelationship;
  /** Default: every kind ({@link PROXY_ACCESS_KINDS}). */
  access?: readonly ProxyAccess[];
  /** Default: now. */
  validFrom?: Date;
  /** Exclusive end; default none (until revoked). */
  validUntil?: Date;
  /** Who records it: `cli`, or the id of the API key of an admin tool. Default `cli`. */
  createdBy?: string;
  now?: () => Date;
}

/** A delegation the store refuses, with a message fit for the person who asked. */
export class ProxyDelegationError extends Error {
  override name = 'ProxyDelegationError';
}

/**
 * Records that `proxyNhsNumber` may act for `patientNhsNumber`, audited as `proxy.grant`. Refuses
 * invalid NHS numbers, a person as their own proxy, unknown relationships or access kinds, an empty
 * validity period, and a second live delegation between the same two people.
 * @example
 * await grantProxyDelegation(store, { proxyNhsNumber: '9000000017', patientNhsNumber: '9000000025',
 *   relationship: 'parent', access: ['demographics', 'gp-record'] });
 */
export async function grantProxyDelegation(
  store: Store,
  input: GrantProxyDelegationInput,
): Promise<ProxyDelegationInfo> {
  const now = input.now ?? (() => new Date());
  const proxy = checkedNhsNumber(input.proxyNhsNumber, 'proxy');
  const patient = checkedNhsNumber(input.patientNhsNumber, 'patient');
  if (proxy === patient) throw new ProxyDelegationError('a person cannot be their own proxy');
  if (!PROXY_RELATIONSHIPS.includes(input.relationship)) {
    throw new ProxyDelegationError(
      `unknown relationship '${String(input.relationship)}'; relationships are: ${PROXY_RELATIONSHIPS.join(', ')}`,
    );
  }
  const access = [...new Set(input.access ?? PROXY_ACCESS_KINDS)];
  if (access.length === 0) throw new ProxyDelegationError('a delegation needs at least one kind of access');
  for (const kind of access) {
    if (!PROXY_ACCESS_KINDS.includes(kind)) {
      throw new ProxyDelegationError(
        `unknown access '${String(kind)}'; access kinds are: ${PROXY_ACCESS_KINDS.join(', ')}`,
      );
    }
  }
  const at = now();
  const validFrom = input.validFrom ?? at;
  if (input.validUntil !== undefined && input.validUntil.getTime() <= validFrom.getTime()) {
    throw new ProxyDelegationError('the delegation would end before it starts');
  }
  const createdBy = (input.createdBy ?? 'cli').trim().slice(0, 200) || 'cli';
  const row: Selectable<ProxyDelegationsTable> = {
    id: randomUUID(),
    proxy_nhs_number: proxy,
    patient_nhs_number: patient,
    relationship: input.relationship,
    access: JSON.stringify(access),
    valid_from: validFrom.toISOString(),
    valid_until: input.validUntil?.toISOString() ?? null,
    created_by: createdBy,
    created_at: at.toISOString(),
    revoked_at: null,
  };
  const live = await store.db
    .selectFrom('proxy_delegations')
    .select('id')
    .where('proxy_nhs_number', '=', proxy)
    .where('patient_nhs_number', '=', patient)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>', at.toISOString())]))
    .executeTakeFirst();
  if (live) {
    throw new ProxyDelegationError(
      `${proxy} is already a proxy for ${patient} (delegation ${live.id}); revoke it first to change it`,
    );
  }
  // Audited first: a grant that fails to be recorded after its audit record is harmless, a grant
  // nobody audited is not. (Revoking goes the other way round: the revocation matters most.)
  await auditDelegation(store, 'proxy.grant', createdBy, [proxy, patient], now);
  await store.db.insertInto('proxy_delegations').values(row).execute();
  return infoOf(row);
}

/**
 * Revokes a delegation by id, audited as `proxy.revoke`. Returns false when there is no such
 * delegation; revoking one already revoked changes nothing and is not audited again.
 * @example await revokeProxyDelegation(store, id)
 */
export async function revokeProxyDelegation(
  store: Store,
  id: string,
  options: { revokedBy?: string; now?: () => Date } = {},
): Promise<boolean> {
  const now = options.now ?? (() => new Date());
  const row = await store.db
    .selectFrom('proxy_delegations')
    .select(['proxy_nhs_number', 'patient_nhs_number'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return false;
  const result = await store.db
    .updateTable('proxy_delegations')
    .set({ revoked_at: now().toISOString() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) {
    const by = (options.revokedBy ?? 'cli').trim().slice(0, 200) || 'cli';
    await auditDelegation(store, 'proxy.revoke', by, [row.proxy_nhs_number, row.patient_nhs_number], now);
  }
  return true;
}

/**
 * Delegations, newest first, revoked and expired ones included; filtered by patient and/or proxy.
 * @example const forChild = await listProxyDelegations(store, { patientNhsNumber: '9000000025' });
 */
export async function listProxyDelegations(
  store: Store,
  filter: { patientNhsNumber?: string; proxyNhsNumber?: string } = {},
): Promise<ProxyDelegationInfo[]> {
  let query = store.db.selectFrom('proxy_delegations').selectAll();
  if (filter.patientNhsNumber !== undefined) {
    query = query.where('patient_nhs_number', '=', checkedNhsNumber(filter.patientNhsNumber, 'patient'));
  }
  if (filter.proxyNhsNumber !== undefined) {
    query = query.where('proxy_nhs_number', '=', checkedNhsNumber(filter.proxyNhsNumber, 'proxy'));
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id').execute();
  return rows.map(infoOf);
}

/**
 * The patients `proxyNhsNumber` may act for at `now`, and for what: what the policy sees. Revoked,
 * expired and not-yet-valid delegations are left out.
 * @example const delegations = await activeDelegationsFor(store, '9000000017', () => new Date());
 */
export async function activeDelegationsFor(
  store: Store,
  proxyNhsNumber: string,
  now: () => Date,
): Promise<ProxyDelegation[]> {
  if (!isValidNhsNumber(proxyNhsNumber)) return [];
  const at = now().toISOString();
  const rows = await store.db
    .selectFrom('proxy_delegations')
    .select(['patient_nhs_number', 'access'])
    .where('proxy_nhs_number', '=', proxyNhsNumber)
    .where('revoked_at', 'is', null)
    .where('valid_from', '<=', at)
    .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>', at)]))
    .orderBy('patient_nhs_number')
    .execute();
  // At most one live row per pair (grant refuses a second), but a not-yet-valid one may follow an
  // expiring one: merge, so the policy sees one entry per patient.
  const byPatient = new Map<string, Set<ProxyAccess>>();
  for (const row of rows) {
    const kinds = byPatient.get(row.patient_nhs_number) ?? new Set<ProxyAccess>();
    for (const kind of parseAccess(row.access)) kinds.add(kind);
    byPatient.set(row.patient_nhs_number, kinds);
  }
  return [...byPatient].map(([nhsNumber, kinds]) => ({ nhsNumber, access: [...kinds] }));
}

function checkedNhsNumber(value: string, who: 'proxy' | 'patient'): string {
  const n = value.replace(/\s+/g, '');
  if (!isValidNhsNumber(n)) throw new ProxyDelegationError(`the ${who}'s NHS number is not valid: ${value}`);
  return n;
}

function parseAccess(json: string): ProxyAccess[] {
  try {
    const parsed: unknown = JSON.parse(json);
    // A kind the policy no longer knows grants nothing.
    return Array.isArray(parsed)
      ? parsed.filter((k): k is ProxyAccess => PROXY_ACCESS_KINDS.includes(k))
      : [];
  } catch {
    return [];
  }
}

async function auditDelegation(
  store: Store,
  action: 'proxy.grant' | 'proxy.revoke',
  by: string,
  nhsNumbers: string[],
  now: () => Date,
): Promise<void> {
  // Recorded outside HTTP (the CLI on the store): no status, a fresh id to correlate by.
  const id = randomUUID();
  await appendAuditEvent(
    store,
    {
      action,
      actor: { kind: 'operator', userId: by, organisationOds: null },
      nhsNumbers,
      outcome: 'success',
      httpStatus: 0,
      correlationId: id,
      requestId: id,
      decision: { allowed: true, rule: action },
    },
    now,
  );
}

function infoOf(row: Selectable<ProxyDelegationsTable>): ProxyDelegationInfo {
  return {
    id: row.id,
    proxyNhsNumber: row.proxy_nhs_number,
    patientNhsNumber: row.patient_nhs_number,
    relationship: row.relationship as ProxyRelationship,
    access: parseAccess(row.access),
    validFrom: row.valid_from,
    validUntil: row.valid_until,
    createdBy: row.created_by,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
