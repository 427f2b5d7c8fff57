import { OperationOutcomeError } from '@junction/core';
import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY_SCOPES, createApiKey } from '../access/api-keys.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import type { Hub } from '../create-hub.js';
import type { FakePds } from '../testing/fake-pds.js';
import { startTestHub } from '../testing/test-hub.js';
import { type TestStore, testStores } from '../testing/test-stores.js';

// PDS PATCH (reference/specs/pds/specification/components/paths/patient-patch.yaml) through the hub.
const TIME = new Date('2025-05-06T07:08:09.000Z');
const JSON_PATCH = 'application/json-patch+json';
const GENDER = { patches: [{ op: 'replace', path: '/gender', value: 'male' }] };

const codeOf = (body: string) =>
  (JSON.parse(body) as OperationOutcome).issue?.[0]?.details?.coding?.[0]?.code;

describe.each(await testStores())('hub patient PATCH on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  let pds: FakePds;
  let key: string;
  let logs: string[];

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    ({ t, hub, pds, logs } = await startTestHub(factory, TIME));
    key = (
      await createApiKey(t.store, {
        name: 'clinical-app',
        organisationOds: 'FA123',
        scopes: ['patient:read', 'patient:update'],
      })
    ).secret;
  });
  afterEach(async () => {
    await hub?.close();
    await t?.cleanup();
  });

  const auditRows = () => t.store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
  const patch = (
    nhsNumber: string,
    body: unknown,
    headers: Record<string, string | undefined> = {},
    apiKey: string = key,
  ) => {
    const all: Record<string, string | undefined> = {
      authorization: `Bearer ${apiKey}`,
      'if-match': 'W/"2"',
      'content-type': JSON_PATCH,
      ...headers,
    };
    return hub.app.inject({
      method: 'PATCH',
      url: `/fhir/R4/Patient/${nhsNumber}`,
      headers: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<
        string,
        string
      >,
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  };

  it('updates through PDS with the version from If-Match, passing the correlation id on, and audits it', async () => {
    const res = await patch('9000000009', GENDER, { 'x-correlation-id': 'corr-patch-1' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.headers.etag).toBe('W/"3"');
    expect(res.headers['x-correlation-id']).toBe('corr-patch-1');
    expect(res.json<Patient>()).toMatchObject({ id: '9000000009', meta: { versionId: '3' } });
    expect(pds.calls).toEqual([
      {
        op: 'update',
        arg: { nhsNumber: '9000000009', patches: GENDER.patches, versionId: '2' },
        ctx: { correlationId: 'corr-patch-1', endUserOrganisationOds: 'FA123' },
      },
    ]);
    const [row] = await auditRows();
    expect(row).toMatchObject({
      action: 'patient.update',
      actor_key_name: 'clinical-app',
      nhs_numbers: '["9000000009"]',
      outcome: 'success',
      error_code: null,
      http_status: 200,
      correlation_id: 'corr-patch-1',
      request_id: res.headers['x-request-id'],
    });
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 1 });
  });

  it.each([
    ['application/json-patch+json'],
    ['application/json'],
    ['application/json; charset=utf-8'],
    ['Application/JSON-Patch+JSON'],
  ])('accepts Content-Type %s', async (contentType) => {
    const res = await patch('9000000009', GENDER, { 'content-type': contentType });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    // [case, nhsNumber, body, headers, status, code]
    ['a bad NHS number', '9000000000', GENDER, {}, 400, 'INVALID_RESOURCE_ID'],
    ['a non-numeric NHS number', 'abc', GENDER, {}, 400, 'INVALID_RESOURCE_ID'],
    ['a missing If-Match', '9000000009', GENDER, { 'if-match': undefined }, 412, 'PRECONDITION_FAILED'],
    ['an empty If-Match', '9000000009', GENDER, { 'if-match': '' }, 412, 'PRECONDITION_FAILED'],
    ['If-Match without W/', '9000000009', GENDER, { 'if-match': '"2"' }, 412, 'PRECONDITION_FAILED'],
    ['If-Match as a bare number', '9000000009', GENDER, { 'if-match': '2' }, 412, 'PRECONDITION_FAILED'],
    ['If-Match not a number', '9000000009', GENDER, { 'if-match': 'W/"x"' }, 412, 'PRECONDITION_FAILED'],
    [
      'a FHIR Content-Type',
      '9000000009',
      GENDER,
      { 'content-type': 'application/fhir+json' },
      400,
      'UNSUPPORTED_SERVICE',
    ],
    [
      'a text Content-Type',
      '9000000009',
      GENDER,
      { 'content-type': 'text/plain' },
      400,
      'UNSUPPORTED_SERVICE',
    ],
    ['no Content-Type', '9000000009', GENDER, { 'content-type': undefined }, 400, 'UNSUPPORTED_SERVICE'],
    ['unparseable JSON', '9000000009', '{"patches": [', {}, 400, 'INVALID_UPDATE'],
    ['an empty body', '9000000009', '', {}, 400, 'INVALID_UPDATE'],
    ['empty patches', '9000000009', { patches: [] }, {}, 400, 'INVALID_UPDATE'],
    ['no patches member', '9000000009', {}, {}, 400, 'INVALID_UPDATE'],
    // NHS's Postman collection sends `correction`; it is not in the spec and the SDK cannot pass it on.
    [
      'correction beside patches',
      '9000000009',
      { correction: false, ...GENDER },
      {},
      400,
      'ADDITIONAL_PROPERTIES',
    ],
    ['patches not a list', '9000000009', { patches: { op: 'remove' } }, {}, 400, 'INVALID_UPDATE'],
    ['a bare RFC 6902 array', '9000000009', GENDER.patches, {}, 400, 'INVALID_UPDATE'],
    ['a JSON string', '9000000009', '"patches"', {}, 400, 'INVALID_UPDATE'],
    ['a member beside patches', '9000000009', { ...GENDER, pets: 1 }, {}, 400, 'ADDITIONAL_PROPERTIES'],
    ['a patch without op', '9000000009', { patches: [{ path: '/gender' }] }, {}, 400, 'MISSING_VALUE'],
    [
      'an unknown op',
      '9000000009',
      { patches: [{ op: 'move', path: '/gender', from: '/x' }] },
      {},
      400,
      'INVALID_VALUE',
    ],
    [
      'a path not starting with /',
      '9000000009',
      { patches: [{ op: 'replace', path: 'gender', value: 'male' }] },
      {},
      400,
      'INVALID_VALUE',
    ],
    [
      'a replace without value',
      '9000000009',
      { patches: [{ op: 'replace', path: '/gender' }] },
      {},
      400,
      'MISSING_VALUE',
    ],
    ['a patch that is not an object', '9000000009', { patches: ['x'] }, {}, 400, 'INVALID_VALUE'],
  ] as const)(
    'answers %s with %i %s before calling PDS, as an audited error',
    async (_case, nhsNumber, body, headers, status, code) => {
      const res = await patch(nhsNumber, body, headers);
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      const outcome = res.json<OperationOutcome>();
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(outcome.issue?.[0]?.details?.coding?.[0]?.code).toBe(code);
      expect(pds.calls).toHaveLength(0);
      const rows = await auditRows();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        action: 'patient.update',
        outcome: 'error',
        error_code: code,
        http_status: status,
        nhs_numbers: code === 'INVALID_RESOURCE_ID' ? '[]' : `["${nhsNumber}"]`,
      });
    },
  );

  it('answers a body over the limit with a 413 OperationOutcome, never Fastify’s error JSON', async () => {
    const res = await patch(
      '9000000009',
      `{"patches":[${'{"op":"test","path":"/id","value":"x"},'.repeat(40_000)}]}`,
    );
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.json<OperationOutcome>().resourceType).toBe('OperationOutcome');
    expect(res.json<OperationOutcome>().issue?.[0]?.code).toBe('too-long');
    expect(pds.calls).toHaveLength(0);
  });

  it('refuses a body nested 10,000 deep with a 400 OperationOutcome naming the bound, never calling PDS', async () => {
    const deep = `{"patches":[{"op":"add","path":"/extension","value":${'['.repeat(10_000)}${']'.repeat(10_000)}}]}`;
    const res = await patch('9000000009', deep);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.json<OperationOutcome>().issue).toEqual([
      { severity: 'error', code: 'invalid', diagnostics: 'The JSON body is nested deeper than 64 levels' },
    ]);
    expect(res.body).not.toMatch(/RangeError|\[\[|at /);
    expect(pds.calls).toHaveLength(0);
    // Not an NHS API call: nothing recorded against PDS (junction_upstream_request_duration_seconds).
    expect((await hub.app.inject({ url: '/metrics' })).body).not.toMatch(/service="pds"/);
  });

  it('passes PDS’s 409 RESOURCE_VERSION_MISMATCH through for a stale If-Match', async () => {
    const res = await patch('9000000009', GENDER, { 'if-match': 'W/"1"' });
    expect(res.statusCode).toBe(409);
    expect(codeOf(res.body)).toBe('RESOURCE_VERSION_MISMATCH');
    expect(pds.calls).toHaveLength(1);
    expect((await auditRows())[0]).toMatchObject({
      action: 'patient.update',
      outcome: 'error',
      error_code: 'RESOURCE_VERSION_MISMATCH',
      http_status: 409,
      nhs_numbers: '["9000000009"]',
    });
  });

  it('passes PDS’s 403 INVALID_METHOD (application-restricted access) through unchanged', async () => {
    const upstream = OperationOutcomeError.spine('INVALID_METHOD', {
      display: 'Cannot update resource with application-restricted access token',
      diagnostics: 'Your app has insufficient permissions to use this method. Please contact support.',
    });
    pds.failWith = upstream;
    const res = await patch('9000000009', GENDER);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(upstream.outcome);
    expect((await auditRows())[0]).toMatchObject({
      outcome: 'error',
      error_code: 'INVALID_METHOD',
      http_status: 403,
    });
  });

  it('passes PDS’s 404 through, audited as not-found', async () => {
    const res = await patch('9111231130', GENDER);
    expect(res.statusCode).toBe(404);
    expect(codeOf(res.body)).toBe('RESOURCE_NOT_FOUND');
    expect((await auditRows())[0]).toMatchObject({
      outcome: 'not-found',
      error_code: 'RESOURCE_NOT_FOUND',
      nhs_numbers: '["9111231130"]',
    });
  });

  it('passes a PDS business-rule rejection of the patches through with its status', async () => {
    pds.failWith = OperationOutcomeError.spine('FORBIDDEN_UPDATE', {
      diagnostics: "Forbidden update with error - source not permitted to remove 'gender'",
    });
    const res = await patch('9000000009', { patches: [{ op: 'remove', path: '/gender' }] });
    expect(res.statusCode).toBe(403);
    expect(codeOf(res.body)).toBe('FORBIDDEN_UPDATE');
  });

  it('needs the patient:update scope: a read-and-search key gets 403 ACCESS_DENIED, audited as denied', async () => {
    const lookup = await createApiKey(t.store, { name: 'lookup-only' });
    expect(lookup.scopes).not.toContain('patient:update');
    const res = await patch('9000000009', GENDER, {}, lookup.secret);
    expect(res.statusCode).toBe(403);
    expect(codeOf(res.body)).toBe('ACCESS_DENIED');
    expect(res.json<OperationOutcome>().issue?.[0]?.diagnostics).toContain("'patient:update'");

    const anonymous = await patch('9000000009', GENDER, { authorization: undefined });
    expect(anonymous.statusCode).toBe(401);
    expect(pds.calls).toHaveLength(0);

    const all = await createApiKey(t.store, { name: 'everything', scopes: API_KEY_SCOPES });
    expect((await patch('9000000009', GENDER, {}, all.secret)).statusCode).toBe(200);

    const rows = await auditRows();
    expect(rows.map((r) => [r.action, r.outcome, r.http_status, r.actor_key_id])).toEqual([
      ['patient.update', 'denied', 403, lookup.id],
      ['patient.update', 'denied', 401, null],
      ['patient.update', 'success', 200, all.id],
    ]);
  });

  it('checks the key before the request: no key and a bad body is 401, not 400', async () => {
    const res = await patch('9000000009', '{bad', { authorization: undefined });
    expect(res.statusCode).toBe(401);
  });

  it('never shows a restricted patient’s address, telecom, GP or contacts in the update answer', async () => {
    const res = await patch('9000000025', { patches: [{ op: 'replace', path: '/gender', value: 'female' }] });
    expect(res.statusCode).toBe(200);
    const patient = res.json<Patient>();
    expect(patient.id).toBe('9000000025');
    for (const field of ['address', 'telecom', 'generalPractitioner', 'contact'])
      expect(patient).not.toHaveProperty(field);
    expect(res.body).not.toMatch(/ZZ9 9ZZ|07700900002|07700900003|Y54321|Secret Lane/);
  });

  it('keeps patient data, patch bodies and keys out of the logs', async () => {
    const body = {
      patches: [
        { op: 'test', path: '/address/0/id', value: 'addr-1' },
        { op: 'replace', path: '/address/0/postalCode', value: 'LS9 9QQ' },
        { op: 'replace', path: '/name/0/family', value: 'Kowalczyk' },
      ],
    };
    await patch('9000000009', body);
    await patch(
      '9000000009',
      '{"patches": [{"op": "replace", "path": "/name/0/family", "value": "Brzęczyszczykiewicz"',
    );
    await patch('9000000009', { patches: [{ op: 'replace', path: '/name/0/family' }] });
    pds.failWith = new Error('upstream said Kowalczyk 9000000009 LS9 9QQ');
    await patch('9000000009', body);
    const text = logs.join('');
    expect(text).toContain('/fhir/R4/Patient/:nhsNumber');
    expect(text).toContain('"method":"PATCH"');
    for (const secret of [
      '9000000009',
      'Kowalczyk',
      'LS9 9QQ',
      'Brzęczyszczykiewicz',
      'addr-1',
      '/name/0',
      key,
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('counts the PATCH in metrics and describes it in the OpenAPI document', async () => {
    await patch('9000000009', GENDER);
    const metrics = await hub.app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(
      /junction_http_requests_total\{method="PATCH",route="\/fhir\/R4\/Patient\/:nhsNumber",status="200"\} 1/,
    );
    expect(metrics.body).toMatch(
      /junction_upstream_request_duration_seconds_count\{service="pds",operation="update",outcome="ok"\} 1/,
    );
    const spec = (await hub.app.inject({ url: '/openapi.json' })).json<{
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: { content: Record<string, unknown> };
            parameters?: { name: string; in: string; required?: boolean }[];
            responses: Record<string, unknown>;
          }
        >
      >;
    }>();
    const op = spec.paths['/fhir/R4/Patient/{nhsNumber}']?.patch;
    expect(op).toBeDefined();
    expect(Object.keys(op?.requestBody?.content ?? {})).toEqual(
      expect.arrayContaining(['application/json-patch+json', 'application/json']),
    );
    expect(op?.parameters).toContainEqual(
      expect.objectContaining({ name: 'if-match', in: 'header', required: true }),
    );
    expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['200', '409', '412']));
  });
});
