export { type DmdLookupInput, toDmdLookupParameters } from './lookup.js';
export { type ToFhirMedicationOptions, toFhirMedication } from './medication.js';
export { DMD_SYSTEM, SNOMED_SYNONYM, SNOMED_SYSTEM, UK_CORE_MEDICATION_PROFILE } from './systems.js';
