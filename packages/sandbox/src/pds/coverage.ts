import { OperationOutcomeError, SYSTEMS } from '@junction/core';
import type { Bundle, Coverage } from '@medplum/fhirtypes';
import type { PatientRecord } from './patient-store.js';

/** Coverage identifiers and payor ids: letters, digits and a little punctuation (post-coverage.js). */
const IDENTIFIER_TEXT = /^[a-zA-Z0-9\-,/:'. ]+$/;

const missing = (field: string) =>
  OperationOutcomeError.spine('MISSING_VALUE', { diagnostics: `Missing value - '${field}'` });
const invalid = (value: unknown, field: string) =>
  OperationOutcomeError.spine('INVALID_VALUE', {
    diagnostics: `Invalid value - '${String(value)}' in field '${field}'`,
  });

/** A posted Coverage before validation: every field may be missing or of the wrong type. */
interface PostedCoverage {
  identifier?: { value?: unknown; assigner?: unknown }[];
  status?: unknown;
  type?: Coverage['type'];
  subscriber?: { identifier?: { value?: unknown } };
  beneficiary?: { identifier?: { value?: unknown } };
  period?: { end?: unknown };
  payor?: { identifier?: { value?: unknown } }[];
}

/** The searchset PDS answers GET and POST /Coverage with (karate-mock/stubs/coverageResponses/*.json). */
export function coverageBundle(record: PatientRecord, baseUrl: string, now: Date): Bundle<Coverage> {
  const coverage = record.coverage ?? { versionId: 1, entries: [] };
  const bundle: Bundle<Coverage> = {
    resourceType: 'Bundle',
    type: 'searchset',
    meta: { versionId: String(coverage.versionId) },
    timestamp: now.toISOString(),
    total: coverage.entries.length,
  };
  if (coverage.entries.length > 0) {
    bundle.entry = coverage.entries.map((resource) => ({
      fullUrl: `${baseUrl}/Coverage?subscriber:identifier=${record.nhsNumber}`,
      resource,
    }));
  }
  return bundle;
}

/**
 * Validates a posted EHIC Coverage in the order of NHS's sandbox (karate-tests/.../sandbox/post-coverage.js
 * `postCoverageRequestIsValid`) and returns it with the subscriber's NHS number.
 */
export function readCoverage(body: unknown): { coverage: Coverage; subscriber: string } {
  const c = (typeof body === 'object' && body !== null ? body : {}) as PostedCoverage;
  const identifier = Array.isArray(c.identifier) ? c.identifier[0] : undefined;
  if (!identifier?.value) throw missing('identifier/0/value');
  if (!c.status) throw missing('status');
  if (!c.subscriber?.identifier?.value) throw missing('subscriber/identifier/value');
  if (!c.beneficiary?.identifier?.value) throw missing('beneficiary/identifier/value');
  if (!c.period) throw missing('period');
  if (typeof c.period.end !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])-\d{2}$/.test(c.period.end))
    throw invalid(c.period.end, 'period');
  const identifierValue = String(identifier.value).trim();
  if (!IDENTIFIER_TEXT.test(identifierValue) || identifierValue.length > 25)
    throw invalid(identifier.value, 'identifier/value');
  const beneficiary = String(c.beneficiary.identifier.value).trim();
  if (!IDENTIFIER_TEXT.test(beneficiary) || beneficiary.length > 25)
    throw invalid(c.beneficiary.identifier.value, 'beneficiary/identifier/value');
  const payor = c.payor?.[0]?.identifier?.value;
  if (
    payor !== undefined &&
    (!IDENTIFIER_TEXT.test(String(payor).trim()) || String(payor).trim().length > 30)
  ) {
    throw invalid(payor, 'payor/0/identifier/value');
  }
  if (c.status !== 'active') throw invalid(c.status, 'status');

  const coverage: Coverage = {
    resourceType: 'Coverage',
    status: 'active',
    identifier: c.identifier as Coverage['identifier'],
    beneficiary: { type: 'Patient', identifier: { value: beneficiary } },
    subscriber: {
      type: 'Patient',
      identifier: { system: SYSTEMS.nhsNumber, value: String(c.subscriber.identifier.value) },
    },
    period: { end: c.period.end },
    payor: (c.payor ?? []) as Coverage['payor'],
  } as Coverage;
  if (c.type) coverage.type = c.type;
  return { coverage, subscriber: String(c.subscriber.identifier.value) };
}
