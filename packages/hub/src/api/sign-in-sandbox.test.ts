import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CIS2_TEST_USERS, createSandboxServer, NHS_LOGIN_TEST_USERS } from '@junction/sandbox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../access/api-keys.js';
import { grantProxyDelegation, revokeProxyDelegation } from '../access/proxy-delegations.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { patient, sessionFor } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';

/**
 * The hub against the running sandbox, with the real SDK relying parties: NHS login and CIS2
 * sign-in (redirects followed by a cookie-keeping fetch "browser", the sandbox's sign-in pages
 * answered as a user would), then PDS through API-platform token exchange of the session's
 * id_token. The browser-driven (Chromium) version of this journey is the end-to-end suite's.
 */

const HUB = 'http://127.0.0.1:8080'; // the hub's public URL: its redirect URIs; it is driven by inject
const API_KEY = 'junction-hub-app';

function rsaKey(kid: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS512', use: 'sig' },
  };
}

const sqlite = (await testStores()).find((f) => f.dialect === 'sqlite');

describe('sign-in against the sandbox NHS login and CIS2, PDS by token exchange', () => {
  let sandbox: FastifyInstance;
  let t: TestStore;
  let hub: Hub;
  const logs: string[] = [];

  beforeAll(async () => {
    const app = rsaKey('app-1');
    const rp = rsaKey('rp-1');
    sandbox = await createSandboxServer({
      pds: { syntheticPatients: 0 },
      auth: {
        apps: [
          {
            apiKey: API_KEY,
            jwks: { keys: [app.jwk] },
            nhsLoginClientId: 'junction-hub',
            cis2ClientId: 'junction-hub-cis2',
          },
        ],
      },
      nhsLogin: {
        clients: [
          {
            clientId: 'junction-hub',
            redirectUris: [`${HUB}/auth/nhs-login/callback`],
            jwks: { keys: [rp.jwk] },
          },
        ],
      },
      cis2: {
        clients: [
          {
            clientId: 'junction-hub-cis2',
            redirectUris: [`${HUB}/auth/cis2/callback`],
            jwks: { keys: [rp.jwk] },
          },
        ],
      },
      logger: false,
    });
    await sandbox.listen({ port: 0, host: '127.0.0.1' });
    const port = (sandbox.server.address() as AddressInfo).port;
    t = await (sqlite as NonNullable<typeof sqlite>).create();
    const config = loadConfig(
      {
        JUNCTION_SANDBOX_PORT: String(port),
        JUNCTION_NHS_API_KEY: API_KEY,
        JUNCTION_NHS_PRIVATE_KEY: app.pem,
        JUNCTION_NHS_KEY_ID: 'app-1',
        JUNCTION_NHS_LOGIN_CLIENT_ID: 'junction-hub',
        JUNCTION_NHS_LOGIN_PRIVATE_KEY: rp.pem,
        JUNCTION_NHS_LOGIN_KEY_ID: 'rp-1',
        JUNCTION_CIS2_CLIENT_ID: 'junction-hub-cis2',
        JUNCTION_CIS2_PRIVATE_KEY: rp.pem,
        JUNCTION_CIS2_KEY_ID: 'rp-1',
      },
      { logLevel: 'trace' },
    );
    hub = await createHub(config, {
      store: t.store,
      logDestination: { write: (l: string) => void logs.push(l) },
    });
  });
  afterAll(async () => {
    await hub?.close();
    await t?.cleanup();
    await sandbox?.close();
  });

  /** Follows redirects with a cookie jar, answering each HTML form in turn, until it is sent back to the hub. */
  async function browse(start: string, answers: Record<string, string>[]): Promise<URL> {
    const jar = new Map<string, string>();
    let url = new URL(start);
    let body: URLSearchParams | undefined;
    for (let hops = 0; hops < 20; hops++) {
      if (url.origin === HUB) return url;
      const res = await fetch(url, {
        method: body ? 'POST' : 'GET',
        redirect: 'manual',
        headers: {
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(body && { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(body && { body }),
      });
      for (const line of res.headers.getSetCookie()) {
        const [pair = ''] = line.split(';', 1);
        const eq = pair.indexOf('=');
        jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      body = undefined;
      if (res.status >= 300 && res.status < 400) {
        url = new URL(res.headers.get('location') ?? '', url);
        continue;
      }
      const html = await res.text();
      expect(res.status, html.slice(0, 300)).toBe(200);
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
      const answer = answers.shift();
      if (!action || !answer) throw new Error(`unexpected page: ${html.slice(0, 300)}`);
      url = new URL(action, url);
      body = new URLSearchParams(answer);
    }
    throw new Error('too many redirects');
  }

  async function signIn(provider: 'nhs-login' | 'cis2', answers: Record<string, string>[]) {
    const login = await hub.app.inject({ url: `/auth/${provider}/login` });
    expect(login.statusCode, login.body).toBe(302);
    const back = await browse(String(login.headers.location), answers);
    const callback = await hub.app.inject({ url: `${back.pathname}${back.search}` });
    expect(callback.statusCode, callback.body).toBe(200);
    const token = /junction_session=(jss_[^;]+)/.exec(String(callback.headers['set-cookie']))?.[1] ?? '';
    return { principal: callback.json().principal, cookie: { cookie: `junction_session=${token}` }, token };
  }

  it('signs a P9 patient in with NHS login; PDS answers their own record in patient access mode', async () => {
    const jane = NHS_LOGIN_TEST_USERS.find(
      (u) => u.identityProofingLevel === 'P9' && u.nhsNumber === '9000000009',
    );
    if (!jane) throw new Error('no P9 test user');
    const { principal, cookie, token } = await signIn('nhs-login', [{ user: jane.sub }]);
    expect(principal).toMatchObject({
      kind: 'patient',
      sub: jane.sub,
      nhsNumber: '9000000009',
      identityProofingLevel: 'P9',
    });
    expect(principal.vot).toMatch(/^P9\./);

    const own = await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: cookie });
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json()).toMatchObject({ resourceType: 'Patient', id: '9000000009' });
    const other = await hub.app.inject({ url: '/fhir/R4/Patient/9000000017', headers: cookie });
    expect(other.statusCode).toBe(403);
    expectNoSecretsInLogs(token);
  });

  it('signs a clinician with two roles in as admin/clerical; the role reaches PDS (healthcare worker search)', async () => {
    const clinician = CIS2_TEST_USERS.find((u) => u.roles.length >= 2);
    const admin = clinician?.roles.find((r) => r.roleCode.endsWith(':R8008'));
    if (!clinician || !admin) throw new Error('no two-role CIS2 test user');
    const { principal, cookie, token } = await signIn('cis2', [
      { user: clinician.sub },
      { user: clinician.sub, role: admin.personRoleId },
    ]);
    expect(principal).toEqual({
      kind: 'clinician',
      uid: clinician.sub,
      roleId: admin.personRoleId,
      roleCode: admin.roleCode,
      roleName: admin.roleName,
      organisationOds: admin.orgCode,
      // From the sandbox CIS2's UserInfo (scopes profile and nhsperson): title, given and family name.
      name: `${clinician.title} ${clinician.givenName} ${clinician.familyName}`,
    });
    const search = await hub.app.inject({
      url: '/fhir/R4/Patient?family=Smith&gender=female&birthdate=eq2010-10-22',
      headers: cookie,
    });
    expect(search.statusCode, search.body).toBe(200);
    expect(search.json()).toMatchObject({ resourceType: 'Bundle' });
    // PATCH is refused to application-restricted access (403 INVALID_METHOD): a 200 proves the
    // healthcare-worker token from the exchange was used.
    const read = await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: cookie });
    expect(read.statusCode, read.body).toBe(200);
    const patch = await hub.app.inject({
      method: 'PATCH',
      url: '/fhir/R4/Patient/9000000009',
      headers: {
        ...cookie,
        'sec-fetch-site': 'same-origin', // the browser on the hub's own page (CSRF check)
        'if-match': String(read.headers.etag),
        'content-type': 'application/json-patch+json',
      },
      payload: JSON.stringify({ patches: [{ op: 'replace', path: '/gender', value: read.json().gender }] }),
    });
    expect(patch.statusCode, patch.body).toBe(200);
    const key = await createApiKey(t.store, { name: 'product', scopes: ['patient:read', 'patient:update'] });
    const asApp = await hub.app.inject({
      method: 'PATCH',
      url: '/fhir/R4/Patient/9000000009',
      headers: {
        'x-api-key': key.secret,
        'if-match': String(patch.headers.etag),
        'content-type': 'application/json-patch+json',
      },
      payload: JSON.stringify({ patches: [{ op: 'replace', path: '/gender', value: read.json().gender }] }),
    });
    expect(asApp.statusCode, asApp.body).toBe(403);
    expect(asApp.json().issue[0].details.coding[0].code).toBe('INVALID_METHOD');
    const row = await t.store.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'patient.search')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      actor_kind: 'clinician',
      actor_role_code: admin.roleCode,
      actor_organisation_ods: admin.orgCode,
    });
    expectNoSecretsInLogs(token);
  });

  it('signs a parent in for their child (act.sub); PDS serves the child by proxy once the hub holds a delegation', async () => {
    const parent = NHS_LOGIN_TEST_USERS.find((u) => u.proxyFor && u.proxyFor.length > 0 && u.nhsNumber);
    const child = parent?.proxyFor?.[0]?.nhsNumber;
    if (!parent?.nhsNumber || !child) throw new Error('no proxy test user');
    const { principal, cookie, token } = await signIn('nhs-login', [
      { user: parent.sub },
      { user: parent.sub, for: child },
    ]);
    expect(principal).toMatchObject({
      kind: 'patient',
      sub: parent.sub,
      nhsNumber: parent.nhsNumber,
      identityProofingLevel: 'P9',
      actingFor: { nhsNumber: child },
    });
    const who = await hub.app.inject({ url: '/auth/session', headers: cookie });
    expect(who.json().principal.actingFor.nhsNumber).toBe(child);

    // No delegation in the hub: the policy refuses before PDS is asked.
    const denied = await hub.app.inject({ url: `/fhir/R4/Patient/${child}`, headers: cookie });
    expect(denied.statusCode).toBe(403);

    const delegation = await grantProxyDelegation(t.store, {
      proxyNhsNumber: parent.nhsNumber,
      patientNhsNumber: child,
      relationship: 'parent',
    });
    const read = await hub.app.inject({ url: `/fhir/R4/Patient/${child}`, headers: cookie });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ resourceType: 'Patient', id: child });
    const own = await hub.app.inject({ url: `/fhir/R4/Patient/${parent.nhsNumber}`, headers: cookie });
    expect(own.statusCode).toBe(403);

    await revokeProxyDelegation(t.store, delegation.id);
    const revoked = await hub.app.inject({ url: `/fhir/R4/Patient/${child}`, headers: cookie });
    expect(revoked.statusCode).toBe(403);
    expectNoSecretsInLogs(token);
  });

  it('never falls back to application-restricted access for a session without an id_token', async () => {
    const token = await sessionFor(t.store, patient('P9'), () => new Date());
    const res = await hub.app.inject({
      url: '/fhir/R4/Patient/9000000009',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().issue[0].diagnostics).toMatch(/sign in again/);
  });

  function expectNoSecretsInLogs(sessionToken: string): void {
    const text = logs.join('');
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(sessionToken);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/); // a JWT (id_token, assertion)
    expect(text).not.toMatch(/jss_[A-Za-z0-9_-]{20}|junction_session=|BEGIN PRIVATE KEY/);
  }
});
