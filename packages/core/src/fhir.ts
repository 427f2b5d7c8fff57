/** Identifier and code systems used across NHS FHIR APIs. One place, so nothing drifts. */
export const SYSTEMS = {
  nhsNumber: 'https://fhir.nhs.uk/Id/nhs-number',
  odsOrganisationCode: 'https://fhir.nhs.uk/Id/ods-organization-code',
  snomed: 'http://snomed.info/sct',
  dmd: 'https://dmd.nhs.uk',
  spineErrorOrWarningCode: 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode',
  confidentiality: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
} as const;

/** The FHIR R4 OperationOutcome `issue.code` value set (IssueType). */
export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'security'
  | 'login'
  | 'unknown'
  | 'expired'
  | 'forbidden'
  | 'suppressed'
  | 'processing'
  | 'not-supported'
  | 'duplicate'
  | 'multiple-matches'
  | 'not-found'
  | 'deleted'
  | 'too-long'
  | 'code-invalid'
  | 'extension'
  | 'too-costly'
  | 'business-rule'
  | 'conflict'
  | 'transient'
  | 'lock-error'
  | 'no-store'
  | 'exception'
  | 'timeout'
  | 'incomplete'
  | 'throttled'
  | 'informational';

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';
