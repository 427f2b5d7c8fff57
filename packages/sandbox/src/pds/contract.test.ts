import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractError, loadPdsContract, type PdsContract } from '../testing/pds-contract.js';
import { FIXED_NOW, PDS_PREFIX, pdsTestApp, REQUEST_ID } from '../testing/pds-test-app.js';
import type { PdsPluginOptions } from './index.js';
import { SEED_NHS_NUMBERS as N } from './seed-patients.js';
import { syntheticPatients } from './synthetic-patients.js';

// Every response the sandbox gives is held to NHS's published contract:
// reference/specs/pds/specification/personal-demographics.yaml and the components/ it $refs.

const CORRELATION_ID = '11C46F5F-CDEF-4865-94B2-0EE0EDCC26DA';
const TRACING = { 'x-request-id': REQUEST_ID, 'x-correlation-id': CORRELATION_ID };
// Enough generated patients to include superseded ones (1% of them), with the generator's default seed.
const SYNTHETIC_COUNT = 2000;

type Method = 'GET' | 'POST' | 'PATCH';
interface Call {
  method: Method;
  url: string;
  body?: unknown;
  headers?: Record<string, string | undefined>;
}

let contract: PdsContract;

async function call(app: FastifyInstance, { method, url, body, headers = {} }: Call) {
  const contentType =
    method === 'PATCH' ? 'application/json-patch+json' : body === undefined ? undefined : 'application/json';
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...TRACING, 'content-type': contentType, ...headers }))
    if (value !== undefined) merged[name] = value;
  return app.inject({
    method,
    url: `${PDS_PREFIX}${url}`,
    headers: merged,
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

const spineCode = (res: LightMyRequestResponse) =>
  res.json<OperationOutcome>().issue?.[0]?.details?.coding?.[0]?.code;

/** Shows ajv's errors readably when a body does not conform. */
const describeErrors = (errors: ContractError[]) =>
  errors.map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params ?? {})}`);

/**
 * Asserts the body conforms to the spec's schema for this operation and status, every response
 * header the spec documents for it is present and conforms, and the tracing headers are mirrored.
 */
function expectConforms(
  operation: string,
  res: LightMyRequestResponse,
  options: { requestId?: boolean } = {},
) {
  const [method = '', template = ''] = operation.split(' ');
  const { statusCode: status } = res;
  expect(res.headers['content-type']).toContain('application/fhir+json');
  expect(describeErrors(contract.validateResponse(method, template, status, res.json()))).toEqual([]);
  const documented = contract.documentedHeaders(method, template, status);
  const expected = options.requestId === false ? documented.filter((h) => h !== 'x-request-id') : documented;
  expect(
    describeErrors(contract.validateResponseHeaders(method, template, status, res.headers, expected)),
  ).toEqual([]);
  // Mirrored on every answer, documented or not (the API platform adds them to errors too).
  if (options.requestId !== false) expect(res.headers['x-request-id']).toBe(REQUEST_ID);
  expect(res.headers['x-correlation-id']).toBe(CORRELATION_ID);
}

describe("PDS sandbox against NHS's OpenAPI spec (personal-demographics.yaml)", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    contract = await loadPdsContract();
    app = await pdsTestApp();
  });
  afterAll(() => app?.close());

  describe('the contract checks themselves', () => {
    it('reject bodies and headers that break the spec, so the tests below can fail', async () => {
      const res = await call(app, { method: 'GET', url: `/Patient/${N.janeSmith}` });
      const patient = res.json<Patient>();
      const broken = { ...patient, gender: 'mal', id: '12', birthDate: '22/10/2010' };
      const errors = contract.validateResponse('GET', '/Patient/{id}', 200, broken);
      expect(errors.map((e) => e.instancePath)).toEqual(
        expect.arrayContaining(['/gender', '/id', '/birthDate']),
      );
      expect(
        contract.validateResponse('GET', '/Patient/{id}', 200, { resourceType: 'OperationOutcome' }),
      ).not.toEqual([]);
      // NHS's OperationOutcome schema requires no property at top level (so the 4XX cases below also
      // check the Spine code), but it does hold issues to FHIR's severities and issue types.
      const issue = { severity: 'error', code: 'value' };
      expect(
        contract.validateResponse('GET', '/Patient/{id}', 404, {
          resourceType: 'OperationOutcome',
          issue: [issue],
        }),
      ).toEqual([]);
      expect(contract.validateResponse('GET', '/Patient/{id}', 404, { issue: [] })).not.toEqual([]);
      expect(
        contract.validateResponse('GET', '/Patient/{id}', 404, { issue: [{ ...issue, severity: 'bad' }] }),
      ).not.toEqual([]);
      expect(
        contract.validateResponse('GET', '/Patient/{id}', 404, {
          issue: [{ ...issue, code: 'not-a-code' }],
        }),
      ).not.toEqual([]);
      const headerErrors = contract.validateResponseHeaders(
        'GET',
        '/Patient/{id}',
        200,
        {
          etag: '"2"',
          'x-request-id': 'not-a-uuid',
        },
        ['ETag', 'X-Request-Id', 'X-Correlation-Id'],
      );
      expect(headerErrors.map((e) => `${e.instancePath} ${e.keyword ?? e.message}`)).toEqual([
        'headers/etag pattern',
        'headers/x-correlation-id is missing',
        'headers/x-request-id pattern',
      ]);
      expect(() => contract.validateResponse('DELETE', '/Patient/{id}', 200, patient)).toThrow(
        /no operation/,
      );
      expect(contract.validateSchema('OperationOutcome', { issue: [] })).not.toEqual([]);
    });
  });

  /** A fresh stateful app for changes, so each case starts from the seed records. */
  const fresh = (options: PdsPluginOptions = {}) => pdsTestApp(options);

  describe('GET /Patient/{id} (components/paths/patient-get.yaml)', () => {
    it.each([
      ['Jane Smith', N.janeSmith, 'W/"2"'],
      ['Jayne Smyth', N.jayneSmyth, undefined],
      ['the restricted patient, location data removed', N.restricted, undefined],
      ['the minimal patient', N.minimal, undefined],
      ['a superseded number (answered with the superseding record)', N.cuffSuperseded, undefined],
      ['John Paul Smith (compound given names)', N.johnPaulSmith, undefined],
    ])('200: %s', async (_name, nhsNumber, etag) => {
      const res = await call(app, { method: 'GET', url: `/Patient/${nhsNumber}` });
      expect(res.statusCode).toBe(200);
      expectConforms('GET /Patient/{id}', res);
      const patient = res.json<Patient>();
      expect(res.headers.etag).toBe(etag ?? `W/"${patient.meta?.versionId}"`);
    });

    it('200: the restricted patient 9000000025 carries the R security label and no address', async () => {
      const res = await call(app, { method: 'GET', url: `/Patient/${N.restricted}` });
      const patient = res.json<Patient>();
      expect(patient.meta?.security?.[0]?.code).toBe('R');
      expect(patient).not.toHaveProperty('address');
    });

    it.each([
      ['an NHS number failing the check digit', `/Patient/${N.invalid}`, {}, 400, 'INVALID_RESOURCE_ID'],
      ['no record', `/Patient/${N.notFound}`, {}, 404, 'RESOURCE_NOT_FOUND'],
      ['an invalidated record', `/Patient/${N.invalidated}`, {}, 404, 'INVALIDATED_RESOURCE'],
      ['no X-Request-ID', `/Patient/${N.janeSmith}`, { 'x-request-id': undefined }, 400, 'MISSING_VALUE'],
      [
        'a malformed X-Request-ID',
        `/Patient/${N.janeSmith}`,
        { 'x-request-id': '1234' },
        400,
        'INVALID_VALUE',
      ],
    ])('4XX: %s', async (_name, url, headers, status, code) => {
      const res = await call(app, { method: 'GET', url, headers });
      expect(res.statusCode).toBe(status);
      expect(spineCode(res)).toBe(code);
      const requestIdSent = !('x-request-id' in headers);
      if (requestIdSent) expectConforms('GET /Patient/{id}', res);
      else {
        expect(describeErrors(contract.validateResponse('GET', '/Patient/{id}', status, res.json()))).toEqual(
          [],
        );
      }
    });
  });

  describe('GET /Patient search (components/paths/patient-search.yaml)', () => {
    it('200: a searchset with several results', async () => {
      const res = await call(app, {
        method: 'GET',
        url: '/Patient?family=Sm*&gender=female&birthdate=eq2010-10-22',
      });
      expect(res.statusCode).toBe(200);
      expectConforms('GET /Patient', res);
      expect(res.json<Bundle>().total).toBeGreaterThanOrEqual(2);
    });

    it('200: a searchset with the restricted patient', async () => {
      const res = await call(app, {
        method: 'GET',
        url: '/Patient?family=Smythe&given=Janet&gender=female&birthdate=eq2005-06-16',
      });
      expectConforms('GET /Patient', res);
      expect(res.json<Bundle<Patient>>().entry?.[0]?.resource?.id).toBe(N.restricted);
    });

    it('200: a fuzzy search', async () => {
      const res = await call(app, {
        method: 'GET',
        url: '/Patient?family=Smyth&given=Jane&gender=female&birthdate=2010-10-22&_fuzzy-match=true',
      });
      expectConforms('GET /Patient', res);
      expect(res.json<Bundle>().total).toBeGreaterThanOrEqual(1);
    });

    it('200: an empty searchset', async () => {
      const res = await call(app, {
        method: 'GET',
        url: '/Patient?family=Nobody&gender=male&birthdate=eq1900-01-01',
      });
      expect(res.statusCode).toBe(200);
      expectConforms('GET /Patient', res);
      expect(res.json<Bundle>()).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    });

    it('200: too many matches is an OperationOutcome (TOO_MANY_MATCHES)', async () => {
      const res = await call(app, {
        method: 'GET',
        url: '/Patient?family=Sm*&gender=female&birthdate=eq2010-10-22&_max-results=1',
      });
      expect(res.statusCode).toBe(200);
      expect(spineCode(res)).toBe('TOO_MANY_MATCHES');
      expectConforms('GET /Patient', res);
      // The 200's schema is the searchset, which an OperationOutcome passes vacuously (no required
      // properties); its description says the answer may be an OperationOutcome, so hold it to that.
      expect(describeErrors(contract.validateSchema('OperationOutcome', res.json()))).toEqual([]);
    });

    it.each([
      ['no parameters', '', 'UNSUPPORTED_SERVICE'],
      ['a bad gender', 'family=Smith&gender=mal&birthdate=eq2010-10-22', 'INVALID_VALUE'],
      ['a bad birth date', 'family=Smith&birthdate=20101022', 'INVALID_VALUE'],
      ['an unknown parameter', 'family=Sm*&invalidParam=123&birthdate=eq2010-10-22', 'ADDITIONAL_PROPERTIES'],
      ['no birth date', 'email=j.smith@example.com&phone=0163', 'MISSING_VALUE'],
      ['too little to search on', 'given=Jane&birthdate=2010-10-22', 'INVALID_SEARCH_DATA'],
      ['a wildcard too early', 'family=S*&birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA'],
    ])('400: %s', async (_name, query, code) => {
      const res = await call(app, { method: 'GET', url: `/Patient?${query}` });
      expect(res.statusCode).toBe(400);
      expect(spineCode(res)).toBe(code);
      expectConforms('GET /Patient', res);
    });
  });

  describe('PATCH /Patient/{id} (components/paths/patient-patch.yaml)', () => {
    const gender = { patches: [{ op: 'replace', path: '/gender', value: 'male' }] };

    it('200: the patched record, with the new version in ETag', async () => {
      const a = await fresh();
      try {
        const res = await call(a, {
          method: 'PATCH',
          url: `/Patient/${N.janeSmith}`,
          body: gender,
          headers: { 'if-match': 'W/"2"' },
        });
        expect(res.statusCode).toBe(200);
        expectConforms('PATCH /Patient/{id}', res);
        expect(res.headers.etag).toBe('W/"3"');
      } finally {
        await a.close();
      }
    });

    it('200: adding a name item (the record grows an id-bearing list item)', async () => {
      const a = await fresh();
      try {
        const res = await call(a, {
          method: 'PATCH',
          url: `/Patient/${N.janeSmith}`,
          body: {
            patches: [
              { op: 'add', path: '/name/-', value: { use: 'nickname', given: ['Janie'], family: 'Smith' } },
            ],
          },
          headers: { 'if-match': 'W/"2"' },
        });
        expect(res.statusCode).toBe(200);
        expectConforms('PATCH /Patient/{id}', res);
      } finally {
        await a.close();
      }
    });

    it.each([
      ['no patches', 400, 'INVALID_UPDATE', { patches: [] }, { 'if-match': 'W/"2"' }, N.janeSmith],
      ['a body that is not JSON', 400, 'INVALID_UPDATE', '{', { 'if-match': 'W/"2"' }, N.janeSmith],
      ['a bad NHS number', 400, 'INVALID_RESOURCE_ID', gender, { 'if-match': 'W/"2"' }, N.invalid],
      ['no record', 404, 'RESOURCE_NOT_FOUND', gender, { 'if-match': 'W/"2"' }, N.notFound],
      ['a stale version', 409, 'RESOURCE_VERSION_MISMATCH', gender, { 'if-match': 'W/"1"' }, N.janeSmith],
      ['no If-Match', 412, 'PRECONDITION_FAILED', gender, {}, N.janeSmith],
    ])('%s: %i %s', async (_name, status, code, body, headers, nhsNumber) => {
      const res = await call(app, { method: 'PATCH', url: `/Patient/${nhsNumber}`, body, headers });
      expect(res.statusCode).toBe(status);
      expect(spineCode(res)).toBe(code);
      expectConforms('PATCH /Patient/{id}', res);
    });
  });

  describe('POST /Patient (components/paths/patient-create.yaml)', () => {
    const newPatient = (given: string, family: string, postalCode: string) => ({
      resourceType: 'Patient',
      name: [{ use: 'usual', given: [given], family, prefix: ['Mrs'], period: { start: '1986-07-01' } }],
      address: [
        { line: ['1 Trevelyan Square', 'Leeds'], period: { start: '2020-01-01' }, postalCode, use: 'home' },
      ],
      gender: 'female',
      birthDate: '1982-07-10',
    });

    it('201: a new patient with a new NHS number', async () => {
      const a = await fresh();
      try {
        const res = await call(a, {
          method: 'POST',
          url: '/Patient',
          body: newPatient('Jane', 'Edwards', 'LS1 6AE'),
        });
        expect(res.statusCode).toBe(201);
        expectConforms('POST /Patient', res);
      } finally {
        await a.close();
      }
    });

    it.each([
      ['SINGLE_MATCH', newPatient('Jane', 'McMatch-Single', 'BAP 4WG')],
      ['MULTIPLE_MATCHES', newPatient('Louisa', 'McMatch-Multiple', 'DN19 7UD')],
    ])('200: %s', async (code, body) => {
      const res = await call(app, { method: 'POST', url: '/Patient', body });
      expect(res.statusCode).toBe(200);
      expect(spineCode(res)).toBe(code);
      expectConforms('POST /Patient', res);
    });

    it.each([
      ['no address', { ...newPatient('Jane', 'Edwards', 'LS1 6AE'), address: undefined }, 'MISSING_VALUE'],
      [
        'an extra property',
        { ...newPatient('Jane', 'Edwards', 'LS1 6AE'), pets: 1 },
        'ADDITIONAL_PROPERTIES',
      ],
      ['a body that is not JSON', '{', 'INVALID_CREATE'],
    ])('400: %s', async (_name, body, code) => {
      const res = await call(app, { method: 'POST', url: '/Patient', body });
      expect(res.statusCode).toBe(400);
      expect(spineCode(res)).toBe(code);
      expectConforms('POST /Patient', res);
    });
  });

  describe('GET /Patient/{id}/RelatedPerson (components/paths/relatedpersons-get.yaml)', () => {
    it.each([
      ['two related people', N.janeSmith, 2],
      ['one related person', N.jayneSmyth, 1],
      ['none: an empty bundle', N.restricted, 0],
    ])('200: %s', async (_name, nhsNumber, total) => {
      const res = await call(app, { method: 'GET', url: `/Patient/${nhsNumber}/RelatedPerson` });
      expect(res.statusCode).toBe(200);
      expectConforms('GET /Patient/{id}/RelatedPerson', res);
      expect(res.json<Bundle>().total).toBe(total);
      // the patient record's version, as on a read (relatedpersons-get.yaml documents the ETag)
      const read = await call(app, { method: 'GET', url: `/Patient/${nhsNumber}` });
      expect(res.headers.etag).toBe(read.headers.etag);
    });

    it.each([
      [N.invalid, 400, 'INVALID_RESOURCE_ID'],
      [N.notFound, 404, 'RESOURCE_NOT_FOUND'],
    ])('4XX: %s gives %i %s', async (nhsNumber, status, code) => {
      const res = await call(app, { method: 'GET', url: `/Patient/${nhsNumber}/RelatedPerson` });
      expect(res.statusCode).toBe(status);
      expect(spineCode(res)).toBe(code);
      expectConforms('GET /Patient/{id}/RelatedPerson', res);
    });
  });

  describe('Coverage (components/paths/coverage-get.yaml, coverage-post.yaml)', () => {
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

    it.each([
      ['an EHIC holder', N.janeSmith, 1],
      ['no EHIC: an empty bundle with meta', N.minimal, 0],
    ])('GET 200: %s', async (_name, nhsNumber, total) => {
      const res = await call(app, { method: 'GET', url: `/Coverage?subscriber:identifier=${nhsNumber}` });
      expect(res.statusCode).toBe(200);
      expectConforms('GET /Coverage', res);
      expect(res.json<Bundle>().total).toBe(total);
    });

    it.each([
      ['another parameter', `subscriber:identifier=${N.janeSmith}&year=2003`, 400, 'INVALID_SEARCH_DATA'],
      ['no record', `subscriber:identifier=${N.notFound}`, 404, 'RESOURCE_NOT_FOUND'],
    ])('GET 4XX: %s', async (_name, query, status, code) => {
      const res = await call(app, { method: 'GET', url: `/Coverage?${query}` });
      expect(res.statusCode).toBe(status);
      expect(spineCode(res)).toBe(code);
      expectConforms('GET /Coverage', res);
    });

    it('POST 201, then 409 for the stale version, 412 without If-Match, 400 for a bad status', async () => {
      const a = await fresh();
      try {
        const created = await call(a, {
          method: 'POST',
          url: '/Coverage',
          body: coverage,
          headers: { 'if-match': 'W/"2"' },
        });
        expect(created.statusCode).toBe(201);
        expectConforms('POST /Coverage', created);
        const stale = await call(a, {
          method: 'POST',
          url: '/Coverage',
          body: coverage,
          headers: { 'if-match': 'W/"2"' },
        });
        expect(stale.statusCode).toBe(409);
        expectConforms('POST /Coverage', stale);
        const unconditional = await call(a, { method: 'POST', url: '/Coverage', body: coverage });
        expect(unconditional.statusCode).toBe(412);
        expectConforms('POST /Coverage', unconditional);
        const bad = await call(a, {
          method: 'POST',
          url: '/Coverage',
          body: { ...coverage, status: 'Expired' },
          headers: { 'if-match': 'W/"3"' },
        });
        expect(bad.statusCode).toBe(400);
        expectConforms('POST /Coverage', bad);
      } finally {
        await a.close();
      }
    });
  });

  describe('access control (401/403 in the 4XX tables of every path file)', () => {
    let guarded: FastifyInstance;
    beforeAll(async () => {
      guarded = await fresh({
        verifyAccessToken: (token) =>
          token === 'good-token' ? { accessMode: 'application-restricted' } : undefined,
      });
    });
    afterAll(() => guarded?.close());
    const bearer = { authorization: 'Bearer good-token' };

    it.each([
      [
        'read without a token',
        401,
        'ACCESS_DENIED',
        'GET /Patient/{id}',
        { method: 'GET', url: `/Patient/${N.janeSmith}` },
      ],
      [
        'search for more than one result',
        403,
        'INVALID_VALUE',
        'GET /Patient',
        {
          method: 'GET',
          url: '/Patient?family=Smith&birthdate=2010-10-22&_max-results=2',
          headers: bearer,
        },
      ],
      [
        'update, application-restricted',
        403,
        'INVALID_METHOD',
        'PATCH /Patient/{id}',
        {
          method: 'PATCH',
          url: `/Patient/${N.janeSmith}`,
          body: { patches: [{ op: 'replace', path: '/gender', value: 'male' }] },
          headers: { ...bearer, 'if-match': 'W/"2"' },
        },
      ],
      [
        'create, application-restricted',
        403,
        'INVALID_METHOD',
        'POST /Patient',
        { method: 'POST', url: '/Patient', body: { resourceType: 'Patient' }, headers: bearer },
      ],
    ] as const)('%s: %i %s', async (_name, status, code, operation, request) => {
      const res = await call(guarded, request as Call);
      expect(res.statusCode).toBe(status);
      expect(spineCode(res)).toBe(code);
      expectConforms(operation, res);
    });
  });

  describe('generated synthetic patients (synthetic-patients.ts) are held to the spec too', () => {
    let generated: FastifyInstance;
    beforeAll(async () => {
      generated = await pdsTestApp({ syntheticPatients: SYNTHETIC_COUNT });
    });
    afterAll(() => generated?.close());
    const records = syntheticPatients({ count: SYNTHETIC_COUNT, today: FIXED_NOW });
    const active = records.filter((r) => r.state === 'active');
    const picks = [
      ...active.slice(0, 5).map((r) => ['ordinary', r] as const),
      ['deceased', active.find((r) => r.patient.deceasedDateTime !== undefined)] as const,
      ['restricted', active.find((r) => r.patient.meta?.security?.[0]?.code === 'R')] as const,
      ['superseded', records.find((r) => r.state === 'superseded')] as const,
    ];

    it('include a deceased, a restricted and a superseded patient', () => {
      for (const [, record] of picks) expect(record).toBeDefined();
    });

    it.each(picks.map(([kind, record]) => [kind, record?.nhsNumber ?? 'missing'] as const))(
      'read 200 and search 200: %s %s',
      async (kind, nhsNumber) => {
        const read = await call(generated, { method: 'GET', url: `/Patient/${nhsNumber}` });
        expect(read.statusCode).toBe(200);
        expectConforms('GET /Patient/{id}', read);
        const patient = read.json<Patient>();
        if (kind === 'deceased') expect(patient.deceasedDateTime).toBeDefined();
        if (kind === 'restricted') expect(patient).not.toHaveProperty('address');
        if (kind === 'superseded') expect(patient.id).not.toBe(nhsNumber);

        const name = patient.name?.find((n) => n.use === 'usual') ?? patient.name?.[0];
        const query = new URLSearchParams({
          family: name?.family ?? '',
          gender: patient.gender ?? '',
          birthdate: `eq${patient.birthDate}`,
        });
        const search = await call(generated, { method: 'GET', url: `/Patient?${query}` });
        expect(search.statusCode).toBe(200);
        expectConforms('GET /Patient', search);
        const found = search.json<Bundle<Patient>>();
        expect(found.resourceType).toBe('Bundle');
        expect(found.entry?.some((e) => e.resource?.id === patient.id)).toBe(true);
      },
    );
  });
});
