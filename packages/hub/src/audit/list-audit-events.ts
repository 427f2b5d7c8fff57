import type { Store } from '../store/database.js';
import type { AuditRecord } from './audit-hash.js';
import { fromRow } from './audit-rows.js';

export interface ListAuditEventsOptions {
  /** Only records with a sequence number greater than this (paging oldest first). */
  afterSeq?: number;
  /** Only records with a sequence number less than this (paging newest first). */
  beforeSeq?: number;
  /** `asc` (default: sequence order, for reports) or `desc` (newest first, for the console). */
  order?: 'asc' | 'desc';
  /** Only records that touched this NHS number. */
  nhsNumber?: string;
  /** Only records of this person: NHS login sub, CIS2 user id, hub admin username or operator tool. */
  user?: string;
  /** Only records of this API key, by id or by name. */
  apiKey?: string;
  /** Only records of callers from this organisation (ODS code). */
  organisation?: string;
  /** Only records of this action, e.g. `patient.read`. */
  action?: string;
  /** Only records with one of these outcomes (`success`, `not-found`, `denied`, `error`). */
  outcomes?: readonly string[];
  /** Only records at or after this ISO-8601 time. */
  from?: string;
  /** Only records at or before this ISO-8601 time. */
  to?: string;
  /** At most this many records (default 100, at most 1000). */
  limit?: number;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;

/**
 * Audit records, filtered, for reports and the console. All filters are exact matches on indexed or
 * stored columns (the NHS number as an element of the stored JSON array).
 * @example
 * const page = await listAuditEvents(store, { nhsNumber: '9000000009', order: 'desc', limit: 50 });
 */
export async function listAuditEvents(
  store: Store,
  options: ListAuditEventsOptions = {},
): Promise<AuditRecord[]> {
  const limit = Math.min(Math.max(1, options.limit ?? DEFAULT_LIMIT), MAX_LIMIT);
  const desc = options.order === 'desc';
  let query = store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('seq', '>', options.afterSeq ?? 0)
    .orderBy('seq', desc ? 'desc' : 'asc')
    .limit(limit);
  if (options.beforeSeq !== undefined) query = query.where('seq', '<', options.beforeSeq);
  if (options.nhsNumber !== undefined) {
    if (!/^\d{10}$/.test(options.nhsNumber)) throw new RangeError('nhsNumber must be 10 digits');
    // nhs_numbers is a JSON array of 10-digit strings, so the quoted number matches exactly one element.
    query = query.where('nhs_numbers', 'like', `%"${options.nhsNumber}"%`);
  }
  if (options.user !== undefined) query = query.where('actor_user_id', '=', options.user);
  if (options.apiKey !== undefined) {
    const key = options.apiKey;
    query = query.where((eb) => eb.or([eb('actor_key_id', '=', key), eb('actor_key_name', '=', key)]));
  }
  if (options.organisation !== undefined) {
    query = query.where('actor_organisation_ods', '=', options.organisation.toUpperCase());
  }
  if (options.action !== undefined) query = query.where('action', '=', options.action);
  if (options.outcomes !== undefined) {
    if (options.outcomes.length === 0) return [];
    query = query.where('outcome', 'in', [...options.outcomes]);
  }
  // occurred_at is ISO-8601 UTC text of one fixed width, so text order is time order on both databases.
  if (options.from !== undefined) query = query.where('occurred_at', '>=', options.from);
  if (options.to !== undefined) query = query.where('occurred_at', '<=', options.to);
  const rows = await query.execute();
  return rows.map(fromRow);
}
