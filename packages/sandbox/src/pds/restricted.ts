import { SYSTEMS } from '@junction/core';
import type { Patient } from '@medplum/fhirtypes';

/** Marked `meta.security` R, "restricted" (sandbox/mocks/Sensitive_Patient.json). */
export function isRestricted(patient: Patient): boolean {
  return (
    patient.meta?.security?.some((label) => label.system === SYSTEMS.confidentiality && label.code === 'R') ??
    false
  );
}

/** What a read returns: a restricted record loses address, telecom and GP (patient-get.yaml "Restricted patients"). */
export function readView(patient: Patient): Patient {
  // A shallow copy is enough: views only drop or replace top-level fields, never edit nested ones.
  const view = { ...patient };
  if (isRestricted(view)) {
    delete view.address;
    delete view.telecom;
    delete view.generalPractitioner;
  }
  return view;
}

const SEARCH_NAME_USES = new Set(['usual', 'nickname', 'temp']);
// The one extension of the published search result (sandbox/mocks/PatientSearch.json): no place of
// birth, pharmacies, communication or contact preferences (patient-search.yaml "Patient data returned").
const SEARCH_EXTENSIONS = new Set([
  'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus',
]);

/** The reduced data set of a search result; a restricted one also loses `contact` (patient-search.yaml). */
export function searchView(patient: Patient): Patient {
  const view = readView(patient);
  delete view.managingOrganization;
  if (view.name) view.name = view.name.filter((name) => !name.use || SEARCH_NAME_USES.has(name.use));
  if (view.address) {
    view.address = view.address.filter((address) => address.use === 'home');
    if (view.address.length === 0) delete view.address;
  }
  if (view.extension) {
    view.extension = view.extension.filter((extension) => SEARCH_EXTENSIONS.has(extension.url));
    if (view.extension.length === 0) delete view.extension;
  }
  if (isRestricted(view)) delete view.contact;
  return view;
}
