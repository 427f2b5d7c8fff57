import { sql } from 'kysely';
import { type AuditRecord, hashAuditRecord } from '../audit/audit-hash.js';
import { fromRow } from '../audit/audit-rows.js';
import type { Store } from '../store/database.js';

/**
 * Test helper (not exported from the package): the audit-trail forgeries someone with write access
 * to the database can make, for tests of what verify and checkpoints catch.
 */

/** What an attacker with database access does first. */
export async function dropAuditAppendOnlyTriggers(store: Store): Promise<void> {
  if (store.dialect === 'sqlite') {
    await sql`drop trigger audit_events_no_update`.execute(store.db);
    await sql`drop trigger audit_events_no_delete`.execute(store.db);
  } else {
    await sql`drop trigger audit_events_no_update_delete on audit_events`.execute(store.db);
  }
}

/** Edits record `from`, then recomputes every hash and link after it and the head row: a whole forged chain. */
export async function rewriteAuditChainFrom(store: Store, from: number): Promise<void> {
  const rows = await store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
  let prevHash = '';
  for (const row of rows) {
    const record: AuditRecord = fromRow(row);
    if (record.seq < from) {
      prevHash = record.hash;
      continue;
    }
    const { hash: _old, ...unhashed } = {
      ...record,
      prevHash: record.seq === 1 ? record.prevHash : prevHash,
      outcome: record.seq === from ? 'denied' : record.outcome,
    };
    const hash = hashAuditRecord(unhashed);
    await store.db
      .updateTable('audit_events')
      .set({ outcome: unhashed.outcome, prev_hash: unhashed.prevHash, hash })
      .where('seq', '=', record.seq)
      .execute();
    prevHash = hash;
  }
  const last = rows.length;
  await store.db
    .updateTable('audit_chain_head')
    .set({ seq: last, hash: prevHash })
    .where('id', '=', 1)
    .execute();
}

/** Deletes the records after `keep` and moves the head back to record `keep`. */
export async function cutAuditTail(store: Store, keep: number): Promise<void> {
  await store.db.deleteFrom('audit_events').where('seq', '>', keep).execute();
  const last = await store.db
    .selectFrom('audit_events')
    .select('hash')
    .where('seq', '=', keep)
    .executeTakeFirstOrThrow();
  await store.db
    .updateTable('audit_chain_head')
    .set({ seq: keep, hash: last.hash })
    .where('id', '=', 1)
    .execute();
}
