import type { CryptoKey, JWK, KeyObject } from 'jose';
import type { AccessTokenProvider } from '../http/types.js';
import type { PrivateKeyInput } from './client-assertion.js';
import {
  appClientAssertion,
  cachingTokenProvider,
  DEFAULT_REFRESH_SKEW_S,
  postTokenRequest,
} from './token-endpoint.js';

export interface ApplicationRestrictedAuthOptions {
  /** The full token URL, e.g. `https://int.api.service.nhs.uk/oauth2/token`; also the assertion's `aud`. */
  tokenUrl: string;
  /** The app's API key (client_id): the assertion's `iss` and `sub`. */
  apiKey: string;
  /** RS512 private key: CryptoKey, KeyObject, private JWK or PKCS#8 PEM string. */
  privateKey: CryptoKey | KeyObject | JWK | string;
  /** Key id of the matching public key in the app's registered JWKS. */
  kid: string;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Fetch a new token this many seconds before the current one expires. Default 30. */
  refreshSkewS?: number;
}

const CLIENT_CREDENTIALS_GRANT = 'client_credentials';

/**
 * Application-restricted access to NHS APIs (signed JWT authentication,
 * https://digital.nhs.uk/developer/guides-and-documentation/security-and-authorisation/application-restricted-restful-apis-signed-jwt-authentication):
 * a signed-JWT `client_credentials`
 * grant. Tokens are cached until `refreshSkewS` before expiry; concurrent callers share one
 * in-flight token request. Failures throw `AuthError` with the platform's OAuth `error` as `code`.
 *
 * @example
 * const auth = applicationRestrictedAuth({
 *   tokenUrl: 'https://int.api.service.nhs.uk/oauth2/token',
 *   apiKey: 'my-api-key',
 *   privateKey: readFileSync('jwtRS512.key', 'utf8'),
 *   kid: 'int-1',
 * });
 * const pds = new PdsClient({ baseUrl: 'https://int.api.service.nhs.uk/personal-demographics/FHIR/R4', auth });
 */
export function applicationRestrictedAuth(options: ApplicationRestrictedAuthOptions): AccessTokenProvider {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? (() => new Date());
  const assertion = appClientAssertion({ ...options, privateKey: options.privateKey as PrivateKeyInput });
  return cachingTokenProvider({
    now,
    skewMs: (options.refreshSkewS ?? DEFAULT_REFRESH_SKEW_S) * 1000,
    fetchToken: async () => {
      const issuedAt = now();
      const form = { grant_type: CLIENT_CREDENTIALS_GRANT, ...(await assertion(issuedAt)) };
      return postTokenRequest(doFetch, options.tokenUrl, form, issuedAt);
    },
  });
}
