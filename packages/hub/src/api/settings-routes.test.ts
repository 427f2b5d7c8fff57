import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminAccount } from '../access/admin-accounts.js';
import { type ApiKeyScope, createApiKey } from '../access/api-keys.js';
import type { SessionPrincipal } from '../access/sessions.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub, type HubDeps } from '../create-hub.js';
import { fakeCis2 } from '../testing/fake-identity-providers.js';
import { heartRate } from '../testing/readings.js';
import { clinician, patient, sessionFor } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';

const TIME = new Date('2026-12-06T15:30:00.000Z');
const now = () => TIME;
const ORIGIN = 'https://hub.example.com';
const SECRETS_KEY = Buffer.alloc(32, 3).toString('base64');
const ENV_MAILBOXES = [
  {
    mailboxId: 'X26ABC1',
    password: 'mailbox-password-secret',
    sharedKey: 'shared-key-secret',
    baseUrl: 'https://msg.intspineservices.nhs.uk',
    pollIntervalMs: 5000,
    workflows: ['GPFED_CONSULT_REPORT_ACK'],
    tls: {
      certPath: '/etc/mesh/cert.pem',
      keyPath: '/etc/mesh/key.pem',
      passphrase: 'tls-passphrase-secret',
    },
  },
];
const SANDBOX_PDS = 'http://127.0.0.1:9000/personal-demographics/FHIR/R4';

/** A fetch that answers every PDS read 404 and remembers which URLs the hub called. */
function recordingFetch() {
  const urls: string[] = [];
  const fetch: typeof globalThis.fetch = async (input) => {
    urls.push(String(input instanceof Request ? input.url : input));
    return new Response(
      JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [
          { severity: 'error', code: 'not-found', details: { coding: [{ code: 'RESOURCE_NOT_FOUND' }] } },
        ],
      }),
      { status: 404, headers: { 'content-type': 'application/fhir+json' } },
    );
  };
  return { urls, fetch };
}

describe.each(await testStores())('settings routes on $dialect', (factory) => {
  let t: TestStore;
  const hubs: Hub[] = [];
  let pdsCalls: ReturnType<typeof recordingFetch>;
  const start = async (env: Record<string, string> = {}, deps: HubDeps = {}) => {
    const hub = await createHub(
      loadConfig(
        {
          JUNCTION_PUBLIC_URL: ORIGIN,
          JUNCTION_MESH_MAILBOXES: JSON.stringify(ENV_MAILBOXES),
          JUNCTION_SECRETS_KEY: SECRETS_KEY,
          ...env,
        },
        { logLevel: 'silent' },
      ),
      { store: t.store, now, startJobs: false, cis2: fakeCis2(), fetch: pdsCalls.fetch, ...deps },
    );
    hubs.push(hub);
    return hub;
  };
  let hub: Hub;
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    pdsCalls = recordingFetch();
    hub = await start();
  });
  afterEach(async () => {
    for (const h of hubs.splice(0)) await h.close();
    await t?.cleanup();
  });

  const bearer = async (principal: SessionPrincipal) => ({
    authorization: `Bearer ${await sessionFor(t.store, principal, now)}`,
  });
  let adminHeaders: Record<string, string> | undefined;
  const admin = async () => {
    if (!adminHeaders) {
      const account = await createAdminAccount(t.store, {
        username: 'ops.lead',
        password: 'a long admin passphrase',
        now,
      });
      adminHeaders = await bearer({ kind: 'admin', id: account.id, username: account.username });
    }
    return adminHeaders;
  };
  beforeEach(() => {
    adminHeaders = undefined;
  });
  const keyWith = async (...scopes: ApiKeyScope[]) => ({
    'x-api-key': (await createApiKey(t.store, { name: `key ${scopes.join(' ')}`, scopes })).secret,
  });
  const send = async (on: Hub, method: 'GET' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
    on.app.inject({
      method,
      url,
      headers: await admin(),
      ...(body !== undefined && { payload: body as object }),
    });
  const settingsOf = async (on: Hub) => (await send(on, 'GET', '/settings')).json();
  const environment = (settings: { environments: { service: string }[] }, service: string) =>
    settings.environments.find((e) => e.service === service) as Record<string, unknown>;
  const readPatient = async (on: Hub) =>
    on.app.inject({ url: '/fhir/R4/Patient/9990000018', headers: await keyWith('patient:read') });
  const lastAudit = () =>
    t.store.db
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();

  it('GET /settings: every NHS API with its base URL and where it comes from, mailboxes, never a secret', async () => {
    const res = await send(hub, 'GET', '/settings');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      nhsEnvironment: 'sandbox',
      publicUrl: ORIGIN,
      store: { dialect: t.store.dialect },
      canChange: true,
      canStoreMailboxes: true,
      problems: [],
      removedMailboxes: [],
      signIn: { nhsLogin: { configured: false }, cis2: { configured: true } },
    });
    expect(environment(body, 'pds')).toEqual({
      service: 'pds',
      name: expect.stringContaining('PDS'),
      inUse: true,
      environment: 'sandbox',
      baseUrl: SANDBOX_PDS,
      setting: 'base-url.pds',
      source: 'default',
      variable: 'JUNCTION_PDS_BASE_URL',
      // Only the hub's own environment: its keys and client ids are registered there.
      published: { sandbox: SANDBOX_PDS },
    });
    expect(environment(body, 'cis2')).toMatchObject({ inUse: true, source: 'default' });
    expect(environment(body, 'nhs-login')).toMatchObject({ inUse: false });
    expect(body.mailboxes).toEqual([
      {
        mailboxId: 'X26ABC1',
        baseUrl: 'https://msg.intspineservices.nhs.uk',
        environment: 'int',
        pollIntervalMs: 5000,
        workflows: ['GPFED_CONSULT_REPORT_ACK'],
        mutualTls: true,
        tls: { certPath: '/etc/mesh/cert.pem', keyPath: '/etc/mesh/key.pem' },
        setting: 'mesh.mailbox.X26ABC1',
        source: 'environment',
        inEnvironment: true,
      },
    ]);
    expect(res.body).not.toMatch(/secret/);
    // A base URL set in the environment says so.
    const fromEnv = await start({ JUNCTION_PDS_BASE_URL: 'https://pds.example.com/FHIR/R4' });
    expect(environment(await settingsOf(fromEnv), 'pds')).toMatchObject({
      source: 'environment',
      environment: 'custom',
      baseUrl: 'https://pds.example.com/FHIR/R4',
    });
    // One given when the hub was started (as `junction start` gives its sandbox's) says that instead.
    const started = await createHub(
      loadConfig(
        { JUNCTION_SECRETS_KEY: SECRETS_KEY },
        { logLevel: 'silent', cis2: { issuer: 'https://cis2.example.com/realm' } },
      ),
      { store: t.store, now, startJobs: false },
    );
    hubs.push(started);
    expect(environment(await settingsOf(started), 'cis2')).toMatchObject({
      source: 'startup',
      environment: 'custom',
    });
  });

  it('who may read and change: operations.read reads, settings.manage (hub admins) changes', async () => {
    const r8008 = await bearer(clinician('R8008'));
    const read = await hub.app.inject({ url: '/settings', headers: r8008 });
    expect(read.statusCode).toBe(200);
    expect(read.json().canChange).toBe(false);
    const body = { baseUrl: 'https://pds.example.com/FHIR/R4' };
    for (const headers of [r8008, await keyWith('operations:read'), await bearer(clinician('R8000'))]) {
      const res = await hub.app.inject({
        method: 'PUT',
        url: '/settings/base-urls/pds',
        headers,
        payload: body,
      });
      expect(res.statusCode).toBe(403);
    }
    expect(
      (await hub.app.inject({ url: '/settings', headers: await bearer(patient('P9')) })).statusCode,
    ).toBe(403);
    expect((await hub.app.inject({ url: '/settings' })).statusCode).toBe(401);
    const key = await keyWith('settings:manage', 'operations:read');
    const byKey = await hub.app.inject({
      method: 'PUT',
      url: '/settings/base-urls/pds',
      headers: key,
      payload: body,
    });
    expect(byKey.statusCode).toBe(200);
    expect(environment(byKey.json(), 'pds')).toMatchObject({
      changedBy: 'API key key settings:manage operations:read',
    });
  });

  it('PUT /settings/base-urls/pds: PDS calls go to the new URL at once, without a restart; reset goes back', async () => {
    await readPatient(hub);
    expect(pdsCalls.urls.at(-1)).toBe(`${SANDBOX_PDS}/Patient/9990000018`);

    const res = await send(hub, 'PUT', '/settings/base-urls/pds', {
      baseUrl: 'https://pds-proxy.example.com/FHIR/R4/',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(environment(res.json(), 'pds')).toMatchObject({
      baseUrl: 'https://pds-proxy.example.com/FHIR/R4',
      environment: 'custom',
      source: 'console',
      changedBy: 'admin ops.lead',
      changedAt: TIME.toISOString(),
    });
    expect(await lastAudit()).toMatchObject({
      action: 'settings.base-url.change',
      outcome: 'success',
      actor_kind: 'admin',
      http_status: 200,
    });
    await readPatient(hub);
    expect(pdsCalls.urls.at(-1)).toBe('https://pds-proxy.example.com/FHIR/R4/Patient/9990000018');

    const reset = await send(hub, 'DELETE', '/settings/changes/base-url.pds');
    expect(reset.statusCode).toBe(200);
    expect(environment(reset.json(), 'pds')).toMatchObject({ baseUrl: SANDBOX_PDS, source: 'default' });
    expect((await lastAudit()).action).toBe('settings.reset');
    await readPatient(hub);
    expect(pdsCalls.urls.at(-1)).toBe(`${SANDBOX_PDS}/Patient/9990000018`);
    expect((await send(hub, 'DELETE', '/settings/changes/base-url.pds')).statusCode).toBe(404);
  });

  it('refuses bad base URLs with a readable OperationOutcome, audited, and changes nothing', async () => {
    const cases: [string, unknown, number, RegExp][] = [
      [
        '/settings/base-urls/pds',
        { baseUrl: 'not a url' },
        400,
        /^baseUrl: expected an http:\/\/ or https:\/\/ URL$/,
      ],
      ['/settings/base-urls/pds', { baseUrl: 'ftp://pds.example.com' }, 400, /^baseUrl: /],
      ['/settings/base-urls/pds', {}, 400, /baseUrl must be an http or https URL/],
      ['/settings/base-urls/pds', [], 400, /JSON object/],
      // A published host of another NHS environment than the hub's: its registrations are not there.
      [
        '/settings/base-urls/pds',
        { baseUrl: 'https://int.api.service.nhs.uk/personal-demographics/FHIR/R4' },
        400,
        /is in NHS INT, but this hub runs against sandbox \(JUNCTION_NHS_ENVIRONMENT\).*JUNCTION_NHS_ENVIRONMENT=int/,
      ],
      [
        '/settings/base-urls/cis2',
        {
          baseUrl:
            'https://am.nhsidentity.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare',
        },
        400,
        /is in NHS LIVE, but this hub runs against sandbox/,
      ],
      [
        '/settings/base-urls/ods',
        { baseUrl: 'https://x.example.com' },
        404,
        /base URLs that can be changed are: pds/,
      ],
    ];
    for (const [url, body, status, message] of cases) {
      const res = await send(hub, 'PUT', url, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(res.json().resourceType).toBe('OperationOutcome');
      expect(res.json().issue[0].diagnostics).toMatch(message);
      expect((await lastAudit()).outcome).toBe(status === 404 ? 'not-found' : 'error');
    }
    expect(environment(await settingsOf(hub), 'pds')).toMatchObject({
      baseUrl: SANDBOX_PDS,
      source: 'default',
    });
  });

  it("a hub on INT takes INT's published URLs or a proxy, and refuses live's", async () => {
    // A real synthetic RS512 key, as the platform app would hold (this test signs nothing with it).
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const int = await start({
      JUNCTION_NHS_ENVIRONMENT: 'int',
      JUNCTION_NHS_API_KEY: 'synthetic-app-key',
      JUNCTION_NHS_PRIVATE_KEY: key,
      JUNCTION_NHS_KEY_ID: 'test-1',
    });
    const intPds = 'https://int.api.service.nhs.uk/personal-demographics/FHIR/R4';
    expect(environment(await settingsOf(int), 'pds')).toMatchObject({
      environment: 'int',
      published: { int: intPds },
    });
    expect(
      (await send(int, 'PUT', '/settings/base-urls/pds', { baseUrl: 'https://pds-proxy.example.com/R4' }))
        .statusCode,
    ).toBe(200);
    expect((await send(int, 'PUT', '/settings/base-urls/pds', { baseUrl: intPds })).statusCode).toBe(200);
    const live = await send(int, 'PUT', '/settings/base-urls/pds', {
      baseUrl: 'https://api.service.nhs.uk/personal-demographics/FHIR/R4',
    });
    expect(live.statusCode).toBe(400);
    expect(live.json().issue[0].diagnostics).toMatch(/is in NHS LIVE, but this hub runs against INT/);

    // The same store under a hub started in the sandbox: INT's URL, set on the INT hub, is not used.
    const sandbox = await start();
    const view = await settingsOf(sandbox);
    expect(environment(view, 'pds')).toMatchObject({ baseUrl: SANDBOX_PDS, source: 'console' });
    expect(view.problems).toEqual([
      expect.stringMatching(
        /^Personal Demographics Service .*: the URL set in the console is not used: .* is in NHS INT, but this hub runs against sandbox/,
      ),
    ]);
    await readPatient(sandbox);
    expect(pdsCalls.urls.at(-1)).toBe(`${SANDBOX_PDS}/Patient/9990000018`);
  });

  it('another instance on the same store picks a change up at its next look', async () => {
    const other = await start();
    await send(hub, 'PUT', '/settings/base-urls/pds', { baseUrl: 'https://pds-proxy.example.com/R4' });
    expect(await other.settings.refresh()).toBe(true);
    expect(environment(await settingsOf(other), 'pds')).toMatchObject({ source: 'console' });
    await readPatient(other);
    expect(pdsCalls.urls.at(-1)).toBe('https://pds-proxy.example.com/R4/Patient/9990000018');
    expect(await other.settings.refresh()).toBe(false);
    // A hub started later begins with the stored settings.
    const later = await start();
    expect(later.settings.current.pds.baseUrl).toBe('https://pds-proxy.example.com/R4');
  });

  it('mailboxes: add one (secrets sealed in the store), change it keeping its password, stop using it', async () => {
    const added = await send(hub, 'PUT', '/settings/mailboxes/x26new1', {
      baseUrl: 'http://127.0.0.1:9000',
      password: 'new-mailbox-password',
      sharedKey: 'TestKey',
      pollIntervalMs: 2000,
      workflows: ['TEST_WORKFLOW'],
    });
    expect(added.statusCode).toBe(200);
    expect(added.json().mailboxes.map((m: { mailboxId: string }) => m.mailboxId)).toEqual([
      'X26ABC1',
      'X26NEW1',
    ]);
    expect(added.json().mailboxes[1]).toMatchObject({
      mailboxId: 'X26NEW1',
      environment: 'sandbox',
      pollIntervalMs: 2000,
      source: 'console',
      changedBy: 'admin ops.lead',
    });
    expect(added.body).not.toContain('new-mailbox-password');
    expect((await lastAudit()).action).toBe('settings.mailbox.change');
    const row = await t.store.db
      .selectFrom('hub_settings')
      .selectAll()
      .where('name', '=', 'mesh.mailbox.X26NEW1')
      .executeTakeFirstOrThrow();
    expect(row.value).not.toContain('new-mailbox-password');
    expect(row.value).not.toContain('TestKey');
    expect(hub.mesh.mailboxes.find((m) => m.mailboxId === 'X26NEW1')?.password).toBe('new-mailbox-password');

    const changed = await send(hub, 'PUT', '/settings/mailboxes/X26NEW1', {
      baseUrl: 'http://127.0.0.1:9000',
      pollIntervalMs: 9000,
    });
    expect(changed.statusCode).toBe(200);
    const mailbox = hub.mesh.mailboxes.find((m) => m.mailboxId === 'X26NEW1');
    expect(mailbox).toMatchObject({
      pollIntervalMs: 9000,
      password: 'new-mailbox-password',
      sharedKey: 'TestKey',
    });
    expect(mailbox?.workflows).toBeUndefined();

    const removed = await send(hub, 'DELETE', '/settings/mailboxes/X26NEW1');
    expect(removed.statusCode).toBe(200);
    expect(removed.json().mailboxes.map((m: { mailboxId: string }) => m.mailboxId)).toEqual(['X26ABC1']);
    expect(removed.json().removedMailboxes).toEqual([]);
    expect((await lastAudit()).action).toBe('settings.mailbox.remove');
    expect((await send(hub, 'DELETE', '/settings/mailboxes/X26NEW1')).statusCode).toBe(404);
  });

  it("mailboxes: the environment's can be changed, switched off and given back; the submission mailbox follows", async () => {
    const edited = await send(hub, 'PUT', '/settings/mailboxes/X26ABC1', {
      baseUrl: 'https://msg.intspineservices.nhs.uk',
      pollIntervalMs: 60000,
      workflows: ['GPFED_CONSULT_REPORT_ACK'],
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json().mailboxes[0]).toMatchObject({
      source: 'console',
      pollIntervalMs: 60000,
      mutualTls: false,
    });
    // Its password came from the environment and is kept.
    expect(hub.mesh.mailboxes[0]).toMatchObject({
      password: 'mailbox-password-secret',
      sharedKey: 'shared-key-secret',
    });

    const off = await send(hub, 'DELETE', '/settings/mailboxes/X26ABC1');
    expect(off.json().mailboxes).toEqual([]);
    expect(off.json().removedMailboxes).toEqual([
      {
        mailboxId: 'X26ABC1',
        setting: 'mesh.mailbox.X26ABC1',
        changedBy: 'admin ops.lead',
        changedAt: TIME.toISOString(),
      },
    ]);
    expect(hub.mesh.mailboxes).toEqual([]);
    // No mailbox collects the ITK3 responses now: submissions answer 503.
    const submit = await hub.app.inject({
      method: 'POST',
      url: '/fhir/R4/Observation',
      headers: await keyWith('readings:submit'),
      payload: heartRate(),
    });
    expect(submit.statusCode).toBe(503);
    expect(submit.json().issue[0].diagnostics).toMatch(/no MESH mailbox/);

    const back = await send(hub, 'DELETE', '/settings/changes/mesh.mailbox.X26ABC1');
    expect(back.statusCode).toBe(200);
    expect(back.json().mailboxes[0]).toMatchObject({
      mailboxId: 'X26ABC1',
      source: 'environment',
      mutualTls: true,
    });
    expect(hub.mesh.mailboxes[0]?.pollIntervalMs).toBe(5000);
  });

  it('checks TLS files are readable when a mailbox is saved, not at its next poll', async () => {
    const res = await send(hub, 'PUT', '/settings/mailboxes/X26NEW1', {
      baseUrl: 'https://msg.intspineservices.nhs.uk',
      password: 'p',
      sharedKey: 'k',
      tls: { certPath: '/nonexistent/junction-test/cert.pem', keyPath: '/nonexistent/junction-test/key.pem' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().issue[0].diagnostics).toMatch(
      /^tls.certPath: the hub cannot read \/nonexistent\/junction-test\/cert.pem/,
    );
  });

  it('a DELETE sent with Content-Type: application/json and no body is a DELETE, not a 400 (curl and friends)', async () => {
    await send(hub, 'PUT', '/settings/base-urls/pds', { baseUrl: 'https://pds-proxy.example.com/R4' });
    const res = await hub.app.inject({
      method: 'DELETE',
      url: '/settings/changes/base-url.pds',
      headers: { ...(await admin()), 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    // A PUT still needs its body.
    const put = await hub.app.inject({
      method: 'PUT',
      url: '/settings/base-urls/pds',
      headers: { ...(await admin()), 'content-type': 'application/json' },
    });
    expect(put.statusCode).toBe(400);
  });

  it('refuses bad mailboxes with the field named; a new one needs its password', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['X26NEW1', { baseUrl: 'http://127.0.0.1:9000' }, /needs its password and the environment shared key/],
      [
        'X26NEW1',
        { baseUrl: 'nope', password: 'p', sharedKey: 'k' },
        /^baseUrl: expected an http:\/\/ or https:\/\/ URL/,
      ],
      [
        'X26NEW1',
        { baseUrl: 'http://127.0.0.1:9000', password: 'p', sharedKey: 'k', pollIntervalMs: 5 },
        /^pollIntervalMs: /,
      ],
      [
        'X26NEW1',
        { baseUrl: 'http://127.0.0.1:9000', password: 'p', sharedKey: 'k', pollIntervalMs: '5' },
        /pollIntervalMs must be a whole number/,
      ],
      [
        'X26NEW1',
        { baseUrl: 'http://127.0.0.1:9000', password: 'p', sharedKey: 'k', colour: 'red' },
        /Unknown mailbox field colour/,
      ],
      [
        'X26NEW1',
        { baseUrl: 'http://127.0.0.1:9000', password: 'p', sharedKey: 'k', tls: { certPath: 'c' } },
        /tls needs certPath and keyPath/,
      ],
      ['bad id!', { baseUrl: 'http://127.0.0.1:9000' }, /letters, digits/],
    ];
    for (const [id, body, message] of cases) {
      const res = await send(hub, 'PUT', `/settings/mailboxes/${encodeURIComponent(id)}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().issue[0].diagnostics).toMatch(message);
    }
    expect((await settingsOf(hub)).mailboxes).toHaveLength(1);
  });

  it('without JUNCTION_SECRETS_KEY mailboxes cannot be stored (409); with another key the stored ones are not used', async () => {
    await send(hub, 'PUT', '/settings/mailboxes/X26NEW1', {
      baseUrl: 'http://127.0.0.1:9000',
      password: 'p',
      sharedKey: 'k',
    });
    const keyless = await start({ JUNCTION_SECRETS_KEY: '' });
    const refused = await send(keyless, 'PUT', '/settings/mailboxes/X26NEW2', {
      baseUrl: 'http://127.0.0.1:9000',
      password: 'p',
      sharedKey: 'k',
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().issue[0]).toMatchObject({
      code: 'conflict',
      diagnostics: expect.stringContaining('JUNCTION_SECRETS_KEY'),
    });
    const keylessView = await settingsOf(keyless);
    expect(keylessView.canStoreMailboxes).toBe(false);
    expect(keylessView.problems).toEqual([
      expect.stringMatching(/X26NEW1.*JUNCTION_SECRETS_KEY is not set.*not used/),
    ]);
    expect(keyless.mesh.mailboxes.map((m) => m.mailboxId)).toEqual(['X26ABC1']);

    const otherKey = await start({ JUNCTION_SECRETS_KEY: Buffer.alloc(32, 9).toString('base64') });
    expect((await settingsOf(otherKey)).problems).toEqual([
      expect.stringMatching(/X26NEW1.*not the key it was stored with/),
    ]);
    // Base URLs need no key.
    expect(
      (await send(keyless, 'PUT', '/settings/base-urls/cis2', { baseUrl: 'https://cis2.example.com/realm' }))
        .statusCode,
    ).toBe(200);
  });
});
