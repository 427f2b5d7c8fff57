import type { CryptoKey, KeyObject } from 'jose';
import type { AccessTokenProvider } from '../http/types.js';
import { AuthError } from './auth-error.js';
import { loadPrivateKey, type PrivateKeyInput, signClientAssertion } from './client-assertion.js';

// Shared by every NHS API platform grant (client_credentials, token exchange, refresh): how the app
// proves who it is, how the token endpoint is called, how its answer is read and cached.

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const DEFAULT_REFRESH_SKEW_S = 30;

/** A token endpoint answer reduced to what callers cache. */
export interface IssuedToken {
  accessToken: string;
  expiresAtMs: number;
  refreshToken?: string;
  /** When the refresh token stops working; undefined when the platform did not say. */
  refreshExpiresAtMs?: number;
}

export interface AppCredentials {
  tokenUrl: string;
  apiKey: string;
  privateKey: PrivateKeyInput;
  kid: string;
}

/**
 * The app's `client_assertion_type` + `client_assertion` form fields (signed JWT authentication,
 * https://digital.nhs.uk/developer/guides-and-documentation/security-and-authorisation/application-restricted-restful-apis-signed-jwt-authentication):
 * one signer per app, importing the key once and signing a fresh assertion (new `jti`) per request.
 */
export function appClientAssertion(
  credentials: AppCredentials,
): (issuedAt: Date) => Promise<Record<'client_assertion_type' | 'client_assertion', string>> {
  let key: Promise<CryptoKey | KeyObject> | undefined;
  return async (issuedAt) => {
    key ??= loadPrivateKey(credentials.privateKey);
    // A failed import must not be cached: the next call tries again.
    const loaded = await key.catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    const assertion = await signClientAssertion({
      apiKey: credentials.apiKey,
      tokenUrl: credentials.tokenUrl,
      kid: credentials.kid,
      key: loaded,
      now: issuedAt,
    });
    return { client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion };
  };
}

/**
 * POSTs a form to the platform's token endpoint and reads a token from the answer; throws
 * `AuthError` with the OAuth `error` (or `http_<status>`, `token_endpoint_unreachable`,
 * `invalid_token_response`).
 */
export async function postTokenRequest(
  doFetch: typeof fetch,
  tokenUrl: string,
  form: Record<string, string>,
  issuedAt: Date,
): Promise<IssuedToken> {
  let response: Response;
  let body: unknown;
  try {
    response = await doFetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
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
}

/**
 * Caches a token until `skewMs` before expiry and shares one in-flight request between concurrent
 * callers; a failure is not cached.
 */
export function cachingTokenProvider(options: {
  fetchToken: (previous: IssuedToken | undefined) => Promise<IssuedToken>;
  now: () => Date;
  skewMs: number;
}): AccessTokenProvider {
  let cached: IssuedToken | undefined;
  let inFlight: Promise<IssuedToken> | undefined;
  return {
    async getAccessToken(signal?: AbortSignal): Promise<string> {
      signal?.throwIfAborted();
      if (cached && options.now().getTime() < cached.expiresAtMs - options.skewMs) return cached.accessToken;
      if (!inFlight) {
        inFlight = options.fetchToken(cached).then(
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
      // Keep the refresh token (if any): only the access token was refused.
      if (cached?.accessToken === token) cached = { ...cached, expiresAtMs: 0 };
    },
  };
}

function parseToken(body: unknown, issuedAt: Date, status: number): IssuedToken {
  const fields = (body ?? {}) as Record<string, unknown>;
  const accessToken = fields.access_token;
  const expiresInS = seconds(fields.expires_in);
  if (typeof accessToken !== 'string' || accessToken === '' || expiresInS === undefined) {
    throw new AuthError('invalid_token_response', {
      description: 'The token endpoint answered without a usable access_token and expires_in',
      status,
    });
  }
  const token: IssuedToken = { accessToken, expiresAtMs: issuedAt.getTime() + expiresInS * 1000 };
  if (typeof fields.refresh_token === 'string' && fields.refresh_token !== '') {
    token.refreshToken = fields.refresh_token;
    const refreshExpiresInS = seconds(fields.refresh_token_expires_in);
    if (refreshExpiresInS !== undefined)
      token.refreshExpiresAtMs = issuedAt.getTime() + refreshExpiresInS * 1000;
  }
  return token;
}

// The platform sends expires_in as a string ("599"); RFC 6749 says a number. Accept both.
function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
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
