export { CIS2_BASE_PATH, type Cis2Options, mountCis2 } from './cis2/cis2.js';
export { CIS2_TEST_USERS, type Cis2Role, type Cis2TestUser } from './cis2/test-users.js';
export {
  defaultMeshSeed,
  GP_CONSULT_REPORT_ACK_WORKFLOW,
  GP_CONSULT_REPORT_WORKFLOW,
  gpMailboxId,
  loadMeshSeed,
  MESH_AUTH_SCHEME,
  MESH_ERRORS,
  MESH_MESSAGES,
  type MeshMailbox,
  type MeshPluginOptions,
  type MeshSeed,
  type MeshWorkflow,
  meshPlugin,
  meshTokenHash,
  withGpPracticeMailboxes,
} from './mesh/index.js';
export { mountNhsLogin, NHS_LOGIN_BASE_PATH, type NhsLoginOptions } from './nhs-login/nhs-login.js';
export {
  type IdentityProofingLevel,
  NHS_LOGIN_TEST_USERS,
  type NhsLoginTestUser,
} from './nhs-login/test-users.js';
export {
  ACCESS_TOKEN_TTL_S,
  type AccessGrant,
  AccessTokenStore,
  type OAuthPluginOptions,
  oauthPlugin,
  type RegisteredApp,
  type RegisteredAppOptions,
  registeredAppFromJwks,
  TOKEN_ERRORS,
  type TokenError,
  type VerifiedAccessToken,
} from './oauth/index.js';
export type { IdentityProviderHandle, OidcClientRegistration } from './oidc/identity-provider.js';
export { type PdsPluginOptions, pdsPlugin } from './pds/index.js';
export {
  createSandboxServer,
  MESH_BASE_PATH,
  OAUTH_BASE_PATH,
  PDS_BASE_PATH,
  type SandboxOptions,
} from './server.js';
