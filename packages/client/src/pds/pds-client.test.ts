import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OperationOutcomeError, spineOutcome } from '@junction/core';
import type { Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeReply, fakeFetch, networkFailure, recordingSleep, UUID_V4 } from '../testing/fake-fetch.js';
import { referencePath } from '../testing/reference.js';
import { PdsClient, type PdsClientOptions } from './pds-client.js';
import type { PdsCreatePatientRequest } from './types.js';

// Fixtures are the published PDS spec's own examples and karate stubs (reference/specs/pds).
const fixture = (path: string): unknown =>
  JSON.parse(readFileSync(referencePath(`specs/pds/${path}`), 'utf8'));
const PATIENT = fixture('specification/components/examples/Patient.json') as Patient;
const PATIENT_SEARCH = fixture('specification/components/examples/PatientSearch.json');
const RELATED = fixture('specification/components/examples/RelatedPersonBundle.json');
const COVERAGE = fixture('specification/components/examples/CoverageSearch.json');
const TOO_MANY_MATCHES = fixture('karate-mock/stubs/searchResponses/TOO_MANY_MATCHES.json');
const MULTIPLE_MATCHES = fixture('karate-mock/stubs/postPatientResponses/MULTIPLE_MATCHES_FOUND.json');
const VERSION_MISMATCH = fixture('karate-mock/stubs/errorResponses/RESOURCE_VERSION_MISMATCH.json');
const NOT_FOUND = fixture('karate-mock/stubs/errorResponses/RESOURCE_NOT_FOUND.json');

const BASE = 'https://sandbox.test/personal-demographics/FHIR/R4';

function pds(...script: Array<FakeReply | Error>) {
  const { fetch, calls } = fakeFetch(...script);
  const { sleep, waits } = recordingSleep();
  const options: PdsClientOptions = {
    baseUrl: BASE,
    fetch,
    sleep,
    now: () => new Date('2026-01-01T00:00:00Z'),
  };
  return { client: new PdsClient(options), calls, waits };
}

async function rejection(promise: Promise<unknown>): Promise<OperationOutcomeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OperationOutcomeError);
  return error as OperationOutcomeError;
}

describe('PdsClient.getPatient (patient-get.yaml)', () => {
  it('reads /Patient/{id} and returns the patient with its version and ETag', async () => {
    const { client, calls } = pds({ body: PATIENT, headers: { etag: 'W/"2"' } });
    const result = await client.getPatient('9000000009', { correlationId: 'corr-9' });
    expect(calls[0]?.method).toBe('GET');
    expect(calls[0]?.url.pathname).toBe('/personal-demographics/FHIR/R4/Patient/9000000009');
    expect(calls[0]?.headers.get('x-correlation-id')).toBe('corr-9');
    expect(calls[0]?.headers.get('x-request-id')).toMatch(UUID_V4);
    expect(result.patient.id).toBe('9000000009');
    expect(result.versionId).toBe('2');
    expect(result.etag).toBe('W/"2"');
  });

  it('takes the version from the ETag when meta.versionId is absent, and normalises typed numbers', async () => {
    const { meta: _meta, ...noMeta } = PATIENT;
    const { client, calls } = pds({ body: noMeta, headers: { etag: 'W/"7"' } });
    const result = await client.getPatient('900 000 0009');
    expect(calls[0]?.url.pathname).toMatch(/\/Patient\/9000000009$/);
    expect(result.versionId).toBe('7');
  });

  it('derives the ETag from meta.versionId when the header is missing', async () => {
    const { client } = pds({ body: PATIENT });
    expect((await client.getPatient('9000000009')).etag).toBe(`W/"${PATIENT.meta?.versionId}"`);
  });

  it('rejects an invalid NHS number locally with INVALID_RESOURCE_ID, without a request or echoing it', async () => {
    const { client, calls } = pds({ body: PATIENT });
    const error = await rejection(client.getPatient('9000000000'));
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_RESOURCE_ID');
    expect(error.message).not.toContain('9000000000');
    expect(calls).toHaveLength(0);
    await rejection(client.getRelatedPersons('12345'));
    await rejection(client.searchCoverage('abc'));
    await rejection(client.updatePatient('9000000001', [], { versionId: '1' }));
    expect(calls).toHaveLength(0);
  });

  it('maps 404 RESOURCE_NOT_FOUND to OperationOutcomeError with the server outcome, not retried', async () => {
    const { client, calls } = pds({ status: 404, body: NOT_FOUND });
    const error = await rejection(client.getPatient('9111231130'));
    expect(error.status).toBe(404);
    expect(error.code).toBe('RESOURCE_NOT_FOUND');
    expect(error.outcome).toEqual(NOT_FOUND);
    expect(calls).toHaveLength(1);
  });

  it('rejects a 200 whose body is not a Patient', async () => {
    const { client } = pds({ body: { resourceType: 'Bundle' } });
    const error = await rejection(client.getPatient('9000000009'));
    expect(error.status).toBe(502);
  });
});

describe('PdsClient.searchPatients (patient-search.yaml)', () => {
  it('maps every typed parameter to its PDS query name, repeating given and birthdate', async () => {
    const { client, calls } = pds({ body: PATIENT_SEARCH });
    await client.searchPatients({
      family: 'Smith',
      given: ['John Paul', 'James'],
      gender: 'female',
      birthdate: ['ge2010-10-01', 'le2010-10-31'],
      deathDate: 'eq2020-01-01',
      postalCode: 'LS1 6AE',
      generalPractitioner: 'Y12345',
      email: 'jane.smith@example.com',
      phone: '01632960587',
      fuzzyMatch: false,
      exactMatch: true,
      history: true,
      maxResults: 1,
    });
    expect(calls[0]?.url.pathname).toBe('/personal-demographics/FHIR/R4/Patient');
    expect(calls[0]?.url.search).toBe(
      '?family=Smith&given=John%20Paul&given=James&gender=female&birthdate=ge2010-10-01&birthdate=le2010-10-31' +
        '&death-date=eq2020-01-01&address-postalcode=LS1%206AE&general-practitioner=Y12345' +
        '&email=jane.smith%40example.com&phone=01632960587&_fuzzy-match=false&_exact-match=true&_history=true&_max-results=1',
    );
  });

  it('sends only the parameters given', async () => {
    const { client, calls } = pds({ body: PATIENT_SEARCH });
    await client.searchPatients({ family: 'Sm*', birthdate: 'eq2010-10-22' });
    expect(calls[0]?.url.search).toBe('?family=Sm*&birthdate=eq2010-10-22');
  });

  it('returns the searchset bundle and its patients', async () => {
    const { client } = pds({ body: PATIENT_SEARCH });
    const result = await client.searchPatients({
      family: 'Smith',
      gender: 'female',
      birthdate: 'eq2010-10-22',
    });
    expect(result.tooManyMatches).toBe(false);
    expect(result.bundle).toEqual(PATIENT_SEARCH);
    expect(result.patients.map((p) => p.id)).toEqual(['9000000009']);
  });

  it('turns HTTP 200 OperationOutcome TOO_MANY_MATCHES into tooManyMatches with no patients', async () => {
    const { client } = pds({ status: 200, body: TOO_MANY_MATCHES });
    const result = await client.searchPatients({ family: 'Smith', birthdate: 'ge1900-01-01' });
    expect(result.tooManyMatches).toBe(true);
    expect(result.patients).toEqual([]);
    expect(result.bundle.total).toBe(0);
  });

  it('throws for any other OperationOutcome on a 200', async () => {
    const { client } = pds({ status: 200, body: spineOutcome('INVALID_SEARCH_DATA') });
    const error = await rejection(client.searchPatients({ family: 'Smith' }));
    expect(error.code).toBe('INVALID_SEARCH_DATA');
  });

  it('retries 429 after Retry-After with the same X-Request-ID', async () => {
    const { client, calls, waits } = pds(
      { status: 429, headers: { 'retry-after': '1' }, body: spineOutcome('TOO_MANY_REQUESTS') },
      { body: PATIENT_SEARCH },
    );
    await client.searchPatients({ family: 'Smith', birthdate: 'eq2010-10-22' });
    expect(waits).toEqual([1000]);
    expect(calls[0]?.headers.get('x-request-id')).toBe(calls[1]?.headers.get('x-request-id'));
  });
});

describe('PdsClient.updatePatient (patient-patch.yaml)', () => {
  const patches = [
    { op: 'test' as const, path: '/name/0/id', value: '123' },
    { op: 'replace' as const, path: '/name/0/given/0', value: 'Anne' },
  ];

  it('PATCHes the wrapped {"patches": [...]} body with json-patch Content-Type and a weak If-Match', async () => {
    const updated = { ...PATIENT, meta: { ...PATIENT.meta, versionId: '3' } };
    const { client, calls } = pds({ body: updated, headers: { etag: 'W/"3"' } });
    const result = await client.updatePatient('9000000009', patches, { versionId: '2' });
    const sent = calls[0];
    expect(sent?.method).toBe('PATCH');
    expect(sent?.url.pathname).toMatch(/\/Patient\/9000000009$/);
    expect(sent?.headers.get('content-type')).toBe('application/json-patch+json');
    expect(sent?.headers.get('if-match')).toBe('W/"2"');
    expect(JSON.parse(sent?.body ?? '')).toEqual({ patches });
    expect(result).toMatchObject({ versionId: '3', etag: 'W/"3"' });
  });

  it('sends X-Sync-Wait when asked', async () => {
    const { client, calls } = pds({ body: PATIENT });
    await client.updatePatient('9000000009', patches, { versionId: '2', syncWaitS: 20 });
    expect(calls[0]?.headers.get('x-sync-wait')).toBe('20');
  });

  it('accepts the ETag form as versionId and rejects anything else locally', async () => {
    const { client, calls } = pds({ body: PATIENT });
    await client.updatePatient('9000000009', patches, { versionId: 'W/"2"' });
    expect(calls[0]?.headers.get('if-match')).toBe('W/"2"');
    const error = await rejection(client.updatePatient('9000000009', patches, { versionId: '"2"' }));
    expect(error.code).toBe('INVALID_VALUE');
    expect(calls).toHaveLength(1);
  });

  it('does not retry 409 RESOURCE_VERSION_MISMATCH', async () => {
    const { client, calls } = pds({ status: 409, body: VERSION_MISMATCH });
    const error = await rejection(client.updatePatient('9000000009', patches, { versionId: '1' }));
    expect(error.status).toBe(409);
    expect(error.code).toBe('RESOURCE_VERSION_MISMATCH');
    expect(calls).toHaveLength(1);
  });

  it('re-sends after 503 SERVICE_UNAVAILABLE (X-Sync-Wait elapsed) with the same X-Request-ID and body', async () => {
    const { client, calls, waits } = pds(
      { status: 503, headers: { 'retry-after': '5' }, body: spineOutcome('SERVICE_UNAVAILABLE') },
      { body: PATIENT },
    );
    await client.updatePatient('9000000009', patches, { versionId: '2' });
    expect(waits).toEqual([5000]);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.headers.get('x-request-id')).toBe(calls[0]?.headers.get('x-request-id'));
    expect(calls[1]?.body).toBe(calls[0]?.body);
    expect(calls[1]?.headers.get('if-match')).toBe('W/"2"');
  });
});

describe('PdsClient.createPatient (patient-create.yaml)', () => {
  // PatientCreateRequest.yaml: resourceType may be left out.
  const newPatient: PdsCreatePatientRequest = {
    name: [{ use: 'usual', family: 'Edwards', given: ['Jane'] }],
    gender: 'female',
    birthDate: '1986-07-01',
  };

  it('POSTs application/json and reports 201 as created with the allocated NHS number', async () => {
    const created = { resourceType: 'Patient', ...newPatient, id: '9990000018', meta: { versionId: '1' } };
    const { client, calls } = pds({ status: 201, body: created, headers: { etag: 'W/"1"' } });
    const result = await client.createPatient(newPatient);
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url.pathname).toBe('/personal-demographics/FHIR/R4/Patient');
    expect(calls[0]?.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(calls[0]?.body ?? '')).toEqual(newPatient);
    expect(result).toMatchObject({ created: true, versionId: '1', patient: { id: '9990000018' } });
  });

  it('reports 200 SINGLE_MATCH as not created, with the matched NHS number', async () => {
    const outcome = spineOutcome('SINGLE_MATCH', {
      diagnostics: 'Unable to create new patient. NHS number 9000000009 found for supplied demographic data.',
    });
    const { client } = pds({ status: 200, body: outcome });
    const result = await client.createPatient(newPatient);
    expect(result).toEqual({
      created: false,
      reason: 'SINGLE_MATCH',
      matchedNhsNumber: '9000000009',
      outcome,
    });
  });

  it('reports 200 MULTIPLE_MATCHES as not created', async () => {
    const { client } = pds({ status: 200, body: MULTIPLE_MATCHES });
    const result = await client.createPatient(newPatient);
    expect(result).toEqual({ created: false, reason: 'MULTIPLE_MATCHES', outcome: MULTIPLE_MATCHES });
  });

  it('never re-sends a create after a network failure or 502/504', async () => {
    for (const reply of [networkFailure(), { status: 502 }, { status: 504 }]) {
      const { client, calls } = pds(reply, { status: 201, body: newPatient });
      const error = await rejection(client.createPatient(newPatient));
      expect(error.code).toBe('UNABLE_TO_CALL_SERVICE');
      expect(calls).toHaveLength(1);
    }
  });

  it('does not retry a 400', async () => {
    const { client, calls } = pds({ status: 400, body: spineOutcome('INVALID_CREATE') });
    expect((await rejection(client.createPatient(newPatient))).code).toBe('INVALID_CREATE');
    expect(calls).toHaveLength(1);
  });
});

describe('PdsClient related people and coverage', () => {
  it('reads /Patient/{id}/RelatedPerson', async () => {
    const { client, calls } = pds({ body: RELATED });
    const result = await client.getRelatedPersons('9000000009');
    expect(calls[0]?.url.pathname).toMatch(/\/Patient\/9000000009\/RelatedPerson$/);
    expect(result.relatedPersons).toHaveLength(1);
    expect(result.relatedPersons[0]?.resourceType).toBe('RelatedPerson');
  });

  it('returns an empty list for an empty bundle', async () => {
    const { client } = pds({ body: { resourceType: 'Bundle', type: 'searchset', total: 0 } });
    expect((await client.getRelatedPersons('9000000025')).relatedPersons).toEqual([]);
  });

  it('searches /Coverage?subscriber:identifier={nhsNumber}', async () => {
    const { client, calls } = pds({ body: COVERAGE });
    const result = await client.searchCoverage('9000000009');
    expect(calls[0]?.url.pathname).toMatch(/\/Coverage$/);
    expect(calls[0]?.url.search).toBe('?subscriber:identifier=9000000009');
    expect(result.coverages[0]?.resourceType).toBe('Coverage');
  });
});

describe('PdsClient over real HTTP (node:http on 127.0.0.1)', () => {
  const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  let server: Server;
  let baseUrl: string;
  let throttled = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.setHeader('x-request-id', String(req.headers['x-request-id']));
        if (req.url?.startsWith('/personal-demographics/FHIR/R4/Patient?') && !throttled) {
          throttled = true;
          res.writeHead(429, { 'content-type': 'application/fhir+json', 'retry-after': '0' });
          res.end(JSON.stringify(spineOutcome('TOO_MANY_REQUESTS')));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/fhir+json', etag: 'W/"2"' });
        res.end(JSON.stringify(req.url?.includes('?') ? PATIENT_SEARCH : PATIENT));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/personal-demographics/FHIR/R4`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the headers on the wire, with bearer auth, and retries a 429 on the same X-Request-ID', async () => {
    const client = new PdsClient({
      baseUrl,
      auth: { getAccessToken: async () => 'tok-1' },
      sleep: async () => {},
    });
    const ctx = { correlationId: 'wire-1', endUserOrganisationOds: 'Y12345', sessionUrid: '555254240100' };
    const result = await client.searchPatients(
      { family: 'Smith', given: 'John Paul', birthdate: 'eq2010-10-22' },
      ctx,
    );
    expect(result.patients).toHaveLength(1);
    expect(seen).toHaveLength(2);
    const [first, second] = seen;
    expect(first?.url).toBe(
      '/personal-demographics/FHIR/R4/Patient?family=Smith&given=John%20Paul&birthdate=eq2010-10-22',
    );
    expect(first?.headers).toMatchObject({
      authorization: 'Bearer tok-1',
      'x-correlation-id': 'wire-1',
      'nhsd-end-user-organisation-ods': 'Y12345',
      'nhsd-session-urid': '555254240100',
      accept: 'application/fhir+json',
    });
    expect(first?.headers['x-request-id']).toMatch(UUID_V4);
    expect(second?.headers['x-request-id']).toBe(first?.headers['x-request-id']);

    const read = await client.getPatient('9000000009');
    expect(read.etag).toBe('W/"2"');
  });

  it('maps a refused connection to 502 UNABLE_TO_CALL_SERVICE after retries', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { sleep, waits } = recordingSleep();
    const client = new PdsClient({
      baseUrl: `http://127.0.0.1:${port}/pds`,
      sleep,
      retry: { maxAttempts: 2 },
    });
    const error = await rejection(client.getPatient('9000000009'));
    expect(error.status).toBe(502);
    expect(error.code).toBe('UNABLE_TO_CALL_SERVICE');
    expect(waits).toHaveLength(1);
  });
});
