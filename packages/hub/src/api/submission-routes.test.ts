import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../access/api-keys.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { JobRunner } from '../jobs/runner.js';
import { buildItkAck } from '../journeys/submit-readings/itk-ack.js';
import { WEBHOOK_JOB_KIND } from '../journeys/submit-readings/submissions.js';
import { applyMeshStatus, handleItkAck } from '../journeys/submit-readings/tracking.js';
import { verifyWebhookSignature, webhookJobHandler } from '../journeys/submit-readings/webhooks.js';
import { type FakePds, fakePds, JANE } from '../testing/fake-pds.js';
import { type FakeSubmissionMesh, fakeSubmissionMesh } from '../testing/fake-submission-mesh.js';
import { heartRate, qty } from '../testing/readings.js';
import { type TestStore, testStores } from '../testing/test-stores.js';

const TIME = new Date('2025-03-01T12:00:00.000Z');
const now = () => TIME;
const JANE_NHS = '9000000009';
const JANET_NHS = '9000000025'; // restricted
const UNKNOWN_NHS = '9000000017'; // valid check digit, not in the fake PDS

const bloodPressure = () => ({
  ...heartRate(),
  code: {
    coding: [
      { system: 'http://loinc.org', code: '85354-9' },
      { system: 'http://snomed.info/sct', code: '75367002' },
    ],
  },
  valueQuantity: undefined,
  component: [
    {
      code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
      valueQuantity: qty(128, 'mm[Hg]', 'mmHg'),
    },
    {
      code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
      valueQuantity: qty(82, 'mm[Hg]', 'mmHg'),
    },
  ],
});
const transaction = (...resources: object[]) => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: resources.map((resource) => ({ resource, request: { method: 'POST', url: 'Observation' } })),
});

describe.each(await testStores())('submitting readings on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  let pds: FakePds;
  let mesh: FakeSubmissionMesh;
  let key: string;
  let keyId: string;
  let otherKey: string;

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    pds = fakePds();
    mesh = fakeSubmissionMesh();
    hub = await createHub(loadConfig({}, { logLevel: 'silent' }), {
      store: t.store,
      pds,
      now,
      submissionMesh: mesh,
      startJobs: false,
    });
    const created = await createApiKey(t.store, {
      name: 'bp-app',
      organisationOds: 'FA123',
      scopes: ['readings:submit', 'readings:read'],
    });
    key = created.secret;
    keyId = created.id;
    otherKey = (await createApiKey(t.store, { name: 'other', scopes: ['readings:submit', 'readings:read'] }))
      .secret;
  });
  afterEach(async () => {
    await hub?.close();
    await t?.cleanup();
  });

  const post = (url: string, body: unknown, headers: Record<string, string> = {}, as = key) =>
    hub.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${as}`, 'content-type': 'application/fhir+json', ...headers },
      payload: JSON.stringify(body),
    });
  const get = (url: string, as = key) =>
    hub.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${as}` } });
  const lastAudit = () =>
    t.store.db.selectFrom('audit_events').selectAll().orderBy('seq', 'desc').executeTakeFirstOrThrow();
  const count = async (table: 'submissions' | 'jobs') =>
    Number(
      (
        await t.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('POST /fhir/R4/Observation: 202 + Location, practice from PDS generalPractitioner, mailbox from endpoint lookup, ITK3 message queued, audited', async () => {
    const res = await post('/fhir/R4/Observation', heartRate(), { 'x-correlation-id': 'corr-1' });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(res.headers.location).toBe(`/submissions/${body.id}`);
    expect(body).toMatchObject({
      status: 'queued',
      nhsNumber: JANE_NHS,
      practiceOds: 'Y12345',
      mailboxId: 'Y12345HC001',
      readingCount: 1,
      correlationId: 'corr-1',
    });
    expect(body.history.map((h: { status: string }) => h.status)).toEqual([
      'received',
      'validated',
      'queued',
    ]);
    expect(pds.calls).toMatchObject([{ op: 'read', arg: JANE_NHS, ctx: { correlationId: 'corr-1' } }]);
    expect(mesh.lookups).toMatchObject([{ ods: 'Y12345', workflowId: 'GPFED_CONSULT_REPORT' }]);
    expect(mesh.sends).toHaveLength(1);
    const sent = mesh.sends[0];
    expect(sent).toMatchObject({
      mailboxId: 'X26ABC1',
      to: 'Y12345HC001',
      workflowId: 'GPFED_CONSULT_REPORT',
      localId: body.id,
      idempotencyKey: body.id,
      correlationId: 'corr-1',
      contentType: 'application/fhir+xml',
    });
    const xml = String(sent?.body);
    expect(xml).toContain(`<valueString value="${body.id}"/>`); // SenderReference (GPCM-SD-042)
    expect(xml).toContain(`<id value="${body.itkMessageId}"/>`); // the MessageHeader acks reference
    expect(xml).toContain('<value value="Y12345"/>');
    expect(body.messageLogId).toBeTruthy();
    expect(await lastAudit()).toMatchObject({
      action: 'readings.submit',
      outcome: 'success',
      http_status: 202,
      nhs_numbers: JSON.stringify([JANE_NHS]),
      correlation_id: 'corr-1',
      actor_key_id: keyId,
    });
  });

  it('POST /fhir/R4 with a transaction Bundle and POST /fhir/R4/Bundle: one submission for all readings', async () => {
    const a = await post('/fhir/R4', transaction(heartRate(), bloodPressure()));
    expect(a.statusCode).toBe(202);
    expect(a.json().readingCount).toBe(2);
    const b = await post('/fhir/R4/Bundle', { ...transaction(heartRate()), type: 'collection' });
    expect(b.statusCode).toBe(202);
    // The service base takes only batch / transaction (FHIR R4 http.html#transaction).
    const c = await post('/fhir/R4', { ...transaction(heartRate()), type: 'collection' });
    expect(c.statusCode).toBe(400);
    expect(c.json().issue[0].diagnostics).toMatch(/batch or transaction/);
    const d = await post('/fhir/R4/Observation', transaction(heartRate()));
    expect(d.statusCode).toBe(400);
    expect(mesh.sends).toHaveLength(2);
  });

  it('a repeated POST with the same Idempotency-Key (or X-Request-ID) returns the same submission and sends nothing more', async () => {
    const first = await post('/fhir/R4/Observation', heartRate(), { 'idempotency-key': 'reading-42' });
    const again = await post('/fhir/R4/Observation', heartRate(), { 'idempotency-key': 'reading-42' });
    expect(again.statusCode).toBe(202);
    expect(again.json().id).toBe(first.json().id);
    // Another product's key is its own namespace.
    const other = await post(
      '/fhir/R4/Observation',
      heartRate(),
      { 'idempotency-key': 'reading-42' },
      otherKey,
    );
    expect(other.json().id).not.toBe(first.json().id);
    const rid = '0b7c2a5e-6f1d-4c3a-9d2e-1f0a9b8c7d6e';
    const r1 = await post('/fhir/R4/Observation', heartRate(), { 'x-request-id': rid });
    const r2 = await post('/fhir/R4/Observation', heartRate(), { 'x-request-id': rid });
    expect(r2.json().id).toBe(r1.json().id);
    expect(mesh.sends).toHaveLength(3);
    expect(await count('submissions')).toBe(3);
    expect(await count('jobs')).toBe(3);
  });

  it('concurrent POSTs with one key create one submission', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        post('/fhir/R4/Observation', heartRate(), { 'idempotency-key': 'same' }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
    expect(await count('submissions')).toBe(1);
    expect(mesh.sends).toHaveLength(1);
  });

  it('invalid readings: 400 OperationOutcome with FHIRPath, nothing stored or sent, audited', async () => {
    const res = await post('/fhir/R4/Observation', { ...heartRate(), valueQuantity: qty(72, 'kg') });
    expect(res.statusCode).toBe(400);
    expect(res.json().issue[0]).toMatchObject({
      severity: 'error',
      expression: ['Observation.valueQuantity.code'],
    });
    expect(await count('submissions')).toBe(0);
    expect(pds.calls).toHaveLength(0);
    expect(await lastAudit()).toMatchObject({
      action: 'readings.submit',
      outcome: 'error',
      http_status: 400,
    });
  });

  it('bounds JSON at the edge: 400 `invalid` nested past 64, 413 `too-long` over 5 MiB; PDS never called', async () => {
    const send = (url: string, payload: string, contentType = 'application/fhir+json', method = 'POST') =>
      hub.app.inject({
        method: method as 'POST',
        url,
        headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
        payload,
      });
    const reading = JSON.stringify(heartRate());
    const deep = `${reading.slice(0, -1)},"extension":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const nested = await send('/fhir/R4/Observation', deep);
    expect(nested.statusCode).toBe(400);
    expect(nested.json().issue).toEqual([
      { severity: 'error', code: 'invalid', diagnostics: 'The JSON body is nested deeper than 64 levels' },
    ]);
    // The hub's other JSON routes (plain application/json) answer the same.
    const webhook = await send(
      '/submissions/webhook',
      `{"url":${'['.repeat(10_000)}}`,
      'application/json',
      'PUT',
    );
    expect(webhook.statusCode).toBe(400);
    expect(webhook.json().issue[0]).toMatchObject({
      code: 'invalid',
      diagnostics: expect.stringMatching(/64 levels/),
    });
    const huge = await send(
      '/fhir/R4/Observation',
      `${reading.slice(0, -1)},"note":[{"text":"${'x'.repeat(5 * 1024 * 1024)}"}]}`,
    );
    expect(huge.statusCode).toBe(413);
    expect(huge.json().issue[0].code).toBe('too-long');
    for (const res of [nested, webhook, huge]) {
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      expect(res.body).not.toMatch(/RangeError|SyntaxError|\[\[|xxxx|\n\s+at /);
    }
    expect(pds.calls).toHaveLength(0);
    expect(await count('submissions')).toBe(0);
    expect((await hub.app.inject({ url: '/metrics' })).body).not.toMatch(/service="pds"/);
  });

  it('no registered GP in PDS: 422 with a clear OperationOutcome', async () => {
    const { generalPractitioner: _gp, ...noGp } = structuredClone(JANE);
    pds.getPatient = async () => ({ patient: noGp, versionId: '2', etag: 'W/"2"' });
    const res = await post('/fhir/R4/Observation', heartRate());
    expect(res.statusCode).toBe(422);
    expect(res.json().issue[0]).toMatchObject({
      code: 'business-rule',
      expression: ['Patient.generalPractitioner'],
      diagnostics: expect.stringMatching(/no registered GP practice/),
    });
    expect(mesh.sends).toHaveLength(0);
    expect(await lastAudit()).toMatchObject({
      outcome: 'error',
      http_status: 422,
      nhs_numbers: `["${JANE_NHS}"]`,
    });
  });

  it('unknown patient, restricted patient, practice without a mailbox: 422, nothing sent', async () => {
    const unknown = await post('/fhir/R4/Observation', heartRate(UNKNOWN_NHS));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().issue[0].code).toBe('not-found');
    const restricted = await post('/fhir/R4/Observation', heartRate(JANET_NHS));
    expect(restricted.statusCode).toBe(422);
    expect(restricted.json().issue[0].diagnostics).toMatch(/restricted/);
    expect(JSON.stringify(restricted.json())).not.toContain('Y54321');
    mesh.practices.clear();
    const noMailbox = await post('/fhir/R4/Observation', heartRate());
    expect(noMailbox.statusCode).toBe(422);
    expect(noMailbox.json().issue[0].diagnostics).toMatch(
      /Y12345 has no MESH mailbox for workflow GPFED_CONSULT_REPORT/,
    );
    expect(mesh.sends).toHaveLength(0);
    expect(await count('submissions')).toBe(0);
  });

  it('PDS failing: its status passes on (a retry with the same key is safe)', async () => {
    const { OperationOutcomeError } = await import('@junction/core');
    pds.failWith = OperationOutcomeError.spine('SERVICE_UNAVAILABLE');
    const res = await post('/fhir/R4/Observation', heartRate(), { 'idempotency-key': 'k1' });
    expect(res.statusCode).toBe(503);
    expect(await count('submissions')).toBe(0);
    pds.failWith = undefined;
    const again = await post('/fhir/R4/Observation', heartRate(), { 'idempotency-key': 'k1' });
    expect(again.statusCode).toBe(202);
  });

  it('GET /submissions/{id}: the submitting key only (404 for another), audited', async () => {
    const { id } = (await post('/fhir/R4/Observation', heartRate())).json();
    const res = await get(`/submissions/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, status: 'queued', history: expect.any(Array) });
    expect(await lastAudit()).toMatchObject({ action: 'readings.read', outcome: 'success' });
    expect((await get(`/submissions/${id}`, otherKey)).statusCode).toBe(404);
    expect((await get('/submissions/nope')).statusCode).toBe(404);
  });

  it('tracks to delivered and acknowledged; webhook signed, retried after a failure; audit chain intact', async () => {
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    let failNext = true;
    const server = await listen((req, body) => {
      received.push({ headers: req.headers, body });
      if (failNext) {
        failNext = false;
        return 500;
      }
      return 204;
    });
    try {
      const put = await hub.app.inject({
        method: 'PUT',
        url: '/submissions/webhook',
        headers: { authorization: `Bearer ${key}` },
        payload: { url: server.url },
      });
      expect(put.statusCode).toBe(200);
      const { secret } = put.json();
      expect(secret).toMatch(/^whsec_/);

      const s = (await post('/fhir/R4/Observation', heartRate())).json();
      await applyMeshStatus(
        t.store,
        { messageLogId: s.messageLogId, status: 'sent', meshMessageId: 'M1' },
        now,
      );
      await applyMeshStatus(t.store, { messageLogId: s.messageLogId, status: 'delivered' }, now);
      // A late duplicate changes nothing.
      const late = await applyMeshStatus(t.store, { messageLogId: s.messageLogId, status: 'sent' }, now);
      expect(late?.changed).toBe(false);

      const ack = buildItkAck({
        kind: 'business',
        itkCode: '30001',
        itkDisplay: 'Success',
        code: 'ok',
        referencedMessageId: s.itkMessageId,
        senderReference: s.id,
        responderOds: 'Y12345',
        responderMailbox: 'Y12345HC001',
        ids: {
          bundleId: 'b0000000-0000-4000-8000-000000000001',
          messageId: 'b0000000-0000-4000-8000-000000000002',
          headerId: 'b0000000-0000-4000-8000-000000000003',
          organizationId: 'b0000000-0000-4000-8000-000000000004',
          outcomeId: 'b0000000-0000-4000-8000-000000000005',
          timestamp: '2025-03-01T12:05:00+00:00',
        },
      });
      expect(await handleItkAck(t.store, ack, now)).toMatchObject({ submissionId: s.id, changed: true });

      const status = (await get(`/submissions/${s.id}`)).json();
      expect(status.status).toBe('acknowledged');
      expect(status.meshMessageId).toBe('M1');
      expect(status.history.map((h: { status: string }) => h.status)).toEqual([
        'received',
        'validated',
        'queued',
        'sent',
        'delivered',
        'ignored',
        'acknowledged',
      ]);

      // Webhook jobs: delivered and acknowledged (one per status, idempotent).
      const jobs = await t.store.db
        .selectFrom('jobs')
        .selectAll()
        .where('kind', '=', WEBHOOK_JOB_KIND)
        .execute();
      expect(jobs.map((j) => j.idempotency_key).sort()).toEqual([
        `${s.id}:acknowledged`,
        `${s.id}:delivered`,
      ]);
      const runner = new JobRunner(t.store, {
        handlers: { [WEBHOOK_JOB_KIND]: webhookJobHandler({ store: t.store }) },
        concurrency: 1,
        backoff: { baseMs: 0, maxMs: 0 },
        logger: { warn: () => {}, error: () => {} },
      });
      for (let i = 0; i < 4 && received.filter((r) => r.body).length < 3; i++) await runner.runOnce();
      expect(received).toHaveLength(3); // the first answered 500 and was retried
      for (const r of received) {
        expect(verifyWebhookSignature(secret, r.headers['x-junction-signature'], r.body)).toMatchObject({
          ok: true,
        });
        expect(r.body).not.toContain(JANE_NHS);
      }
      const types = received.map((r) => JSON.parse(r.body).type);
      expect(new Set(types)).toEqual(new Set(['submission.delivered', 'submission.acknowledged']));
      expect(await verifyAuditChain(t.store)).toMatchObject({ ok: true });
      const statusAudits = await t.store.db
        .selectFrom('audit_events')
        .select(['action', 'nhs_numbers', 'correlation_id'])
        .where('action', '=', 'readings.status')
        .execute();
      expect(statusAudits).toHaveLength(3);
      expect(statusAudits[0]).toMatchObject({
        nhs_numbers: `["${JANE_NHS}"]`,
        correlation_id: s.correlationId,
      });
    } finally {
      await server.close();
    }
  });

  it('a negative ITK3 response fails the submission with its code; MESH failure fails it too', async () => {
    const a = (await post('/fhir/R4/Observation', heartRate())).json();
    const nack = buildItkAck({
      kind: 'business',
      itkCode: '30002',
      itkDisplay: 'Patient not known here',
      code: 'fatal-error',
      referencedMessageId: a.itkMessageId,
      senderReference: a.id,
      responderOds: 'Y12345',
      responderMailbox: 'Y12345HC001',
      ids: {
        bundleId: 'c0000000-0000-4000-8000-000000000001',
        messageId: 'c0000000-0000-4000-8000-000000000002',
        headerId: 'c0000000-0000-4000-8000-000000000003',
        organizationId: 'c0000000-0000-4000-8000-000000000004',
        outcomeId: 'c0000000-0000-4000-8000-000000000005',
        timestamp: '2025-03-01T12:05:00+00:00',
      },
    });
    await handleItkAck(t.store, nack, now);
    const failed = (await get(`/submissions/${a.id}`)).json();
    expect(failed.status).toBe('failed');
    expect(failed.errors.issue[0].details.coding[0].code).toBe('30002');

    const b = (await post('/fhir/R4/Observation', heartRate())).json();
    await applyMeshStatus(
      t.store,
      { messageLogId: b.messageLogId, status: 'failed', detail: 'ERROR_UNDELIVERABLE 14' },
      now,
    );
    const bStatus = (await get(`/submissions/${b.id}`)).json();
    expect(bStatus.status).toBe('failed');
    expect(bStatus.errors.issue[0].diagnostics).toMatch(/ERROR_UNDELIVERABLE 14/);
  });

  it('webhook URL must be https or loopback http; GET shows no secret; DELETE removes it', async () => {
    const put = (url: string) =>
      hub.app.inject({
        method: 'PUT',
        url: '/submissions/webhook',
        headers: { authorization: `Bearer ${key}` },
        payload: { url },
      });
    expect((await put('http://example.com/hook')).statusCode).toBe(400);
    expect((await put('https://example.com/hook')).statusCode).toBe(200);
    const got = await get('/submissions/webhook');
    expect(got.json()).toMatchObject({ url: 'https://example.com/hook' });
    expect(got.json().secret).toBeUndefined();
    const del = await hub.app.inject({
      method: 'DELETE',
      url: '/submissions/webhook',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(del.statusCode).toBe(204);
    expect((await get('/submissions/webhook')).statusCode).toBe(404);
  });
});

describe('without MESH configured', () => {
  let t: TestStore;
  let hub: Hub;
  beforeAll(async () => {
    const [sqlite] = await testStores();
    t = await (sqlite as NonNullable<typeof sqlite>).create();
    hub = await createHub(loadConfig({}, { logLevel: 'silent' }), { store: t.store, pds: fakePds(), now });
  });
  afterAll(async () => {
    await hub?.close();
    await t?.cleanup();
  });
  it('valid readings answer 503 with an OperationOutcome naming the setting', async () => {
    const { secret } = await createApiKey(t.store, { name: 'k', scopes: ['readings:submit'] });
    const res = await hub.app.inject({
      method: 'POST',
      url: '/fhir/R4/Observation',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/fhir+json' },
      payload: JSON.stringify(heartRate()),
    });
    expect(res.statusCode).toBe(503);
    expect(res.json().issue[0].diagnostics).toMatch(/JUNCTION_MESH_MAILBOXES/);
  });
});

async function listen(
  handler: (req: IncomingMessage, body: string) => number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.statusCode = handler(req, Buffer.concat(chunks).toString('utf8'));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
