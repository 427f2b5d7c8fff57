import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDS_PREFIX, pdsTestApp, REQUEST_ID } from '../testing/pds-test-app.js';
import { SEED_NHS_NUMBERS as N } from './seed-patients.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await pdsTestApp();
});
afterAll(() => app.close());

const get = (path: string, headers: Record<string, string> = { 'x-request-id': REQUEST_ID }) =>
  app.inject({ method: 'GET', url: `${PDS_PREFIX}${path}`, headers });
const code = (body: string) => (JSON.parse(body) as OperationOutcome).issue[0]?.details?.coding?.[0]?.code;

describe('GET /Patient/{id} (specification/components/paths/patient-get.yaml)', () => {
  it('returns the patient with ETag W/"<versionId>", FHIR JSON and mirrored tracing headers', async () => {
    const res = await get(`/Patient/${N.janeSmith}`, {
      'x-request-id': REQUEST_ID,
      'x-correlation-id': 'corr-1',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('W/"2"');
    expect(res.headers['content-type']).toContain('application/fhir+json');
    expect(res.headers['x-request-id']).toBe(REQUEST_ID);
    expect(res.headers['x-correlation-id']).toBe('corr-1');
    const patient = res.json<Patient>();
    expect(patient.id).toBe(N.janeSmith);
    expect(patient.name?.[0]?.family).toBe('Smith');
    expect(patient.meta?.security?.[0]?.code).toBe('U');
    expect(patient.extension?.length).toBe(8); // the full record, unlike search results
  });

  it('answers 400 INVALID_RESOURCE_ID for a number failing the modulus 11 check (9000000000)', async () => {
    const res = await get(`/Patient/${N.invalid}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'value',
          details: {
            coding: [
              {
                system: 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode',
                version: '1',
                code: 'INVALID_RESOURCE_ID',
                display: 'Resource Id is invalid',
              },
            ],
          },
        },
      ],
    });
    expect((await get('/Patient/abc')).statusCode).toBe(400);
  });

  it('answers 404 RESOURCE_NOT_FOUND for a valid number with no record (9111231130)', async () => {
    const res = await get(`/Patient/${N.notFound}`);
    expect(res.statusCode).toBe(404);
    expect(code(res.body)).toBe('RESOURCE_NOT_FOUND');
  });

  it('returns the superseding record, with its own id, for a superseded number', async () => {
    const res = await get(`/Patient/${N.cuffSuperseded}`);
    expect(res.statusCode).toBe(200);
    expect(res.json<Patient>().id).toBe(N.cuffSuperseding);
  });

  it('answers 404 INVALIDATED_RESOURCE for an invalidated record', async () => {
    const res = await get(`/Patient/${N.invalidated}`);
    expect(res.statusCode).toBe(404);
    expect(code(res.body)).toBe('INVALIDATED_RESOURCE');
  });

  it('removes address, telecom and generalPractitioner from a restricted (R) patient', async () => {
    const res = await get(`/Patient/${N.restricted}`);
    expect(res.statusCode).toBe(200);
    const patient = res.json<Patient>();
    expect(patient.meta?.security?.[0]).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
      code: 'R',
      display: 'restricted',
    });
    expect(patient.address).toBeUndefined();
    expect(patient.telecom).toBeUndefined();
    expect(patient.generalPractitioner).toBeUndefined();
    expect(patient.name?.[0]?.family).toBe('Smythe');
  });

  it('returns the minimal record 9000000033', async () => {
    const patient = (await get(`/Patient/${N.minimal}`)).json<Patient>();
    expect(Object.keys(patient).sort()).toEqual(['id', 'identifier', 'meta', 'resourceType']);
  });
});

describe('headers (supporting-functions.js validateRequestIDHeader)', () => {
  it('answers 400 MISSING_VALUE without X-Request-ID', async () => {
    const res = await get(`/Patient/${N.janeSmith}`, {});
    expect(res.statusCode).toBe(400);
    expect(code(res.body)).toBe('MISSING_VALUE');
    expect(res.json<OperationOutcome>().issue[0]?.diagnostics).toBe(
      'Invalid request with error - X-Request-ID header must be supplied to access this resource',
    );
  });

  it('answers 400 INVALID_VALUE for an X-Request-ID that is not a UUID, and mirrors it', async () => {
    const res = await get(`/Patient/${N.janeSmith}`, { 'x-request-id': '1234' });
    expect(res.statusCode).toBe(400);
    expect(code(res.body)).toBe('INVALID_VALUE');
    expect(res.json<OperationOutcome>().issue[0]?.diagnostics).toBe(
      "Invalid value - '1234' in header 'X-Request-ID'",
    );
    expect(res.headers['x-request-id']).toBe('1234');
  });
});

describe('unknown routes (AssignMessage.Errors.UnsupportedRequest.xml, requestErrors.feature)', () => {
  it('answers an unknown path with 400 UNSUPPORTED_REQUEST naming the path', async () => {
    const res = await get('/HelloWorld');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/fhir+json');
    expect(code(res.body)).toBe('UNSUPPORTED_REQUEST');
    expect(res.json<OperationOutcome>().issue[0]?.diagnostics).toBe("Unsupported path - '/HelloWorld'");
  });

  it('answers an unsupported method on a known path with 400 UNSUPPORTED_SERVICE', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: `${PDS_PREFIX}/Patient/${N.janeSmith}`,
      headers: { 'x-request-id': REQUEST_ID },
    });
    expect(res.statusCode).toBe(400);
    expect(code(res.body)).toBe('UNSUPPORTED_SERVICE');
  });
});
