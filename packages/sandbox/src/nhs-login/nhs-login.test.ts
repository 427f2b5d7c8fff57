// NHS login OP (https://nhsconnect.github.io/nhslogin/scopes-and-claims/,
// https://nhsconnect.github.io/nhslogin/vectors-of-trust/).
// oidc-provider reads the real clock, so these tests use it rather than a fixed one.
import Fastify, { type FastifyInstance } from 'fastify';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxServer, type SandboxOptions } from '../server.js';
import {
  clientAssertion,
  errorsOn,
  formOf,
  InjectBrowser,
  pkce,
  radioChoices,
  rpKey,
  type TestRpKey,
} from '../testing/oidc-test-client.js';
import { mountNhsLogin } from './nhs-login.js';
import { NHS_LOGIN_TEST_USERS } from './test-users.js';

const ORIGIN = 'http://localhost';
const ISSUER = `${ORIGIN}/nhs-login`;
const CLIENT_ID = 'junction-hub';
const REDIRECT_URI = 'https://hub.example/auth/nhs-login/callback';
const JANE_SMITH = NHS_LOGIN_TEST_USERS.find((u) => u.nhsNumber === '9000000009');
const JAYNE_SMYTH = NHS_LOGIN_TEST_USERS.find((u) => u.identityProofingLevel === 'P5');

let key: TestRpKey;
let server: FastifyInstance | undefined;
beforeAll(async () => {
  key = await rpKey('rp-1');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function sandbox(options: SandboxOptions = {}) {
  server = await createSandboxServer({
    pds: { syntheticPatients: 0 },
    nhsLogin: {
      clients: [{ clientId: CLIENT_ID, redirectUris: [REDIRECT_URI], jwks: { keys: [key.publicJwk] } }],
    },
    ...options,
  });
  return server;
}

interface AuthorizeParams {
  scope?: string;
  vtr?: string;
  nonce?: string | null;
  redirectUri?: string;
  challenge: string;
}

function authorizeUrl(p: AuthorizeParams): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: p.redirectUri ?? REDIRECT_URI,
    scope: p.scope ?? 'openid profile',
    state: 'state-1',
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    ...(p.nonce !== null && { nonce: p.nonce ?? 'nonce-1' }),
    ...(p.vtr !== undefined && { vtr: p.vtr }),
  });
  return `/nhs-login/authorize?${query}`;
}

/** Authorize → sign-in page → pick `sub` → back at the client's redirect URI (that URL is returned). */
async function signIn(app: FastifyInstance, sub: string, params: Omit<AuthorizeParams, 'challenge'> = {}) {
  const { verifier, challenge } = pkce();
  const browser = new InjectBrowser(app);
  const start = await browser.request('GET', authorizeUrl({ ...params, challenge }));
  expect(start.statusCode).toBe(303);
  const signInPage = await browser.request('GET', String(start.headers.location));
  expect(signInPage.statusCode).toBe(200);
  const form = formOf(signInPage.body, 'user');
  expect(form.values).toContain(sub);
  const chosen = await browser.request('POST', form.action, { user: sub });
  expect(chosen.statusCode).toBe(303);
  const resumed = await browser.request('GET', String(chosen.headers.location));
  expect(resumed.statusCode).toBe(303);
  return { callback: new URL(String(resumed.headers.location)), verifier, signInPage: signInPage.body };
}

async function exchangeCode(app: FastifyInstance, code: string, verifier: string, assertionKey = key) {
  return app.inject({
    method: 'POST',
    url: '/nhs-login/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: CLIENT_ID,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(assertionKey, CLIENT_ID, `${ISSUER}/token`),
    }).toString(),
  });
}

async function jwks(app: FastifyInstance) {
  return (await app.inject({ method: 'GET', url: '/nhs-login/jwks' })).json<{
    keys: Record<string, unknown>[];
  }>();
}

describe('NHS login discovery', () => {
  it('publishes the issuer, the endpoints, RS512, private_key_jwt, PKCE S256 and NHS login scopes', async () => {
    const app = await sandbox({ nhsLogin: { clients: [] } });
    const response = await app.inject({ method: 'GET', url: '/nhs-login/.well-known/openid-configuration' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      userinfo_endpoint: `${ISSUER}/userinfo`,
      jwks_uri: `${ISSUER}/jwks`,
      response_types_supported: ['code'],
      id_token_signing_alg_values_supported: ['RS512'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS512'],
      code_challenge_methods_supported: ['S256'],
    });
    expect(doc.scopes_supported).toEqual(
      expect.arrayContaining([
        'openid',
        'profile',
        'basic_demographics',
        'gp_integration_credentials',
        'landline',
      ]),
    );
    expect(doc.claims_supported).toEqual(
      expect.arrayContaining(['vot', 'vtm', 'nhs_number', 'identity_proofing_level']),
    );
  });

  it('uses publicUrl as the origin of the issuer and endpoints', async () => {
    const app = await sandbox({ publicUrl: 'https://sandbox.example' });
    const doc = (
      await app.inject({ method: 'GET', url: '/nhs-login/.well-known/openid-configuration' })
    ).json();
    expect(doc.issuer).toBe('https://sandbox.example/nhs-login');
    expect(doc.token_endpoint).toBe('https://sandbox.example/nhs-login/token');
  });

  it('derives the issuer from each request, with the same public RS512 key for every origin', async () => {
    const app = await sandbox();
    const other = await app.inject({
      method: 'GET',
      url: '/nhs-login/.well-known/openid-configuration',
      headers: { host: '127.0.0.1:9000' },
    });
    expect(other.json().issuer).toBe('http://127.0.0.1:9000/nhs-login');
    const here = await jwks(app);
    const there = (
      await app.inject({ method: 'GET', url: '/nhs-login/jwks', headers: { host: '127.0.0.1:9000' } })
    ).json();
    expect(there).toEqual(here);
    expect(here.keys).toHaveLength(1);
    expect(here.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS512', use: 'sig' });
    expect(here.keys[0]).not.toHaveProperty('d');
  });
});

// The sign-in page in the NHS.UK design system (nhsuk-frontend 10 markup and stylesheet).
describe('NHS login sandbox sign-in page', () => {
  async function signInPage(app: FastifyInstance, vtr?: string) {
    const browser = new InjectBrowser(app);
    const start = await browser.request(
      'GET',
      authorizeUrl({ challenge: pkce().challenge, ...(vtr && { vtr }) }),
    );
    const page = await browser.request('GET', String(start.headers.location));
    return { browser, page, action: formOf(page.body, 'user').action };
  }

  it('lists every test user with their NHS number (3 3 4) and proofing level, under an NHS.UK header', async () => {
    const app = await sandbox();
    const { page } = await signInPage(app, JSON.stringify(['P5.Cp.Cd']));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<title>Choose a test user – NHS login (sandbox)</title>');
    expect(page.body).toContain('<span class="nhsuk-header__service-name">NHS login (sandbox)</span>');
    expect(page.body).toContain('<h1 class="nhsuk-fieldset__heading">Choose a test user</h1>');
    expect(page.body).toContain('The service asked for these vectors of trust: P5.Cp.Cd.');
    expect(page.body).toMatch(/class="nhsuk-inset-text">[\s\S]*synthetic test user/);
    const choices = radioChoices(page.body, 'user');
    expect(choices.map((c) => c.value)).toEqual(NHS_LOGIN_TEST_USERS.map((u) => u.sub));
    expect(choices).toContainEqual({
      value: JAYNE_SMYTH?.sub,
      label: 'Jayne Smyth',
      hint: 'NHS number 900 000 0017 | Identity proofing level P5 (medium): basic details matched to PDS',
    });
    // A P0 account is not traced to PDS (no NHS number) and is below the P5 asked for.
    expect(choices.find((c) => c.hint.includes('P0'))?.hint).toBe(
      'No NHS number (not matched to PDS) | Identity proofing level P0 (low): email and mobile verified | Below the level the service asked for: signing in ends with access_denied',
    );
    expect(page.body).not.toContain('<script');
    expect(page.body).not.toContain('nhsuk-error-summary');
  });

  it('is served with a Content-Security-Policy allowing only its own stylesheet, which the sandbox serves', async () => {
    const app = await sandbox();
    const { page } = await signInPage(app);
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    expect(page.headers['cache-control']).toBe('no-store');
    const href = /<link rel="stylesheet" href="([^"]+)">/.exec(page.body)?.[1] ?? '';
    expect(href).toMatch(/^\/nhs-login\/assets\/nhsuk-frontend-10\.\d+\.\d+\.min\.css$/);
    const css = await app.inject({ method: 'GET', url: href });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(css.body).toContain('.nhsuk-header');
    expect(css.body).toContain('.nhsuk-radios__input');
    // No fonts from assets.nhs.uk (the CSP allows none); icons from beside the stylesheet.
    expect(css.body).not.toContain('@font-face');
    expect(css.body).not.toContain('url(/');
    const icon = /url\((images\/[a-z-]+\.svg)\)/.exec(css.body)?.[1] ?? '';
    const image = await app.inject({ method: 'GET', url: `/nhs-login/assets/${icon}` });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/svg+xml');
    expect(
      (await app.inject({ method: 'GET', url: '/nhs-login/assets/images/..%2Fpackage.json' })).statusCode,
    ).toBe(404);
    // The NHS favicon from the same place (so a browser asks no /favicon.ico of the sandbox).
    const favicon = /<link rel="icon" href="([^"]+)" type="image\/svg\+xml">/.exec(page.body)?.[1] ?? '';
    expect(favicon).toBe('/nhs-login/assets/images/favicon.svg');
    expect((await app.inject({ method: 'GET', url: favicon })).statusCode).toBe(200);
  });

  it('asks again with an error summary and an inline error when no user is chosen, or an unknown one', async () => {
    const app = await sandbox();
    const { browser, action } = await signInPage(app);
    const none = await browser.request('POST', action, {});
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain('<title>Error: Choose a test user – NHS login (sandbox)</title>');
    expect(errorsOn(none.body)).toEqual({
      summary: ['Select the test user to sign in as'],
      links: ['#user'],
      inline: ['Select the test user to sign in as'],
    });
    expect(none.body).toContain('<div class="nhsuk-form-group nhsuk-form-group--error">');
    expect(none.body).toContain('aria-describedby="user-hint user-error"');
    expect(none.body).toContain('id="user" name="user" type="radio"');
    const unknown = await browser.request('POST', action, { user: '<script>alert(1)</script>' });
    expect(unknown.statusCode).toBe(400);
    expect(errorsOn(unknown.body).summary).toEqual(['Select one of the test users listed']);
    expect(unknown.body).not.toContain('<script');
  });

  it('escapes what it shows', async () => {
    const [first] = NHS_LOGIN_TEST_USERS;
    if (!first) throw new Error('no test user');
    const app = Fastify();
    server = app;
    await mountNhsLogin(app, {
      clients: [{ clientId: CLIENT_ID, redirectUris: [REDIRECT_URI], jwks: { keys: [key.publicJwk] } }],
      users: [{ ...first, label: '<img src=x onerror="alert(1)"> & Co' }],
    });
    const { page } = await signInPage(app);
    expect(radioChoices(page.body, 'user')[0]?.label).toBe('<img src=x onerror="alert(1)"> & Co');
    expect(page.body).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; Co');
    expect(page.body).not.toContain('<img');
  });
});

describe('NHS login sign-in (authorisation code + PKCE + private_key_jwt)', () => {
  it('signs a P9 user in: id token RS512 with the contract claims, nonce, vot and vtm', async () => {
    const app = await sandbox();
    const user = JANE_SMITH;
    if (!user) throw new Error('no P9 test user');
    const { callback, verifier, signInPage } = await signIn(app, user.sub, {
      scope: 'openid profile profile_extended email phone gp_registration_details',
    });
    // The sign-in page offers each test user as a labelled radio, NHS number and proofing level as its hint.
    expect(radioChoices(signInPage, 'user')).toContainEqual({
      value: user.sub,
      label: 'Jane Smith',
      hint: 'NHS number 900 000 0009 | Identity proofing level P9 (high): photo ID and physical comparison',
    });
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('state-1');
    const code = callback.searchParams.get('code');
    expect(code).toBeTruthy();

    const response = await exchangeCode(app, code ?? '', verifier);
    expect(response.statusCode).toBe(200);
    const tokens = response.json();
    expect(tokens).toMatchObject({
      token_type: 'Bearer',
      expires_in: 300,
      scope: expect.stringContaining('profile'),
    });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    // typ JWT as NHS login's own id tokens, which the API platform's token exchange requires.
    expect(decodeProtectedHeader(tokens.id_token)).toMatchObject({ alg: 'RS512', typ: 'JWT' });
    const { payload } = await jwtVerify(tokens.id_token, createLocalJWKSet(await jwks(app)), {
      issuer: ISSUER,
      audience: CLIENT_ID,
      algorithms: ['RS512'],
    });
    expect(payload).toMatchObject({
      sub: user.sub,
      nonce: 'nonce-1',
      vot: 'P9.Cp.Cd',
      vtm: `${ISSUER}/trustmark/localhost`,
      nhs_number: '9000000009',
      family_name: 'Smith',
      given_name: 'Jane',
      birthdate: '2010-10-22',
      identity_proofing_level: 'P9',
      id_status: 'verified',
      token_use: 'id',
      email: 'jane.smith@example.com',
      email_verified: true,
      phone_number: user.phoneNumber,
      gp_ods_code: 'Y12345',
    });
    for (const claim of ['iat', 'exp', 'jti', 'auth_time']) expect(payload).toHaveProperty(claim);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);

    const userinfo = await app.inject({
      method: 'GET',
      url: '/nhs-login/userinfo',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(userinfo.statusCode).toBe(200);
    expect(userinfo.json()).toMatchObject({ sub: user.sub, nhs_number: '9000000009', gp_ods_code: 'Y12345' });
  });

  it('refreshes with private_key_jwt: a new id token still carries the sign-in vot', async () => {
    const app = await sandbox();
    const { callback, verifier } = await signIn(app, JANE_SMITH?.sub ?? '');
    const first = (await exchangeCode(app, callback.searchParams.get('code') ?? '', verifier)).json();
    const refreshed = await app.inject({
      method: 'POST',
      url: '/nhs-login/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: first.refresh_token,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(key, CLIENT_ID, `${ISSUER}/token`),
      }).toString(),
    });
    expect(refreshed.statusCode).toBe(200);
    const { payload } = await jwtVerify(refreshed.json().id_token, createLocalJWKSet(await jwks(app)));
    expect(payload).toMatchObject({ sub: JANE_SMITH?.sub, vot: 'P9.Cp.Cd', nhs_number: '9000000009' });
  });

  it('releases only the granted scopes: basic_demographics has no NHS number, P5 has no GP credentials', async () => {
    const app = await sandbox();
    const user = JAYNE_SMYTH;
    if (!user) throw new Error('no P5 test user');
    const { callback, verifier } = await signIn(app, user.sub, {
      scope: 'openid basic_demographics gp_integration_credentials',
      vtr: '["P5.Cp.Cd"]',
    });
    const tokens = (await exchangeCode(app, callback.searchParams.get('code') ?? '', verifier)).json();
    const { payload } = await jwtVerify(tokens.id_token, createLocalJWKSet(await jwks(app)));
    expect(payload).toMatchObject({ vot: 'P5.Cp.Cd', family_name: 'Smyth', identity_proofing_level: 'P5' });
    expect(payload).not.toHaveProperty('nhs_number');
    expect(payload).not.toHaveProperty('gp_linkage_key');
    expect(payload).not.toHaveProperty('email');
  });

  it('refuses a P5 user when the default vtr (P9) is requested: access_denied at the redirect URI', async () => {
    const app = await sandbox();
    const { callback } = await signIn(app, JAYNE_SMYTH?.sub ?? '');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('refuses a wrong PKCE verifier with invalid_grant', async () => {
    const app = await sandbox();
    const { callback } = await signIn(app, JANE_SMITH?.sub ?? '');
    const response = await exchangeCode(app, callback.searchParams.get('code') ?? '', pkce().verifier);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a client assertion signed with an unregistered key with invalid_client', async () => {
    const app = await sandbox();
    const { callback, verifier } = await signIn(app, JANE_SMITH?.sub ?? '');
    const response = await exchangeCode(
      app,
      callback.searchParams.get('code') ?? '',
      verifier,
      await rpKey('rp-1'),
    );
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses an unregistered redirect URI without redirecting to it', async () => {
    const app = await sandbox();
    const response = await app.inject({
      method: 'GET',
      url: authorizeUrl({ challenge: pkce().challenge, redirectUri: 'https://evil.example/cb' }),
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).toContain('redirect_uri did not match any of the client');
    // The provider's own error page, in the sign-in pages' design and under their CSP.
    expect(response.body).toContain('<title>Sign-in error – NHS login (sandbox)</title>');
    expect(response.body).toContain('<p>Error: invalid_redirect_uri</p>');
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('refuses a request without nonce with invalid_request', async () => {
    const app = await sandbox();
    const response = await app.inject({
      method: 'GET',
      url: authorizeUrl({ challenge: pkce().challenge, nonce: null }),
    });
    expect(response.statusCode).toBe(303);
    const to = new URL(String(response.headers.location));
    expect(to.searchParams.get('error')).toBe('invalid_request');
    expect(to.searchParams.get('error_description')).toContain('nonce');
  });

  it('refuses a request without PKCE, with a malformed vtr, and with profile plus basic_demographics', async () => {
    const app = await sandbox();
    const errorOf = async (url: string) => {
      const response = await app.inject({ method: 'GET', url });
      return new URL(String(response.headers.location)).searchParams.get('error');
    };
    const noPkce = authorizeUrl({ challenge: 'x' }).replace(
      /&code_challenge=[^&]*&code_challenge_method=S256/,
      '',
    );
    expect(await errorOf(noPkce)).toBe('invalid_request');
    expect(await errorOf(authorizeUrl({ challenge: pkce().challenge, vtr: 'P9' }))).toBe('invalid_request');
    expect(
      await errorOf(
        authorizeUrl({ challenge: pkce().challenge, scope: 'openid profile basic_demographics' }),
      ),
    ).toBe('invalid_scope');
  });
});

// A proxy (parent, carer) picks whose record they use. NHS login's own proxy mechanism is not
// published; the sandbox models the API platform's `act.sub` contract (validate-actor-token-claims.js).
describe('NHS login proxy sign-in ("Whose record are you using?")', () => {
  const PARENT = NHS_LOGIN_TEST_USERS.find((u) => u.proxyFor && u.proxyFor.length > 0);
  const CHILD = PARENT?.proxyFor?.[0]?.nhsNumber ?? '';

  async function proxySignIn(app: FastifyInstance, choice: Record<string, string>) {
    if (!PARENT) throw new Error('no proxy test user');
    const { verifier, challenge } = pkce();
    const browser = new InjectBrowser(app);
    const start = await browser.request('GET', authorizeUrl({ challenge }));
    const signInPage = await browser.request('GET', String(start.headers.location));
    const form = formOf(signInPage.body, 'user');
    const whose = await browser.request('POST', form.action, { user: PARENT.sub });
    expect(whose.statusCode).toBe(200);
    const choices = formOf(whose.body, 'for');
    const chosen = await browser.request('POST', choices.action, { user: PARENT.sub, ...choice });
    return { browser, whose: whose.body, choices, chosen, verifier };
  }

  async function idTokenAfter(app: FastifyInstance, choice: Record<string, string>) {
    const { browser, chosen, verifier } = await proxySignIn(app, choice);
    expect(chosen.statusCode).toBe(303);
    const resumed = await browser.request('GET', String(chosen.headers.location));
    const code = new URL(String(resumed.headers.location)).searchParams.get('code') ?? '';
    const tokens = (await exchangeCode(app, code, verifier)).json();
    const keys = createLocalJWKSet(await jwks(app));
    const { payload } = await jwtVerify(tokens.id_token, keys, {
      issuer: ISSUER,
      audience: CLIENT_ID,
      algorithms: ['RS512'],
    });
    return { payload, keys, accessToken: String(tokens.access_token) };
  }

  it('asks a proxy whose record, with a labelled radio per person', async () => {
    const app = await sandbox();
    const { whose, choices } = await proxySignIn(app, {});
    expect(whose).toContain('<h1 class="nhsuk-fieldset__heading">Whose record are you using?</h1>');
    expect(choices.values).toEqual(['self', CHILD]);
    expect(radioChoices(whose, 'for')).toEqual([
      { value: 'self', label: 'Myself', hint: 'Jane McMatch-Single, NHS number 999 990 0046' },
      { value: CHILD, label: 'John Paul James Smith', hint: 'NHS number 999 990 0003, parent access' },
    ]);
    expect(whose).not.toContain('<script');
  });

  it('choosing someone else: the id token is about them and nests the actor id token in act.sub', async () => {
    const app = await sandbox();
    const { payload, keys, accessToken } = await idTokenAfter(app, { for: CHILD });
    expect(payload).toMatchObject({
      nonce: 'nonce-1',
      nhs_number: CHILD,
      family_name: 'Smith',
      identity_proofing_level: 'P9',
      vot: 'P9.Cp.Cd',
    });
    expect(payload.sub).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(payload.sub).not.toBe(PARENT?.sub);
    expect(payload.birthdate).toEqual(expect.any(String));
    const actorJwt = (payload.act as { sub?: unknown } | undefined)?.sub;
    expect(actorJwt).toEqual(expect.any(String));
    // The actor token is signed like an id token: RS512, the provider's key, typ JWT.
    expect(decodeProtectedHeader(String(actorJwt))).toMatchObject({ alg: 'RS512', typ: 'JWT' });
    const actor = await jwtVerify(String(actorJwt), keys, {
      issuer: ISSUER,
      audience: CLIENT_ID,
      algorithms: ['RS512'],
    });
    expect(actor.payload).toMatchObject({
      sub: PARENT?.sub,
      nhs_number: PARENT?.nhsNumber,
      identity_proofing_level: 'P9',
      vot: 'P9.Cp.Cd',
    });
    for (const claim of ['exp', 'iat', 'jti']) expect(actor.payload).toHaveProperty(claim);
    // UserInfo describes the same person, without act.
    const info = await app.inject({
      method: 'GET',
      url: '/nhs-login/userinfo',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(info.json()).toMatchObject({ sub: payload.sub, nhs_number: CHILD });
    expect(info.json()).not.toHaveProperty('act');
  });

  it('choosing themselves: the ordinary id token, no act', async () => {
    const app = await sandbox();
    const { payload } = await idTokenAfter(app, { for: 'self' });
    expect(payload).toMatchObject({ sub: PARENT?.sub, nhs_number: PARENT?.nhsNumber });
    expect(payload).not.toHaveProperty('act');
  });

  it('refuses someone the proxy does not act for, showing the page again with the error', async () => {
    const app = await sandbox();
    const { chosen } = await proxySignIn(app, { for: '9000000009' });
    expect(chosen.statusCode).toBe(400);
    expect(errorsOn(chosen.body)).toEqual({
      summary: ['Select yourself or one of the people you act for'],
      links: ['#for'],
      inline: ['Select yourself or one of the people you act for'],
    });
  });

  it('asks again, with an error, when the question is answered with no choice', async () => {
    const app = await sandbox();
    const { chosen } = await proxySignIn(app, { step: 'for' });
    expect(chosen.statusCode).toBe(400);
    expect(errorsOn(chosen.body).summary).toEqual(['Select whose record you are using']);
    expect(radioChoices(chosen.body, 'for').map((c) => c.value)).toEqual(['self', CHILD]);
  });
});
