import type { PdsClient, RequestContext } from '@junction/client';
import { spineOutcome } from '@junction/core';
import type { Bundle, BundleEntry, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { parsePatientSearchQuery, type RawQuery, searchesByLocation } from './patient-search-query.js';
import { isRestrictedPatient, redactRestrictedPatient } from './restricted-patient.js';

/** What the hub needs from PDS: the lookup journey's read and search, and the update. */
export type PdsPort = Pick<PdsClient, 'getPatient' | 'searchPatients' | 'updatePatient'>;

export interface PatientReadResult {
  patient: Patient;
  etag: string;
  /** NHS numbers touched: the one asked for and, if superseded, the one returned. */
  nhsNumbers: string[];
}

export interface PatientSearchResult {
  /** A searchset Bundle, or PDS's TOO_MANY_MATCHES OperationOutcome (HTTP 200, as PDS answers). */
  body: Bundle<Patient> | OperationOutcome;
  nhsNumbers: string[];
  tooManyMatches: boolean;
}

/** Reads a patient by NHS number (already validated by the caller) and redacts restricted ones. */
export async function readPatient(
  pds: Pick<PdsPort, 'getPatient'>,
  nhsNumber: string,
  ctx: RequestContext,
): Promise<PatientReadResult> {
  const result = await pds.getPatient(nhsNumber, ctx);
  const patient = redactRestrictedPatient(result.patient, 'read');
  const nhsNumbers = [nhsNumber];
  if (patient.id && patient.id !== nhsNumber && /^\d{10}$/.test(patient.id)) nhsNumbers.push(patient.id);
  return { patient, etag: result.etag, nhsNumbers };
}

/**
 * Traces patients by demographics. Restricted patients have their location fields removed and,
 * when the query names a postcode or GP practice, are left out altogether (PDS's rule, re-applied).
 * `fullUrl`s point at the hub; PDS's self link (which would carry the query) is dropped.
 */
export async function searchPatients(
  pds: Pick<PdsPort, 'searchPatients'>,
  query: RawQuery,
  ctx: RequestContext,
  hubBaseUrl: string,
): Promise<PatientSearchResult> {
  const params = parsePatientSearchQuery(query);
  const result = await pds.searchPatients(params, ctx);
  if (result.tooManyMatches) {
    return { body: spineOutcome('TOO_MANY_MATCHES'), nhsNumbers: [], tooManyMatches: true };
  }
  const byLocation = searchesByLocation(params);
  const entries: BundleEntry<Patient>[] = [];
  for (const entry of result.bundle.entry ?? []) {
    const resource = entry.resource;
    if (resource?.resourceType !== 'Patient') continue;
    if (byLocation && isRestrictedPatient(resource)) continue;
    const patient = redactRestrictedPatient(resource, 'search');
    const out: BundleEntry<Patient> = { resource: patient };
    if (patient.id) out.fullUrl = `${hubBaseUrl}/Patient/${patient.id}`;
    if (entry.search) out.search = entry.search;
    entries.push(out);
  }
  const bundle: Bundle<Patient> = { resourceType: 'Bundle', type: 'searchset', total: entries.length };
  if (result.bundle.timestamp) bundle.timestamp = result.bundle.timestamp;
  if (entries.length > 0) bundle.entry = entries;
  const nhsNumbers = entries
    .map((e) => e.resource?.id)
    .filter((id): id is string => !!id && /^\d{10}$/.test(id));
  return { body: bundle, nhsNumbers, tooManyMatches: false };
}
