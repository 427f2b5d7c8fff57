import { type CryptoKey, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClientAssertionRequest } from '../testing/client-assertion.js';
import { fakeFetch, gatedFetch, networkFailure, type RecordedRequest } from '../testing/fake-fetch.js';
import { AuthError } from './auth-error.js';
import { tokenExchangeAuth } from './token-exchange.js';

// Separate authentication and authorisation (NHS API platform; the NHS login pattern:
// https://digital.nhs.uk/developer/guides-and-documentation/security-and-authorisation/user-restricted-restful-apis-nhs-login-separate-authentication-and-authorisation;
// NHSDigital/identity-service-api e2e/tests/oauth/test_token_exchange.py): RFC 8693 token
// exchange of an NHS login / CIS2 id_token, the app authenticating with its RS512 client assertion.
const TOKEN_URL = 'https://api.test/oauth2/token';
const API_KEY = 'test-api-key';
const KID = 'test-kid-1';
const T0 = new Date('2026-01-01T12:00:00Z');
const ID_TOKEN = 'header.payload.signature'; // opaque to the client: the platform validates it

let privateKey: CryptoKey;
let publicKey: CryptoKey;

beforeAll(async () => {
  ({ privateKey, publicKey } = await generateKeyPair('RS512'));
});

function form(request: RecordedRequest | undefined): URLSearchParams {
  return new URLSearchParams(request?.body ?? '');
}

let issued = 0;
// The platform's answer (test_cis2_token_exchange_happy_path): numbers as strings.
function exchangeReply(overrides: Record<string, unknown> = {}) {
  issued++;
  return {
    status: 200,
    body: {
      access_token: `token-${issued}`,
      expires_in: '599',
      token_type: 'Bearer',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      refresh_token: `refresh-${issued}`,
      refresh_token_expires_in: '43199',
      refresh_count: '0',
      ...overrides,
    },
  };
}

function auth(fetch: typeof globalThis.fetch, extra: Partial<Parameters<typeof tokenExchangeAuth>[0]> = {}) {
  return tokenExchangeAuth({
    tokenUrl: TOKEN_URL,
    apiKey: API_KEY,
    privateKey,
    kid: KID,
    subjectToken: () => ID_TOKEN,
    fetch,
    now: () => T0,
    ...extra,
  });
}

describe('tokenExchangeAuth', () => {
  it('posts the RFC 8693 form with the id_token and a platform-valid client assertion', async () => {
    const { fetch, calls } = fakeFetch(() => exchangeReply());
    const token = await auth(fetch).getAccessToken();
    expect(token).toMatch(/^token-\d+$/);

    const body = await expectClientAssertionRequest(calls[0], publicKey, {
      apiKey: API_KEY,
      tokenUrl: TOKEN_URL,
      kid: KID,
      now: T0,
    });
    expect(body.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:token-exchange');
    expect(body.get('subject_token_type')).toBe('urn:ietf:params:oauth:token-type:id_token');
    expect(body.get('subject_token')).toBe(ID_TOKEN);
  });

  it('caches the token until 30 s before expires_in "599" runs out, then exchanges again', async () => {
    const { fetch, calls } = fakeFetch(() => exchangeReply());
    let nowMs = T0.getTime();
    const provider = auth(fetch, { now: () => new Date(nowMs) });
    const first = await provider.getAccessToken();
    nowMs = T0.getTime() + 568_000;
    expect(await provider.getAccessToken()).toBe(first);
    expect(calls).toHaveLength(1);
    nowMs = T0.getTime() + 570_000;
    expect(await provider.getAccessToken()).not.toBe(first);
    expect(calls).toHaveLength(2);
    expect(form(calls[1]).get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:token-exchange');
  });

  it('asks subjectToken for the id_token on every exchange (a session may have a newer one)', async () => {
    const { fetch, calls } = fakeFetch(() => exchangeReply());
    let nowMs = T0.getTime();
    let n = 0;
    const provider = auth(fetch, { now: () => new Date(nowMs), subjectToken: async () => `id-token-${++n}` });
    await provider.getAccessToken();
    nowMs += 600_000;
    await provider.getAccessToken();
    expect(calls.map((c) => form(c).get('subject_token'))).toEqual(['id-token-1', 'id-token-2']);
  });

  it('makes one exchange for 10 concurrent callers', async () => {
    const { fetch: slowFetch, calls, release } = gatedFetch(() => exchangeReply());
    const provider = auth(slowFetch);
    const pending = Array.from({ length: 10 }, () => provider.getAccessToken());
    release();
    expect(new Set(await Promise.all(pending)).size).toBe(1);
    expect(calls).toHaveLength(1);
  });

  it('renews with the refresh token (client_id + client_secret, as the platform requires) when given the secret', async () => {
    const { fetch, calls } = fakeFetch(
      () => exchangeReply(),
      () => exchangeReply({ refresh_count: '1' }),
    );
    let nowMs = T0.getTime();
    const provider = auth(fetch, { now: () => new Date(nowMs), refresh: { clientSecret: 'app-secret' } });
    await provider.getAccessToken();
    nowMs += 600_000;
    const renewed = await provider.getAccessToken();
    expect(renewed).toMatch(/^token-/);
    const refresh = form(calls[1]);
    expect(Object.fromEntries(refresh)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: expect.stringMatching(/^refresh-\d+$/),
      client_id: API_KEY,
      client_secret: 'app-secret',
    });
  });

  it('exchanges again when the refresh token has expired or was refused', async () => {
    // Refresh token lasts 700 s; at +800 s the client exchanges instead of refreshing.
    const expired = fakeFetch(() => exchangeReply({ refresh_token_expires_in: '700' }));
    let nowMs = T0.getTime();
    const first = auth(expired.fetch, { now: () => new Date(nowMs), refresh: { clientSecret: 's' } });
    await first.getAccessToken();
    nowMs += 800_000;
    await first.getAccessToken();
    expect(expired.calls.map((c) => form(c).get('grant_type'))).toEqual([
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ]);

    const refused = fakeFetch(
      () => exchangeReply(),
      { status: 401, body: { error: 'invalid_grant', error_description: 'refresh token refused' } },
      () => exchangeReply(),
    );
    nowMs = T0.getTime();
    const second = auth(refused.fetch, { now: () => new Date(nowMs), refresh: { clientSecret: 's' } });
    await second.getAccessToken();
    nowMs += 600_000;
    await expect(second.getAccessToken()).resolves.toMatch(/^token-/);
    expect(refused.calls.map((c) => form(c).get('grant_type'))).toEqual([
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ]);
  });

  it("maps the platform's refusal to AuthError with its code and description", async () => {
    const description =
      "missing or invalid subject_token_type - must be 'urn:ietf:params:oauth:token-type:id_token'";
    const { fetch } = fakeFetch({
      status: 400,
      body: { error: 'invalid_request', error_description: description },
    });
    const error = await auth(fetch)
      .getAccessToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'invalid_request', description, status: 400 });
  });

  it('does not cache a failure: the next call exchanges again', async () => {
    const { fetch, calls } = fakeFetch({ status: 400, body: { error: 'invalid_request' } }, () =>
      exchangeReply(),
    );
    const provider = auth(fetch);
    await expect(provider.getAccessToken()).rejects.toBeInstanceOf(AuthError);
    await expect(provider.getAccessToken()).resolves.toMatch(/^token-/);
    expect(calls).toHaveLength(2);
  });

  it('fails with subject_token_unavailable, without calling the platform, when there is no id_token', async () => {
    for (const subjectToken of [() => '', () => Promise.reject(new Error('session expired'))]) {
      const { fetch, calls } = fakeFetch(() => exchangeReply());
      await expect(auth(fetch, { subjectToken }).getAccessToken()).rejects.toMatchObject({
        code: 'subject_token_unavailable',
      });
      expect(calls).toHaveLength(0);
    }
  });

  it.each([
    ['an unreachable endpoint', networkFailure(), 'token_endpoint_unreachable'],
    ['a 200 without a token', { status: 200, body: { token_type: 'Bearer' } }, 'invalid_token_response'],
    ['a non-JSON error page', { status: 502, body: '<html>bad gateway</html>' }, 'http_502'],
  ] as const)('maps %s to %s', async (_name, reply, code) => {
    const { fetch } = fakeFetch(reply);
    await expect(auth(fetch).getAccessToken()).rejects.toMatchObject({ name: 'AuthError', code });
  });

  it('fetches a new token after invalidateAccessToken (an API answered 401)', async () => {
    const { fetch, calls } = fakeFetch(() => exchangeReply());
    const provider = auth(fetch);
    const first = await provider.getAccessToken();
    provider.invalidateAccessToken?.(first);
    expect(await provider.getAccessToken()).not.toBe(first);
    expect(calls).toHaveLength(2);
  });
});
