export {
  type ApplicationRestrictedAuthOptions,
  applicationRestrictedAuth,
} from './auth/application-restricted-auth.js';
export { AuthError } from './auth/auth-error.js';
export {
  CLIENT_ASSERTION_ALG,
  CLIENT_ASSERTION_TTL_S,
  type ClientAssertionOptions,
  loadPrivateKey,
  type PrivateKeyInput,
  signClientAssertion,
} from './auth/client-assertion.js';
export {
  HttpClient,
  type HttpClientOptions,
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
} from './http/http-client.js';
export { DEFAULT_RETRY, parseRetryAfterMs, type RetryMode, type RetryOptions } from './http/retry.js';
export { realSleep } from './http/sleep.js';
export type { AccessTokenProvider, RequestContext, Sleep } from './http/types.js';
export { PdsClient, type PdsClientOptions } from './pds/pds-client.js';
export { toPdsQuery } from './pds/search-params.js';
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
} from './pds/types.js';
