export * from './auth/index.js';
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
export * from './mesh/index.js';
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
export * from './pds/index.js';
