import type { AccessTokenProvider } from '../http/types.js';
import { AuthError } from './auth-error.js';
import type { PrivateKeyInput } from './client-assertion.js';
import {
  appClientAssertion,
  cachingTokenProvider,
  DEFAULT_REFRESH_SKEW_S,
  type IssuedToken,
  postTokenRequest,
} from './token-endpoint.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

export interface TokenExchangeAuthOptions {
  /** The platform's token URL, e.g. `https://int.api.service.nhs.uk/oauth2/token`; also the assertion's `aud`. */
  tokenUrl: string;
  /** The app's API key (client_id): the client assertion's `iss` and `sub`. */
  apiKey: string;
  /** The app's RS512 private key: CryptoKey, KeyObject, private JWK or PKCS#8 PEM string. */
  privateKey: PrivateKeyInput;
  /** Key id of the matching public key in the app's registered JWKS. */
  kid: string;
  /**
   * The user's NHS login or CIS2 id_token (its `aud` must be the app's client_id at that provider).
   * Called for every exchange, so a session can hand over a newer id_token.
   */
  subjectToken: () => Promise<string> | string;
  /**
   * Use the returned `refresh_token` (while it lasts) instead of a new exchange. The platform's
   * refresh grant authenticates with the app's `client_id` and `client_secret`
   * (identity-service-api `e2e/tests/oauth/test_token_exchange.py`), so it needs the secret;
   * without it every renewal is a new exchange of the subject token.
   */
  refresh?: { clientSecret: string };
  fetch?: typeof fetch;
  now?: () => Date;
  /** Renew this many seconds before the access token expires. Default 30. */
  refreshSkewS?: number;
}

/**
 * User-restricted access to NHS APIs with "separate authentication and authorisation" (for NHS login
 * https://digital.nhs.uk/developer/guides-and-documentation/security-and-authorisation/user-restricted-restful-apis-nhs-login-separate-authentication-and-authorisation,
 * for CIS2 https://digital.nhs.uk/developer/guides-and-documentation/security-and-authorisation/user-restricted-restful-apis-nhs-cis2-separate-authentication-and-authorisation):
 * the user's NHS login or CIS2 id_token is exchanged (RFC 8693) at the API platform for an access token, the
 * app proving itself with the same signed client assertion as `applicationRestrictedAuth`. Tokens
 * are cached until `refreshSkewS` before expiry; concurrent callers share one request. Failures
 * throw `AuthError` with the platform's OAuth `error` as `code` (e.g. `invalid_request` with
 * `Missing subject_token`), or `subject_token_unavailable` when `subjectToken` failed.
 *
 * @example
 * const auth = tokenExchangeAuth({
 *   tokenUrl: 'https://int.api.service.nhs.uk/oauth2/token',
 *   apiKey: 'my-api-key',
 *   privateKey: readFileSync('jwtRS512.key', 'utf8'),
 *   kid: 'int-1',
 *   subjectToken: () => session.idToken,
 * });
 * const pds = new PdsClient({ baseUrl: 'https://int.api.service.nhs.uk/personal-demographics/FHIR/R4', auth });
 */
export function tokenExchangeAuth(options: TokenExchangeAuthOptions): AccessTokenProvider {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? (() => new Date());
  const assertion = appClientAssertion(options);

  const exchange = async (): Promise<IssuedToken> => {
    let subjectToken: string;
    try {
      subjectToken = await options.subjectToken();
    } catch (cause) {
      throw new AuthError('subject_token_unavailable', { description: 'No id_token to exchange', cause });
    }
    if (typeof subjectToken !== 'string' || subjectToken === '') {
      throw new AuthError('subject_token_unavailable', { description: 'No id_token to exchange' });
    }
    const issuedAt = now();
    const form = {
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token_type: ID_TOKEN_TYPE,
      subject_token: subjectToken,
      ...(await assertion(issuedAt)),
    };
    return postTokenRequest(doFetch, options.tokenUrl, form, issuedAt);
  };

  const refresh = async (refreshToken: string, clientSecret: string): Promise<IssuedToken> => {
    const issuedAt = now();
    const form = {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: options.apiKey,
      client_secret: clientSecret,
    };
    return postTokenRequest(doFetch, options.tokenUrl, form, issuedAt);
  };

  return cachingTokenProvider({
    now,
    skewMs: (options.refreshSkewS ?? DEFAULT_REFRESH_SKEW_S) * 1000,
    fetchToken: async (previous) => {
      const clientSecret = options.refresh?.clientSecret;
      const refreshToken = previous?.refreshToken;
      const refreshable =
        clientSecret !== undefined &&
        refreshToken !== undefined &&
        (previous?.refreshExpiresAtMs === undefined || now().getTime() < previous.refreshExpiresAtMs);
      if (refreshable) {
        try {
          const renewed = await refresh(refreshToken, clientSecret);
          // A refresh answer may omit a new refresh token; keep the one that still works.
          if (renewed.refreshToken === undefined && previous) {
            return {
              ...renewed,
              refreshToken,
              ...(previous.refreshExpiresAtMs === undefined
                ? {}
                : { refreshExpiresAtMs: previous.refreshExpiresAtMs }),
            };
          }
          return renewed;
        } catch (error) {
          // A refused refresh (revoked, expired early) falls back to a fresh exchange; an
          // unreachable endpoint does not, the exchange would fail the same way.
          if (!(error instanceof AuthError) || error.code === 'token_endpoint_unreachable') throw error;
        }
      }
      return exchange();
    },
  });
}
