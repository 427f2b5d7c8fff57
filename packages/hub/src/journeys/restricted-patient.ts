import { SYSTEMS } from '@junction/core';
import type { Patient } from '@medplum/fhirtypes';

/**
 * Restricted ("S-flagged") patients: `meta.security` code `R` (PDS spec
 * `patient-search.yaml` "Restricted patients"). PDS already strips their location-sensitive fields;
 * the hub strips them again so that no hub surface can show them, whatever upstream returns.
 */
export function isRestrictedPatient(patient: Patient): boolean {
  return (patient.meta?.security ?? []).some(
    (c) => c.code === 'R' && (c.system === undefined || c.system === SYSTEMS.confidentiality),
  );
}

/** Fields PDS removes for restricted patients on read; search also removes `contact`. */
const READ_FIELDS = ['address', 'telecom', 'generalPractitioner'] as const;
const SEARCH_FIELDS = [...READ_FIELDS, 'contact'] as const;

/** A copy of the patient without location-sensitive fields when it is restricted; otherwise itself. */
export function redactRestrictedPatient(patient: Patient, context: 'read' | 'search'): Patient {
  if (!isRestrictedPatient(patient)) return patient;
  const copy: Patient = { ...patient };
  // `contact` is removed on read too: it can hold an address and phone of someone at the patient's home.
  for (const field of context === 'search' ? SEARCH_FIELDS : [...READ_FIELDS, 'contact' as const]) {
    delete copy[field];
  }
  return copy;
}
