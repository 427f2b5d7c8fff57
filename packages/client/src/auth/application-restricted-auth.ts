import type { CryptoKey, JWK, KeyObject } from 'jose';
import type { AccessTokenProvider } from '../http/types.js';
import { AuthError } from './auth-error.js';
import { loadPrivateKey, type PrivateKeyInput, signClientAssertion } from './client-assertion.js';

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
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DEFAULT_REFRESH_SKEW_S = 30;

interface CachedToken {
  accessToken: string;
  expiresAtMs: number;
}

/**
 * Application-restricted access to NHS APIs (CONTRACTS.md §2a): a signed-JWT `client_credentials`
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
  const skewMs = (options.refreshSkewS ?? DEFAULT_REFRESH_SKEW_S) * 1000;
  let key: Promise<CryptoKey | KeyObject> | undefined;
  let cached: CachedToken | undefined;
  let inFlight: Promise<CachedToken> | undefined;

  const requestToken = async (): Promise<CachedToken> => {
    key ??= loadPrivateKey(options.privateKey as PrivateKeyInput);
    const issuedAt = now();
    const assertion = await signClientAssertion({
      apiKey: options.apiKey,
      tokenUrl: options.tokenUrl,
      kid: options.kid,
      key: await key,
      now: issuedAt,
    });
    const form = new URLSearchParams({
      grant_type: CLIENT_CREDENTIALS_GRANT,
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: assertion,
    });
    let response: Response;
    let body: unknown;
    try {
      response = await doFetch(options.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      });
      const text = await response.text();
      body = text ? safeJson(text) : undefined;
    } catch (cause) {
      throw new AuthError('token_endpoint_unreachable', {
        description: 'The token endpoint could not be reached',
        cause,
      });
    }
    if (!response.ok) throw oauthError(response.status, body);
    return parseToken(body, issuedAt, response.status);
  };

  return {
    async getAccessToken(signal?: AbortSignal): Promise<string> {
      signal?.throwIfAborted();
      if (cached && now().getTime() < cached.expiresAtMs - skewMs) return cached.accessToken;
      if (!inFlight) {
        inFlight = requestToken().then(
          (token) => {
            cached = token;
            inFlight = undefined;
            return token;
          },
          (error: unknown) => {
            inFlight = undefined;
            throw error;
          },
        );
      }
      // One caller aborting must not cancel the shared request for the others.
      const token = signal ? await raceAbort(inFlight, signal) : await inFlight;
      return token.accessToken;
    },
    invalidateAccessToken(token: string): void {
      if (cached?.accessToken === token) cached = undefined;
    },
  };
}

function parseToken(body: unknown, issuedAt: Date, status: number): CachedToken {
  const accessToken = (body as { access_token?: unknown } | undefined)?.access_token;
  const rawExpiresIn = (body as { expires_in?: unknown } | undefined)?.expires_in;
  // The platform sends expires_in as a string ("599"); RFC 6749 says a number. Accept both.
  const expiresInS = typeof rawExpiresIn === 'string' ? Number(rawExpiresIn) : rawExpiresIn;
  if (
    typeof accessToken !== 'string' ||
    accessToken === '' ||
    typeof expiresInS !== 'number' ||
    !Number.isFinite(expiresInS)
  ) {
    throw new AuthError('invalid_token_response', {
      description: 'The token endpoint answered without a usable access_token and expires_in',
      status,
    });
  }
  return { accessToken, expiresAtMs: issuedAt.getTime() + expiresInS * 1000 };
}

function oauthError(status: number, body: unknown): AuthError {
  const error = (body as { error?: unknown } | undefined)?.error;
  const description = (body as { error_description?: unknown } | undefined)?.error_description;
  return new AuthError(typeof error === 'string' && error ? error : `http_${status}`, {
    status,
    ...(typeof description === 'string' ? { description } : {}),
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
