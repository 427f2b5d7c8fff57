/** `@junction/client/auth`: API platform sign-in alone (signed-JWT application-restricted auth, token exchange). */
export {
  type ApplicationRestrictedAuthOptions,
  applicationRestrictedAuth,
} from './application-restricted-auth.js';
export { AuthError } from './auth-error.js';
export {
  CLIENT_ASSERTION_ALG,
  CLIENT_ASSERTION_TTL_S,
  type ClientAssertionOptions,
  loadPrivateKey,
  type PrivateKeyInput,
  signClientAssertion,
} from './client-assertion.js';
export {
  ID_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT,
  type TokenExchangeAuthOptions,
  tokenExchangeAuth,
} from './token-exchange.js';
