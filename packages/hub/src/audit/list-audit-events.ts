import type { Store } from '../store/database.js';
import type { AuditRecord } from './audit-hash.js';
import { fromRow } from './audit-rows.js';

export interface ListAuditEventsOptions {
  /** Only records with a sequence number greater than this (paging). */
  afterSeq?: number;
  /** Only records that touched this NHS number. */
  nhsNumber?: string;
  /** At most this many records (default 100, at most 1000). */
  limit?: number;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;

/**
 * Audit records in sequence order, for reports and the console.
 * @example
 * const page = await listAuditEvents(store, { nhsNumber: '9000000009', limit: 50 });
 */
export async function listAuditEvents(
  store: Store,
  options: ListAuditEventsOptions = {},
): Promise<AuditRecord[]> {
  const limit = Math.min(Math.max(1, options.limit ?? DEFAULT_LIMIT), MAX_LIMIT);
  let query = store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('seq', '>', options.afterSeq ?? 0)
    .orderBy('seq')
    .limit(limit);
  if (options.nhsNumber !== undefined) {
    if (!/^\d{10}$/.test(options.nhsNumber)) throw new RangeError('nhsNumber must be 10 digits');
    // nhs_numbers is a JSON array of 10-digit strings, so the quoted number matches exactly one element.
    query = query.where('nhs_numbers', 'like', `%"${options.nhsNumber}"%`);
  }
  const rows = await query.execute();
  return rows.map(fromRow);
}
