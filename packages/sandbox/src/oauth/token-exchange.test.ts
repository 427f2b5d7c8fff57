// Expected answers are those of NHSDigital/identity-service-api: e2e/tests/oauth/test_token_exchange.py,
// proxies/live/apiproxy/proxies/default.xml (Flow.PostTokenTokenExchange), its policies and
// resources/jsc/validate-subject-token-claims.js, validate-actor-token-claims.js, SelectIdTokenIssuer.js.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clientAssertion, signAssertion, type TestKey, testKey } from '../testing/oauth-test-keys.js';
import {
  CIS2_CLIENT_ID,
  cis2Claims,
  type FakeProvider,
  fakeProvider,
  NHS_LOGIN_CLIENT_ID,
  nhsLoginClaims,
  subjectToken,
  withChanges,
} from '../testing/subject-tokens.js';
import { AccessTokenStore } from './access-token-store.js';
import { oauthPlugin } from './oauth-plugin.js';
import type { RegisteredApp } from './registered-app.js';

const NOW_S = 1_767_225_600; // 2026-01-01T00:00:00Z
const API_KEY = 'sandbox-app-api-key';
const ORIGIN = 'http://localhost:80'; // what fastify.inject's request origin is
const AUD = `${ORIGIN}/oauth2/token`;
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

let appKey: TestKey;
let nhsLogin: FakeProvider;
let cis2: FakeProvider;
let stranger: FakeProvider;
let app: RegisteredApp;
let tokens: AccessTokenStore;
let server: FastifyInstance;

beforeAll(async () => {
  appKey = await testKey('test-1');
  nhsLogin = await fakeProvider('nhs-login', 'nhs-login-key-1');
  cis2 = await fakeProvider('cis2', 'cis2-key-1');
  // same kid as NHS login's key, other key material: a forged signature
  stranger = await fakeProvider('nhs-login', 'nhs-login-key-1');
  app = {
    apiKey: API_KEY,
    jwks: { keys: [appKey.publicJwk] },
    nhsLoginClientId: NHS_LOGIN_CLIENT_ID,
    cis2ClientId: CIS2_CLIENT_ID,
  };
});

async function buildServer(extra: { publicUrl?: string; apps?: RegisteredApp[] } = {}) {
  const now = () => new Date(NOW_S * 1000);
  tokens = new AccessTokenStore({ now });
  server = Fastify();
  await server.register(oauthPlugin, {
    prefix: '/oauth2',
    apps: extra.apps ?? [app],
    tokens,
    now,
    identityProviders: [nhsLogin, cis2],
    ...(extra.publicUrl !== undefined && { publicUrl: extra.publicUrl }),
  });
}

beforeEach(() => buildServer());
afterEach(() => server.close());

const cis2Token = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  subjectToken({
    provider: cis2,
    claims: withChanges(cis2Claims(`${ORIGIN}/openam/oauth2/realms/root/realms/oidc`, NOW_S), claims),
    header,
  });
const nhsLoginToken = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  subjectToken({
    provider: nhsLogin,
    claims: withChanges(nhsLoginClaims(`${ORIGIN}/nhs-login`, NOW_S), claims),
    header,
  });

async function exchange(fields: Record<string, string | undefined>) {
  const form = new URLSearchParams();
  const all: Record<string, string | undefined> = {
    grant_type: TOKEN_EXCHANGE,
    subject_token_type: ID_TOKEN,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: clientAssertion({ key: appKey, apiKey: API_KEY, aud: AUD, nowS: NOW_S }),
    ...fields,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) form.set(k, v);
  const response = await server.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form.toString(),
  });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

/** Asserts a platform error body: error, description and a message_id, nothing else. */
function expectError(
  answer: { status: number; body: Record<string, unknown> },
  status: number,
  description: string,
  error = 'invalid_request',
) {
  expect({ status: answer.status, description: answer.body.error_description }).toEqual({
    status,
    description,
  });
  const { message_id, ...rest } = answer.body;
  expect(rest).toEqual({ error, error_description: description });
  expect(message_id).toEqual(expect.any(String));
}

const UNKNOWN_ERROR =
  'An unknown error occurred processing this request. Contact us for assistance diagnosing this issue: https://digital.nhs.uk/developer/help-and-support quoting Message ID';

describe('POST /oauth2/token token exchange: success', () => {
  it('exchanges a CIS2 id_token for a healthcare-worker access token (test_cis2_token_exchange_happy_path)', async () => {
    const { status, body } = await exchange({ subject_token: await cis2Token() });
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_in',
      'issued_token_type',
      'refresh_count',
      'refresh_token',
      'refresh_token_expires_in',
      'token_type',
    ]);
    expect(body).toMatchObject({
      expires_in: '599',
      token_type: 'Bearer',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      refresh_token_expires_in: '43199',
      refresh_count: '0',
    });
    expect(body.access_token).toMatch(/^[A-Za-z0-9]{28}$/);
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(tokens.verify(body.access_token as string)).toEqual({
      apiKey: API_KEY,
      accessMode: 'healthcare-worker',
      userId: '555042709107',
      roleProfileId: '555254240100',
      authenticationAssuranceLevel: 3,
    });
  });

  it('exchanges an NHS login id_token (detected by issuer; nhs_number) for a patient access token', async () => {
    const { status, body } = await exchange({ subject_token: await nhsLoginToken() });
    expect(status).toBe(200);
    expect(body).toMatchObject({ expires_in: '599', refresh_token_expires_in: '3599', refresh_count: '0' });
    expect(tokens.verify(body.access_token as string)).toEqual({
      apiKey: API_KEY,
      accessMode: 'patient',
      nhsNumber: '9000000009',
      identityProofingLevel: 'P9',
      vot: 'P9.Cp.Cd',
    });
  });

  it('issues to a P0 user without an NHS number too (test_nhs_login_happy_path_P0); PDS decides later', async () => {
    const { status, body } = await exchange({
      subject_token: await nhsLoginToken({
        nhs_number: undefined,
        identity_proofing_level: 'P0',
        vot: 'P0.Cp.Cd',
      }),
    });
    expect(status).toBe(200);
    expect(tokens.verify(body.access_token as string)).toMatchObject({
      nhsNumber: '',
      identityProofingLevel: 'P0',
    });
  });

  it('accepts RS256 as well as RS512 subject tokens (VerifyJWT.SubjectToken <Algorithm>RS256,RS512)', async () => {
    expect((await exchange({ subject_token: await cis2Token({}, { alg: 'RS256' }) })).status).toBe(200);
  });

  it('accepts an aud array that holds the client id', async () => {
    const subject = await nhsLoginToken({ aud: ['someone-else', NHS_LOGIN_CLIENT_ID] });
    expect((await exchange({ subject_token: subject })).status).toBe(200);
  });

  it('delegated access: act.sub names the signed-in proxy, the subject is the patient acted for', async () => {
    const actor = await nhsLoginToken({ nhs_number: '9000000017', sub: 'parent' });
    const { status, body } = await exchange({ subject_token: await nhsLoginToken({ act: { sub: actor } }) });
    expect(status).toBe(200);
    expect(tokens.verify(body.access_token as string)).toMatchObject({
      accessMode: 'patient',
      nhsNumber: '9000000017',
      proxyFor: '9000000009',
    });
  });

  it('takes the issuers from publicUrl when given, not from the request', async () => {
    await server.close();
    await buildServer({ publicUrl: 'https://sandbox.example.test/' });
    const claims = nhsLoginClaims('https://sandbox.example.test/nhs-login', NOW_S);
    expect(
      (await exchange({ subject_token: await subjectToken({ provider: nhsLogin, claims }) })).status,
    ).toBe(200);
    expectError(
      await exchange({ subject_token: await nhsLoginToken() }),
      400,
      "Missing or non-matching 'iss' claim in subject_token JWT",
    );
  });
});

describe('POST /oauth2/token token exchange: form errors (test_token_exchange_form_param_errors)', () => {
  it.each([
    ['missing', undefined],
    ['invalid', 'invalid'],
  ])('subject_token_type %s', async (_case, value) => {
    expectError(
      await exchange({ subject_token: await cis2Token(), subject_token_type: value }),
      400,
      "missing or invalid subject_token_type - must be 'urn:ietf:params:oauth:token-type:id_token'",
    );
  });

  it.each([
    ['missing', undefined],
    ['invalid', 'invalid'],
  ])('grant_type %s (with an id_token subject): grant_type is invalid', async (_case, value) => {
    expectError(
      await exchange({ subject_token: await cis2Token(), grant_type: value }),
      400,
      'grant_type is invalid',
    );
  });

  it.each([
    ['missing', undefined],
    ['invalid', 'invalid'],
  ])('client_assertion_type %s', async (_case, value) => {
    expectError(
      await exchange({ subject_token: await cis2Token(), client_assertion_type: value }),
      400,
      "Missing or invalid client_assertion_type - must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'",
    );
  });

  it('client_assertion_type is checked before grant_type', async () => {
    expectError(
      await exchange({
        subject_token: await cis2Token(),
        grant_type: 'invalid',
        client_assertion_type: 'invalid',
      }),
      400,
      "Missing or invalid client_assertion_type - must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'",
    );
  });

  it('Missing subject_token', async () => {
    expectError(await exchange({ subject_token: undefined }), 400, 'Missing subject_token');
  });

  it('Malformed JWT in subject_token', async () => {
    expectError(await exchange({ subject_token: 'invalid' }), 400, 'Malformed JWT in subject_token');
  });

  it('Missing client_assertion / Malformed JWT in client_assertion', async () => {
    const subject_token = await cis2Token();
    expectError(
      await exchange({ subject_token, client_assertion: undefined }),
      400,
      'Missing client_assertion',
    );
    expectError(
      await exchange({ subject_token, client_assertion: 'invalid' }),
      400,
      'Malformed JWT in client_assertion',
    );
  });

  it('the client assertion is checked before the subject token', async () => {
    expectError(
      await exchange({ subject_token: 'invalid', client_assertion: 'invalid' }),
      400,
      'Malformed JWT in client_assertion',
    );
  });
});

describe('POST /oauth2/token token exchange: client assertion, as for client_credentials', () => {
  it('a replayed client assertion jti: Non-unique (test_token_exchange_claims_assertion_invalid_jti_claim)', async () => {
    const fields = {
      subject_token: await cis2Token(),
      client_assertion: clientAssertion({ key: appKey, apiKey: API_KEY, aud: AUD, nowS: NOW_S }),
    };
    expect((await exchange(fields)).status).toBe(200);
    expectError(await exchange(fields), 400, "Non-unique 'jti' claim in client_assertion JWT");
  });

  it.each([
    [{ header: { kid: undefined } }, 400, "Missing 'kid' header in client_assertion JWT"],
    [
      { header: { kid: 'invalid' } },
      401,
      "Invalid 'kid' header in client_assertion JWT - no matching public key",
    ],
    [{ header: { typ: 'invalid' } }, 400, "Invalid 'typ' header in client_assertion JWT - must be 'JWT'"],
    [{ claims: { aud: 'invalid' } }, 401, "Missing or invalid 'aud' claim in client_assertion JWT"],
    [{ claims: { exp: NOW_S - 20 } }, 400, "Invalid 'exp' claim in client_assertion JWT - JWT has expired"],
    [
      { claims: { sub: 'invalid', iss: 'invalid' } },
      401,
      "Invalid 'iss'/'sub' claims in client_assertion JWT",
    ],
  ])('%j', async (changes, status, description) => {
    const client_assertion = clientAssertion({
      key: appKey,
      apiKey: API_KEY,
      aud: AUD,
      nowS: NOW_S,
      ...changes,
    });
    expectError(await exchange({ subject_token: await cis2Token(), client_assertion }), status, description);
  });
});

describe('POST /oauth2/token token exchange: subject token (validate-subject-token-claims.js)', () => {
  it.each([
    ['missing kid', {}, { kid: undefined }, 400, "Missing 'kid' header in subject_token JWT"],
    ['invalid typ', {}, { typ: 'invalid' }, 400, "Invalid 'typ' header in subject_token JWT - must be 'JWT'"],
    ['missing typ', {}, { typ: undefined }, 400, "Invalid 'typ' header in subject_token JWT - must be 'JWT'"],
    ['missing alg', {}, { alg: undefined }, 400, "Missing 'alg' header in subject_token JWT"],
    ['missing exp', { exp: undefined }, {}, 400, "Missing 'exp' claim in subject_token JWT"],
    [
      'string exp',
      { exp: String(NOW_S + 300) },
      {},
      400,
      "Invalid 'exp' claim in subject_token JWT - must be an integer",
    ],
    [
      'expired exp',
      { exp: NOW_S - 1 },
      {},
      400,
      "Invalid 'exp' claim in subject_token JWT - JWT has expired",
    ],
    ['missing iss', { iss: undefined }, {}, 400, "Missing 'iss' claim in subject_token JWT"],
    ['missing aud', { aud: undefined }, {}, 401, "Missing 'aud' claim in subject_token JWT"],
  ])('%s (CIS2 and NHS login alike)', async (_case, claims, header, status, description) => {
    expectError(await exchange({ subject_token: await cis2Token(claims, header) }), status, description);
    expectError(await exchange({ subject_token: await nhsLoginToken(claims, header) }), status, description);
  });

  it('checks in the script order: kid before an expired exp, exp before a missing iss', async () => {
    expectError(
      await exchange({ subject_token: await cis2Token({ exp: NOW_S - 1 }, { kid: undefined }) }),
      400,
      "Missing 'kid' header in subject_token JWT",
    );
    expectError(
      await exchange({ subject_token: await cis2Token({ exp: NOW_S - 1, iss: undefined }) }),
      400,
      "Invalid 'exp' claim in subject_token JWT - JWT has expired",
    );
  });

  it('an aud of [""] passes that script but not SelectIdTokenIssuer.js: 400', async () => {
    expectError(
      await exchange({ subject_token: await cis2Token({ aud: [''] }) }),
      400,
      "Missing 'aud' claim in subject_token JWT",
    );
  });

  it('refuses an issuer that is neither CIS2 nor NHS login (SelectIdTokenIssuer.js)', async () => {
    expectError(
      await exchange({
        subject_token: await cis2Token({ iss: 'https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk' }),
      }),
      400,
      "Missing or non-matching 'iss' claim in subject_token JWT",
    );
  });

  it('refuses an aud that is not the app client id at that provider (validate-id-token-claims.js string)', async () => {
    const description = "Invalid 'aud' claim in external ID token JWT";
    expectError(await exchange({ subject_token: await cis2Token({ aud: 'another-app' }) }), 400, description);
    // the CIS2 client id is not the NHS login one
    expectError(
      await exchange({ subject_token: await nhsLoginToken({ aud: CIS2_CLIENT_ID }) }),
      400,
      description,
    );
    // an app with no NHS login registration cannot exchange NHS login tokens
    await server.close();
    await buildServer({ apps: [{ apiKey: API_KEY, jwks: app.jwks, cis2ClientId: CIS2_CLIENT_ID }] });
    expectError(await exchange({ subject_token: await nhsLoginToken() }), 400, description);
    expect((await exchange({ subject_token: await cis2Token() })).status).toBe(200);
  });

  it('a kid not in the provider JWKS: 401 no matching public key', async () => {
    expectError(
      await exchange({ subject_token: await cis2Token({}, { kid: 'rotated-away' }) }),
      401,
      "Invalid 'kid' header in subject_token JWT - no matching public key",
    );
  });

  it('a bad signature: 401 public_key error', async () => {
    const forged = await subjectToken({
      provider: nhsLogin,
      signWith: stranger,
      claims: nhsLoginClaims(`${ORIGIN}/nhs-login`, NOW_S),
    });
    expectError(
      await exchange({ subject_token: forged }),
      401,
      'JWT signature verification failed',
      'public_key error',
    );
    // a token signed by the other provider's key under this provider's issuer
    const crossed = await subjectToken({
      provider: cis2,
      signWith: nhsLogin,
      claims: cis2Claims(`${ORIGIN}/openam/oauth2/realms/root/realms/oidc`, NOW_S),
    });
    expectError(
      await exchange({ subject_token: crossed }),
      401,
      'JWT signature verification failed',
      'public_key error',
    );
  });

  it('an algorithm VerifyJWT is not set up for, or a future nbf, ends in the catch-all unknown_error (401)', async () => {
    expectError(
      await exchange({ subject_token: await cis2Token({}, { alg: 'HS256' }) }),
      401,
      UNKNOWN_ERROR,
      'unknown_error',
    );
    expectError(
      await exchange({ subject_token: await cis2Token({ nbf: NOW_S + 60 }) }),
      401,
      UNKNOWN_ERROR,
      'unknown_error',
    );
  });

  it('a CIS2 token without an assurance level leaves no scopes: 401 unauthorized_client (RaiseFault.VerifyAccessLevel)', async () => {
    expectError(
      await exchange({ subject_token: await cis2Token({ authentication_assurance_level: undefined }) }),
      401,
      'you have tried to request authorization but your application is not configured to use this authorization grant type',
      'unauthorized_client',
    );
  });

  it('an NHS login token without identity_proofing_level breaks the scope filter: unknown_error', async () => {
    expectError(
      await exchange({ subject_token: await nhsLoginToken({ identity_proofing_level: undefined }) }),
      401,
      UNKNOWN_ERROR,
      'unknown_error',
    );
  });
});

describe('POST /oauth2/token token exchange: act.sub (validate-actor-token-claims.js)', () => {
  const actorToken = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    nhsLoginToken({ nhs_number: '9000000017', ...claims }, header);

  it.each([
    ['missing kid', {}, { kid: undefined }, 400, "Missing 'kid' header in act.sub JWT"],
    ['invalid typ', {}, { typ: 'invalid' }, 400, "Invalid 'typ' header in act.sub JWT - must be 'JWT'"],
    ['missing alg', {}, { alg: undefined }, 400, "Missing 'alg' header in act.sub JWT"],
    ['missing exp', { exp: undefined }, {}, 400, "Missing 'exp' claim in act.sub JWT"],
    ['string exp', { exp: 'soon' }, {}, 400, "Invalid 'exp' claim in act.sub JWT - must be an integer"],
    ['missing iss', { iss: undefined }, {}, 400, "Missing 'iss' claim in act.sub JWT"],
    ['missing aud', { aud: undefined }, {}, 401, "Missing 'aud' claim in act.sub JWT"],
  ])('%s', async (_case, claims, header, status, description) => {
    const subject = await nhsLoginToken({ act: { sub: await actorToken(claims, header) } });
    expectError(await exchange({ subject_token: subject }), status, description);
  });

  it('does not check the actor token expiry (the script has no such check)', async () => {
    const subject = await nhsLoginToken({ act: { sub: await actorToken({ exp: NOW_S - 3600 }) } });
    expect((await exchange({ subject_token: subject })).status).toBe(200);
  });

  it('a corrupt act.sub fails DecodeJWT.FromActToken, which no fault rule names: unknown_error', async () => {
    const subject = await nhsLoginToken({ act: { sub: 'not-a-jwt' } });
    expectError(await exchange({ subject_token: subject }), 401, UNKNOWN_ERROR, 'unknown_error');
  });

  it('act.sub is only read on NHS login tokens (those with nhs_number)', async () => {
    const subject = await cis2Token({ act: { sub: 'not-a-jwt' } });
    expect((await exchange({ subject_token: subject })).status).toBe(200);
  });

  it('subject token errors come before act.sub ones', async () => {
    const subject = await nhsLoginToken({ iss: undefined, act: { sub: 'not-a-jwt' } });
    expectError(await exchange({ subject_token: subject }), 400, "Missing 'iss' claim in subject_token JWT");
  });
});

describe('POST /oauth2/token: hand-built tokens stay hand-built', () => {
  it('a subject token signed with the right key but no alg header still gets the alg error first', async () => {
    const token = signAssertion(
      { typ: 'JWT', kid: cis2.key.kid },
      cis2Claims(`${ORIGIN}/openam/oauth2/realms/root/realms/oidc`, NOW_S),
      cis2.key.privateKey,
    );
    expectError(await exchange({ subject_token: token }), 400, "Missing 'alg' header in subject_token JWT");
  });
});
