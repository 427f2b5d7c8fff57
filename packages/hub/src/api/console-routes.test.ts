import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminAccount } from '../access/admin-accounts.js';
import { API_KEY_SCOPES, type ApiKeyScope, createApiKey } from '../access/api-keys.js';
import { PATIENT_DATA_SCOPES } from '../access/policy.js';
import type { SessionPrincipal } from '../access/sessions.js';
import { appendAuditEvent } from '../audit/append-audit-event.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { fakeCis2 } from '../testing/fake-identity-providers.js';
import { fakePds } from '../testing/fake-pds.js';
import { clinician, patient, sessionFor } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { csvText } from './console-routes.js';

const TIME = new Date('2025-05-06T07:08:09.000Z');
const now = () => TIME;
const ORIGIN = 'https://hub.example.com';
const MAILBOXES = [
  {
    mailboxId: 'X26ABC1',
    password: 'mailbox-password-secret',
    sharedKey: 'shared-key-secret',
    baseUrl: 'https://msg.intspineservices.nhs.uk',
    pollIntervalMs: 5000,
    workflows: ['GPFED_CONSULT_REPORT_ACK'],
    tls: {
      certPath: '/etc/mesh/cert.pem',
      keyPath: '/etc/mesh/key.pem',
      passphrase: 'tls-passphrase-secret',
    },
  },
  { mailboxId: 'X26ABC2', password: 'pw2-secret', sharedKey: 'sk2-secret', baseUrl: 'http://127.0.0.1:8081' },
];

describe.each(await testStores())('console routes on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    hub = await createHub(
      loadConfig(
        { JUNCTION_PUBLIC_URL: ORIGIN, JUNCTION_MESH_MAILBOXES: JSON.stringify(MAILBOXES) },
        { logLevel: 'silent' },
      ),
      { store: t.store, pds: fakePds(), now, startJobs: false, cis2: fakeCis2() },
    );
  });
  afterEach(async () => {
    await hub?.close();
    await t?.cleanup();
  });

  const bearer = async (principal: SessionPrincipal) => ({
    authorization: `Bearer ${await sessionFor(t.store, principal, now)}`,
  });
  const admin = async () => {
    const account = await createAdminAccount(t.store, {
      username: 'ops.lead',
      password: 'a long admin passphrase',
      now,
    });
    return bearer({ kind: 'admin', id: account.id, username: account.username });
  };
  const keyWith = async (...scopes: ApiKeyScope[]) => ({
    'x-api-key': (await createApiKey(t.store, { name: `key ${scopes.join(' ')}`, scopes })).secret,
  });
  const get = (url: string, headers: Record<string, string>) => hub.app.inject({ url, headers });
  const auditRows = () => t.store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();

  it('GET /mesh/mailboxes: the last finished poll and message counts per mailbox, from the store', async () => {
    const job = (key: string, status: string, at: string, lastError: string | null = null) => ({
      id: randomUUID(),
      kind: 'mesh.poll',
      payload: '{}',
      idempotency_key: key,
      status,
      attempts: 1,
      max_attempts: 1,
      run_after: at,
      lease_owner: null,
      lease_expires_at: null,
      last_error: lastError,
      result: null,
      correlation_id: randomUUID(),
      created_at: at,
      updated_at: at,
      finished_at: status === 'queued' ? null : at,
    });
    await t.store.db
      .insertInto('jobs')
      .values([
        job('mesh.poll:X26ABC1:350', 'succeeded', '2025-05-06T07:00:00.000Z'),
        job('mesh.poll:X26ABC1:351', 'dead', '2025-05-06T07:00:05.000Z', 'MESH answered 503'),
        job('mesh.poll:X26ABC1:352', 'queued', '2025-05-06T07:00:10.000Z'),
        job('mesh.poll:X26ABC10:999', 'succeeded', '2025-05-06T07:08:00.000Z'), // another mailbox
        job('mesh.poll:X26ABC2:100', 'succeeded', '2025-05-06T06:00:00.000Z'),
      ])
      .execute();
    const message = (mailbox: string, direction: string, status: string) => ({
      id: randomUUID(),
      direction,
      mailbox_id: mailbox,
      from_mailbox: null,
      to_mailbox: null,
      workflow_id: null,
      subject: null,
      local_id: null,
      content_type: null,
      message_type: 'DATA',
      mesh_message_id: randomUUID(),
      linked_message_id: null,
      status,
      dts_event: null,
      dts_code: null,
      error: null,
      bytes: null,
      chunks: null,
      body_path: null,
      correlation_id: randomUUID(),
      idempotency_key: randomUUID(),
      created_at: TIME.toISOString(),
      updated_at: TIME.toISOString(),
    });
    await t.store.db
      .insertInto('mesh_messages')
      .values([
        message('X26ABC1', 'outbound', 'delivered'),
        message('X26ABC1', 'outbound', 'failed'),
        message('X26ABC1', 'outbound', 'queued'),
        message('X26ABC1', 'inbound', 'acked'),
        message('X26ABC2', 'inbound', 'received'),
      ])
      .execute();
    const res = await get('/mesh/mailboxes', await bearer(clinician('R8000')));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      mailboxes: [
        {
          mailboxId: 'X26ABC1',
          baseUrl: 'https://msg.intspineservices.nhs.uk',
          pollIntervalMs: 5000,
          lastPoll: { at: '2025-05-06T07:00:05.000Z', status: 'failed', error: 'MESH answered 503' },
          counts: { inbound: 1, outbound: 3, failed: 1 },
        },
        {
          mailboxId: 'X26ABC2',
          baseUrl: 'http://127.0.0.1:8081',
          pollIntervalMs: expect.any(Number),
          lastPoll: { at: '2025-05-06T06:00:00.000Z', status: 'succeeded' },
          counts: { inbound: 1, outbound: 0, failed: 0 },
        },
      ],
    });
    expect(res.body).not.toContain('secret');
    expect((await get('/mesh/mailboxes', await keyWith('messages:read'))).statusCode).toBe(200);
    expect((await get('/mesh/mailboxes', await bearer(clinician('R8009')))).statusCode).toBe(403);
    expect((await get('/mesh/mailboxes', await bearer(patient('P9')))).statusCode).toBe(403);
  });

  it('GET/POST/DELETE /api-keys: list without secrets, create (secret once), revoke; audited; keys.manage only', async () => {
    const asAdmin = await admin();
    const created = await hub.app.inject({
      method: 'POST',
      url: '/api-keys',
      headers: { ...asAdmin, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'Pharmacy app', organisationOds: 'fa123', scopes: ['jobs:read'] }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const { key, secret } = created.json();
    expect(secret).toMatch(/^jct_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key).toEqual({
      id: expect.any(String),
      name: 'Pharmacy app',
      organisationOds: 'FA123',
      scopes: ['jobs:read'],
      createdAt: TIME.toISOString(),
      revokedAt: null,
    });
    // The new key works at once.
    expect((await get('/jobs', { authorization: `Bearer ${secret}` })).statusCode).toBe(200);

    const listed = await get('/api-keys', asAdmin);
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual({
      keys: [key],
      scopes: [...API_KEY_SCOPES],
      defaultScopes: ['patient:read', 'patient:search', 'medicines:read'],
    });
    expect(listed.body).not.toContain(secret.slice(-20));

    const revoked = await hub.app.inject({ method: 'DELETE', url: `/api-keys/${key.id}`, headers: asAdmin });
    expect(revoked.statusCode).toBe(204);
    expect((await get('/jobs', { authorization: `Bearer ${secret}` })).statusCode).toBe(401);
    expect((await get('/api-keys', asAdmin)).json().keys[0].revokedAt).toBe(TIME.toISOString());
    const missing = await hub.app.inject({
      method: 'DELETE',
      url: `/api-keys/${randomUUID()}`,
      headers: asAdmin,
    });
    expect(missing.statusCode).toBe(404);

    const audit = (await auditRows()).filter((r) => r.action.startsWith('api-key.'));
    expect(audit.map((r) => [r.action, r.outcome, r.http_status, r.actor_kind, r.actor_user_id])).toEqual([
      ['api-key.create', 'success', 201, 'admin', 'ops.lead'],
      ['api-key.revoke', 'success', 204, 'admin', 'ops.lead'],
      ['api-key.revoke', 'not-found', 404, 'admin', 'ops.lead'],
    ]);
    expect(JSON.stringify(await auditRows())).not.toContain(secret);

    // Refusals: bad bodies 400; a clinician (even R8008) and a patient cannot touch keys.
    for (const payload of [
      '{}',
      '{"name":"x","scopes":["everything"]}',
      '{"name":"x","organisationOds":"not ods!","scopes":["jobs:read"]}',
    ]) {
      const bad = await hub.app.inject({
        method: 'POST',
        url: '/api-keys',
        headers: { ...asAdmin, 'content-type': 'application/json' },
        payload,
      });
      expect(bad.statusCode, payload).toBe(400);
    }
    for (const who of [clinician('R8000'), clinician('R8008'), patient('P9')]) {
      expect((await get('/api-keys', await bearer(who))).statusCode, who.kind).toBe(403);
    }
    expect((await get('/api-keys', {})).statusCode).toBe(401);
  });

  it('refuses a hub admin a key with patient-data scopes, to create or to revoke (separation of duties)', async () => {
    expect(PATIENT_DATA_SCOPES).toEqual(
      expect.arrayContaining(['patient:read', 'patient:search', 'patient:update', 'gp-record:read']),
    );
    expect(PATIENT_DATA_SCOPES).not.toEqual(expect.arrayContaining(['medicines:read']));
    expect(PATIENT_DATA_SCOPES).not.toEqual(expect.arrayContaining(['jobs:read']));
    const asAdmin = await admin();
    const post = (scopes?: string[]) =>
      hub.app.inject({
        method: 'POST',
        url: '/api-keys',
        headers: { ...asAdmin, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'Pharmacy app', ...(scopes && { scopes }) }),
      });
    const refused = await post(['medicines:read', 'patient:read', 'gp-record:read']);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().issue[0]).toMatchObject({ code: 'forbidden' });
    expect(refused.json().issue[0].diagnostics).toMatch(
      /scopes patient:read, gp-record:read: they reach patient data/,
    );
    expect((await post()).statusCode).toBe(403); // the defaults include patient:read
    expect((await post(['medicines:read', 'jobs:read'])).statusCode).toBe(201);

    // Revoking follows the same rule: an operator's patient-data key stays out of the admin's reach.
    const operatorKey = await createApiKey(t.store, { name: 'made with the CLI', scopes: ['patient:read'] });
    const revoke = await hub.app.inject({
      method: 'DELETE',
      url: `/api-keys/${operatorKey.id}`,
      headers: asAdmin,
    });
    expect(revoke.statusCode).toBe(403);
    expect(revoke.json().issue[0].diagnostics).toMatch(/patient:read/);
    expect((await get('/fhir/R4/Patient/9000000009', { 'x-api-key': operatorKey.secret })).statusCode).toBe(
      200,
    );

    const audit = (await auditRows()).filter((r) => r.action.startsWith('api-key.'));
    expect(audit.map((r) => [r.action, r.outcome, r.http_status, r.actor_kind])).toEqual([
      ['api-key.create', 'denied', 403, 'admin'],
      ['api-key.create', 'denied', 403, 'admin'],
      ['api-key.create', 'success', 201, 'admin'],
      ['api-key.revoke', 'denied', 403, 'admin'],
    ]);
  });

  it('lets a hub admin give and take patient-data scopes where the deployment enables it', async () => {
    await hub.close();
    hub = await createHub(
      loadConfig(
        { JUNCTION_PUBLIC_URL: ORIGIN, JUNCTION_ADMIN_MAY_GRANT_PATIENT_DATA_SCOPES: 'true' },
        { logLevel: 'silent' },
      ),
      { store: t.store, pds: fakePds(), now, startJobs: false, cis2: fakeCis2() },
    );
    const asAdmin = await admin();
    const created = await hub.app.inject({
      method: 'POST',
      url: '/api-keys',
      headers: { ...asAdmin, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'Pharmacy app', scopes: ['patient:read'] }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const { key } = created.json();
    expect(
      (await hub.app.inject({ method: 'DELETE', url: `/api-keys/${key.id}`, headers: asAdmin })).statusCode,
    ).toBe(204);
  });

  it('lets an API key with keys:manage give only scopes it holds itself', async () => {
    const manager = await keyWith('keys:manage', 'patient:read');
    expect((await get('/api-keys', manager)).statusCode).toBe(200);
    const post = (scopes?: string[]) =>
      hub.app.inject({
        method: 'POST',
        url: '/api-keys',
        headers: { ...manager, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'minted', ...(scopes && { scopes }) }),
      });
    expect((await post(['patient:read'])).statusCode).toBe(201);
    const stronger = await post(['patient:read', 'patient:update']);
    expect(stronger.statusCode).toBe(403);
    expect(stronger.json().issue[0].diagnostics).toMatch(/lacks patient:update/);
    expect((await post()).statusCode).toBe(403); // the defaults include patient:search
    const last = (await auditRows()).at(-1);
    expect(last).toMatchObject({ action: 'api-key.create', outcome: 'denied', actor_kind: 'api-key' });
  });

  describe('the audit trail', () => {
    /** An admin/clinical support worker: reading the trail adds nothing to it before the seeded records. */
    const auditor = () => bearer(clinician('R8008', { uid: '555000000999', organisationOds: 'Y12345' }));
    const NHS = '9000000009';
    const OTHER = '9000000017';
    async function seed(): Promise<void> {
      const events = [
        {
          actor: {
            kind: 'clinician' as const,
            userId: '555000000101',
            roleCode: 'S8000:G8000:R8000',
            organisationOds: 'A12345',
          },
          nhs: [NHS],
          outcome: 'success' as const,
          action: 'patient.read' as const,
        },
        {
          actor: {
            kind: 'api-key' as const,
            keyId: '00000000-0000-4000-8000-000000000001',
            keyName: '=HYPERLINK("http://evil")',
            organisationOds: 'FA123',
          },
          nhs: [OTHER],
          outcome: 'denied' as const,
          action: 'patient.read' as const,
        },
        { actor: null, nhs: [], outcome: 'denied' as const, action: 'jobs.read' as const },
        {
          actor: {
            kind: 'patient' as const,
            userId: 'sub, with "quotes"\nand a line',
            organisationOds: null,
          },
          nhs: [NHS, OTHER],
          outcome: 'error' as const,
          action: 'patient.update' as const,
        },
      ];
      let i = 0;
      for (const e of events) {
        i++;
        await appendAuditEvent(
          t.store,
          {
            action: e.action,
            actor: e.actor,
            nhsNumbers: e.nhs,
            outcome: e.outcome,
            httpStatus: e.outcome === 'success' ? 200 : e.outcome === 'denied' ? 403 : 502,
            correlationId: `corr-${i}`,
            requestId: `req-${i}`,
            decision: { allowed: e.outcome !== 'denied', rule: 'test.rule' },
          },
          () => new Date(Date.parse('2025-04-04T10:00:00.000Z') + i * 86_400_000),
        );
      }
    }

    it('GET /audit/events: newest first, filtered, paged; each read audited (with the patient searched)', async () => {
      await seed();
      const asAdmin = await auditor();
      const all = await get('/audit/events', asAdmin);
      expect(all.statusCode).toBe(200);
      expect(all.json().events.map((e: { seq: number }) => e.seq)).toEqual([4, 3, 2, 1]);
      expect(all.json().events[3]).toEqual({
        seq: 1,
        at: '2025-04-05T10:00:00.000Z',
        action: 'patient.read',
        outcome: 'success',
        actor: { kind: 'clinician', id: '555000000101', role: 'S8000:G8000:R8000', organisation: 'A12345' },
        nhsNumbers: [NHS],
        correlationId: 'corr-1',
        requestId: 'req-1',
        httpStatus: 200,
        errorCode: null,
        decision: { allow: true, rule: 'test.rule' },
      });
      const seqs = async (query: string) => {
        const res = await get(`/audit/events?${query}`, asAdmin);
        expect(res.statusCode, `${query}: ${res.body}`).toBe(200);
        return res.json().events.map((e: { seq: number }) => e.seq);
      };
      expect(await seqs(`nhsNumber=${NHS}`)).toEqual([4, 1]);
      expect(await seqs(`nhsNumber=${OTHER}&outcome=denied`)).toEqual([2]);
      expect(await seqs('outcome=failure')).toEqual([4]);
      expect(await seqs('user=555000000101')).toEqual([1]);
      expect(await seqs('apiKey=00000000-0000-4000-8000-000000000001')).toEqual([2]);
      expect(await seqs(`apiKey=${encodeURIComponent('=HYPERLINK("http://evil")')}`)).toEqual([2]);
      expect(await seqs('organisation=a12345')).toEqual([1]);
      expect(await seqs('action=jobs.read')).toEqual([3]);
      expect(await seqs('from=2025-04-06&to=2025-04-07')).toEqual([3, 2]);
      expect(await seqs('from=2025-04-06T10:00:00.000Z&to=2025-04-06T10:00:00.000Z')).toEqual([2]);
      const page = await get('/audit/events?limit=2&action=patient.read', asAdmin);
      expect(page.json()).toMatchObject({ next: '1' });
      expect(page.json().events.map((e: { seq: number }) => e.seq)).toEqual([2, 1]);
      expect(await seqs('before=2&action=patient.read')).toEqual([1]);
      for (const bad of [
        'outcome=maybe',
        'nhsNumber=12',
        'from=yesterday',
        'to=2025-02-30',
        'limit=0',
        'before=x',
      ]) {
        expect((await get(`/audit/events?${bad}`, asAdmin)).statusCode, bad).toBe(400);
      }
      // Reading the trail is itself on the trail: who read, and the patient when the search named one.
      const reads = (await auditRows()).filter((r) => r.action === 'audit.read');
      expect(reads.length).toBe(13);
      expect(reads[0]).toMatchObject({
        actor_kind: 'clinician',
        actor_user_id: '555000000999',
        actor_role_code: 'S8000:G8000:R8008',
        nhs_numbers: '[]',
      });
      expect(reads[1]).toMatchObject({ nhs_numbers: `["${NHS}"]` });
      expect(await verifyAuditChain(t.store)).toMatchObject({ ok: true });
    });

    it('who may read it: R8008 and an audit:read key yes; R8000, a patient, a medicines key no', async () => {
      await seed();
      expect((await get('/audit/events', await bearer(clinician('R8008')))).statusCode).toBe(200);
      expect((await get('/audit/events', await keyWith('audit:read'))).statusCode).toBe(200);
      for (const headers of [
        await bearer(clinician('R8000')),
        await bearer(patient('P9')),
        await keyWith('medicines:read'),
      ]) {
        expect((await get('/audit/events', headers)).statusCode).toBe(403);
        expect((await get('/audit/events.csv', headers)).statusCode).toBe(403);
        const verify = await hub.app.inject({ method: 'POST', url: '/audit/verify', headers });
        expect(verify.statusCode).toBe(403);
      }
      expect((await get(`/audit/events?nhsNumber=${NHS}`, {})).statusCode).toBe(401);
    });

    it('GET /audit/events.csv: RFC 4180, formula-injection safe, the same filters, streamed in pages', async () => {
      await seed();
      const asAdmin = await auditor();
      const res = await get('/audit/events.csv', asAdmin);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toBe(
        'attachment; filename="junction-audit-2025-05-06T07-08-09-000Z.csv"',
      );
      const lines = res.body.split('\r\n');
      expect(lines[0]).toBe(
        'seq,at,action,outcome,actor_kind,actor_id,actor_name,actor_role,actor_organisation,nhs_numbers,http_status,error_code,decision,decision_rule,correlation_id,request_id',
      );
      expect(lines.at(-1)).toBe('');
      // Record 4's user id has a comma, quotes and a newline: quoted, quotes doubled, newline kept.
      expect(res.body).toContain(
        `4,2025-04-08T10:00:00.000Z,patient.update,error,patient,"sub, with ""quotes""\nand a line",,,,${NHS} ${OTHER},502,,allowed,test.rule,corr-4,req-4\r\n`,
      );
      // A key name that a spreadsheet would run as a formula is shown as text.
      expect(res.body).toContain(`,"'=HYPERLINK(""http://evil"")",`);
      expect(res.body).not.toMatch(/,=HYPERLINK/);
      const filtered = await get(`/audit/events.csv?nhsNumber=${NHS}&outcome=success`, asAdmin);
      expect(filtered.body.split('\r\n').filter((l) => /^\d/.test(l))).toEqual([
        `1,2025-04-05T10:00:00.000Z,patient.read,success,clinician,555000000101,,S8000:G8000:R8000,A12345,${NHS},200,,allowed,test.rule,corr-1,req-1`,
      ]);
      // More records than one page of the stream (1000): every one, once, newest first.
      for (let i = 0; i < 1_100; i++) {
        await appendAuditEvent(
          t.store,
          {
            action: 'jobs.read',
            actor: null,
            nhsNumbers: [],
            outcome: 'denied',
            httpStatus: 401,
            correlationId: `c${i}`,
            requestId: `r${i}`,
          },
          now,
        );
      }
      const big = await get('/audit/events.csv?action=jobs.read', asAdmin);
      const seqs = big.body
        .split('\r\n')
        .filter((l) => /^\d/.test(l))
        .map((l) => Number(l.split(',')[0]));
      expect(seqs.length).toBe(1_101);
      expect(new Set(seqs).size).toBe(1_101);
      expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
      expect((await auditRows()).filter((r) => r.action === 'audit.read')).toHaveLength(3);
      // Written by the command line (no HTTP request): no status rather than a misleading 0.
      await appendAuditEvent(
        t.store,
        {
          action: 'admin.create',
          actor: null,
          nhsNumbers: [],
          outcome: 'success',
          httpStatus: 0,
          correlationId: 'cli',
          requestId: 'cli',
        },
        now,
      );
      const cli = await get('/audit/events.csv?action=admin.create', asAdmin);
      const cliRow = (cli.body.split('\r\n')[1] ?? '').split(',');
      expect([cliRow[2], cliRow[3], cliRow[10]]).toEqual(['admin.create', 'success', '']);
    }, 60_000);

    it('POST /audit/verify: the chain checked, the first broken record named; audited', async () => {
      await seed();
      const asAdmin = await auditor();
      const ok = await hub.app.inject({ method: 'POST', url: '/audit/verify', headers: asAdmin });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ ok: true, checked: 4, verifiedAt: TIME.toISOString() });
      // An edit by someone with database access (triggers dropped first) is found.
      if (t.store.dialect === 'sqlite') {
        await sql`drop trigger audit_events_no_update`.execute(t.store.db);
      } else {
        await sql`drop trigger audit_events_no_update_delete on audit_events`.execute(t.store.db);
      }
      await t.store.db.updateTable('audit_events').set({ outcome: 'success' }).where('seq', '=', 2).execute();
      const broken = await hub.app.inject({ method: 'POST', url: '/audit/verify', headers: asAdmin });
      expect(broken.json()).toEqual({
        ok: false,
        checked: 2,
        firstBroken: { seq: 2, reason: 'edited: content does not match its hash' },
        verifiedAt: TIME.toISOString(),
      });
      const reads = (await auditRows()).filter((r) => r.action === 'audit.read');
      expect(reads).toHaveLength(2);
    });
  });
});

describe('csvText (RFC 4180 quoting, OWASP CSV injection)', () => {
  it('quotes what needs quoting and neutralises formulas', () => {
    expect(csvText('plain')).toBe('plain');
    expect(csvText(null)).toBe('');
    expect(csvText('a,b')).toBe('"a,b"');
    expect(csvText('say "hi"')).toBe('"say ""hi"""');
    expect(csvText('two\r\nlines')).toBe('"two\r\nlines"');
    for (const formula of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) {
      expect(csvText(formula).replace(/^"/, '').startsWith("'"), formula).toBe(true);
    }
  });
});
