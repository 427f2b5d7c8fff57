export * from './fhir.js';
export * from './nhs-number.js';
export * from './ods-code.js';
export * from './operation-outcome.js';
export * from './snomed-id.js';
