import { AuthError } from '@junction/client';
import type { InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../access/api-keys.js';
import { type ActiveSession, createSession, type SessionPrincipal } from '../access/sessions.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import type { PdsPort } from '../journeys/patient-lookup.js';
import {
  FAKE_ACCESS_TOKEN,
  FAKE_ID_TOKEN,
  type FakeCis2,
  type FakeNhsLogin,
  fakeCis2,
  fakeNhsLogin,
} from '../testing/fake-identity-providers.js';
import { type FakePds, fakePds } from '../testing/fake-pds.js';
import { JANE_NHS, JANET_NHS } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';

const TIME = new Date('2025-05-06T07:08:09.000Z');
const JANE_SUB = '49f470a1-cc52-49b7-beba-0f9cec937c46';
const PARENT_SUB = '7d3e5f2a-1c4b-4e8d-9a6f-0b2c4d6e8f46';
const CLINICIAN_ROLES = [
  {
    person_orgid: '555254239107',
    person_roleid: '555254240100',
    org_code: 'A12345',
    role_name: '"Clinical":"Clinical Provision":"Clinical Practitioner Access Role"',
    role_code: 'S8000:G8000:R8000',
  },
  {
    person_orgid: '555254239108',
    person_roleid: '555254240101',
    org_code: 'B86041',
    role_name: '"Admin & Clerical":"Admin and Clerical":"Admin/Clinical Support Access Role"',
    role_code: 'S8001:G8002:R8008',
  },
];

describe.each(await testStores())('sign-in and sessions on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  let pds: FakePds;
  let userPds: FakePds;
  let nhsLogin: FakeNhsLogin;
  let cis2: FakeCis2;
  let logs: string[];
  let bodies: string[];
  let clock: Date;
  let sessionsSeen: ActiveSession[];

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    pds = fakePds();
    userPds = fakePds();
    nhsLogin = fakeNhsLogin();
    cis2 = fakeCis2();
    logs = [];
    bodies = [];
    clock = TIME;
    sessionsSeen = [];
    const config = loadConfig(
      {
        JUNCTION_AUTH_RETURN_URLS:
          'https://app.example.com/signed-in,junction-app://signed-in,http://127.0.0.1/cli-callback',
      },
      { logLevel: 'trace' },
    );
    hub = await createHub(config, {
      store: t.store,
      pds,
      now: () => clock,
      logDestination: { write: (line: string) => void logs.push(line) },
      nhsLogin,
      cis2,
      delegationsFor: async ({ sub }) =>
        sub === PARENT_SUB ? [{ nhsNumber: JANET_NHS, access: ['demographics'] }] : [],
      pdsForSession: (session): PdsPort => {
        sessionsSeen.push(session);
        return userPds;
      },
    });
  });
  afterEach(async () => {
    await hub?.close();
    await t?.cleanup();
  });

  const inject = async (options: InjectOptions) => {
    const res = await hub.app.inject(options);
    bodies.push(res.body);
    return res;
  };
  const auditRows = () => t.store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();

  /** Runs a whole sign-in: login redirect, then the provider's redirect back to the callback. */
  async function signIn(provider: 'nhs-login' | 'cis2', query = '') {
    const login = await inject({ url: `/auth/${provider}/login${query}` });
    expect(login.statusCode).toBe(302);
    const location = new URL(String(login.headers.location));
    const state = location.searchParams.get('state') ?? '';
    const callback = await inject({
      url: `/auth/${provider}/callback?code=auth-code-123&state=${encodeURIComponent(state)}`,
    });
    return { login, location, state, callback };
  }

  const sessionCookieOf = (setCookie: string | string[] | undefined) =>
    /junction_session=(jss_[A-Za-z0-9_-]+)/.exec([setCookie].flat().join('\n'))?.[1] ?? '';

  it('signs a P9 patient in with NHS login: PKCE, state, nonce, vtr kept server-side; a secure session cookie', async () => {
    nhsLogin.next = {
      claims: { sub: JANE_SUB, nhs_number: JANE_NHS, identity_proofing_level: 'P9', vot: 'P9.Cp.Cd' },
    };
    const { location, state, callback } = await signIn('nhs-login');
    expect(location.origin).toBe('https://nhs-login.example');
    expect(JSON.parse(location.searchParams.get('vtr') ?? '')).toEqual(['P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm']);
    expect(nhsLogin.exchanges[0]).toMatchObject({
      state,
      callbackUrl: expect.stringMatching(
        /^http:\/\/127\.0\.0\.1:8080\/auth\/nhs-login\/callback\?code=auth-code-123&state=/,
      ),
    });
    expect(nhsLogin.exchanges[0]?.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect(callback.statusCode).toBe(200);
    expect(callback.headers['cache-control']).toBe('no-store');
    const setCookie = String(callback.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^junction_session=jss_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/,
    );
    expect(callback.json()).toEqual({
      principal: {
        kind: 'patient',
        sub: JANE_SUB,
        identityProofingLevel: 'P9',
        nhsNumber: JANE_NHS,
        vot: 'P9.Cp.Cd',
        delegations: [],
      },
      expiresAt: new Date(TIME.getTime() + 3600_000).toISOString(),
    });
    // The sign-in under way is gone: a replayed callback is refused.
    expect(await t.store.db.selectFrom('auth_requests').selectAll().execute()).toEqual([]);
    const replay = await inject({ url: `/auth/nhs-login/callback?code=auth-code-123&state=${state}` });
    expect(replay.statusCode).toBe(400);
    expect(nhsLogin.exchanges).toHaveLength(1);

    const token = sessionCookieOf(callback.headers['set-cookie']);
    const cookie = { cookie: `junction_session=${token}` };
    const own = await inject({ url: `/fhir/R4/Patient/${JANE_NHS}`, headers: cookie });
    expect(own.statusCode).toBe(200);
    // User-restricted PDS: the session's id_token is what gets exchanged.
    expect(userPds.calls).toHaveLength(1);
    expect(pds.calls).toHaveLength(0);
    expect(sessionsSeen[0]?.idToken).toBe(FAKE_ID_TOKEN);
    const other = await inject({ url: `/fhir/R4/Patient/${JANET_NHS}`, headers: cookie });
    expect(other.statusCode).toBe(403);
    expect(other.json().issue[0].diagnostics).toMatch(/only their own record/);

    // Stored: the token's hash only; the id_token encrypted.
    const [row] = await t.store.db.selectFrom('sessions').selectAll().execute();
    expect(JSON.stringify(row)).not.toContain(token.slice(4));
    expect(JSON.stringify(row)).not.toContain(FAKE_ID_TOKEN);
    expect(row?.id_token_enc).toMatch(/^v1\./);

    const who = await inject({ url: '/auth/session', headers: cookie });
    expect(who.json()).toMatchObject({
      principal: { kind: 'patient', nhsNumber: JANE_NHS },
      session: { createdAt: TIME.toISOString() },
    });
    expect(who.body).not.toContain(FAKE_ID_TOKEN);

    // Another site's page cannot sign the user out (CSRF); the hub's own page can.
    const forged = await inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { ...cookie, origin: 'https://evil.example' },
    });
    expect(forged.statusCode).toBe(403);
    const logout = await inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { ...cookie, origin: 'http://127.0.0.1:8080' },
    });
    expect(logout.statusCode).toBe(204);
    expect(String(logout.headers['set-cookie'])).toMatch(
      /^junction_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0$/,
    );
    expect((await inject({ url: '/auth/session', headers: cookie })).statusCode).toBe(401);
    expect(
      (await t.store.db.selectFrom('sessions').select('id_token_enc').executeTakeFirst())?.id_token_enc,
    ).toBeNull();

    const audit = await auditRows();
    expect(
      audit.map((r) => [r.action, r.actor_kind, r.actor_user_id, r.decision, r.decision_rule, r.http_status]),
    ).toEqual([
      ['session.create', 'patient', JANE_SUB, 'allowed', 'sign-in.nhs-login', 200],
      ['session.create', null, null, 'denied', 'sign-in.unknown-state', 400],
      ['patient.read', 'patient', JANE_SUB, 'allowed', 'patient.own-record', 200],
      ['patient.read', 'patient', JANE_SUB, 'denied', 'patient.other-record', 403],
      ['session.end', 'patient', JANE_SUB, 'allowed', 'session.own', 204],
    ]);
    expect(await verifyAuditChain(t.store)).toMatchObject({ ok: true });
    expectNoSecretsLeaked([token, FAKE_ID_TOKEN, FAKE_ACCESS_TOKEN, state, ...exchangeSecrets()], {
      bodiesToo: false,
    });
  });

  it('hands a mobile app its bearer token in the redirect fragment, only to an allowed return URL', async () => {
    nhsLogin.next = {
      claims: { sub: JANE_SUB, nhs_number: JANE_NHS, identity_proofing_level: 'P9', vot: 'P9.Cm' },
    };
    const { callback } = await signIn('nhs-login', '?return_to=junction-app://signed-in&response=token');
    expect(callback.statusCode).toBe(303);
    expect(callback.headers['set-cookie']).toBeUndefined();
    const location = String(callback.headers.location);
    expect(location).toMatch(/^junction-app:\/\/signed-in#session_token=jss_[A-Za-z0-9_-]{43}&expires_at=/);
    const token = new URLSearchParams(location.split('#')[1]).get('session_token') ?? '';
    const res = await inject({
      url: `/fhir/R4/Patient/${JANE_NHS}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);

    // A browser with a return URL: cookie, then a redirect with nothing in the URL.
    const web = await signIn(
      'nhs-login',
      `?return_to=${encodeURIComponent('https://app.example.com/signed-in')}`,
    );
    expect(web.callback.statusCode).toBe(303);
    expect(web.callback.headers.location).toBe('https://app.example.com/signed-in');
    expect(sessionCookieOf(web.callback.headers['set-cookie'])).toMatch(/^jss_/);

    // A native app on loopback may use any port (RFC 8252 §7.3); nothing else about the URL may vary.
    const cli = await inject({
      url: `/auth/nhs-login/login?response=token&return_to=${encodeURIComponent('http://127.0.0.1:53121/cli-callback')}`,
    });
    expect(cli.statusCode).toBe(302);
    for (const bad of [
      'http://127.0.0.1:53121/other',
      'http://localhost:53121/cli-callback',
      'https://127.0.0.1/cli-callback',
      'https://evil.example/signed-in',
      'https://app.example.com/other',
      'junction-app://elsewhere',
      'nonsense',
    ]) {
      const res = await inject({ url: `/auth/nhs-login/login?return_to=${encodeURIComponent(bad)}` });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().issue[0].details.coding[0].code).toBe('INVALID_VALUE');
    }
    expect((await inject({ url: '/auth/nhs-login/login?response=implicit' })).statusCode).toBe(400);
    expect((await inject({ url: '/auth/nhs-login/login?proofing=P7' })).statusCode).toBe(400);
    expectNoSecretsLeaked([token, FAKE_ID_TOKEN, FAKE_ACCESS_TOKEN, ...exchangeSecrets()], {
      bodiesToo: false,
    });
  });

  it('asks for P5 when told; a P5 patient reads their demographics but cannot update them (P9)', async () => {
    nhsLogin.next = {
      claims: { sub: 'p5-sub', nhs_number: JANE_NHS, identity_proofing_level: 'P5', vot: 'P5.Cp.Cd' },
    };
    const { location, callback } = await signIn('nhs-login', '?proofing=P5');
    expect(JSON.parse(location.searchParams.get('vtr') ?? '')).toEqual([
      'P5.Cp.Cd',
      'P5.Cp.Ck',
      'P5.Cm',
      'P9.Cp.Cd',
      'P9.Cp.Ck',
      'P9.Cm',
    ]);
    const cookie = { cookie: `junction_session=${sessionCookieOf(callback.headers['set-cookie'])}` };
    expect((await inject({ url: `/fhir/R4/Patient/${JANE_NHS}`, headers: cookie })).statusCode).toBe(200);
    const patch = await inject({
      method: 'PATCH',
      url: `/fhir/R4/Patient/${JANE_NHS}`,
      headers: {
        ...cookie,
        'sec-fetch-site': 'same-origin',
        'if-match': 'W/"2"',
        'content-type': 'application/json-patch+json',
      },
      payload: JSON.stringify({ patches: [{ op: 'replace', path: '/gender', value: 'female' }] }),
    });
    expect(patch.statusCode).toBe(403);
    expect(patch.json().issue[0].diagnostics).toMatch(/needs identity proofing P9/);
  });

  it('makes a proxy of a parent with delegations, and takes no NHS number from a P0 sign-in', async () => {
    nhsLogin.next = {
      claims: { sub: PARENT_SUB, nhs_number: '9000000017', identity_proofing_level: 'P9', vot: 'P9.Cp.Cd' },
    };
    const { callback } = await signIn('nhs-login');
    expect(callback.json().principal.delegations).toEqual([
      { nhsNumber: JANET_NHS, access: ['demographics'] },
    ]);
    const cookie = { cookie: `junction_session=${sessionCookieOf(callback.headers['set-cookie'])}` };
    expect((await inject({ url: `/fhir/R4/Patient/${JANET_NHS}`, headers: cookie })).statusCode).toBe(200);
    expect((await inject({ url: `/fhir/R4/Patient/${JANE_NHS}`, headers: cookie })).statusCode).toBe(403);

    nhsLogin.next = { claims: { sub: 'p0-sub', nhs_number: JANE_NHS, vot: 'P0.Cp' } };
    const p0 = await signIn('nhs-login', '?proofing=P0');
    expect(p0.callback.json().principal).toEqual({
      kind: 'patient',
      sub: 'p0-sub',
      identityProofingLevel: 'P0',
      vot: 'P0.Cp',
      delegations: [],
    });
  });

  /** An unsigned stand-in for the actor id token in `act.sub` (the fake RP "verified" the outer token). */
  const actorJwt = (claims: Record<string, unknown>) =>
    [{ alg: 'RS512', kid: 'k', typ: 'JWT' }, claims]
      .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
      .concat('c2ln')
      .join('.');
  const CHILD_SUB = 'child-sub-0001';
  const actingClaims = (child: string, actor: Record<string, unknown> = {}) => ({
    sub: CHILD_SUB,
    nhs_number: child,
    identity_proofing_level: 'P9' as const,
    vot: 'P9.Cp.Cd',
    act: {
      sub: actorJwt({
        iss: 'https://nhs-login.example',
        aud: 'hub',
        exp: 4102444800,
        sub: PARENT_SUB,
        nhs_number: '9000000017',
        ...actor,
      }),
    },
  });

  it('signs a proxy in for the person in the id token (act.sub): the actor acts for them, by delegation only', async () => {
    nhsLogin.next = { claims: actingClaims(JANET_NHS) };
    const { callback } = await signIn('nhs-login');
    expect(callback.statusCode, callback.body).toBe(200);
    expect(callback.json().principal).toEqual({
      kind: 'patient',
      sub: PARENT_SUB,
      nhsNumber: '9000000017',
      identityProofingLevel: 'P9',
      vot: 'P9.Cp.Cd',
      delegations: [{ nhsNumber: JANET_NHS, access: ['demographics'] }],
      actingFor: { nhsNumber: JANET_NHS, sub: CHILD_SUB },
    });
    const cookie = { cookie: `junction_session=${sessionCookieOf(callback.headers['set-cookie'])}` };
    const who = await inject({ url: '/auth/session', headers: cookie });
    expect(who.json().principal.actingFor).toEqual({ nhsNumber: JANET_NHS, sub: CHILD_SUB });

    const child = await inject({ url: `/fhir/R4/Patient/${JANET_NHS}`, headers: cookie });
    expect(child.statusCode, child.body).toBe(200);
    // Token exchange gets the id token as signed in: the subject token carrying act.
    expect(sessionsSeen.at(-1)?.idToken).toBe(FAKE_ID_TOKEN);
    // The session is for the child's record: not the actor's own, nor anyone else's.
    expect((await inject({ url: '/fhir/R4/Patient/9000000017', headers: cookie })).statusCode).toBe(403);
    expect((await inject({ url: `/fhir/R4/Patient/${JANE_NHS}`, headers: cookie })).statusCode).toBe(403);
    const rows = await auditRows();
    expect(rows.map((r) => [r.action, r.actor_user_id, r.decision, r.decision_rule])).toEqual([
      ['session.create', PARENT_SUB, 'allowed', 'sign-in.nhs-login'],
      ['patient.read', PARENT_SUB, 'allowed', 'patient.proxy'],
      ['patient.read', PARENT_SUB, 'denied', 'patient.acting-for'],
      ['patient.read', PARENT_SUB, 'denied', 'patient.acting-for'],
    ]);
    expectNoSecretsLeaked(['eyJhbGciOi'], { bodiesToo: true });
  });

  it('signs a proxy in for someone without a delegation, but the policy denies their record (audited)', async () => {
    nhsLogin.next = { claims: actingClaims(JANE_NHS) };
    const { callback } = await signIn('nhs-login');
    expect(callback.statusCode, callback.body).toBe(200);
    expect(callback.json().principal.actingFor).toEqual({ nhsNumber: JANE_NHS, sub: CHILD_SUB });
    const cookie = { cookie: `junction_session=${sessionCookieOf(callback.headers['set-cookie'])}` };
    const read = await inject({ url: `/fhir/R4/Patient/${JANE_NHS}`, headers: cookie });
    expect(read.statusCode).toBe(403);
    expect(userPds.calls).toHaveLength(0);
    expect((await auditRows()).at(-1)).toMatchObject({
      action: 'patient.read',
      decision: 'denied',
      decision_rule: 'patient.other-record',
    });
  });

  it('refuses an act claim that holds no usable actor id token', async () => {
    const bad = [
      { act: { sub: 'not-a-jwt' } },
      { act: 'x' },
      actingClaims(JANET_NHS, { iss: 'https://elsewhere.example' }),
      actingClaims(JANET_NHS, { nhs_number: '9000000000' }),
      actingClaims(JANET_NHS, { nhs_number: JANET_NHS }),
    ];
    for (const claims of bad) {
      nhsLogin.next = { claims: { ...actingClaims(JANET_NHS), ...claims } };
      const { callback } = await signIn('nhs-login');
      expect(callback.statusCode, JSON.stringify(claims)).toBe(401);
    }
    const denials = (await auditRows()).filter((r) => r.decision_rule === 'sign-in.invalid-actor');
    expect(denials).toHaveLength(bad.length);
    expect(await t.store.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
  });

  it('signs a clinician in with CIS2 in the role they selected; that role decides and is sent to PDS', async () => {
    cis2.next = {
      claims: {
        sub: '555254242106',
        selected_roleid: '555254240101',
        acr: 'AAL3_ANY',
        amr: ['N3_SMARTCARD'],
      },
      // CIS2 UserInfo names the person (CONTRACTS.md §2e): `name` family name first, as CIS2 sends it.
      userinfo: {
        nhsid_useruid: '555254242106',
        name: 'Carter Alex Dr',
        title: 'Dr',
        given_name: 'Alex',
        family_name: 'Carter',
        nhsid_nrbac_roles: CLINICIAN_ROLES,
      },
    };
    const { location, callback } = await signIn('cis2');
    expect(cis2.authorizations[0]?.params).toMatchObject({ selectRole: true });
    expect(location.searchParams.get('scope')).toBe('openid profile nhsperson nationalrbacaccess');
    expect(callback.statusCode).toBe(200);
    expect(callback.json().principal).toEqual({
      kind: 'clinician',
      uid: '555254242106',
      roleId: '555254240101',
      roleCode: 'S8001:G8002:R8008',
      roleName: CLINICIAN_ROLES[1]?.role_name,
      organisationOds: 'B86041',
      name: 'Dr Alex Carter',
    });
    const cookie = { cookie: `junction_session=${sessionCookieOf(callback.headers['set-cookie'])}` };
    // The name is kept in the session: the console's header shows it.
    const who = await inject({ url: '/auth/session', headers: cookie });
    expect(who.statusCode).toBe(200);
    expect(who.json().principal).toMatchObject({
      kind: 'clinician',
      uid: '555254242106',
      name: 'Dr Alex Carter',
    });
    const search = await inject({
      url: '/fhir/R4/Patient?family=Smith&birthdate=eq2010-10-22',
      headers: cookie,
    });
    expect(search.statusCode).toBe(200);
    expect(userPds.calls[0]?.ctx).toMatchObject({
      sessionUrid: '555254240101',
      endUserOrganisationOds: 'B86041',
    });
    // Admin/clerical (R8008) may trace but not read the clinical record; no GP-record route yet, so
    // the policy table test covers that; here the role and organisation land in the audit.
    const rows = await auditRows();
    expect(rows.at(-1)).toMatchObject({
      action: 'patient.search',
      actor_kind: 'clinician',
      actor_user_id: '555254242106',
      actor_role_code: 'S8001:G8002:R8008',
      actor_organisation_ods: 'B86041',
      decision: 'allowed',
      decision_rule: 'clinician.role',
    });
    // The person's name is never in a log line or an audit row (which names them by user id)...
    expect(logs.join('\n')).not.toContain('Carter');
    expect(JSON.stringify(rows)).not.toContain('Carter');
    // ...but audit readers (R8008 holds audit.read) see it beside the user id, as the latest sign-in gave it.
    const trail = await inject({ url: '/audit/events?user=555254242106', headers: cookie });
    expect(trail.statusCode).toBe(200);
    const actors = (trail.json().events as { actor: Record<string, string> }[]).map((e) => e.actor);
    expect(actors.length).toBeGreaterThan(1);
    for (const actor of actors) {
      expect(actor).toEqual({
        kind: 'clinician',
        id: '555254242106',
        name: 'Dr Alex Carter',
        role: 'S8001:G8002:R8008',
        organisation: 'B86041',
      });
    }
    const csv = await inject({ url: '/audit/events.csv?user=555254242106', headers: cookie });
    expect(csv.body).toMatch(/,clinician,555254242106,Dr Alex Carter,S8001:G8002:R8008,B86041,/);

    // A selected role that is not among the user's roles (or none): no session.
    cis2.next = {
      claims: { sub: '555254242106', selected_roleid: '999' },
      userinfo: { nhsid_nrbac_roles: CLINICIAN_ROLES },
    };
    const bad = await signIn('cis2');
    expect(bad.callback.statusCode).toBe(403);
    expect(bad.callback.headers['set-cookie']).toBeUndefined();
    expect((await auditRows()).at(-1)).toMatchObject({
      action: 'session.create',
      decision: 'denied',
      decision_rule: 'sign-in.no-role',
    });
  });

  it("names a CIS2 user by UserInfo's `name` as sent when given_name and family_name are absent, else not at all (CONTRACTS.md §2e)", async () => {
    const principalAfter = async (userinfo: Record<string, unknown>) => {
      cis2.next = {
        claims: { sub: '555254242106', selected_roleid: '555254240100' },
        userinfo: { nhsid_useruid: '555254242106', nhsid_nrbac_roles: CLINICIAN_ROLES, ...userinfo },
      };
      const { callback } = await signIn('cis2');
      expect(callback.statusCode).toBe(200);
      const cookie = { cookie: `junction_session=${sessionCookieOf(callback.headers['set-cookie'])}` };
      return (await inject({ url: '/auth/session', headers: cookie })).json().principal;
    };
    // CIS2's own UserInfo example: family name first, then given name and title.
    expect((await principalAfter({ name: 'USERQ RANDOM Mr' })).name).toBe('USERQ RANDOM Mr');
    // Given and family names are put in reading order, whitespace tidied; no title is fine.
    expect(
      (await principalAfter({ name: 'USERQ RANDOM Mr', given_name: ' Random ', family_name: 'Userq' })).name,
    ).toBe('Random Userq');
    const unnamed = await principalAfter({ name: '  ', given_name: 42 });
    expect(unnamed).toMatchObject({ kind: 'clinician', uid: '555254242106' });
    expect(unnamed).not.toHaveProperty('name');
  });

  it('refuses a failed sign-in with the reason code only, and ends sessions when the id_token expires', async () => {
    const login = await inject({ url: '/auth/nhs-login/login' });
    const state = new URL(String(login.headers.location)).searchParams.get('state') ?? '';
    const denied = await inject({
      url: `/auth/nhs-login/callback?error=access_denied&error_description=secret%20stuff&state=${state}`,
    });
    expect(denied.statusCode).toBe(401);
    expect(denied.json().issue[0].diagnostics).toBe('NHS login did not sign the user in (access_denied)');

    nhsLogin.next = {
      error: new AuthError('id_token_nonce_mismatch', { description: 'NHS login: nonce xyz' }),
    };
    const forged = await signIn('nhs-login');
    expect(forged.callback.statusCode).toBe(401);
    expect(forged.callback.json().issue[0].diagnostics).toBe(
      'NHS login sign-in failed (id_token_nonce_mismatch)',
    );

    // An expired sign-in under way (10 minutes) is refused without calling the provider.
    const late = await inject({ url: '/auth/nhs-login/login' });
    const lateState = new URL(String(late.headers.location)).searchParams.get('state') ?? '';
    clock = new Date(TIME.getTime() + 11 * 60_000);
    nhsLogin.next = { claims: { sub: JANE_SUB, nhs_number: JANE_NHS, identity_proofing_level: 'P9' } };
    const exchangesBefore = nhsLogin.exchanges.length;
    expect((await inject({ url: `/auth/nhs-login/callback?code=c&state=${lateState}` })).statusCode).toBe(
      400,
    );
    expect(nhsLogin.exchanges).toHaveLength(exchangesBefore);

    // The session ends with the id_token (fake exp: TIME + 1 h), even with a longer TTL configured.
    clock = TIME;
    const ok = await signIn('nhs-login');
    const bearer = { authorization: `Bearer ${sessionCookieOf(ok.callback.headers['set-cookie'])}` };
    expect((await inject({ url: '/auth/session', headers: bearer })).statusCode).toBe(200);
    clock = new Date(TIME.getTime() + 3600_000);
    const expired = await inject({ url: '/auth/session', headers: bearer });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().issue[0].diagnostics).toMatch(/expired/);
    expect(
      (await inject({ url: `/fhir/R4/Patient/${JANE_NHS}`, headers: bearer })).json().issue[0].diagnostics,
    ).toMatch(/expired/);
    expectNoSecretsLeaked(['secret stuff', 'nonce xyz', ...exchangeSecrets()], { bodiesToo: true });
  });

  it('refuses every id_token the relying party rejects with 401 naming the check; an unreachable provider is 502', async () => {
    const codes = [
      'id_token_audience_mismatch',
      'id_token_issuer_mismatch',
      'id_token_signature_invalid',
      'id_token_expired',
      'id_token_nonce_mismatch',
      'id_token_missing',
      'invalid_grant',
    ];
    for (const code of codes) {
      nhsLogin.next = { error: new AuthError(code, { description: `detail ${code} eyJhbGciOi` }) };
      const { callback } = await signIn('nhs-login');
      expect(callback.statusCode, code).toBe(401);
      expect(callback.json().issue[0].diagnostics).toBe(`NHS login sign-in failed (${code})`);
      expect(callback.headers['set-cookie'], code).toBeUndefined();
    }
    cis2.next = { error: new AuthError('provider_unreachable') };
    const { callback } = await signIn('cis2');
    expect(callback.statusCode).toBe(502);
    const denials = (await auditRows()).filter((r) => r.decision_rule === 'sign-in.invalid-token');
    expect(denials).toHaveLength(codes.length);
    expect(await t.store.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
    expectNoSecretsLeaked(['eyJhbGciOi', ...exchangeSecrets()], { bodiesToo: true });
  });

  it('answers 404 for a provider that is not configured, and API keys stay application-restricted', async () => {
    const bare = await createHub(loadConfig({}, { logLevel: 'silent' }), {
      store: t.store,
      pds,
      now: () => clock,
    });
    try {
      const res = await bare.app.inject({ url: '/auth/cis2/login' });
      expect(res.statusCode).toBe(404);
      expect(res.json().issue[0].diagnostics).toBe('CIS2 sign-in is not configured on this hub');
    } finally {
      await bare.close();
    }
    const key = await createApiKey(t.store, { name: 'product', scopes: ['patient:read'] });
    const res = await inject({ url: `/fhir/R4/Patient/${JANE_NHS}`, headers: { 'x-api-key': key.secret } });
    expect(res.statusCode).toBe(200);
    expect(pds.calls).toHaveLength(1);
    expect(userPds.calls).toHaveLength(0);
    const who = await inject({ url: '/auth/session', headers: { 'x-api-key': key.secret } });
    expect(who.json()).toEqual({
      principal: {
        kind: 'api-key',
        id: key.id,
        name: 'product',
        organisationOds: null,
        scopes: ['patient:read'],
      },
      actions: ['patient.read'],
    });
    expect(
      (await inject({ method: 'POST', url: '/auth/logout', headers: { 'x-api-key': key.secret } }))
        .statusCode,
    ).toBe(403);
    expectNoSecretsLeaked([key.secret, key.secret.split('_')[2] ?? ''], { bodiesToo: true });
  });

  it("takes the hub's own console (<publicUrl>/console/ and pages under it) as a return URL with no configuration", async () => {
    cis2.next = {
      claims: { selected_roleid: '555254240101' },
      userinfo: { nhsid_nrbac_roles: CLINICIAN_ROLES },
    };
    const { callback } = await signIn(
      'cis2',
      `?return_to=${encodeURIComponent('http://127.0.0.1:8080/console/')}`,
    );
    expect(callback.statusCode).toBe(303);
    expect(callback.headers.location).toBe('http://127.0.0.1:8080/console/');
    const token = sessionCookieOf(callback.headers['set-cookie']);
    const who = await inject({ url: '/auth/session', headers: { cookie: `junction_session=${token}` } });
    expect(who.json().principal).toMatchObject({ kind: 'clinician', roleCode: 'S8001:G8002:R8008' });

    for (const good of [
      'http://127.0.0.1:8080/console/patients',
      'http://127.0.0.1:8080/console/audit?nhsNumber=9000000009',
    ]) {
      const res = await inject({ url: `/auth/cis2/login?return_to=${encodeURIComponent(good)}` });
      expect(res.statusCode, good).toBe(302);
    }
    // The URL as parsed is what was checked and what the browser is sent to.
    const dotted = await signIn(
      'cis2',
      `?return_to=${encodeURIComponent('http://127.0.0.1:8080/console/a/../messages')}`,
    );
    expect(dotted.callback.headers.location).toBe('http://127.0.0.1:8080/console/messages');

    for (const bad of [
      'http://127.0.0.1:8080/console/../admin', // dot segments resolved: not under /console/
      'http://127.0.0.1:8080/console/%2e%2e/admin',
      'http://127.0.0.1:8080/consoles/',
      'http://127.0.0.1:8080/',
      'http://127.0.0.1:9999/console/', // another port on loopback is another origin here
      'http://localhost:8080/console/',
      'https://127.0.0.1:8080/console/',
      'http://user:pw@127.0.0.1:8080/console/',
      'https://evil.example/console/',
    ]) {
      const res = await inject({ url: `/auth/cis2/login?return_to=${encodeURIComponent(bad)}` });
      expect(res.statusCode, bad).toBe(400);
    }
  });

  it('tells the console what the principal may do (actions): API key by scope, CIS2 by role, patient for their own record', async () => {
    const actionsOf = async (headers: Record<string, string>) => {
      const res = await inject({ url: '/auth/session', headers });
      expect(res.statusCode).toBe(200);
      return res.json().actions;
    };
    const key = await createApiKey(t.store, {
      name: 'ops-tool',
      scopes: ['patient:read', 'medicines:read', 'keys:manage'],
    });
    expect(await actionsOf({ authorization: `Bearer ${key.secret}` })).toEqual([
      'patient.read',
      'medicine.read',
      'keys.manage',
    ]);
    const session = async (principal: SessionPrincipal) =>
      `junction_session=${(await createSession(t.store, { principal, ttlS: 600, now: () => clock })).token}`;
    const clinician = (roleCode: string): SessionPrincipal => ({
      kind: 'clinician',
      uid: '555254242106',
      roleId: '555254240100',
      roleCode,
      organisationOds: 'A12345',
    });
    // National RBAC R8000 (Clinical Practitioner): the clinical record and the MESH log, not operations.
    expect(await actionsOf({ cookie: await session(clinician('S8000:G8000:R8000')) })).toEqual([
      'patient.read',
      'patient.search',
      'patient.update',
      'gp-record.read',
      'scr.read',
      'prescription.read',
      'appointment.read',
      'appointment.book',
      'document.send',
      'medicine.read',
      'messages.read',
    ]);
    // R8008 (Admin/Clinical Support): demographics, appointments and running the hub; no clinical record.
    expect(await actionsOf({ cookie: await session(clinician('S8001:G8002:R8008')) })).toEqual([
      'patient.read',
      'patient.search',
      'patient.update',
      'appointment.read',
      'appointment.book',
      'audit.read',
      'medicine.read',
      'messages.read',
      'jobs.read',
      'jobs.retry',
      'operations.read',
    ]);
    expect(await actionsOf({ cookie: await session(clinician('S8000:G8000:R9999')) })).toEqual([]);
    const jane = (level: 'P5' | 'P9'): SessionPrincipal => ({
      kind: 'patient',
      sub: JANE_SUB,
      nhsNumber: JANE_NHS,
      identityProofingLevel: level,
      delegations: [],
    });
    expect(await actionsOf({ cookie: await session(jane('P5')) })).toEqual(['patient.read', 'medicine.read']);
    expect(await actionsOf({ cookie: await session(jane('P9')) })).toEqual([
      'patient.read',
      'patient.update',
      'gp-record.read',
      'prescription.read',
      'appointment.read',
      'appointment.book',
      'medicine.read',
    ]);
    expect((await inject({ url: '/auth/session' })).statusCode).toBe(401);
  });

  it('marks the cookie Secure unless the hub is plain http on loopback', async () => {
    const https = await createHub(
      loadConfig({ JUNCTION_PUBLIC_URL: 'https://hub.example.com' }, { logLevel: 'silent' }),
      {
        store: t.store,
        pds,
        now: () => clock,
        nhsLogin,
      },
    );
    try {
      nhsLogin.next = { claims: { sub: JANE_SUB, nhs_number: JANE_NHS, identity_proofing_level: 'P9' } };
      const login = await https.app.inject({ url: '/auth/nhs-login/login' });
      const state = new URL(String(login.headers.location)).searchParams.get('state') ?? '';
      const callback = await https.app.inject({ url: `/auth/nhs-login/callback?code=c&state=${state}` });
      expect(String(callback.headers['set-cookie'])).toMatch(
        /; HttpOnly; SameSite=Lax; Max-Age=3600; Secure$/,
      );
      expect(nhsLogin.exchanges.at(-1)?.callbackUrl).toMatch(
        /^https:\/\/hub\.example\.com\/auth\/nhs-login\/callback\?/,
      );
    } finally {
      await https.close();
    }
  });

  /** state, nonce and PKCE verifier of every exchange the fakes saw, and the codes sent. */
  function exchangeSecrets(): string[] {
    return [...nhsLogin.exchanges, ...cis2.exchanges]
      .flatMap((e) => [e.state, e.nonce, e.codeVerifier])
      .concat('auth-code-123');
  }

  /** No secret in any log line; with bodiesToo, in no response body either. */
  function expectNoSecretsLeaked(secrets: string[], options: { bodiesToo: boolean }): void {
    expect(logs.length).toBeGreaterThan(0);
    const logText = logs.join('');
    for (const secret of secrets.filter((s) => s.length >= 8)) {
      expect(logText.includes(secret), `log contains a secret (${secret.slice(0, 6)}…)`).toBe(false);
      if (options.bodiesToo) {
        expect(
          bodies.join('\n').includes(secret),
          `a response body contains a secret (${secret.slice(0, 6)}…)`,
        ).toBe(false);
      }
    }
    // Session tokens of any kind, API keys and cookies never reach the log.
    expect(logText).not.toMatch(/jss_[A-Za-z0-9_-]{20}|jct_[0-9a-f]{16}_|junction_session=/);
  }
});
