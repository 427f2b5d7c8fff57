import { isOperationOutcome, OperationOutcomeError, parseNhsNumber, spineCodeOf } from '@junction/core';
import type {
  Bundle,
  Coverage,
  OperationOutcome,
  Patient,
  RelatedPerson,
  Resource,
} from '@medplum/fhirtypes';
import { unexpectedResponseError } from '../http/errors.js';
import { HttpClient, type HttpClientOptions, type HttpResponse } from '../http/http-client.js';
import type { RequestContext } from '../http/types.js';
import { toPdsQuery } from './search-params.js';
import type {
  JsonPatchOperation,
  PdsCoverageResult,
  PdsCreatePatientRequest,
  PdsCreateResult,
  PdsPatientResult,
  PdsRelatedPersonsResult,
  PdsSearchParams,
  PdsSearchResult,
  PdsUpdateOptions,
} from './types.js';

/** Options of `PdsClient`: the shared HTTP layer's (base URL, auth, fetch, retry, clock, sleep). */
export type PdsClientOptions = HttpClientOptions;

const ETAG_PATTERN = /^W\/"(\d+)"$/;

/**
 * Client for the PDS FHIR R4 API (`specification/personal-demographics.yaml`).
 *
 * Every method throws `OperationOutcomeError` for a non-2xx answer (the server's OperationOutcome,
 * with its HTTP status) or after a network failure (502/504 `UNABLE_TO_CALL_SERVICE`). NHS numbers are
 * checked with the modulus 11 rule before sending: an invalid one throws `INVALID_RESOURCE_ID` (400)
 * locally, as PDS would, without a request. Retries: reads and searches, and PATCH (guarded by
 * `If-Match`), are re-sent on 408/429/502/503/504 and network failures with the same `X-Request-ID`;
 * create only on 429 and 503, never after a network failure (see `RetryMode`).
 *
 * @example
 * const pds = new PdsClient({ baseUrl: 'http://127.0.0.1:9000/personal-demographics/FHIR/R4' });
 * const { patient, versionId } = await pds.getPatient('9000000009', { correlationId: 'c-123' });
 */
export class PdsClient {
  private readonly http: HttpClient;

  constructor(options: PdsClientOptions) {
    this.http = new HttpClient(options);
  }

  /**
   * Reads a patient (GET /Patient/{id}). For a superseded record PDS returns the new record, whose
   * `id` differs from the number asked for.
   *
   * @example
   * const { patient, etag } = await pds.getPatient('9000000009');
   */
  async getPatient(nhsNumber: string, ctx?: RequestContext): Promise<PdsPatientResult> {
    const id = checkedNhsNumber(nhsNumber);
    const operation = 'PDS read patient';
    const res = await this.http.request(
      { method: 'GET', path: `/Patient/${id}`, retry: 'idempotent', operation },
      ctx,
    );
    return patientResult(res, operation);
  }

  /**
   * Searches for patients (GET /Patient?...). Too many matches is not an error in PDS: it answers
   * HTTP 200 with OperationOutcome `TOO_MANY_MATCHES`, returned here as `tooManyMatches: true`.
   *
   * @example
   * const { patients, tooManyMatches } = await pds.searchPatients({ family: 'Smith', gender: 'female', birthdate: 'eq2010-10-22' });
   */
  async searchPatients(params: PdsSearchParams, ctx?: RequestContext): Promise<PdsSearchResult> {
    const operation = 'PDS search patients';
    const res = await this.http.request(
      { method: 'GET', path: '/Patient', query: toPdsQuery(params), retry: 'idempotent', operation },
      ctx,
    );
    if (isOperationOutcome(res.body)) {
      if (spineCodeOf(res.body) === 'TOO_MANY_MATCHES') {
        return {
          bundle: { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] },
          patients: [],
          tooManyMatches: true,
        };
      }
      throw new OperationOutcomeError(res.status, res.body);
    }
    const bundle = expectBundle<Patient>(res.body, 'Patient', operation);
    return { bundle, patients: resourcesOf(bundle, 'Patient'), tooManyMatches: false };
  }

  /**
   * Updates a patient with JSON Patch (PATCH /Patient/{id}). PDS wants the operations wrapped as
   * `{"patches": [...]}` with `Content-Type: application/json-patch+json` and `If-Match: W/"<versionId>"`;
   * a stale version gives 409 `RESOURCE_VERSION_MISMATCH`. A 503 (the update outlived `X-Sync-Wait`)
   * is re-sent after `Retry-After` with the same `X-Request-ID`, as the spec asks.
   *
   * @example
   * const { versionId } = await pds.getPatient('9000000009');
   * await pds.updatePatient('9000000009', [{ op: 'replace', path: '/gender', value: 'female' }], { versionId });
   */
  async updatePatient(
    nhsNumber: string,
    patches: JsonPatchOperation[],
    options: PdsUpdateOptions,
    ctx?: RequestContext,
  ): Promise<PdsPatientResult> {
    const id = checkedNhsNumber(nhsNumber);
    const operation = 'PDS update patient';
    const headers: Record<string, string> = { 'if-match': ifMatch(options.versionId) };
    if (options.syncWaitS !== undefined) headers['x-sync-wait'] = String(options.syncWaitS);
    const res = await this.http.request(
      {
        method: 'PATCH',
        path: `/Patient/${id}`,
        headers,
        json: { patches },
        contentType: 'application/json-patch+json',
        retry: 'idempotent',
        operation,
      },
      ctx,
    );
    return patientResult(res, operation);
  }

  /**
   * Creates a patient record and allocates an NHS number (POST /Patient; healthcare worker access
   * only). When PDS already holds the patient it answers 200 with `SINGLE_MATCH` or `MULTIPLE_MATCHES`
   * and creates nothing: that is `{ created: false, reason }`, not an error.
   *
   * @example
   * const result = await pds.createPatient({ resourceType: 'Patient', name: [{ use: 'usual', family: 'Edwards', given: ['Jane'] }], gender: 'female', birthDate: '1986-07-01' });
   * if (result.created) console.log(result.patient.id); else console.log(result.reason);
   */
  async createPatient(patient: PdsCreatePatientRequest, ctx?: RequestContext): Promise<PdsCreateResult> {
    const operation = 'PDS create patient';
    const res = await this.http.request(
      {
        method: 'POST',
        path: '/Patient',
        json: patient,
        // patient-create.yaml: the request body is `application/json`.
        contentType: 'application/json',
        retry: 'rejected-only',
        operation,
      },
      ctx,
    );
    if (isOperationOutcome(res.body)) {
      const code = spineCodeOf(res.body);
      if (code === 'SINGLE_MATCH' || code === 'MULTIPLE_MATCHES') {
        const matched = code === 'SINGLE_MATCH' ? matchedNhsNumber(res.body) : undefined;
        return {
          created: false,
          reason: code,
          ...(matched ? { matchedNhsNumber: matched } : {}),
          outcome: res.body,
        };
      }
      throw new OperationOutcomeError(res.status, res.body);
    }
    return { created: true, ...patientResult(res, operation) };
  }

  /**
   * A patient's related people (GET /Patient/{id}/RelatedPerson); an empty list when there are none.
   *
   * @example
   * const { relatedPersons } = await pds.getRelatedPersons('9000000009');
   */
  async getRelatedPersons(nhsNumber: string, ctx?: RequestContext): Promise<PdsRelatedPersonsResult> {
    const id = checkedNhsNumber(nhsNumber);
    const operation = 'PDS read related people';
    const res = await this.http.request(
      { method: 'GET', path: `/Patient/${id}/RelatedPerson`, retry: 'idempotent', operation },
      ctx,
    );
    const bundle = expectBundle<RelatedPerson>(res.body, 'RelatedPerson', operation);
    return { bundle, relatedPersons: resourcesOf(bundle, 'RelatedPerson') };
  }

  /**
   * A patient's EHIC coverage (GET /Coverage?subscriber:identifier={nhsNumber}; patient access only).
   *
   * @example
   * const { coverages } = await pds.searchCoverage('9000000009');
   */
  async searchCoverage(nhsNumber: string, ctx?: RequestContext): Promise<PdsCoverageResult> {
    const id = checkedNhsNumber(nhsNumber);
    const operation = 'PDS search coverage';
    const res = await this.http.request(
      {
        method: 'GET',
        path: '/Coverage',
        query: [['subscriber:identifier', id]],
        retry: 'idempotent',
        operation,
      },
      ctx,
    );
    const bundle = expectBundle<Coverage>(res.body, 'Coverage', operation);
    return { bundle, coverages: resourcesOf(bundle, 'Coverage') };
  }
}

// The number itself is never put in the message: errors end up in logs.
function checkedNhsNumber(input: string): string {
  const nhsNumber = parseNhsNumber(input);
  if (nhsNumber === null) {
    throw OperationOutcomeError.spine('INVALID_RESOURCE_ID', {
      diagnostics: 'Invalid NHS number: it must be 10 digits with a valid modulus 11 check digit',
    });
  }
  return nhsNumber;
}

function ifMatch(versionId: string): string {
  if (ETAG_PATTERN.test(versionId)) return versionId;
  if (/^\d+$/.test(versionId)) return `W/"${versionId}"`;
  throw OperationOutcomeError.spine('INVALID_VALUE', {
    diagnostics: `Invalid versionId - expected digits or W/"<digits>"`,
  });
}

function patientResult(res: HttpResponse, operation: string): PdsPatientResult {
  const patient = res.body as Patient | undefined;
  if (patient?.resourceType !== 'Patient')
    throw unexpectedResponseError(operation, 'a body that is not a Patient');
  const etagHeader = res.headers.get('etag') ?? undefined;
  const versionId = patient.meta?.versionId ?? (etagHeader ? ETAG_PATTERN.exec(etagHeader)?.[1] : undefined);
  if (versionId === undefined) throw unexpectedResponseError(operation, 'a Patient with no version');
  return { patient, versionId, etag: etagHeader ?? `W/"${versionId}"` };
}

function expectBundle<T extends Resource>(body: unknown, type: string, operation: string): Bundle<T> {
  if ((body as { resourceType?: unknown } | undefined)?.resourceType !== 'Bundle') {
    throw unexpectedResponseError(operation, `a body that is not a Bundle of ${type}`);
  }
  return body as Bundle<T>;
}

function resourcesOf<T extends Resource>(bundle: Bundle<T>, type: T['resourceType']): T[] {
  return (bundle.entry ?? []).flatMap((entry) =>
    entry.resource?.resourceType === type ? [entry.resource] : [],
  );
}

// PDS names the existing record only in prose: "... NHS number 9000000009 found for supplied ...".
function matchedNhsNumber(outcome: OperationOutcome): string | undefined {
  for (const issue of outcome.issue ?? []) {
    const found = issue.diagnostics?.match(/\b(\d{10})\b/)?.[1];
    if (found && parseNhsNumber(found)) return found;
  }
  return undefined;
}
