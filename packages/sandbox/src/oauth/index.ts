export {
  ACCESS_TOKEN_TTL_S,
  type AccessGrant,
  AccessTokenStore,
  type VerifiedAccessToken,
} from './access-token-store.js';
export { type OAuthPluginOptions, oauthPlugin } from './oauth-plugin.js';
export { type RegisteredApp, type RegisteredAppOptions, registeredAppFromJwks } from './registered-app.js';
export { TOKEN_ERRORS, type TokenError } from './token-errors.js';
