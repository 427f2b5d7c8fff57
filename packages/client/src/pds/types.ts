import type { Bundle, Coverage, OperationOutcome, Patient, RelatedPerson } from '@medplum/fhirtypes';

/** A patient as PDS returned it, with the version needed to PATCH it. */
export interface PdsPatientResult {
  patient: Patient;
  /** `meta.versionId` (or, failing that, the number in the ETag), e.g. `"2"`. */
  versionId: string;
  /** The `ETag` header, e.g. `W/"2"`: send it back as `If-Match`. */
  etag: string;
}

/** Search parameters (PDS spec `components/paths/patient-search.yaml`), mapped to PDS query names. */
export interface PdsSearchParams {
  /** `family`; `*` wildcard allowed after the first 2 characters (not with fuzzy matching). */
  family?: string;
  /** `given`, repeated for several given names (e.g. `['John Paul', 'James']`). */
  given?: string | string[];
  gender?: 'male' | 'female' | 'other' | 'unknown';
  /** `birthdate`: `eq|ge|le` + `yyyy-mm-dd`; give two (`['ge2010-01-01', 'le2010-12-31']`) for a range. */
  birthdate?: string | string[];
  /** `death-date`, same form as `birthdate`. */
  deathDate?: string | string[];
  /** `address-postalcode` (the deprecated `address-postcode` is never sent). */
  postalCode?: string;
  /** `general-practitioner`: the GP practice ODS code. */
  generalPractitioner?: string;
  email?: string;
  phone?: string;
  /** `_fuzzy-match` */
  fuzzyMatch?: boolean;
  /** `_exact-match` */
  exactMatch?: boolean;
  /** `_history` */
  history?: boolean;
  /** `_max-results`: 1..50 for healthcare workers, must be 1 in application-restricted mode. */
  maxResults?: number;
}

export interface PdsSearchResult {
  /** The searchset Bundle; an empty one (total 0) when `tooManyMatches`. */
  bundle: Bundle<Patient>;
  /** The matched patients, highest `search.score` first as PDS sorts them. */
  patients: Patient[];
  /** PDS answered HTTP 200 with OperationOutcome `TOO_MANY_MATCHES`: narrow the search. */
  tooManyMatches: boolean;
}

/** One RFC 6902 operation; PDS supports add, replace, remove and test (`schemas/JsonPatch.yaml`). */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/**
 * The body of POST /Patient (`schemas/PatientCreateRequest.yaml`): a Patient whose `resourceType`
 * may be left out. PDS requires name (exactly one), gender, birthDate, address and extension.
 */
export type PdsCreatePatientRequest = Omit<Patient, 'resourceType'> & { resourceType?: 'Patient' };

/** What POST /Patient did (`components/paths/patient-create.yaml`). */
export type PdsCreateResult =
  | ({ created: true } & PdsPatientResult)
  | {
      created: false;
      /** PDS found the patient already: one record (`SINGLE_MATCH`) or several (`MULTIPLE_MATCHES`). */
      reason: 'SINGLE_MATCH' | 'MULTIPLE_MATCHES';
      /** For `SINGLE_MATCH`, the existing NHS number when PDS's diagnostics name it. */
      matchedNhsNumber?: string;
      outcome: OperationOutcome;
    };

/** Options of `PdsClient.updatePatient`. */
export interface PdsUpdateOptions {
  /** The version read with the patient: `"2"` or the ETag form `W/"2"`; sent as `If-Match`. */
  versionId: string;
  /** `X-Sync-Wait`: seconds PDS waits for the update before answering 503 (default 10). */
  syncWaitS?: number;
}

export interface PdsRelatedPersonsResult {
  bundle: Bundle<RelatedPerson>;
  relatedPersons: RelatedPerson[];
}

export interface PdsCoverageResult {
  bundle: Bundle<Coverage>;
  coverages: Coverage[];
}
