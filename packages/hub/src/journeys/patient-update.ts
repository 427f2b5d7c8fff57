import type { RequestContext } from '@junction/client';
import type { Patient } from '@medplum/fhirtypes';
import type { PdsPort } from './patient-lookup.js';
import type { PatientUpdateRequest } from './patient-update-request.js';
import { redactRestrictedPatient } from './restricted-patient.js';

export interface PatientUpdateResult {
  /** The patched patient as PDS returns it, restricted fields removed. */
  patient: Patient;
  /** The new version, `W/"<n>"`: the If-Match of the next update. */
  etag: string;
  nhsNumbers: string[];
}

/**
 * Updates a patient through PDS (NHS number and request already validated by the caller). PDS's
 * errors (409 RESOURCE_VERSION_MISMATCH, 403 INVALID_METHOD for application-restricted access, …)
 * are thrown as they came. The answer of a restricted patient is redacted as a read is.
 */
export async function updatePatient(
  pds: Pick<PdsPort, 'updatePatient'>,
  nhsNumber: string,
  request: PatientUpdateRequest,
  ctx: RequestContext,
): Promise<PatientUpdateResult> {
  const result = await pds.updatePatient(nhsNumber, request.patches, { versionId: request.versionId }, ctx);
  const patient = redactRestrictedPatient(result.patient, 'read');
  const nhsNumbers = [nhsNumber];
  if (patient.id && patient.id !== nhsNumber && /^\d{10}$/.test(patient.id)) nhsNumbers.push(patient.id);
  return { patient, etag: result.etag, nhsNumbers };
}
