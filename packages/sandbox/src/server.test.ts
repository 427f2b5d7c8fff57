import type { FastifyInstance } from 'fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NHS_LOGIN_TEST_USERS } from './nhs-login/test-users.js';
import { createSandboxServer, redactUrl, type SandboxOptions } from './server.js';
import { clientAssertion, type TestKey, testKey } from './testing/oauth-test-keys.js';
import {
  formOf,
  InjectBrowser,
  pkce,
  clientAssertion as rpAssertion,
  rpKey,
} from './testing/oidc-test-client.js';

const NOW_MS = Date.UTC(2026, 0, 1);
const API_KEY = 'e2e-app';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const PATIENT = '/personal-demographics/FHIR/R4/Patient/9000000009';

let key: TestKey;
let server: FastifyInstance | undefined;
beforeAll(async () => {
  key = await testKey('e2e-1');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A sandbox with one registered app and a fixed clock; `auth: null` runs it without auth. */
async function sandbox(
  options: Omit<SandboxOptions, 'auth'> & { auth?: SandboxOptions['auth'] | null } = {},
) {
  const { auth = { apps: [{ apiKey: API_KEY, jwks: { keys: [key.publicJwk] } }] }, ...rest } = options;
  server = await createSandboxServer({
    now: () => new Date(NOW_MS),
    pds: { syntheticPatients: 0 },
    ...rest,
    ...(auth !== null && { auth }),
  });
  return server;
}

function tokenForm(aud: string): string {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: clientAssertion({ key, apiKey: API_KEY, aud, nowS: NOW_MS / 1000 }),
  }).toString();
}

async function injectToken(app: FastifyInstance, aud = 'http://localhost:80/oauth2/token') {
  const response = await app.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: tokenForm(aud),
  });
  expect(response.statusCode).toBe(200);
  return response.json<{ access_token: string }>().access_token;
}

// Headers PDS requires of every call (specification/personal-demographics.yaml: X-Request-ID).
const pdsHeaders = { 'x-request-id': '60E0B220-8136-4CA5-AE46-1D97EF59D068' };

describe('createSandboxServer', () => {
  it('answers GET /_status', async () => {
    const app = await sandbox({ auth: null });
    const response = await app.inject({ method: 'GET', url: '/_status' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'pass', auth: 'off' });
  });

  it('with auth, PDS refuses a request without a token (401) and serves one with a token from /oauth2/token', async () => {
    const app = await sandbox();
    const refused = await app.inject({ method: 'GET', url: PATIENT, headers: pdsHeaders });
    expect(refused.statusCode).toBe(401);
    expect(JSON.stringify(refused.json())).toContain('ACCESS_DENIED');

    const accessToken = await injectToken(app);
    const served = await app.inject({
      method: 'GET',
      url: PATIENT,
      headers: { ...pdsHeaders, authorization: `Bearer ${accessToken}` },
    });
    expect(served.statusCode).toBe(200);
    expect(served.json()).toMatchObject({ resourceType: 'Patient', id: '9000000009' });
  });

  it('a token from /oauth2/token makes PDS apply the application-restricted rules (no create: 403 INVALID_METHOD)', async () => {
    const app = await sandbox();
    const accessToken = await injectToken(app);
    const created = await app.inject({
      method: 'POST',
      url: '/personal-demographics/FHIR/R4/Patient',
      headers: {
        ...pdsHeaders,
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/fhir+json',
      },
      payload: JSON.stringify({ nhsNumberAllocation: 'Done' }),
    });
    expect(created.statusCode).toBe(403);
    expect(JSON.stringify(created.json())).toContain('INVALID_METHOD');
  });

  it('with auth, PDS refuses a token it did not issue and one that has expired', async () => {
    let nowMs = NOW_MS;
    const app = await sandbox({ now: () => new Date(nowMs) });
    const accessToken = await injectToken(app);
    const get = (token: string) =>
      app.inject({
        method: 'GET',
        url: PATIENT,
        headers: { ...pdsHeaders, authorization: `Bearer ${token}` },
      });
    expect((await get('made-up-token')).statusCode).toBe(401);
    expect((await get(accessToken)).statusCode).toBe(200);
    nowMs += 599_000;
    expect((await get(accessToken)).statusCode).toBe(401);
  });

  it('without auth, PDS needs no token', async () => {
    const app = await sandbox({ auth: null });
    const response = await app.inject({ method: 'GET', url: PATIENT, headers: pdsHeaders });
    expect(response.statusCode).toBe(200);
  });

  it("derives the token URL (the assertion's aud) from the port it listens on", async () => {
    const app = await sandbox();
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const tokenUrl = `${address}/oauth2/token`;
    // Node's fetch sends `application/x-www-form-urlencoded;charset=UTF-8`.
    const ok = await fetch(tokenUrl, {
      method: 'POST',
      body: new URLSearchParams(tokenForm(tokenUrl)),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ expires_in: '599', token_type: 'Bearer' });
    const wrongPort = await fetch(tokenUrl, {
      method: 'POST',
      body: new URLSearchParams(tokenForm('http://127.0.0.1:1/oauth2/token')),
    });
    expect(wrongPort.status).toBe(401);
  });

  it('uses auth.tokenUrl as the aud when set (a sandbox behind a proxy)', async () => {
    const tokenUrl = 'https://sandbox.example.org/oauth2/token';
    const app = await sandbox({
      auth: { apps: [{ apiKey: API_KEY, jwks: { keys: [key.publicJwk] } }], tokenUrl },
    });
    expect(typeof (await injectToken(app, tokenUrl))).toBe('string');
  });
});

describe('sandbox logs', () => {
  it('hold no NHS number, search parameter or bearer token', async () => {
    const lines: string[] = [];
    const stream = { write: (line: string) => lines.push(line) };
    const app = await sandbox({ auth: null, logger: { level: 'info', stream } });
    await app.inject({
      method: 'GET',
      url: `${PATIENT}?family=Smith`,
      headers: { ...pdsHeaders, authorization: 'Bearer secret-token' },
    });
    const log = lines.join('');
    expect(log).toContain('/personal-demographics/FHIR/R4/Patient/**********');
    expect(log).not.toMatch(/9000000009|Smith|secret-token/);
  });
});

describe('redactUrl', () => {
  it('drops the query and masks NHS numbers in paths', () => {
    expect(redactUrl('/personal-demographics/FHIR/R4/Patient/9000000009?family=Smith')).toBe(
      '/personal-demographics/FHIR/R4/Patient/**********',
    );
  });
});

describe('identity providers wired to the API platform', () => {
  // oidc-provider reads the real clock, so this sandbox runs on it too (no fixed `now`).
  it('NHS login sign-in, then token exchange of the id_token, then PDS reads the patient’s own record', async () => {
    const rp = await rpKey('hub-nhs-login');
    const redirectUri = 'https://hub.example/auth/nhs-login/callback';
    server = await createSandboxServer({
      pds: { syntheticPatients: 0 },
      auth: { apps: [{ apiKey: API_KEY, jwks: { keys: [key.publicJwk] }, nhsLoginClientId: 'hub' }] },
      nhsLogin: {
        clients: [{ clientId: 'hub', redirectUris: [redirectUri], jwks: { keys: [rp.publicJwk] } }],
      },
    });
    const app = server;
    const user = NHS_LOGIN_TEST_USERS.find((u) => u.nhsNumber === '9000000009');
    if (!user) throw new Error('no P9 user');
    const { verifier, challenge } = pkce();
    const browser = new InjectBrowser(app);
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'hub',
      redirect_uri: redirectUri,
      scope: 'openid profile',
      nonce: 'n',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const start = await browser.request('GET', `/nhs-login/authorize?${query}`);
    const page = await browser.request('GET', String(start.headers.location));
    const chosen = await browser.request('POST', formOf(page.body, 'user').action, { user: user.sub });
    const resumed = await browser.request('GET', String(chosen.headers.location));
    const code = new URL(String(resumed.headers.location)).searchParams.get('code') ?? '';
    const idTokenResponse = await app.inject({
      method: 'POST',
      url: '/nhs-login/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: await rpAssertion(rp, 'hub', 'http://localhost/nhs-login/token'),
      }).toString(),
    });
    expect(idTokenResponse.statusCode).toBe(200);

    const exchanged = await app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
        subject_token: idTokenResponse.json().id_token,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: clientAssertion({
          key,
          apiKey: API_KEY,
          aud: 'http://localhost:80/oauth2/token',
          nowS: Math.floor(Date.now() / 1000),
        }),
      }).toString(),
    });
    expect(exchanged.statusCode).toBe(200);
    const accessToken = exchanged.json<{ access_token: string }>().access_token;
    const own = await app.inject({
      method: 'GET',
      url: PATIENT,
      headers: { ...pdsHeaders, authorization: `Bearer ${accessToken}` },
    });
    expect(own.statusCode).toBe(200);
  });
});
