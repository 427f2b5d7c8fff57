import { generateKeyPairSync } from 'node:crypto';
import {
  type CryptoKey,
  decodeJwt,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  type JWK,
  jwtVerify,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClientAssertionRequest } from '../testing/client-assertion.js';
import { fakeFetch, gatedFetch, networkFailure, type RecordedRequest } from '../testing/fake-fetch.js';
import { applicationRestrictedAuth } from './application-restricted-auth.js';
import { AuthError } from './auth-error.js';

// https://digital.nhs.uk/developer/guides-and-documentation/security-and-authorisation/application-restricted-restful-apis-signed-jwt-authentication;
// error strings from NHSDigital/identity-service-api validate-client-assertion-claims.js.
const TOKEN_URL = 'https://api.test/oauth2/token';
const API_KEY = 'test-api-key';
const KID = 'test-kid-1';
const T0 = new Date('2026-01-01T12:00:00Z');

let privateKey: CryptoKey;
let publicKey: CryptoKey;

beforeAll(async () => {
  ({ privateKey, publicKey } = await generateKeyPair('RS512', { extractable: true }));
});

function form(request: RecordedRequest): URLSearchParams {
  return new URLSearchParams(request.body ?? '');
}

let issued = 0;
function tokenReply(expiresIn: string | number = '599') {
  issued++;
  return {
    status: 200,
    body: { access_token: `token-${issued}`, expires_in: expiresIn, token_type: 'Bearer' },
  };
}

function newAuth(
  fetch: typeof globalThis.fetch,
  extra: Partial<Parameters<typeof applicationRestrictedAuth>[0]> = {},
) {
  return applicationRestrictedAuth({
    tokenUrl: TOKEN_URL,
    apiKey: API_KEY,
    privateKey,
    kid: KID,
    fetch,
    now: () => T0,
    ...extra,
  });
}

describe('applicationRestrictedAuth', () => {
  it('posts a form-encoded client_credentials grant with a platform-valid RS512 client assertion', async () => {
    const { fetch, calls } = fakeFetch(() => tokenReply());
    const auth = newAuth(fetch);
    const token = await auth.getAccessToken();
    expect(token).toMatch(/^token-\d+$/);

    const body = await expectClientAssertionRequest(calls[0], publicKey, {
      apiKey: API_KEY,
      tokenUrl: TOKEN_URL,
      kid: KID,
      now: T0,
    });
    expect(body.get('grant_type')).toBe('client_credentials');
  });

  it('uses a fresh jti for every assertion', async () => {
    const { fetch, calls } = fakeFetch(() => tokenReply());
    let now = T0;
    const auth = newAuth(fetch, { now: () => now });
    await auth.getAccessToken();
    now = new Date(T0.getTime() + 600_000);
    await auth.getAccessToken();
    const jtis = calls.map((c) => decodeJwt(form(c).get('client_assertion') ?? '').jti);
    expect(jtis).toHaveLength(2);
    expect(jtis[0]).not.toBe(jtis[1]);
  });

  it('caches the token until refreshSkewS before expiry (expires_in as the string "599" or a number)', async () => {
    for (const expiresIn of ['599', 599]) {
      const { fetch, calls } = fakeFetch(() => tokenReply(expiresIn));
      let nowMs = T0.getTime();
      const auth = newAuth(fetch, { now: () => new Date(nowMs), refreshSkewS: 30 });
      const first = await auth.getAccessToken();
      nowMs = T0.getTime() + 568_000; // 31 s before expiry: still cached
      expect(await auth.getAccessToken()).toBe(first);
      expect(calls).toHaveLength(1);
      nowMs = T0.getTime() + 570_000; // 29 s before expiry: refreshed
      expect(await auth.getAccessToken()).not.toBe(first);
      expect(calls).toHaveLength(2);
    }
  });

  it('makes one token request for 10 concurrent callers', async () => {
    const { fetch: slowFetch, calls, release } = gatedFetch(() => tokenReply());
    const auth = newAuth(slowFetch);
    const pending = Array.from({ length: 10 }, () => auth.getAccessToken());
    release();
    const tokens = await Promise.all(pending);
    expect(new Set(tokens).size).toBe(1);
    expect(calls).toHaveLength(1);
  });

  it('fetches a new token after invalidateAccessToken (an API answered 401)', async () => {
    const { fetch, calls } = fakeFetch(() => tokenReply());
    const auth = newAuth(fetch);
    const first = await auth.getAccessToken();
    auth.invalidateAccessToken?.('some-older-token'); // stale invalidation: ignored
    expect(await auth.getAccessToken()).toBe(first);
    auth.invalidateAccessToken?.(first);
    expect(await auth.getAccessToken()).not.toBe(first);
    expect(calls).toHaveLength(2);
  });

  it('maps the platform OAuth error to AuthError with a stable code and the description', async () => {
    const description = "Invalid 'kid' header in client_assertion JWT - no matching public key";
    const { fetch } = fakeFetch({
      status: 400,
      body: { error: 'invalid_request', error_description: description },
    });
    const auth = newAuth(fetch);
    const error = await auth.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'invalid_request', description, status: 400 });
  });

  it('does not cache a failure: the next call asks again', async () => {
    const { fetch, calls } = fakeFetch({ status: 400, body: { error: 'invalid_request' } }, () =>
      tokenReply(),
    );
    const auth = newAuth(fetch);
    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(AuthError);
    await expect(auth.getAccessToken()).resolves.toMatch(/^token-/);
    expect(calls).toHaveLength(2);
  });

  it.each([
    ['a non-JSON error page', { status: 500, body: '<html>oops</html>' }, 'http_500'],
    ['a 200 without a token', { status: 200, body: { token_type: 'Bearer' } }, 'invalid_token_response'],
    [
      'a 200 with a non-numeric expires_in',
      { status: 200, body: { access_token: 'x', expires_in: 'soon' } },
      'invalid_token_response',
    ],
  ])('maps %s to a typed code', async (_name, reply, code) => {
    const { fetch } = fakeFetch(reply);
    const auth = newAuth(fetch);
    await expect(auth.getAccessToken()).rejects.toMatchObject({ name: 'AuthError', code });
  });

  it('maps an unreachable token endpoint to token_endpoint_unreachable', async () => {
    const { fetch } = fakeFetch(networkFailure());
    const auth = newAuth(fetch);
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'token_endpoint_unreachable' });
  });

  it('accepts the key as a PEM string, a private JWK and a KeyObject', async () => {
    const pem = await exportPKCS8(privateKey);
    const jwk: JWK = await exportJWK(privateKey);
    const keyObject = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (const [key, verifyWith] of [
      [pem, publicKey],
      [jwk, publicKey],
      [keyObject.privateKey, keyObject.publicKey],
    ] as const) {
      const { fetch, calls } = fakeFetch(() => tokenReply());
      const auth = newAuth(fetch, { privateKey: key });
      await auth.getAccessToken();
      const assertion = form(calls[0] as RecordedRequest).get('client_assertion') ?? '';
      await expect(
        jwtVerify(assertion, verifyWith, { algorithms: ['RS512'], currentDate: T0 }),
      ).resolves.toBeDefined();
    }
  });

  it('rejects an unusable key with invalid_private_key before calling the endpoint', async () => {
    const { fetch, calls } = fakeFetch(() => tokenReply());
    const auth = newAuth(fetch, { privateKey: 'not a pem' });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'invalid_private_key' });
    expect(calls).toHaveLength(0);
  });

  it('lets one caller abort its wait without cancelling the shared request', async () => {
    const { fetch: slowFetch, calls, release } = gatedFetch(() => tokenReply());
    const auth = newAuth(slowFetch);
    const controller = new AbortController();
    const aborted = auth.getAccessToken(controller.signal);
    const other = auth.getAccessToken();
    controller.abort(new Error('gave up'));
    release();
    await expect(aborted).rejects.toThrow('gave up');
    await expect(other).resolves.toMatch(/^token-/);
    expect(calls).toHaveLength(1);
  });
});
