/** `@junction/client/pds`: the PDS FHIR client alone, for callers that need only it (the CLI's `pds` commands). */
export { PdsClient, type PdsClientOptions } from './pds-client.js';
export { toPdsQuery } from './search-params.js';
export type {
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
