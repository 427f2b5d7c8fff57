import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../store/database.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { appendAuditEvent } from './append-audit-event.js';
import { type AuditEventInput, hashAuditRecord } from './audit-hash.js';
import { listAuditEvents } from './list-audit-events.js';
import { verifyAuditChain } from './verify-audit-chain.js';

const T0 = Date.parse('2025-03-04T05:06:07.000Z');
const clock = () => {
  let i = 0;
  return () => new Date(T0 + 1000 * i++);
};

const ACTORS: AuditEventInput['actor'][] = [
  { kind: 'patient', userId: '555000000009', organisationOds: null },
  {
    kind: 'api-key',
    keyId: '00000000-0000-4000-8000-000000000001',
    keyName: 'product-1',
    organisationOds: 'FA123',
  },
  { kind: 'clinician', userId: '555000000101', roleCode: 'S8000:G8000:R8000', organisationOds: 'A12345' },
];

const event = (i: number): AuditEventInput => ({
  action: i % 2 ? 'patient.search' : 'patient.read',
  actor: ACTORS[i % 3] ?? null,
  nhsNumbers: ['9000000009'],
  outcome: 'success',
  httpStatus: 200,
  correlationId: `corr-${i}`,
  requestId: `req-${i}`,
  decision: { allowed: true, rule: i % 3 === 1 ? 'api-key.scope' : 'clinician.role' },
});

/** What an attacker with database access does first. */
async function dropAppendOnlyTriggers(store: Store): Promise<void> {
  if (store.dialect === 'sqlite') {
    await sql`drop trigger audit_events_no_update`.execute(store.db);
    await sql`drop trigger audit_events_no_delete`.execute(store.db);
  } else {
    await sql`drop trigger audit_events_no_update_delete on audit_events`.execute(store.db);
  }
}

const COLUMN_EDITS: Record<string, string | number> = {
  occurred_at: '2030-01-01T00:00:00.000Z',
  action: 'patient.update',
  actor_key_id: '00000000-0000-4000-8000-0000000000ff',
  actor_key_name: 'someone-else',
  actor_organisation_ods: 'Y12345',
  nhs_numbers: '["9000000017"]',
  outcome: 'not-found',
  error_code: 'RESOURCE_NOT_FOUND',
  http_status: 404,
  correlation_id: 'corr-x',
  request_id: 'req-x',
  prev_hash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
  hash_version: 1,
  actor_kind: 'admin',
  actor_user_id: '555999999999',
  actor_role_code: 'S9:G9:R9999',
  decision: 'denied',
  decision_rule: 'forged',
};

describe.each(await testStores())('audit chain on $dialect', (factory) => {
  let t: TestStore;
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
  });
  afterEach(async () => {
    await t?.cleanup();
  });

  const appendN = async (n: number) => {
    const now = clock();
    const out = [];
    for (let i = 1; i <= n; i++) out.push(await appendAuditEvent(t.store, event(i), now));
    return out;
  };

  it('verifies an empty chain and a chain of appended records', async () => {
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 0 });
    const records = await appendN(5);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(records[0]?.prevHash).toBe('0'.repeat(64));
    expect(records[1]?.prevHash).toBe(records[0]?.hash);
    expect(records[0]?.occurredAt).toBe('2025-03-04T05:06:07.000Z');
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 5 });
  });

  it('hashes identically on both databases (canonical form, not driver output)', async () => {
    const [first] = await appendN(1);
    // Fixed inputs and clock: this value is the same on SQLite and PostgreSQL, and across releases.
    expect(first?.hash).toBe(EXPECTED_FIRST_HASH);
  });

  it('keeps records written before access control (hash v1) verifiable, before new ones', async () => {
    // Exactly what the hub wrote before migration 0002: the v1 canonical form of the old fixture.
    const v1 = {
      seq: 1,
      hashVersion: 1,
      occurredAt: new Date(T0).toISOString(),
      action: 'patient.search',
      actorKind: null,
      actorKeyId: '00000000-0000-4000-8000-000000000001',
      actorKeyName: 'product-1',
      actorUserId: null,
      actorRoleCode: null,
      actorOrganisationOds: 'FA123',
      nhsNumbers: ['9000000009'],
      outcome: 'success',
      errorCode: null,
      httpStatus: 200,
      correlationId: 'corr-1',
      requestId: 'req-1',
      decision: null,
      decisionRule: null,
      prevHash: '0'.repeat(64),
    };
    const hash = hashAuditRecord(v1);
    expect(hash).toBe(EXPECTED_FIRST_V1_HASH);
    await t.store.db
      .insertInto('audit_events')
      .values({
        seq: 1,
        occurred_at: v1.occurredAt,
        action: v1.action,
        actor_kind: null,
        actor_key_id: v1.actorKeyId,
        actor_key_name: v1.actorKeyName,
        actor_user_id: null,
        actor_role_code: null,
        actor_organisation_ods: v1.actorOrganisationOds,
        nhs_numbers: JSON.stringify(v1.nhsNumbers),
        outcome: v1.outcome,
        error_code: null,
        http_status: 200,
        correlation_id: v1.correlationId,
        request_id: v1.requestId,
        decision: null,
        decision_rule: null,
        prev_hash: v1.prevHash,
        hash,
      })
      .execute();
    await t.store.db.updateTable('audit_chain_head').set({ seq: 1, hash }).where('id', '=', 1).execute();
    const stored = await t.store.db
      .selectFrom('audit_events')
      .select('hash_version')
      .executeTakeFirstOrThrow();
    expect(Number(stored.hash_version)).toBe(1); // the column default: old rows are v1
    const now = clock();
    const next = await appendAuditEvent(t.store, event(2), now);
    expect(next).toMatchObject({ seq: 2, hashVersion: 2, prevHash: hash });
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 2 });
    // Relabelling a v2 record as v1 does not pass: the version is inside what was hashed.
    await dropAppendOnlyTriggers(t.store);
    await sql`update audit_events set hash_version = 1 where seq = 2`.execute(t.store.db);
    expect(await verifyAuditChain(t.store)).toMatchObject({ ok: false, firstBroken: { id: 2 } });
  });

  it('records who acted and what the policy decided', async () => {
    const now = clock();
    for (let i = 0; i < 3; i++) await appendAuditEvent(t.store, event(i), now);
    const rows = await listAuditEvents(t.store);
    expect(
      rows.map((r) => [
        r.actorKind,
        r.actorUserId,
        r.actorRoleCode,
        r.actorOrganisationOds,
        r.decision,
        r.decisionRule,
      ]),
    ).toEqual([
      ['patient', '555000000009', null, null, 'allowed', 'clinician.role'],
      ['api-key', null, null, 'FA123', 'allowed', 'api-key.scope'],
      ['clinician', '555000000101', 'S8000:G8000:R8000', 'A12345', 'allowed', 'clinician.role'],
    ]);
  });

  it('refuses UPDATE and DELETE through the append-only trigger', async () => {
    await appendN(2);
    await expect(
      sql`update audit_events set outcome = 'denied' where seq = 1`.execute(t.store.db),
    ).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_events where seq = 2`.execute(t.store.db)).rejects.toThrow(
      /append-only/,
    );
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 2 });
  });

  it('finds an edit of any column of any record, naming that record', async () => {
    await appendN(4);
    await dropAppendOnlyTriggers(t.store);
    for (let seq = 1; seq <= 4; seq++) {
      const original = await t.store.db
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', '=', seq)
        .executeTakeFirstOrThrow();
      for (const [column, value] of Object.entries(COLUMN_EDITS)) {
        await sql`update audit_events set ${sql.ref(column)} = ${value} where seq = ${seq}`.execute(
          t.store.db,
        );
        const result = await verifyAuditChain(t.store);
        expect(result, `${column} of record ${seq}`).toMatchObject({ ok: false, firstBroken: { id: seq } });
        if (!result.ok) expect(result.firstBroken.reason).toMatch(/edited|reordered/);
        const restore = original[column as keyof typeof original];
        await sql`update audit_events set ${sql.ref(column)} = ${restore} where seq = ${seq}`.execute(
          t.store.db,
        );
      }
      // the sequence number itself: the record at `seq` is gone from its place
      await sql`update audit_events set seq = 1000 where seq = ${seq}`.execute(t.store.db);
      expect(await verifyAuditChain(t.store)).toMatchObject({ ok: false, firstBroken: { id: seq } });
      await sql`update audit_events set seq = ${seq} where seq = 1000`.execute(t.store.db);
    }
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 4 });
  });

  it('finds an edit whose hash was recomputed, at the edited record', async () => {
    const records = await appendN(4);
    await dropAppendOnlyTriggers(t.store);
    const target = records[1]!;
    const forged = { ...target, outcome: 'denied' };
    const { hash: _old, ...unhashed } = forged;
    await sql`update audit_events set outcome = 'denied', hash = ${hashAuditRecord(unhashed)} where seq = 2`.execute(
      t.store.db,
    );
    expect(await verifyAuditChain(t.store)).toMatchObject({
      ok: false,
      firstBroken: { id: 2, reason: /edited/ },
    });
  });

  it('finds a deleted record, including the last one', async () => {
    await appendN(5);
    await dropAppendOnlyTriggers(t.store);
    await sql`delete from audit_events where seq = 3`.execute(t.store.db);
    expect(await verifyAuditChain(t.store)).toMatchObject({
      ok: false,
      firstBroken: { id: 3, reason: /deleted/ },
    });

    const t2 = await factory.create();
    try {
      const now = clock();
      for (let i = 1; i <= 3; i++) await appendAuditEvent(t2.store, event(i), now);
      await dropAppendOnlyTriggers(t2.store);
      await sql`delete from audit_events where seq = 3`.execute(t2.store.db);
      expect(await verifyAuditChain(t2.store)).toMatchObject({
        ok: false,
        firstBroken: { id: 3, reason: /deleted/ },
      });
    } finally {
      await t2.cleanup();
    }
  });

  it('finds two swapped records, naming the first', async () => {
    await appendN(5);
    await dropAppendOnlyTriggers(t.store);
    for (const [a, b] of [
      [2, 4],
      [3, 4],
    ] as const) {
      const swap = async () => {
        await sql`update audit_events set seq = -1 where seq = ${a}`.execute(t.store.db);
        await sql`update audit_events set seq = ${a} where seq = ${b}`.execute(t.store.db);
        await sql`update audit_events set seq = ${b} where seq = -1`.execute(t.store.db);
      };
      await swap();
      expect(await verifyAuditChain(t.store)).toMatchObject({
        ok: false,
        firstBroken: { id: a, reason: /reordered/ },
      });
      await swap();
      expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 5 });
    }
  });

  it('keeps one chain under concurrent appends', async () => {
    const second = factory.dialect === 'postgres' ? await t.openAnother() : t.store;
    const stores = [t.store, second];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => appendAuditEvent(stores[i % 2]!, event(i))),
    );
    expect(new Set(results.map((r) => r.seq)).size).toBe(50);
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 50 });
  });

  it('lists records in order, by page and by NHS number', async () => {
    const now = clock();
    await appendAuditEvent(t.store, event(1), now);
    await appendAuditEvent(t.store, { ...event(2), nhsNumbers: ['9000000017', '9000000025'] }, now);
    await appendAuditEvent(t.store, event(3), now);
    expect((await listAuditEvents(t.store)).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await listAuditEvents(t.store, { afterSeq: 1, limit: 1 })).map((r) => r.seq)).toEqual([2]);
    const byPatient = await listAuditEvents(t.store, { nhsNumber: '9000000025' });
    expect(byPatient.map((r) => [r.seq, r.nhsNumbers])).toEqual([[2, ['9000000017', '9000000025']]]);
  });

  it('stores NHS numbers only', async () => {
    await expect(appendAuditEvent(t.store, { ...event(1), nhsNumbers: ['Jane Smith'] })).rejects.toThrow(
      RangeError,
    );
  });
});

const EXPECTED_FIRST_HASH = '3cb59d789aa9014cef12450d69b70d743406887f94f855625ddfd7c89d395c47';
/** The hash the hub wrote for the first record before access control (hash v1); must never change. */
const EXPECTED_FIRST_V1_HASH = '75f438203eec8475ea45ed1cdb0eb714f54a5fce66cd50f77d78f92dae25183e';
