// CIS2 Authentication OP (CIS2 "Scopes and claims",
// https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/scopes-and-claims;
// NHSDigital/identity-service-api e2e/tests/conftest.py
// `cis2_subject_token_claims` and e2e/tests/utils/response_bank.py userinfo). Real clock: oidc-provider reads it.
import type { FastifyInstance } from 'fastify';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxServer } from '../server.js';
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
import { CIS2_TEST_USERS } from './test-users.js';

const BASE = '/openam/oauth2/realms/root/realms/oidc';
const ISSUER = `http://localhost${BASE}`;
const CLIENT_ID = '999999999999.apps.national';
const REDIRECT_URI = 'https://hub.example/auth/cis2/callback';
const TWO_ROLES = CIS2_TEST_USERS.find((u) => u.roles.length === 2);
const NURSE = CIS2_TEST_USERS.find((u) => u.roles.some((r) => r.roleCode.endsWith(':R8001')));

let key: TestRpKey;
let server: FastifyInstance | undefined;
beforeAll(async () => {
  key = await rpKey('cis2-rp');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function sandbox() {
  server = await createSandboxServer({
    pds: { syntheticPatients: 0 },
    cis2: {
      clients: [{ clientId: CLIENT_ID, redirectUris: [REDIRECT_URI], jwks: { keys: [key.publicJwk] } }],
    },
  });
  return server;
}

/** Authorize → user page → (role page) → callback; `role` is the person_roleid to pick when asked. */
async function signIn(app: FastifyInstance, sub: string, scope: string, role?: string) {
  const { verifier, challenge } = pkce();
  const browser = new InjectBrowser(app);
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope,
    state: 's',
    nonce: 'n-1',
    prompt: 'login',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const start = await browser.request('GET', `${BASE}/authorize?${query}`);
  expect(start.statusCode).toBe(303);
  const userPage = await browser.request('GET', String(start.headers.location));
  const users = formOf(userPage.body, 'user');
  expect(users.values).toContain(sub);
  let chosen = await browser.request('POST', users.action, { user: sub });
  let rolePage: string | undefined;
  if (chosen.statusCode === 200) {
    rolePage = chosen.body;
    chosen = await browser.request('POST', formOf(rolePage, 'role').action, { user: sub, role: role ?? '' });
  }
  expect(chosen.statusCode).toBe(303);
  const resumed = await browser.request('GET', String(chosen.headers.location));
  expect(resumed.statusCode).toBe(303);
  const callback = new URL(String(resumed.headers.location));
  const tokens = await app.inject({
    method: 'POST',
    url: `${BASE}/access_token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(key, CLIENT_ID, `${ISSUER}/access_token`),
    }).toString(),
  });
  expect(tokens.statusCode).toBe(200);
  return { tokens: tokens.json<{ id_token: string; access_token: string }>(), rolePage };
}

async function verifyIdToken(app: FastifyInstance, idToken: string) {
  const jwks = (await app.inject({ method: 'GET', url: `${BASE}/connect/jwk_uri` })).json();
  expect(decodeProtectedHeader(idToken)).toMatchObject({ alg: 'RS512', typ: 'JWT' });
  return (await jwtVerify(idToken, createLocalJWKSet(jwks), { issuer: ISSUER, audience: CLIENT_ID })).payload;
}

describe('CIS2 discovery', () => {
  it('publishes the realm issuer and the real endpoint names', async () => {
    const app = await sandbox();
    const response = await app.inject({ method: 'GET', url: `${BASE}/.well-known/openid-configuration` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/access_token`,
      userinfo_endpoint: `${ISSUER}/userinfo`,
      jwks_uri: `${ISSUER}/connect/jwk_uri`,
      acr_values_supported: ['AAL3_ANY'],
      id_token_signing_alg_values_supported: ['RS512'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
    });
    expect(response.json().scopes_supported).toEqual(
      expect.arrayContaining([
        'nationalrbacaccess',
        'selectedrole',
        'associatedorgs',
        'professionalmemberships',
      ]),
    );
  });
});

// The smartcard page in the NHS.UK design system (nhsuk-frontend 10 markup and stylesheet).
describe('CIS2 sandbox smartcard page', () => {
  async function smartcardPage(app: FastifyInstance) {
    const browser = new InjectBrowser(app);
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: 'openid selectedrole',
      nonce: 'n',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    });
    const start = await browser.request('GET', `${BASE}/authorize?${query}`);
    const page = await browser.request('GET', String(start.headers.location));
    return { browser, page, action: formOf(page.body, 'user').action };
  }

  it('lists every smartcard user with their user id and each role (R-code) at its organisation', async () => {
    const app = await sandbox();
    const { page } = await smartcardPage(app);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('<title>Choose a smartcard – NHS Care Identity Service 2 (sandbox)</title>');
    expect(page.body).toContain(
      '<span class="nhsuk-header__service-name">NHS Care Identity Service 2 (sandbox)</span>',
    );
    expect(page.body).toMatch(/class="nhsuk-inset-text">[\s\S]*synthetic test user/);
    expect(page.body).toContain(`<link rel="stylesheet" href="${BASE}/assets/nhsuk-frontend-`);
    const choices = radioChoices(page.body, 'user');
    expect(choices.map((c) => c.value)).toEqual(CIS2_TEST_USERS.map((u) => u.sub));
    expect(choices[0]).toEqual({
      value: '555000000001',
      label: 'Dr Alex Carter',
      hint: 'User ID 555000000001 | Clinical Practitioner Access Role (R8000) at SANDBOX GP PRACTICE (Y12345) | Admin/Clinical Support Access Role (R8008) at SANDBOX COMMUNITY HEALTH TRUST (Y23456)',
    });
  });

  it('asks again with an error summary and an inline error when no smartcard is chosen, or an unknown one', async () => {
    const app = await sandbox();
    const { browser, action } = await smartcardPage(app);
    const none = await browser.request('POST', action, {});
    expect(none.statusCode).toBe(400);
    expect(errorsOn(none.body)).toEqual({
      summary: ['Select the smartcard to sign in with'],
      links: ['#user'],
      inline: ['Select the smartcard to sign in with'],
    });
    const unknown = await browser.request('POST', action, { user: '999999999999' });
    expect(unknown.statusCode).toBe(400);
    expect(errorsOn(unknown.body).summary).toEqual(['Select one of the smartcards listed']);
  });

  it('says a sign-in has expired, on a page of the same design, without the interaction cookie', async () => {
    const app = await sandbox();
    const { page } = await smartcardPage(app);
    const fresh = await app.inject({ method: 'GET', url: formOf(page.body, 'user').action });
    expect(fresh.statusCode).toBe(400);
    expect(fresh.body).toContain('<h1>Sign-in expired</h1>');
    expect(fresh.body).toContain('nhsuk-header__service-name');
  });
});

describe('CIS2 smartcard sign-in', () => {
  it('lets a user with two roles choose one: selected_roleid in the id token, both roles in userinfo', async () => {
    const app = await sandbox();
    const user = TWO_ROLES;
    const admin = user?.roles.find((r) => r.roleCode === 'S8001:G8002:R8008');
    if (!user || !admin) throw new Error('no two-role test user');
    const { tokens, rolePage } = await signIn(
      app,
      user.sub,
      'openid profile email nhsperson associatedorgs nationalrbacaccess professionalmemberships selectedrole',
      admin.personRoleId,
    );
    // The role page: a labelled radio per role profile, with its national RBAC code and organisation.
    expect(rolePage).toContain('<h1 class="nhsuk-fieldset__heading">Select your role</h1>');
    expect(radioChoices(rolePage ?? '', 'role')).toEqual([
      {
        value: '555000000101',
        label: 'Clinical Practitioner Access Role (R8000)',
        hint: 'SANDBOX GP PRACTICE (ODS code Y12345) | Role profile 555000000101, national RBAC code S8000:G8000:R8000',
      },
      {
        value: '555000000102',
        label: 'Admin/Clinical Support Access Role (R8008)',
        hint: 'SANDBOX COMMUNITY HEALTH TRUST (ODS code Y23456) | Role profile 555000000102, national RBAC code S8001:G8002:R8008',
      },
    ]);

    const claims = await verifyIdToken(app, tokens.id_token);
    expect(claims).toMatchObject({
      sub: user.sub,
      nonce: 'n-1',
      acr: 'AAL3_ANY',
      amr: ['N3_SMARTCARD'],
      id_assurance_level: 3,
      authentication_assurance_level: 3,
      realm: '/NHSIdentity/Healthcare',
      azp: CLIENT_ID,
      selected_roleid: admin.personRoleId,
    });
    expect(claims).toHaveProperty('auditTrackingId');
    expect(claims).not.toHaveProperty('nhsid_nrbac_roles');

    const userinfo = await app.inject({
      method: 'GET',
      url: `${BASE}/userinfo`,
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(userinfo.statusCode).toBe(200);
    const info = userinfo.json();
    expect(info).toMatchObject({
      sub: user.sub,
      nhsid_useruid: user.sub,
      idassurancelevel: '3',
      selected_roleid: admin.personRoleId,
      gmc_id: '7000001',
      nhsid_user_orgs: [
        { org_code: 'Y12345', org_name: expect.any(String) },
        { org_code: 'Y23456', org_name: expect.any(String) },
      ],
    });
    expect(info.nhsid_nrbac_roles).toHaveLength(2);
    expect(info.nhsid_nrbac_roles[1]).toEqual({
      person_orgid: admin.personOrgId,
      person_roleid: admin.personRoleId,
      org_code: 'Y23456',
      role_name: admin.roleName,
      role_code: 'S8001:G8002:R8008',
      activities: admin.activities,
      activity_codes: admin.activityCodes,
    });
  });

  it('skips the role page for a user with one role', async () => {
    const app = await sandbox();
    const nurse = NURSE;
    if (!nurse) throw new Error('no nurse');
    const { tokens, rolePage } = await signIn(app, nurse.sub, 'openid nationalrbacaccess selectedrole');
    expect(rolePage).toBeUndefined();
    expect((await verifyIdToken(app, tokens.id_token)).selected_roleid).toBe(nurse.roles[0]?.personRoleId);
  });

  it('has no selected_roleid without the selectedrole scope', async () => {
    const app = await sandbox();
    const { tokens, rolePage } = await signIn(app, TWO_ROLES?.sub ?? '', 'openid nationalrbacaccess');
    expect(rolePage).toBeUndefined();
    expect(await verifyIdToken(app, tokens.id_token)).not.toHaveProperty('selected_roleid');
  });

  it('asks again when the chosen role is not one of the user’s', async () => {
    const app = await sandbox();
    const { verifier: _v, challenge } = pkce();
    const browser = new InjectBrowser(app);
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: 'openid selectedrole',
      nonce: 'n',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const start = await browser.request('GET', `${BASE}/authorize?${query}`);
    const userPage = await browser.request('GET', String(start.headers.location));
    const action = formOf(userPage.body, 'user').action;
    const wrong = await browser.request('POST', action, { user: TWO_ROLES?.sub ?? '', role: '555000000103' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain(
      '<title>Error: Select your role – NHS Care Identity Service 2 (sandbox)</title>',
    );
    expect(errorsOn(wrong.body)).toEqual({
      summary: ['Select one of your roles'],
      links: ['#role'],
      inline: ['Select one of your roles'],
    });
    const none = await browser.request('POST', action, { user: TWO_ROLES?.sub ?? '', step: 'role' });
    expect(none.statusCode).toBe(400);
    expect(errorsOn(none.body).summary).toEqual(['Select the role you are using']);
    expect(radioChoices(none.body, 'role')).toHaveLength(2);
  });
});
