import { KeyObject } from 'node:crypto';
import {
  allowInsecureRequests,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  type ClientAuth,
  Configuration,
  type CryptoKey,
  calculatePKCECodeChallenge,
  clockSkew,
  customFetch,
  discovery,
  type ExportedJWKSCache,
  enableNonRepudiationChecks,
  fetchUserInfo,
  getJwksCache,
  modifyAssertion,
  PrivateKeyJwt,
  type ServerMetadata,
  setJwksCache,
  skipSubjectCheck,
} from 'openid-client';
import { AuthError } from '../auth/auth-error.js';
import { loadPrivateKey, type PrivateKeyInput } from '../auth/client-assertion.js';
import { toAuthError } from './oidc-error.js';

/**
 * NHS login signs its tokens RS512 (NHS login Interface Specification – Federation); we hold CIS2 to the
 * same (its default is RS256 unless the RP asks otherwise: CIS2 guidance "Signatures",
 * https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/signatures).
 * Nothing else is accepted.
 */
export const ID_TOKEN_ALG = 'RS512';
/**
 * The API platform's 5-minute client assertion limit (signed JWT authentication,
 * https://digital.nhs.uk/developer/guides-and-documentation/security-and-authorisation/application-restricted-restful-apis-signed-jwt-authentication)
 * is a sound ceiling for the IdPs too.
 */
const CLIENT_ASSERTION_TTL_S = 300;

/** Options shared by `NhsLoginClient` and `Cis2Client`. */
export interface OidcClientOptions {
  /** The provider's issuer, e.g. `https://auth.sandpit.signin.nhs.uk`; its discovery document is read from it. */
  issuer: string;
  /** The client_id agreed with the provider at onboarding. */
  clientId: string;
  /** RS512 private key for `private_key_jwt`: CryptoKey, KeyObject, private JWK or PKCS#8 PEM string. */
  privateKey: PrivateKeyInput;
  /** Key id of the matching public key registered with the provider. */
  kid: string;
  /** The registered redirect URI; sent on the authorization request and the code exchange. */
  redirectUri: string;
  fetch?: typeof fetch;
  /** Clock for token validation and client assertions. */
  now?: () => Date;
  /**
   * Allow a plain-http issuer. For the local sandbox ONLY: NHS login and CIS2 are https, and
   * tokens over plain http can be read by anyone on the path.
   */
  allowInsecureHttp?: boolean;
  /** Per-request timeout in seconds (default 30). */
  timeoutS?: number;
}

/** Parameters every authorization request carries. */
export interface AuthorizationRequestBase {
  /** Scopes, as an array or space-separated; `openid` is added when missing. */
  scope: string | readonly string[];
  /** An unguessable value tying the callback to this browser session (see `randomState`). */
  state: string;
  /** An unguessable value the id_token must echo (see `randomNonce`); required. */
  nonce: string;
  /** The PKCE verifier kept for the exchange (see `generatePkce`); its S256 challenge is sent. */
  codeVerifier: string;
}

/** What the redirect back from the provider is checked against. */
export interface CodeExchangeRequest {
  /**
   * The URL the provider redirected the browser to (with `code`, `state`, maybe `iss`); a path with
   * its query (such as a server's `request.url`) is enough.
   */
  callbackUrl: string | URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** A successful code exchange: the validated id_token and its claims, and the provider's tokens. */
export interface OidcTokens<Claims> {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  /** Seconds the access token lasts, when the provider said. */
  expiresInS?: number;
  /** The id_token's claims, after signature (RS512), `iss`, `aud`, `exp`, `iat` and `nonce` checks. */
  claims: Claims;
}

/**
 * One OpenID Connect relying party (authorization code + PKCE, `private_key_jwt`, RS512 id_tokens)
 * built on openid-client; `NhsLoginClient` and `Cis2Client` add each provider's parameters and types.
 */
export class OidcRelyingParty {
  readonly #options: OidcClientOptions;
  readonly #provider: string;
  readonly #now: () => Date;
  #server: Promise<ServerMetadata> | undefined;
  #key: Promise<CryptoKey> | undefined;
  #jwksCache: ExportedJWKSCache | undefined;

  constructor(provider: string, options: OidcClientOptions) {
    this.#provider = provider;
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  async authorizationUrl(request: AuthorizationRequestBase, extra: Record<string, string>): Promise<URL> {
    requireValue(request.state, 'state');
    requireValue(request.nonce, 'nonce');
    requireValue(request.codeVerifier, 'codeVerifier');
    const config = await this.#configuration();
    return buildAuthorizationUrl(config, {
      response_type: 'code',
      redirect_uri: this.#options.redirectUri,
      scope: scopeString(request.scope),
      state: request.state,
      nonce: request.nonce,
      code_challenge: await calculatePKCECodeChallenge(request.codeVerifier),
      code_challenge_method: 'S256',
      ...extra,
    });
  }

  async exchangeCode<Claims>(request: CodeExchangeRequest): Promise<OidcTokens<Claims>> {
    requireValue(request.state, 'state');
    requireValue(request.nonce, 'nonce');
    requireValue(request.codeVerifier, 'codeVerifier');
    const config = await this.#configuration();
    // The provider's answer on the registered redirect URI: the token request must name exactly the
    // URI the authorization request did, whatever host or proxy the callback came through.
    const current = new URL(this.#options.redirectUri);
    current.search = new URL(request.callbackUrl, this.#options.redirectUri).search;
    try {
      const tokens = await authorizationCodeGrant(config, current, {
        expectedState: request.state,
        expectedNonce: request.nonce,
        pkceCodeVerifier: request.codeVerifier,
        idTokenExpected: true,
      });
      this.#keepJwksCache(config);
      const claims = tokens.claims();
      if (!claims || typeof tokens.id_token !== 'string') {
        throw new AuthError('id_token_missing', { description: `${this.#provider} returned no id_token` });
      }
      return {
        idToken: tokens.id_token,
        accessToken: tokens.access_token,
        ...(tokens.refresh_token === undefined ? {} : { refreshToken: tokens.refresh_token }),
        ...(tokens.expires_in === undefined ? {} : { expiresInS: tokens.expires_in }),
        claims: claims as Claims,
      };
    } catch (error) {
      throw toAuthError(error, this.#provider);
    }
  }

  async userinfo<UserInfo>(accessToken: string, expectedSubject?: string): Promise<UserInfo> {
    requireValue(accessToken, 'accessToken');
    const config = await this.#configuration();
    try {
      const info = await fetchUserInfo(config, accessToken, expectedSubject ?? skipSubjectCheck);
      return info as UserInfo;
    } catch (error) {
      throw toAuthError(error, this.#provider);
    }
  }

  // A Configuration per operation: openid-client fixes the clock skew when one is built, and ours
  // follows the injected clock. Discovery and the provider's keys are fetched once and reused.
  async #configuration(): Promise<Configuration> {
    const [server, key] = await Promise.all([this.#serverMetadata(), this.#signingKey()]);
    const skewS = Math.round((this.#now().getTime() - Date.now()) / 1000);
    const config = new Configuration(
      server,
      this.#options.clientId,
      {
        redirect_uris: [this.#options.redirectUri],
        response_types: ['code'],
        id_token_signed_response_alg: ID_TOKEN_ALG,
        token_endpoint_auth_method: 'private_key_jwt',
        [clockSkew]: skewS,
      },
      this.#clientAuth(key, server),
    );
    this.#tune(config);
    // openid-client trusts an id_token from the token endpoint on TLS alone (OIDC Core 3.1.3.7 (6));
    // we verify the RS512 signature against the provider's JWKS as well.
    enableNonRepudiationChecks(config);
    if (this.#jwksCache) setJwksCache(config, this.#jwksCache);
    return config;
  }

  #keepJwksCache(config: Configuration): void {
    this.#jwksCache = getJwksCache(config) ?? this.#jwksCache;
  }

  #tune(config: Configuration): void {
    if (this.#options.fetch) {
      const doFetch = this.#options.fetch;
      config[customFetch] = (url, init) => doFetch(url, init as RequestInit);
    }
    if (this.#options.timeoutS !== undefined) config.timeout = this.#options.timeoutS;
    if (this.#options.allowInsecureHttp) allowInsecureRequests(config);
  }

  // RFC 7523 private_key_jwt as NHS login specifies it: iss = sub = client_id, aud = the token
  // endpoint URL, kid and typ JWT in the header, RS512 (from the key), a unique jti.
  #clientAuth(key: CryptoKey, server: ServerMetadata): ClientAuth {
    const tokenEndpoint = server.token_endpoint;
    return PrivateKeyJwt(
      { key, kid: this.#options.kid },
      {
        [modifyAssertion]: (header, payload) => {
          header.typ = 'JWT';
          if (tokenEndpoint) payload.aud = tokenEndpoint;
          if (typeof payload.iat === 'number') payload.exp = payload.iat + CLIENT_ASSERTION_TTL_S;
        },
      },
    );
  }

  #serverMetadata(): Promise<ServerMetadata> {
    this.#server ??= this.#discover().catch((error: unknown) => {
      this.#server = undefined; // not cached: the next call tries again
      throw toAuthError(error, this.#provider);
    });
    return this.#server;
  }

  async #discover(): Promise<ServerMetadata> {
    const options = this.#options;
    const config = await discovery(new URL(options.issuer), options.clientId, undefined, undefined, {
      ...(options.fetch
        ? { [customFetch]: (url, init) => (options.fetch as typeof fetch)(url, init as RequestInit) }
        : {}),
      ...(options.allowInsecureHttp ? { execute: [allowInsecureRequests] } : {}),
      ...(options.timeoutS === undefined ? {} : { timeout: options.timeoutS }),
    });
    // Only the metadata itself: openid-client's helper methods on it are not cloneable.
    return JSON.parse(JSON.stringify(config.serverMetadata())) as ServerMetadata;
  }

  #signingKey(): Promise<CryptoKey> {
    this.#key ??= toRs512CryptoKey(this.#options.privateKey).catch((error: unknown) => {
      this.#key = undefined;
      throw error;
    });
    return this.#key;
  }
}

/** openid-client signs with WebCrypto keys; the hash of an RSA key decides the alg (must be RS512). */
async function toRs512CryptoKey(input: PrivateKeyInput): Promise<CryptoKey> {
  const loaded = await loadPrivateKey(input);
  try {
    const key =
      loaded instanceof KeyObject
        ? await crypto.subtle.importKey(
            'pkcs8',
            loaded.export({ type: 'pkcs8', format: 'der' }),
            { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
            false,
            ['sign'],
          )
        : (loaded as CryptoKey);
    const algorithm = key.algorithm as { name: string; hash?: { name?: string } };
    if (algorithm.name !== 'RSASSA-PKCS1-v1_5' || algorithm.hash?.name !== 'SHA-512') {
      throw new TypeError(`an ${algorithm.name} key cannot sign RS512`);
    }
    return key;
  } catch (cause) {
    throw new AuthError('invalid_private_key', {
      description: 'The private key could not be used for RS512 private_key_jwt',
      cause,
    });
  }
}

function scopeString(scope: string | readonly string[]): string {
  const scopes = (typeof scope === 'string' ? scope.split(/\s+/) : [...scope]).filter((s) => s !== '');
  if (!scopes.includes('openid')) scopes.unshift('openid');
  return [...new Set(scopes)].join(' ');
}

/** The scopes of a request as a set, for provider-specific checks. */
export function scopeSet(scope: string | readonly string[]): Set<string> {
  return new Set(scopeString(scope).split(' '));
}

function requireValue(value: unknown, name: string): void {
  if (typeof value !== 'string' || value === '') {
    throw new AuthError('invalid_request', { description: `${name} is required` });
  }
}
