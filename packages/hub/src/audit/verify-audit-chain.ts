import type { Store } from '../store/database.js';
import { GENESIS_HASH } from '../store/migrations/0001-initial.js';
import { type AuditRecord, hashAuditRecord } from './audit-hash.js';
import { fromRow } from './audit-rows.js';

export type AuditChainVerification =
  | { ok: true; count: number }
  | { ok: false; count: number; firstBroken: { id: string | number; reason: string } };

const PAGE_SIZE = 1_000;

/**
 * Recomputes every hash and link of the audit chain, in sequence order, and reports the first
 * record that does not hold: `edited` (its content no longer matches its hash), `deleted` (a
 * sequence number is missing, or the tail is shorter than the chain head says), `reordered`
 * (it links to a record other than its predecessor). `count` is the number of records read.
 *
 * What it cannot detect: someone with write access who rewrites every hash from the edit onwards
 * *and* the head row, or deletes the tail and moves the head back. A signed checkpoint kept outside
 * the database closes that gap (verifyAuditCheckpoint in audit-checkpoint.ts).
 * @example
 * const result = await verifyAuditChain(store);
 * if (!result.ok) console.error(`record ${result.firstBroken.id}: ${result.firstBroken.reason}`);
 */
export async function verifyAuditChain(store: Store): Promise<AuditChainVerification> {
  let count = 0;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let lastSeq = 0;
  const fail = (id: string | number, reason: string): AuditChainVerification => ({
    ok: false,
    count,
    firstBroken: { id, reason },
  });

  for (;;) {
    const rows = await store.db
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '>', lastSeq)
      .orderBy('seq')
      .limit(PAGE_SIZE)
      .execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      count++;
      let record: AuditRecord;
      try {
        record = fromRow(row);
      } catch {
        return fail(Number(row.seq), 'edited: nhs_numbers is not valid JSON');
      }
      lastSeq = record.seq;
      if (record.seq !== expectedSeq) {
        return fail(
          expectedSeq,
          `deleted: record ${expectedSeq} is missing (next record found is ${record.seq})`,
        );
      }
      const contentIntact = hashAuditRecord(record) === record.hash;
      if (record.prevHash !== prevHash) {
        const linked = await store.db
          .selectFrom('audit_events')
          .select('seq')
          .where('hash', '=', record.prevHash)
          .executeTakeFirst();
        if (linked && Number(linked.seq) !== record.seq - 1) {
          return fail(
            record.seq,
            `reordered: it links to record ${Number(linked.seq)}, not to its predecessor ${record.seq - 1}`,
          );
        }
        if (contentIntact && record.seq > 1) {
          // It still links to a hash no stored record has: its predecessor was rewritten with a
          // recomputed hash (or replaced), which an edit alone cannot explain at this record.
          return fail(
            record.seq - 1,
            'edited: its hash was recomputed, breaking the link from the next record',
          );
        }
        return fail(record.seq, 'edited: previous-hash link does not match');
      }
      if (!contentIntact) return fail(record.seq, 'edited: content does not match its hash');
      prevHash = record.hash;
      expectedSeq++;
    }
  }

  const head = await store.db
    .selectFrom('audit_chain_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirst();
  if (!head) return fail(0, 'deleted: the audit chain head row is missing');
  const headSeq = Number(head.seq);
  if (headSeq > expectedSeq - 1) {
    return fail(
      expectedSeq,
      `deleted: the chain head is at ${headSeq} but the last record is ${expectedSeq - 1}`,
    );
  }
  if (headSeq !== expectedSeq - 1 || head.hash !== prevHash) {
    return fail(expectedSeq - 1, 'edited: the last record does not match the chain head');
  }
  return { ok: true, count };
}
