import { AuthError } from '@junction/client';
import { OperationOutcomeError } from '@junction/core';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../access/api-keys.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import type { Hub } from '../create-hub.js';
import { type FakePds, JANE } from '../testing/fake-pds.js';
import { startTestHub } from '../testing/test-hub.js';
import { type TestStore, testStores } from '../testing/test-stores.js';

const TIME = new Date('2025-05-06T07:08:09.000Z');

describe.each(await testStores())('hub patient API on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  let pds: FakePds;
  let key: string;
  let logs: string[];

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    ({ t, hub, pds, logs } = await startTestHub(factory, TIME));
    key = (await createApiKey(t.store, { name: 'test-product', organisationOds: 'FA123' })).secret;
  });
  afterEach(async () => {
    await hub?.close();
    await t?.cleanup();
  });

  const auth = () => ({ authorization: `Bearer ${key}` });
  const auditRows = () => t.store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();

  it('reads a patient, passing the correlation id on and auditing the access', async () => {
    const res = await hub.app.inject({
      url: '/fhir/R4/Patient/9000000009',
      headers: { ...auth(), 'x-correlation-id': 'corr-123' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.headers.etag).toBe('W/"2"');
    expect(res.headers['x-correlation-id']).toBe('corr-123');
    expect(res.json<Patient>()).toMatchObject({ id: '9000000009', address: JANE.address });
    expect(pds.calls[0]?.ctx).toMatchObject({ correlationId: 'corr-123', endUserOrganisationOds: 'FA123' });

    const [row] = await auditRows();
    expect(row).toMatchObject({
      action: 'patient.read',
      actor_key_name: 'test-product',
      actor_organisation_ods: 'FA123',
      nhs_numbers: '["9000000009"]',
      outcome: 'success',
      http_status: 200,
      correlation_id: 'corr-123',
      request_id: res.headers['x-request-id'],
      occurred_at: TIME.toISOString(),
    });
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 1 });
  });

  it('accepts X-API-Key and makes up a correlation id when none is sent', async () => {
    const res = await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: { 'x-api-key': key } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(pds.calls[0]?.ctx?.correlationId).toBe(res.headers['x-correlation-id']);
  });

  it('never shows a restricted patient’s address, telecom, GP or contacts (read and search)', async () => {
    const read = await hub.app.inject({ url: '/fhir/R4/Patient/9000000025', headers: auth() });
    expect(read.statusCode).toBe(200);
    const patient = read.json<Patient>();
    expect(patient.name?.[0]?.family).toBe('Smythe');
    for (const field of ['address', 'telecom', 'generalPractitioner', 'contact'])
      expect(patient).not.toHaveProperty(field);
    expect(read.body).not.toContain('ZZ9 9ZZ');
    expect(read.body).not.toContain('07700900002');

    const search = await hub.app.inject({
      url: '/fhir/R4/Patient?family=Smythe&birthdate=eq2005-06-16',
      headers: auth(),
    });
    expect(search.statusCode).toBe(200);
    const bundle = search.json<Bundle<Patient>>();
    expect(bundle.total).toBe(1);
    const found = bundle.entry?.[0]?.resource;
    expect(found?.id).toBe('9000000025');
    for (const field of ['address', 'telecom', 'generalPractitioner', 'contact'])
      expect(found).not.toHaveProperty(field);
    expect(search.body).not.toMatch(/ZZ9 9ZZ|07700900002|07700900003|Y54321/);
  });

  it('leaves restricted patients out of searches by postcode or GP practice (PDS rule)', async () => {
    const res = await hub.app.inject({
      url: '/fhir/R4/Patient?family=Sm*&birthdate=ge2000-01-01&address-postalcode=ZZ9%209ZZ',
      headers: auth(),
    });
    const bundle = res.json<Bundle<Patient>>();
    expect(bundle.entry?.map((e) => e.resource?.id)).toEqual(['9000000009']);
    expect(pds.calls[0]?.arg).toMatchObject({
      family: 'Sm*',
      birthdate: 'ge2000-01-01',
      postalCode: 'ZZ9 9ZZ',
    });
  });

  it('searches with PDS parameters passed through, results pointing at the hub and audited', async () => {
    const res = await hub.app.inject({
      url: '/fhir/R4/Patient?family=Sm*&given=Jane&given=Anne&gender=female&birthdate=ge2000-01-01&birthdate=le2020-01-01&_max-results=10&_fuzzy-match=false',
      headers: auth(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(pds.calls[0]?.arg).toEqual({
      family: 'Sm*',
      given: ['Jane', 'Anne'],
      gender: 'female',
      birthdate: ['ge2000-01-01', 'le2020-01-01'],
      maxResults: 10,
      fuzzyMatch: false,
    });
    const bundle = res.json<Bundle<Patient>>();
    expect(bundle.type).toBe('searchset');
    expect(bundle.link).toBeUndefined();
    expect(bundle.entry?.map((e) => e.fullUrl)).toEqual([
      'http://localhost:80/fhir/R4/Patient/9000000009',
      'http://localhost:80/fhir/R4/Patient/9000000025',
    ]);
    const [row] = await auditRows();
    expect(row).toMatchObject({
      action: 'patient.search',
      outcome: 'success',
      nhs_numbers: '["9000000009","9000000025"]',
    });
  });

  it('answers TOO_MANY_MATCHES as PDS does: HTTP 200 with an OperationOutcome', async () => {
    const res = await hub.app.inject({
      url: '/fhir/R4/Patient?family=Many&birthdate=eq2000-01-01',
      headers: auth(),
    });
    expect(res.statusCode).toBe(200);
    const outcome = res.json<OperationOutcome>();
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue?.[0]).toMatchObject({ code: 'multiple-matches', severity: 'information' });
    expect(outcome.issue?.[0]?.details?.coding?.[0]?.code).toBe('TOO_MANY_MATCHES');
    expect((await auditRows())[0]).toMatchObject({
      outcome: 'error',
      error_code: 'TOO_MANY_MATCHES',
      nhs_numbers: '[]',
    });
  });

  it.each([
    ['gender=mal&family=Smith', 400, 'INVALID_VALUE', "Invalid value - 'mal' in field 'gender'"],
    ['family=Smith&birthdate=10-10-2010', 400, 'INVALID_VALUE', undefined],
    ['family=Smith&surname=x', 400, 'ADDITIONAL_PROPERTIES', undefined],
    ['', 400, 'UNSUPPORTED_SERVICE', undefined],
    ['family=Smith&_max-results=51', 400, 'INVALID_VALUE', undefined],
    ['family=Smith&address-postcode=LS1&address-postalcode=LS1', 400, 'INVALID_SEARCH_DATA', undefined],
  ])(
    'rejects the trace query "%s" with %i %s before calling PDS',
    async (query, status, code, diagnostics) => {
      const res = await hub.app.inject({ url: `/fhir/R4/Patient?${query}`, headers: auth() });
      expect(res.statusCode).toBe(status);
      const outcome = res.json<OperationOutcome>();
      expect(outcome.issue?.[0]?.details?.coding?.[0]?.code).toBe(code);
      if (diagnostics) expect(outcome.issue?.[0]?.diagnostics).toBe(diagnostics);
      expect(pds.calls).toHaveLength(0);
      expect((await auditRows())[0]).toMatchObject({
        outcome: 'error',
        error_code: code,
        http_status: status,
      });
    },
  );

  it('rejects a bad NHS number with PDS’s 400 INVALID_RESOURCE_ID, without calling PDS', async () => {
    for (const bad of ['9000000000', '900000000', 'abc']) {
      const res = await hub.app.inject({ url: `/fhir/R4/Patient/${bad}`, headers: auth() });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      expect(res.json<OperationOutcome>().issue?.[0]?.details?.coding?.[0]?.code).toBe('INVALID_RESOURCE_ID');
    }
    expect(pds.calls).toHaveLength(0);
    const rows = await auditRows();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ outcome: 'error', error_code: 'INVALID_RESOURCE_ID', nhs_numbers: '[]' });
  });

  it('passes PDS’s 404 through and audits it as not-found', async () => {
    const res = await hub.app.inject({ url: '/fhir/R4/Patient/9111231130', headers: auth() });
    expect(res.statusCode).toBe(404);
    expect(res.json<OperationOutcome>().issue?.[0]?.details?.coding?.[0]?.code).toBe('RESOURCE_NOT_FOUND');
    expect((await auditRows())[0]).toMatchObject({
      outcome: 'not-found',
      error_code: 'RESOURCE_NOT_FOUND',
      http_status: 404,
      nhs_numbers: '["9111231130"]',
    });
  });

  it('passes other upstream errors through with their status', async () => {
    pds.failWith = OperationOutcomeError.spine('TOO_MANY_REQUESTS');
    const res = await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: auth() });
    expect(res.statusCode).toBe(429);
    expect(res.json<OperationOutcome>().issue?.[0]?.details?.coding?.[0]?.code).toBe('TOO_MANY_REQUESTS');
    expect((await auditRows())[0]).toMatchObject({
      outcome: 'error',
      error_code: 'TOO_MANY_REQUESTS',
      http_status: 429,
    });
  });

  it('answers a failure to get an NHS access token with 502 UNABLE_TO_CALL_SERVICE', async () => {
    pds.failWith = new AuthError('invalid_request', {
      status: 400,
      description: 'Invalid iss/sub claims in JWT',
    });
    const res = await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: auth() });
    expect(res.statusCode).toBe(502);
    expect(res.json<OperationOutcome>().issue?.[0]?.details?.coding?.[0]?.code).toBe(
      'UNABLE_TO_CALL_SERVICE',
    );
    expect((await auditRows())[0]).toMatchObject({
      outcome: 'error',
      error_code: 'UNABLE_TO_CALL_SERVICE',
      http_status: 502,
    });
  });

  it('answers anything else with a 500 OperationOutcome and no stack trace', async () => {
    pds.failWith = new TypeError('boom at secret place');
    const res = await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: auth() });
    expect(res.statusCode).toBe(500);
    expect(res.json<OperationOutcome>().resourceType).toBe('OperationOutcome');
    expect(res.body).not.toMatch(/boom|TypeError|at /);
    expect((await auditRows())[0]).toMatchObject({
      outcome: 'error',
      error_code: 'INTERNAL_SERVER_ERROR',
      http_status: 500,
    });
  });

  it('answers a missing, unknown or revoked key with 401 ACCESS_DENIED, audited as denied', async () => {
    const missing = await hub.app.inject({ url: '/fhir/R4/Patient/9000000009' });
    expect(missing.statusCode).toBe(401);
    const outcome = missing.json<OperationOutcome>();
    expect(outcome.issue?.[0]?.details?.coding?.[0]?.code).toBe('ACCESS_DENIED');
    expect(missing.headers['content-type']).toMatch(/^application\/fhir\+json/);

    const unknown = await hub.app.inject({
      url: '/fhir/R4/Patient?family=Smith',
      headers: { 'x-api-key': 'jct_0000' },
    });
    expect(unknown.statusCode).toBe(401);

    const created = await createApiKey(t.store, { name: 'revoked-one' });
    await revokeApiKey(t.store, created.id);
    const revoked = await hub.app.inject({
      url: '/fhir/R4/Patient/9000000009',
      headers: { authorization: `Bearer ${created.secret}` },
    });
    expect(revoked.statusCode).toBe(401);
    expect(pds.calls).toHaveLength(0);

    const rows = await auditRows();
    expect(rows.map((r) => [r.action, r.outcome, r.http_status, r.actor_key_id])).toEqual([
      ['patient.read', 'denied', 401, null],
      ['patient.search', 'denied', 401, null],
      ['patient.read', 'denied', 401, null],
    ]);
    expect(rows[0]?.nhs_numbers).toBe('["9000000009"]');
  });

  it('answers a key without the scope with 403 ACCESS_DENIED', async () => {
    const readOnly = await createApiKey(t.store, { name: 'read-only', scopes: ['patient:read'] });
    const res = await hub.app.inject({
      url: '/fhir/R4/Patient?family=Smith',
      headers: { 'x-api-key': readOnly.secret },
    });
    expect(res.statusCode).toBe(403);
    expect((await auditRows())[0]).toMatchObject({
      outcome: 'denied',
      actor_key_id: readOnly.id,
      http_status: 403,
    });
  });

  it('fails closed: no patient data when the audit record cannot be written', async () => {
    await sql`drop table audit_chain_head`.execute(t.store.db);
    const res = await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: auth() });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('Smith');
    expect(res.json<OperationOutcome>().resourceType).toBe('OperationOutcome');
  });

  it('answers unknown routes with a 404 OperationOutcome', async () => {
    const res = await hub.app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json<OperationOutcome>().resourceType).toBe('OperationOutcome');
  });

  it('keeps patient data and keys out of the logs', async () => {
    await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: auth() });
    await hub.app.inject({
      url: '/fhir/R4/Patient?family=Smith&given=Jane&birthdate=eq2010-10-22&address-postalcode=LS1%206AE',
      headers: { 'x-api-key': key },
    });
    await hub.app.inject({ url: '/fhir/R4/Patient/9111231130', headers: auth() });
    pds.failWith = new Error('upstream said Jane Smith 9000000009 LS1 6AE');
    await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: auth() });
    const text = logs.join('');
    expect(logs.length).toBeGreaterThan(3);
    expect(text).toContain('/fhir/R4/Patient/:nhsNumber');
    for (const secret of [
      '9000000009',
      '9111231130',
      'Smith',
      'Jane',
      'LS1 6AE',
      'LS1%206AE',
      '2010-10-22',
      key,
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('serves metrics, health, the OpenAPI description and docs', async () => {
    await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: auth() });
    const metrics = await hub.app.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(
      /junction_http_requests_total\{method="GET",route="\/fhir\/R4\/Patient\/:nhsNumber",status="200"\} 1/,
    );
    expect(metrics.body).toMatch(/junction_audit_writes_total\{outcome="ok"\} 1/);
    expect(metrics.body).toMatch(
      /junction_upstream_request_duration_seconds_count\{service="pds",operation="read",outcome="ok"\} 1/,
    );
    expect(metrics.body).not.toContain('9000000009');

    const health = await hub.app.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'ok',
      checks: { store: { status: 'ok', dialect: factory.dialect }, pds: { status: 'reachable' } },
    });

    const openapi = await hub.app.inject({ url: '/openapi.json' });
    expect(openapi.statusCode).toBe(200);
    const spec = openapi.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/fhir/R4/Patient/{nhsNumber}', '/fhir/R4/Patient', '/healthz', '/metrics']),
    );
    const docs = await hub.app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/text\/html/);
  });
});
