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
  ID_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT,
  type TokenExchangeAuthOptions,
  tokenExchangeAuth,
} from './auth/token-exchange.js';
export {
  type Cis2AuthorizationRequest,
  Cis2Client,
  type Cis2ClientOptions,
  selectedRole,
} from './cis2/cis2-client.js';
export type { Cis2IdTokenClaims, Cis2NrbacRole, Cis2Scope, Cis2UserInfo } from './cis2/types.js';
export { type ExponentialBackoff, exponentialBackoffMs } from './http/backoff.js';
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
export {
  MESH_AUTH_SCHEME,
  type MeshAuthorizationInput,
  meshAuthorization,
  meshTimestamp,
} from './mesh/auth.js';
export type { MeshBody, MeshFileBody } from './mesh/chunks.js';
export { MeshError, type MeshErrorDetail } from './mesh/errors.js';
export { MeshClient } from './mesh/mesh-client.js';
export { MESH_V2_JSON, type MeshRetryMode } from './mesh/transport.js';
export {
  MESH_DEFAULT_CHUNK_SIZE,
  MESH_MAX_REQUEST_BYTES,
  type MeshClientOptions,
  type MeshInboxOptions,
  type MeshMailboxMatch,
  type MeshMessageMetadata,
  type MeshReceived,
  type MeshReceiveOptions,
  type MeshReceiveProgress,
  type MeshSendProgress,
  type MeshSendRequest,
  type MeshSendResult,
  type MeshTlsOptions,
  type MeshTracking,
} from './mesh/types.js';
export {
  type NhsLoginAuthorizationRequest,
  NhsLoginClient,
  type NhsLoginClientOptions,
} from './nhs-login/nhs-login-client.js';
export {
  DEFAULT_NHS_LOGIN_VTR,
  type IdentityProofingLevel,
  type NhsLoginIdTokenClaims,
  type NhsLoginScope,
  type NhsLoginUserInfo,
  type VectorOfTrust,
} from './nhs-login/types.js';
export type { OidcErrorCode } from './oidc/oidc-error.js';
export { generatePkce, type Pkce, randomNonce, randomState } from './oidc/pkce.js';
export {
  type AuthorizationRequestBase,
  type CodeExchangeRequest,
  ID_TOKEN_ALG,
  type OidcClientOptions,
  type OidcTokens,
} from './oidc/relying-party.js';
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
