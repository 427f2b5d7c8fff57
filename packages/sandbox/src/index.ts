export {
  ACCESS_TOKEN_TTL_S,
  AccessTokenStore,
  type OAuthPluginOptions,
  oauthPlugin,
  type RegisteredApp,
  registeredAppFromJwks,
  TOKEN_ERRORS,
  type TokenError,
} from './oauth/index.js';
export { type PdsPluginOptions, pdsPlugin } from './pds/index.js';
export { createSandboxServer, OAUTH_BASE_PATH, PDS_BASE_PATH, type SandboxOptions } from './server.js';
