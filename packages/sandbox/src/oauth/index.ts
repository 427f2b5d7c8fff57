export { ACCESS_TOKEN_TTL_S, AccessTokenStore } from './access-token-store.js';
export { type OAuthPluginOptions, oauthPlugin } from './oauth-plugin.js';
export { type RegisteredApp, registeredAppFromJwks } from './registered-app.js';
export { TOKEN_ERRORS, type TokenError } from './token-errors.js';
