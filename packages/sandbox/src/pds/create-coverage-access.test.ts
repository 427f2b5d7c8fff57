import { isSyntheticNhsNumber } from '@junction/core';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { PDS_PREFIX, pdsTestApp, REQUEST_ID } from '../testing/pds-test-app.js';
import type { PdsPluginOptions } from './index.js';
import { SEED_NHS_NUMBERS as N } from './seed-patients.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});
async function start(options: PdsPluginOptions = {}) {
  app = await pdsTestApp(options);
  return app;
}
const send = (
  a: FastifyInstance,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  a.inject({
    method,
    url: `${PDS_PREFIX}${path}`,
    headers: {
      'x-request-id': REQUEST_ID,
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
const code = (body: string) => (JSON.parse(body) as OperationOutcome).issue[0]?.details?.coding?.[0]?.code;

const newPatient = (family: string, postalCode: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  name: [{ use: 'usual', given: ['Jane'], family, prefix: ['Mrs'], period: { start: '1986-07-01' } }],
  address: [
    { line: ['1 Trevelyan Square', '', 'Leeds'], period: { start: '2020-01-01' }, postalCode, use: 'home' },
  ],
  gender: 'female',
  birthDate: '1982-07-10',
  ...extra,
});

describe('POST /Patient (specification/components/paths/patient-create.yaml)', () => {
  it('creates a record with a new 999-range NHS number (201), readable afterwards in stateful mode', async () => {
    const a = await start();
    const res = await send(a, 'POST', '/Patient', newPatient('Edwards', 'LS1 6AE'));
    expect(res.statusCode).toBe(201);
    const patient = res.json<Patient>();
    expect(isSyntheticNhsNumber(patient.id as string)).toBe(true);
    expect(patient.address?.[0]?.line).toEqual(['1 Trevelyan Square', 'Leeds']);
    expect((await send(a, 'GET', `/Patient/${patient.id}`)).statusCode).toBe(200);
    // the same demographics again now match the record just made
    const again = await send(a, 'POST', '/Patient', newPatient('Edwards', 'LS1 6AE'));
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body).issue[0].diagnostics).toBe(
      `Unable to create new patient. NHS number ${patient.id} found for supplied demographic data.`,
    );
  });

  it('answers 200 SINGLE_MATCH / MULTIPLE_MATCHES when the demographics already match', async () => {
    const a = await start();
    const single = await send(a, 'POST', '/Patient', newPatient('McMatch-Single', 'BAP 4WG'));
    expect(single.statusCode).toBe(200);
    expect(code(single.body)).toBe('SINGLE_MATCH');
    const multi = await send(a, 'POST', '/Patient', {
      ...newPatient('McMatch-Multiple', 'DN19 7UD'),
      name: [{ given: ['Louisa'], family: 'McMatch-Multiple' }],
    });
    expect(code(multi.body)).toBe('MULTIPLE_MATCHES');
  });

  it('does not keep the record in stateless mode', async () => {
    const a = await start({ mode: 'stateless' });
    const res = await send(a, 'POST', '/Patient', newPatient('Edwards', 'LS1 6AE'));
    expect(res.statusCode).toBe(201);
    expect((await send(a, 'GET', `/Patient/${res.json<Patient>().id}`)).statusCode).toBe(404);
  });

  it.each([
    [{ address: undefined }, 'MISSING_VALUE', "Missing value - 'address'"],
    [{ gender: 'other' }, 'INVALID_VALUE', "Invalid value - 'other' in field 'gender'"],
    [{ birthDate: 'not-a-date' }, 'INVALID_VALUE', "Invalid value - 'not-a-date' in field 'birthDate'"],
    [{ pets: 1 }, 'ADDITIONAL_PROPERTIES', undefined],
  ])('rejects %j with 400 %s', async (change, expected, diagnostics) => {
    const a = await start();
    const res = await send(a, 'POST', '/Patient', newPatient('Edwards', 'LS1 6AE', change));
    expect(res.statusCode).toBe(400);
    expect(code(res.body)).toBe(expected);
    if (diagnostics) expect(JSON.parse(res.body).issue[0].diagnostics).toBe(diagnostics);
  });
});

describe('RelatedPerson and Coverage (relatedpersons-get.yaml, coverage-get.yaml, coverage-post.yaml)', () => {
  it('lists related people, with an empty bundle when there are none', async () => {
    const a = await start();
    expect((await send(a, 'GET', `/Patient/${N.janeSmith}/RelatedPerson`)).json()).toMatchObject({
      type: 'searchset',
      total: 2,
    });
    expect((await send(a, 'GET', `/Patient/${N.jayneSmyth}/RelatedPerson`)).json()).toMatchObject({
      total: 1,
    });
    const none = (await send(a, 'GET', `/Patient/${N.restricted}/RelatedPerson`)).json();
    expect(none).toMatchObject({ total: 0 });
    expect(none).not.toHaveProperty('entry');
  });

  it('searches coverage by subscriber NHS number, with a versioned bundle', async () => {
    const a = await start();
    const res = await send(a, 'GET', `/Coverage?subscriber:identifier=${N.janeSmith}`);
    expect(res.headers.etag).toBe('W/"2"');
    const bundle = res.json<Bundle>();
    expect(bundle).toMatchObject({ type: 'searchset', total: 1, meta: { versionId: '2' } });
    expect((await send(a, 'GET', `/Coverage?subscriber:identifier=${N.minimal}`)).json()).toMatchObject({
      total: 0,
    });
    const bad = await send(a, 'GET', `/Coverage?subscriber:identifier=${N.janeSmith}&year=2003`);
    expect(code(bad.body)).toBe('INVALID_SEARCH_DATA');
  });

  it('adds coverage with If-Match (201), refusing a stale version (409) and a missing one (412)', async () => {
    const a = await start();
    const coverage = {
      resourceType: 'Coverage',
      identifier: [
        {
          value: '291234567890121234',
          assigner: { identifier: { system: 'urn:iso:std:iso:3166', value: 'FAU' } },
        },
      ],
      status: 'active',
      beneficiary: { identifier: { value: '9876543218' } },
      period: { end: '2026-08-20' },
      payor: [{ identifier: { value: 'DE98735' } }],
      subscriber: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: N.janeSmith } },
    };
    const created = await send(a, 'POST', '/Coverage', coverage, { 'if-match': 'W/"2"' });
    expect(created.statusCode).toBe(201);
    expect(created.headers.etag).toBe('W/"3"');
    expect(created.json()).toMatchObject({
      total: 1,
      entry: [{ resource: { subscriber: { identifier: { value: N.janeSmith } } } }],
    });
    expect((await send(a, 'POST', '/Coverage', coverage, { 'if-match': 'W/"2"' })).statusCode).toBe(409);
    expect((await send(a, 'POST', '/Coverage', coverage)).statusCode).toBe(412);
    const bad = await send(
      a,
      'POST',
      '/Coverage',
      { ...coverage, status: 'Expired' },
      { 'if-match': 'W/"3"' },
    );
    expect(JSON.parse(bad.body).issue[0].diagnostics).toBe("Invalid value - 'Expired' in field 'status'");
  });
});

describe('access control with verifyAccessToken (personal-demographics.yaml "Access modes")', () => {
  const verifyAccessToken = (token: string) =>
    token === 'good-token' ? { accessMode: 'application-restricted' as const } : undefined;
  const bearer = { authorization: 'Bearer good-token' };

  it('answers 401 ACCESS_DENIED without or with an unknown bearer token', async () => {
    const a = await start({ verifyAccessToken });
    for (const headers of [{}, { authorization: 'Bearer nope' }]) {
      const res = await send(a, 'GET', `/Patient/${N.janeSmith}`, undefined, headers);
      expect(res.statusCode).toBe(401);
      expect(JSON.parse(res.body).issue[0].details.coding[0]).toMatchObject({
        code: 'ACCESS_DENIED',
        display: 'Access Denied - Unauthorised',
      });
    }
    expect((await send(a, 'GET', `/Patient/${N.janeSmith}`, undefined, bearer)).statusCode).toBe(200);
  });

  it('application-restricted: _max-results must be 1 (403 INVALID_VALUE), one unique match only', async () => {
    const a = await start({ verifyAccessToken });
    const many = await send(
      a,
      'GET',
      '/Patient?family=Smith&birthdate=2010-10-22&_max-results=2',
      undefined,
      bearer,
    );
    expect(many.statusCode).toBe(403);
    expect(code(many.body)).toBe('INVALID_VALUE');
    const two = await send(
      a,
      'GET',
      '/Patient?family=Sm*&gender=female&birthdate=eq2010-10-22',
      undefined,
      bearer,
    );
    expect(code(two.body)).toBe('TOO_MANY_MATCHES');
    const one = await send(
      a,
      'GET',
      '/Patient?family=Smith&gender=female&birthdate=eq2010-10-22',
      undefined,
      bearer,
    );
    expect(one.json()).toMatchObject({ total: 1 });
  });

  it('application-restricted: PATCH and POST are 403 INVALID_METHOD (karate stub INVALID_METHOD.json)', async () => {
    const a = await start({ verifyAccessToken });
    const res = await a.inject({
      method: 'PATCH',
      url: `${PDS_PREFIX}/Patient/${N.janeSmith}`,
      headers: {
        'x-request-id': REQUEST_ID,
        'if-match': 'W/"2"',
        'content-type': 'application/json-patch+json',
        ...bearer,
      },
      payload: JSON.stringify({ patches: [{ op: 'replace', path: '/gender', value: 'male' }] }),
    });
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body).issue[0]).toMatchObject({
      details: {
        coding: [
          {
            code: 'INVALID_METHOD',
            display: 'Cannot update resource with application-restricted access token',
          },
        ],
      },
      diagnostics: 'Your app has insufficient permissions to use this method. Please contact support.',
    });
    const post = await send(a, 'POST', '/Patient', newPatient('Edwards', 'LS1 6AE'), bearer);
    expect(code(post.body)).toBe('INVALID_METHOD');
  });
});
