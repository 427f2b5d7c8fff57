// Expected answers are those of NHSDigital/identity-service-api: e2e/tests/oauth/test_client_credentials.py
// and the proxy's policies / resources/jsc/validate-client-assertion-claims.js (see token-errors.ts).
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AssertionOptions, clientAssertion, type TestKey, testKey } from '../testing/oauth-test-keys.js';
import { AccessTokenStore } from './access-token-store.js';
import { oauthPlugin } from './oauth-plugin.js';
import type { RegisteredApp } from './registered-app.js';

const NOW_S = 1_767_225_600; // 2026-01-01T00:00:00Z
const API_KEY = 'sandbox-app-api-key';
const OTHER_API_KEY = 'other-app-api-key';
const KEYLESS_API_KEY = 'keyless-app-api-key';
const AUD = 'http://localhost:80/oauth2/token'; // what fastify.inject's request URL is
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let key: TestKey;
let otherKey: TestKey;
let apps: RegisteredApp[];
let nowMs: number;
let tokens: AccessTokenStore;
let server: FastifyInstance;

beforeAll(async () => {
  key = await testKey('test-1');
  otherKey = await testKey('other-1');
  apps = [
    { apiKey: API_KEY, jwks: { keys: [key.publicJwk] } },
    { apiKey: OTHER_API_KEY, jwks: { keys: [otherKey.publicJwk] } },
    { apiKey: KEYLESS_API_KEY, jwks: { keys: [] } },
  ];
});

async function buildServer(tokenUrl?: string) {
  const now = () => new Date(nowMs);
  tokens = new AccessTokenStore({ now });
  server = Fastify();
  await server.register(oauthPlugin, {
    prefix: '/oauth2',
    apps,
    tokens,
    now,
    ...(tokenUrl !== undefined && { tokenUrl }),
  });
  return server;
}

beforeEach(async () => {
  nowMs = NOW_S * 1000;
  await buildServer();
});
afterEach(() => server.close());

type Changes = Partial<Pick<AssertionOptions, 'header' | 'claims' | 'key' | 'apiKey' | 'aud'>>;
const assertion = (changes: Changes = {}) =>
  clientAssertion({ key, apiKey: API_KEY, aud: AUD, nowS: NOW_S, ...changes });

function form(fields: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) params.set(k, v);
  return params.toString();
}

async function postToken(
  fields: Record<string, string | undefined>,
  contentType = 'application/x-www-form-urlencoded',
) {
  const response = await server.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { 'content-type': contentType },
    payload: form(fields),
  });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

const tokenRequest = (changes: Changes = {}, fields: Record<string, string | undefined> = {}) =>
  postToken({
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: assertion(changes),
    ...fields,
  });

/** Asserts a platform error body: error, description and a message_id, nothing else. */
function expectError(
  answer: { status: number; body: Record<string, unknown> },
  status: number,
  error: string,
  description: string,
) {
  expect(answer.status).toBe(status);
  const { message_id, ...rest } = answer.body;
  expect(rest).toEqual({ error, error_description: description });
  expect(message_id).toEqual(expect.any(String));
}

describe('POST /oauth2/token client_credentials: success', () => {
  it('answers access_token, expires_in "599" (a string), token_type Bearer and issued_at', async () => {
    const { status, body } = await tokenRequest();
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'issued_at', 'token_type']);
    expect(body.access_token).toMatch(/^[A-Za-z0-9]{28}$/);
    expect(body.expires_in).toBe('599');
    expect(body.token_type).toBe('Bearer');
    expect(body.issued_at).toBe(String(NOW_S * 1000));
    expect(tokens.verify(body.access_token as string)).toEqual({
      apiKey: API_KEY,
      accessMode: 'application-restricted',
    });
  });

  it('accepts a charset parameter on the form media type (as fetch sends it)', async () => {
    const answer = await postToken(
      {
        grant_type: 'client_credentials',
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: assertion(),
      },
      'application/x-www-form-urlencoded;charset=UTF-8',
    );
    expect(answer.status).toBe(200);
  });

  it('accepts typ in any case', async () => {
    expect((await tokenRequest({ header: { typ: 'jwt' } })).status).toBe(200);
  });

  it('accepts an aud array that holds the token URL', async () => {
    expect((await tokenRequest({ claims: { aud: ['https://elsewhere.example', AUD] } })).status).toBe(200);
  });

  it('issues to the app that signed: a second app with its own key', async () => {
    const { status, body } = await tokenRequest({ key: otherKey, apiKey: OTHER_API_KEY });
    expect(status).toBe(200);
    expect(tokens.verify(body.access_token as string)?.apiKey).toBe(OTHER_API_KEY);
  });

  it('checks aud against the configured tokenUrl when one is given', async () => {
    await server.close();
    await buildServer('https://int.api.service.nhs.uk/oauth2/token');
    expectError(
      await tokenRequest(),
      401,
      'invalid_request',
      "Missing or invalid 'aud' claim in client_assertion JWT",
    );
    expect((await tokenRequest({ aud: 'https://int.api.service.nhs.uk/oauth2/token' })).status).toBe(200);
  });
});

describe('POST /oauth2/token: request errors', () => {
  it('415 when the body is not form-encoded', async () => {
    const response = await server.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expectError(
      { status: response.statusCode, body: response.json() },
      415,
      'invalid_request',
      'Content-Type header must be application/x-www-form-urlencoded',
    );
  });

  it('grant_type is missing', async () => {
    expectError(
      await tokenRequest({}, { grant_type: undefined }),
      400,
      'invalid_request',
      'grant_type is missing',
    );
  });

  it.each(['invalid', 'authorization_code', ''])('grant_type %j is unsupported', async (grantType) => {
    expectError(
      await tokenRequest({}, { grant_type: grantType }),
      400,
      'unsupported_grant_type',
      'grant_type is invalid',
    );
  });

  it('client_credentials with an id_token subject_token_type goes the token-exchange way: grant_type is invalid', async () => {
    expectError(
      await tokenRequest({}, { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
      400,
      'invalid_request',
      'grant_type is invalid',
    );
  });

  it.each([
    ['missing', undefined],
    ['invalid', 'invalid'],
  ])('client_assertion_type %s', async (_case, value) => {
    expectError(
      await tokenRequest({}, { client_assertion_type: value }),
      400,
      'invalid_request',
      "Missing or invalid client_assertion_type - must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'",
    );
  });

  it('Missing client_assertion', async () => {
    expectError(
      await tokenRequest({}, { client_assertion: undefined }),
      400,
      'invalid_request',
      'Missing client_assertion',
    );
  });

  it.each([
    ['not a JWT', 'invalid'],
    ['two parts', 'eyJhbGciOiJSUzUxMiJ9.eyJhIjoxfQ'],
    ['header not JSON', 'bm90IGpzb24.eyJhIjoxfQ.c2ln'],
    ['payload not an object', `${Buffer.from('{"alg":"RS512"}').toString('base64url')}.WzFd.c2ln`],
    ['five parts (JWE)', 'a.b.c.d.e'],
  ])('Malformed JWT in client_assertion: %s', async (_case, value) => {
    expectError(
      await tokenRequest({}, { client_assertion: value }),
      400,
      'invalid_request',
      'Malformed JWT in client_assertion',
    );
  });

  it('405 with Allow: POST for another method', async () => {
    const response = await server.inject({ method: 'GET', url: '/oauth2/token' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });

  it('404 Not Found elsewhere under /oauth2', async () => {
    const response = await server.inject({ method: 'GET', url: '/oauth2/nowhere' });
    expectError({ status: response.statusCode, body: response.json() }, 404, 'invalid_request', 'Not Found');
  });
});

describe('POST /oauth2/token: client assertion header and claim errors', () => {
  const ALG = "Invalid 'alg' header in client_assertion JWT - unsupported JWT algorithm - must be 'RS512'";
  const TYP = "Invalid 'typ' header in client_assertion JWT - must be 'JWT'";
  const ISS_SUB = "Missing or non-matching 'iss'/'sub' claims in client_assertion JWT";

  it.each(['RS256', 'RS384', 'PS512', 'HS512', 'none', undefined])('alg %s', async (alg) => {
    expectError(await tokenRequest({ header: { alg } }), 400, 'invalid_request', ALG);
  });

  it("Missing 'kid' header", async () => {
    expectError(
      await tokenRequest({ header: { kid: undefined } }),
      400,
      'invalid_request',
      "Missing 'kid' header in client_assertion JWT",
    );
  });

  it.each(['invalid', null, undefined])('typ %j', async (typ) => {
    expectError(await tokenRequest({ header: { typ } }), 400, 'invalid_request', TYP);
  });

  it("Missing 'exp' claim", async () => {
    expectError(
      await tokenRequest({ claims: { exp: undefined } }),
      400,
      'invalid_request',
      "Missing 'exp' claim in client_assertion JWT",
    );
  });

  it("'exp' must be an integer (a string in the future)", async () => {
    expectError(
      await tokenRequest({ claims: { exp: String(NOW_S + 300) } }),
      400,
      'invalid_request',
      "Invalid 'exp' claim in client_assertion JWT - must be an integer",
    );
  });

  it("'exp' in the past: JWT has expired", async () => {
    expectError(
      await tokenRequest({ claims: { exp: NOW_S - 20 } }),
      400,
      'invalid_request',
      "Invalid 'exp' claim in client_assertion JWT - JWT has expired",
    );
  });

  it("'exp' more than 5 minutes in future (e2e: now + 360)", async () => {
    expectError(
      await tokenRequest({ claims: { exp: NOW_S + 360 } }),
      400,
      'invalid_request',
      "Invalid 'exp' claim in client_assertion JWT - more than 5 minutes in future",
    );
  });

  it.each([
    ['sub different to iss', { sub: 'invalid' }],
    ['iss different to sub', { iss: 'invalid' }],
    ['missing sub', { sub: undefined }],
    ['missing iss', { iss: undefined }],
  ])('iss/sub: %s', async (_case, claims) => {
    expectError(await tokenRequest({ claims }), 400, 'invalid_request', ISS_SUB);
  });

  it("Missing 'jti' claim", async () => {
    expectError(
      await tokenRequest({ claims: { jti: undefined } }),
      400,
      'invalid_request',
      "Missing 'jti' claim in client_assertion JWT",
    );
  });

  it("'jti' must be a string (e2e: integer)", async () => {
    expectError(
      await tokenRequest({ claims: { jti: 1234567890 } }),
      400,
      'invalid_request',
      "Invalid 'jti' claim in client_assertion JWT - must be a unique string value such as a GUID",
    );
  });
});

describe('POST /oauth2/token: app, key, signature and audience errors', () => {
  it("unknown API key in iss/sub: 401 Invalid 'iss'/'sub' claims", async () => {
    expectError(
      await tokenRequest({ apiKey: 'invalid' }),
      401,
      'invalid_request',
      "Invalid 'iss'/'sub' claims in client_assertion JWT",
    );
  });

  it('an app without public keys: 403 public_key error', async () => {
    expectError(
      await tokenRequest({ apiKey: KEYLESS_API_KEY }),
      403,
      'public_key error',
      'You need to register a public key to use this authentication method - please contact support to configure',
    );
  });

  it("a kid that is not in the app's JWKS: 401", async () => {
    expectError(
      await tokenRequest({ header: { kid: 'invalid' } }),
      401,
      'invalid_request',
      "Invalid 'kid' header in client_assertion JWT - no matching public key",
    );
  });

  it('signed by another key under the registered kid: 401 JWT signature verification failed', async () => {
    expectError(
      await tokenRequest({ key: { ...otherKey, kid: key.kid } }),
      401,
      'public_key error',
      'JWT signature verification failed',
    );
  });

  it('a tampered payload fails the signature check', async () => {
    const [h, , s] = assertion().split('.');
    const forged = Buffer.from(
      JSON.stringify({ iss: API_KEY, sub: API_KEY, aud: AUD, jti: 'forged', exp: NOW_S + 60 }),
    ).toString('base64url');
    expectError(
      await tokenRequest({}, { client_assertion: `${h}.${forged}.${s}` }),
      401,
      'public_key error',
      'JWT signature verification failed',
    );
  });

  it.each([
    ['invalid', { aud: 'invalid' }],
    ['missing', { aud: undefined }],
  ])('aud %s: 401', async (_case, claims) => {
    expectError(
      await tokenRequest({ claims }),
      401,
      'invalid_request',
      "Missing or invalid 'aud' claim in client_assertion JWT",
    );
  });

  it('nbf more than 10 s ahead: the catch-all unknown_error', async () => {
    const answer = await tokenRequest({ claims: { nbf: NOW_S + 11 } });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('unknown_error');
    expect((await tokenRequest({ claims: { nbf: NOW_S + 10 } })).status).toBe(200);
  });
});

describe('POST /oauth2/token: replay and expiry boundaries', () => {
  it("a reused jti is refused: Non-unique 'jti' claim", async () => {
    const clientAssertion = assertion();
    const fields = { client_assertion: clientAssertion };
    expect((await tokenRequest({}, fields)).status).toBe(200);
    expectError(
      await tokenRequest({}, fields),
      400,
      'invalid_request',
      "Non-unique 'jti' claim in client_assertion JWT",
    );
  });

  it('a jti is unique per client: another app may use the same value', async () => {
    expect((await tokenRequest({ claims: { jti: 'shared-jti' } })).status).toBe(200);
    expect(
      (await tokenRequest({ key: otherKey, apiKey: OTHER_API_KEY, claims: { jti: 'shared-jti' } })).status,
    ).toBe(200);
  });

  it('a jti is spent once its claims pass, even if the signature then fails (as on the platform)', async () => {
    const jti = 'spent-by-a-forgery';
    expect((await tokenRequest({ key: { ...otherKey, kid: key.kid }, claims: { jti } })).status).toBe(401);
    expectError(
      await tokenRequest({ claims: { jti } }),
      400,
      'invalid_request',
      "Non-unique 'jti' claim in client_assertion JWT",
    );
  });

  it('a replay after the assertion expired is answered as expired (the jti entry may be gone)', async () => {
    const fields = { client_assertion: assertion({ claims: { exp: NOW_S + 60 } }) };
    expect((await tokenRequest({}, fields)).status).toBe(200);
    nowMs = (NOW_S + 60) * 1000;
    expectError(
      await tokenRequest({}, fields),
      400,
      'invalid_request',
      "Non-unique 'jti' claim in client_assertion JWT",
    );
    nowMs = (NOW_S + 61) * 1000;
    expectError(
      await tokenRequest({}, fields),
      400,
      'invalid_request',
      "Invalid 'exp' claim in client_assertion JWT - JWT has expired",
    );
  });

  it.each([
    [0, 200],
    [300, 200],
    [310, 200],
    [311, 400],
  ])('exp %i s ahead: %i', async (aheadS, status) => {
    expect((await tokenRequest({ claims: { exp: NOW_S + aheadS } })).status).toBe(status);
  });

  it('seconds remaining are whole seconds: 310.5 s ahead of a clock mid-second is still 310', async () => {
    nowMs = NOW_S * 1000 + 500;
    expect((await tokenRequest({ claims: { exp: NOW_S + 311 } })).status).toBe(200);
  });
});

describe('POST /oauth2/token: check order when several things are wrong (validate-client-assertion-claims.js)', () => {
  // Functions: the keys exist only once beforeAll has run.
  const cases: [string, () => Changes, string][] = [
    ['alg before expiry', () => ({ header: { alg: 'RS256' }, claims: { exp: NOW_S - 1 } }), "Invalid 'alg'"],
    [
      'expiry before kid',
      () => ({ header: { kid: undefined }, claims: { exp: NOW_S - 1 } }),
      'JWT has expired',
    ],
    ['kid before typ', () => ({ header: { kid: undefined, typ: 'x' } }), "Missing 'kid'"],
    ['typ before exp', () => ({ header: { typ: 'x' }, claims: { exp: undefined } }), "Invalid 'typ'"],
    ['exp before iss/sub', () => ({ claims: { exp: undefined, sub: 'x' } }), "Missing 'exp'"],
    ['iss/sub before jti', () => ({ claims: { sub: 'x', jti: undefined } }), "'iss'/'sub'"],
    ['jti before exp too far', () => ({ claims: { jti: 7, exp: NOW_S + 400 } }), "Invalid 'jti'"],
    [
      'claims before the API key',
      () => ({ apiKey: 'unknown', claims: { exp: NOW_S + 400 } }),
      'more than 5 minutes',
    ],
    [
      'a numeric-string exp in the past counts as expired',
      () => ({ claims: { exp: String(NOW_S - 1) } }),
      'JWT has expired',
    ],
    ['API key before kid', () => ({ apiKey: 'unknown', header: { kid: 'nope' } }), "Invalid 'iss'/'sub'"],
    ['kid before signature', () => ({ key: { ...otherKey, kid: 'nope' } }), "Invalid 'kid'"],
    ['signature before aud', () => ({ key: { ...otherKey, kid: key.kid }, aud: 'x' }), 'signature'],
  ];
  it.each(cases)('%s', async (_case, changes, expected) => {
    const { body } = await tokenRequest(changes());
    expect(body.error_description).toContain(expected);
  });

  it('a replayed jti is reported before an exp too far ahead', async () => {
    expect((await tokenRequest({ claims: { jti: 'again' } })).status).toBe(200);
    const { body } = await tokenRequest({ claims: { jti: 'again', exp: NOW_S + 400 } });
    expect(body.error_description).toBe("Non-unique 'jti' claim in client_assertion JWT");
  });
});
