import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminAccount } from '../access/admin-accounts.js';
import { API_KEY_SCOPES, createApiKey, revokeApiKey } from '../access/api-keys.js';
import type { SessionPrincipal } from '../access/sessions.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { importDmdRelease } from '../medicines/store/import-release.js';
import { fakeCis2, fakeNhsLogin } from '../testing/fake-identity-providers.js';
import { fakePds } from '../testing/fake-pds.js';
import { DMD_2019 } from '../testing/reference.js';
import {
  clinician,
  expiredSessionFor,
  grantParentProxy,
  JANE_NHS,
  JANET_NHS,
  PROXY_PARENT,
  patient,
  revokedSessionFor,
  sessionFor,
} from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';

/**
 * The authorisation matrix: every route the hub registers, driven by every kind of
 * caller, against the table below. A route missing from the table, or a table row naming a route
 * that no longer exists, fails the test, so new routes must state who may call them.
 */

const TIME = new Date('2025-05-06T07:08:09.000Z');
const now = () => TIME;

/** A caller: how its credential is made, and the patient it asks about on per-patient routes. */
interface Scenario {
  name: string;
  credential: (t: TestStore) => Promise<Record<string, string>>;
  /** NHS number put in `:nhsNumber`. */
  target: string;
  /** No valid credential at all: denials must be 401, not 403. */
  unauthenticated?: boolean;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/** A browser on the hub's own pages: the cookie, and the hub's origin on every request (as browsers send it on unsafe ones). */
const cookie = (token: string) => ({
  cookie: `other=1; junction_session=${token}`,
  origin: 'http://127.0.0.1:8080',
});
/** The same cookie sent by a page of another site (CSRF): only safe methods may pass. */
const crossSiteCookie = (token: string) => ({
  cookie: `junction_session=${token}`,
  origin: 'https://evil.example',
  'sec-fetch-site': 'cross-site',
});
const session =
  (principal: SessionPrincipal, via: 'bearer' | 'cookie' | 'cross-site' = 'bearer') =>
  async (t: TestStore) => {
    const token = await sessionFor(t.store, principal, now);
    return via === 'bearer' ? bearer(token) : via === 'cookie' ? cookie(token) : crossSiteCookie(token);
  };
const keyWith = (scope: (typeof API_KEY_SCOPES)[number]) => async (t: TestStore) =>
  bearer(
    (await createApiKey(t.store, { name: `key-${scope}`, organisationOds: 'FA123', scopes: [scope] })).secret,
  );

/** A hub admin account's session (the account made once per store: scrypt is slow on purpose). */
const admins = new WeakMap<TestStore, Promise<SessionPrincipal>>();
const adminSession = async (t: TestStore) => {
  if (!admins.has(t)) {
    admins.set(
      t,
      createAdminAccount(t.store, { username: 'ops.lead', password: 'a long admin passphrase', now }).then(
        (a): SessionPrincipal => ({ kind: 'admin', id: a.id, username: a.username }),
      ),
    );
  }
  return bearer(await sessionFor(t.store, await (admins.get(t) as Promise<SessionPrincipal>), now));
};

const P9 = patient('P9');
const SCENARIOS: Scenario[] = [
  { name: 'no credentials', credential: async () => ({}), target: JANE_NHS, unauthenticated: true },
  {
    name: 'garbage bearer',
    credential: async () => bearer('jss_not-a-session'),
    target: JANE_NHS,
    unauthenticated: true,
  },
  {
    name: 'expired session',
    credential: async (t) => bearer(await expiredSessionFor(t.store, P9, now)),
    target: JANE_NHS,
    unauthenticated: true,
  },
  {
    name: 'revoked session (cookie)',
    credential: async (t) => cookie(await revokedSessionFor(t.store, P9, now)),
    target: JANE_NHS,
    unauthenticated: true,
  },
  {
    name: 'revoked API key',
    credential: async (t) => {
      const key = await createApiKey(t.store, { name: 'revoked', scopes: [...API_KEY_SCOPES] });
      await revokeApiKey(t.store, key.id, now);
      return bearer(key.secret);
    },
    target: JANE_NHS,
    unauthenticated: true,
  },
  ...API_KEY_SCOPES.map((scope) => ({ name: `key ${scope}`, credential: keyWith(scope), target: JANE_NHS })),
  { name: 'P9 patient A on A (bearer)', credential: session(P9), target: JANE_NHS },
  { name: 'P9 patient A on A (cookie)', credential: session(P9, 'cookie'), target: JANE_NHS },
  { name: 'P9 patient A on A (cookie, cross-site)', credential: session(P9, 'cross-site'), target: JANE_NHS },
  { name: 'P9 patient A on B', credential: session(P9), target: JANET_NHS },
  { name: 'P5 patient on own', credential: session(patient('P5')), target: JANE_NHS },
  { name: 'P0 patient', credential: session(patient('P0')), target: JANE_NHS },
  { name: 'proxy on delegated', credential: session(PROXY_PARENT), target: JANET_NHS },
  { name: 'proxy on non-delegated', credential: session(PROXY_PARENT), target: JANE_NHS },
  { name: 'R8000 clinical practitioner', credential: session(clinician('R8000')), target: JANE_NHS },
  { name: 'R8001 nurse', credential: session(clinician('R8001')), target: JANE_NHS },
  { name: 'R8003 health professional', credential: session(clinician('R8003')), target: JANE_NHS },
  { name: 'R8004 student', credential: session(clinician('R8004')), target: JANE_NHS },
  { name: 'R8006 medical secretary', credential: session(clinician('R8006')), target: JANE_NHS },
  { name: 'R8008 admin', credential: session(clinician('R8008')), target: JANE_NHS },
  { name: 'R8009 receptionist', credential: session(clinician('R8009')), target: JANE_NHS },
  { name: 'R8010 clerical', credential: session(clinician('R8010')), target: JANE_NHS },
  { name: 'unknown role', credential: session(clinician('R9999')), target: JANE_NHS },
  { name: 'hub admin', credential: adminSession, target: JANE_NHS },
];

const ALL_SESSIONS = SCENARIOS.filter((s) => !s.unauthenticated && !s.name.startsWith('key ')).map(
  (s) => s.name,
);
const ALL_KEYS = API_KEY_SCOPES.map((s) => `key ${s}`);
/** dm+d reference data: every signed-in person (any proofing level, proxy or not), every known role. */
const MEDICINE_READERS = ['key medicines:read', ...ALL_SESSIONS.filter((s) => s !== 'unknown role')];
/** The MESH log: the roles that send documents, and the admin/clinical support role. */
const MESSAGE_READERS = [
  'key messages:read',
  'R8000 clinical practitioner',
  'R8001 nurse',
  'R8006 medical secretary',
  'R8008 admin',
  'hub admin',
];
/** The job queue: the admin/clinical support role and hub admin accounts. */
const JOB_READERS = ['key jobs:read', 'R8008 admin', 'hub admin'];
const JOB_MANAGERS = ['key jobs:manage', 'R8008 admin', 'hub admin'];

interface RouteRow {
  /** `public`: nobody is refused (401/403); otherwise the scenarios allowed, all others refused. */
  allow: 'public' | readonly string[];
  request?: (target: string) => { url?: string; headers?: Record<string, string>; payload?: string };
  /** Audited per request (patient data routes). */
  audited?: boolean;
  /** Reference data: denials leave one audit record, allowed reads none. */
  auditedDenialsOnly?: boolean;
}

const PATCH_REQUEST = () => ({
  headers: { 'if-match': 'W/"2"', 'content-type': 'application/json-patch+json' },
  payload: JSON.stringify({ patches: [{ op: 'replace', path: '/gender', value: 'female' }] }),
});

/** THE TABLE: who may call what. Keys are `METHOD url-pattern` as Fastify registered them. */
const MATRIX: Record<string, RouteRow> = {
  'GET /fhir/R4/Patient/:nhsNumber': {
    audited: true,
    allow: [
      'key patient:read',
      'P9 patient A on A (bearer)',
      'P9 patient A on A (cookie)',
      'P9 patient A on A (cookie, cross-site)', // a read changes nothing: no CSRF check
      'P5 patient on own',
      'proxy on delegated',
      'R8000 clinical practitioner',
      'R8001 nurse',
      'R8003 health professional',
      'R8004 student',
      'R8006 medical secretary',
      'R8008 admin',
      'R8009 receptionist',
      'R8010 clerical',
    ],
  },
  'GET /fhir/R4/Patient': {
    audited: true,
    request: () => ({ url: '/fhir/R4/Patient?family=Smith&birthdate=eq2010-10-22' }),
    allow: [
      'key patient:search',
      'R8000 clinical practitioner',
      'R8001 nurse',
      'R8003 health professional',
      'R8004 student',
      'R8006 medical secretary',
      'R8008 admin',
      'R8009 receptionist',
      'R8010 clerical',
    ],
  },
  'PATCH /fhir/R4/Patient/:nhsNumber': {
    audited: true,
    request: PATCH_REQUEST,
    allow: [
      'key patient:update',
      'P9 patient A on A (bearer)',
      'P9 patient A on A (cookie)',
      'proxy on delegated',
      'R8000 clinical practitioner',
      'R8001 nurse',
      'R8006 medical secretary',
      'R8008 admin',
      'R8010 clerical',
    ],
  },
  // Reference data: allowed reads are not audited (medicine-routes.ts), denials are.
  'GET /fhir/R4/Medication/:id': {
    auditedDenialsOnly: true,
    allow: MEDICINE_READERS,
    request: () => ({ url: '/fhir/R4/Medication/22480211000001104' }),
  },
  'GET /fhir/R4/Medication': {
    auditedDenialsOnly: true,
    allow: MEDICINE_READERS,
    request: () => ({ url: '/fhir/R4/Medication?_text=diclofenac' }),
  },
  'GET /fhir/R4/CodeSystem/$lookup': {
    auditedDenialsOnly: true,
    allow: MEDICINE_READERS,
    request: () => ({ url: '/fhir/R4/CodeSystem/$lookup?system=https://dmd.nhs.uk&code=22480211000001104' }),
  },
  'GET /medicines/search': {
    auditedDenialsOnly: true,
    allow: MEDICINE_READERS,
    request: () => ({ url: '/medicines/search?q=diclofenac' }),
  },
  'GET /medicines/concepts/:code': {
    auditedDenialsOnly: true,
    allow: MEDICINE_READERS,
    request: () => ({ url: '/medicines/concepts/22480211000001104' }),
  },
  'GET /medicines/releases': { auditedDenialsOnly: true, allow: MEDICINE_READERS },
  // Operations: the MESH message log and the job queue; no patient data, so allowed reads are not audited.
  'GET /mesh/messages': { auditedDenialsOnly: true, allow: MESSAGE_READERS },
  'GET /mesh/messages/:id': {
    auditedDenialsOnly: true,
    allow: MESSAGE_READERS,
    request: () => ({ url: '/mesh/messages/00000000-0000-4000-8000-000000000000' }),
  },
  'GET /jobs': { auditedDenialsOnly: true, allow: JOB_READERS },
  'GET /jobs/:id': {
    auditedDenialsOnly: true,
    allow: JOB_READERS,
    request: () => ({ url: '/jobs/00000000-0000-4000-8000-000000000000' }),
  },
  // A retry changes what the hub does: every decision is audited.
  'POST /jobs/:id/retry': {
    audited: true,
    allow: JOB_MANAGERS,
    request: () => ({ url: '/jobs/00000000-0000-4000-8000-000000000000/retry' }),
  },
  // Submitting-data journey: products only. Without a body, allowed calls are a 400 (audited).
  'POST /fhir/R4/Observation': { audited: true, allow: ['key readings:submit'] },
  'POST /fhir/R4/Bundle': { audited: true, allow: ['key readings:submit'] },
  'POST /fhir/R4': { audited: true, allow: ['key readings:submit'] },
  'GET /submissions/:id': { audited: true, allow: ['key readings:read'] },
  'PUT /submissions/webhook': { auditedDenialsOnly: true, allow: ['key readings:submit'] },
  'GET /submissions/webhook': { auditedDenialsOnly: true, allow: ['key readings:submit'] },
  'DELETE /submissions/webhook': { auditedDenialsOnly: true, allow: ['key readings:submit'] },
  // Console: NHS API health and traffic, no patient data: allowed reads are not audited.
  // Console: settings and mailboxes hold no secrets and no patient data (denials audited).
  'GET /settings': { auditedDenialsOnly: true, allow: ['key operations:read', 'R8008 admin', 'hub admin'] },
  'GET /mesh/mailboxes': { auditedDenialsOnly: true, allow: MESSAGE_READERS },
  // Changing settings changes what every instance talks to: hub admins (and keys with settings:manage),
  // every decision audited. Without a body an allowed PUT is a 400; an unknown mailbox or change a 404.
  'PUT /settings/base-urls/:service': {
    audited: true,
    allow: ['key settings:manage', 'hub admin'],
    request: () => ({ url: '/settings/base-urls/pds' }),
  },
  'PUT /settings/mailboxes/:mailboxId': {
    audited: true,
    allow: ['key settings:manage', 'hub admin'],
    request: () => ({ url: '/settings/mailboxes/X26ABC9' }),
  },
  'DELETE /settings/mailboxes/:mailboxId': {
    audited: true,
    allow: ['key settings:manage', 'hub admin'],
    request: () => ({ url: '/settings/mailboxes/X26ABC9' }),
  },
  'DELETE /settings/changes/:setting': {
    audited: true,
    allow: ['key settings:manage', 'hub admin'],
    request: () => ({ url: '/settings/changes/base-url.pds' }),
  },
  // Products' API keys: hub admins and keys with keys:manage. Without a body an allowed POST is a 400.
  'GET /api-keys': { auditedDenialsOnly: true, allow: ['key keys:manage', 'hub admin'] },
  'POST /api-keys': { auditedDenialsOnly: true, allow: ['key keys:manage', 'hub admin'] },
  'DELETE /api-keys/:id': {
    audited: true,
    allow: ['key keys:manage', 'hub admin'],
    request: () => ({ url: '/api-keys/00000000-0000-4000-8000-000000000000' }),
  },
  // The audit trail: every read is itself audited, allowed or not.
  'GET /audit/events': { audited: true, allow: ['key audit:read', 'R8008 admin', 'hub admin'] },
  'GET /audit/events.csv': { audited: true, allow: ['key audit:read', 'R8008 admin', 'hub admin'] },
  'POST /audit/verify': { audited: true, allow: ['key audit:read', 'R8008 admin', 'hub admin'] },
  'GET /operations/overview': {
    auditedDenialsOnly: true,
    allow: ['key operations:read', 'R8008 admin', 'hub admin'],
  },
  // dm+d imports: starting one changes what every instance serves, so every decision is audited
  // (without a body, an allowed POST is a 415, audited too); reading them is not.
  'POST /medicines/imports': { audited: true, allow: ['key medicines:import', 'hub admin'] },
  'GET /medicines/imports': { auditedDenialsOnly: true, allow: ['key medicines:import', 'hub admin'] },
  'GET /medicines/imports/:id': {
    auditedDenialsOnly: true,
    allow: ['key medicines:import', 'hub admin'],
    request: () => ({ url: '/medicines/imports/00000000-0000-4000-8000-000000000000' }),
  },
  'GET /auth/nhs-login/login': { allow: 'public' },
  'GET /auth/nhs-login/callback': {
    allow: 'public',
    request: () => ({ url: '/auth/nhs-login/callback?state=x&code=y' }),
  },
  'GET /auth/cis2/login': { allow: 'public' },
  'GET /auth/cis2/callback': {
    allow: 'public',
    request: () => ({ url: '/auth/cis2/callback?state=x&code=y' }),
  },
  'GET /auth/session': { allow: [...ALL_SESSIONS, ...ALL_KEYS] },
  // The policy's own tables (who holds each action), for the console's no-access page: no patient data.
  'GET /access/holders': { allow: [...ALL_SESSIONS, ...ALL_KEYS] },
  // Anyone may try to sign in (no body here: 400), but not from another site's page (login CSRF).
  'POST /auth/admin/login': { allow: SCENARIOS.map((s) => s.name).filter((s) => !s.includes('cross-site')) },
  'POST /auth/logout': { allow: ALL_SESSIONS.filter((s) => !s.includes('cross-site')) },
  // The root sends a browser to the console and names the API's entry points to anyone else.
  'GET /': { allow: 'public' },
  'GET /healthz': { allow: 'public' },
  'GET /metrics': { allow: 'public' },
  'GET /openapi.json': { allow: 'public' },
  // The console's static files: public; its pages ask the API routes above.
  'GET /console': { allow: 'public' },
  'GET /console/*': { allow: 'public', request: () => ({ url: '/console/' }) },
  // @fastify/swagger-ui's pages and assets
  'GET /docs': { allow: 'public' },
  'GET /docs/static/index.html': { allow: 'public' },
  'GET /docs/static/swagger-initializer.js': { allow: 'public' },
  'GET /docs/json': { allow: 'public' },
  'GET /docs/yaml': { allow: 'public' },
  'GET /docs/static/*': { allow: 'public', request: () => ({ url: '/docs/static/swagger-ui.css' }) },
};

describe.each(await testStores())('authorisation matrix on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;

  beforeAll(async () => {
    if (factory.skip) return;
    t = await factory.create();
    hub = await createHub(loadConfig({}, { logLevel: 'silent' }), {
      store: t.store,
      pds: fakePds(),
      now,
      nhsLogin: fakeNhsLogin(),
      cis2: fakeCis2(),
    });
    // The parent's proxy access comes from the store's proxy_delegations, as in production.
    await grantParentProxy(t.store, now);
    // The real 2019 dm+d sample, so that allowed medicine reads answer 200 rather than 503.
    await importDmdRelease(t.store, DMD_2019, { retainPreviousMs: 0 });
  });
  afterAll(async () => {
    await hub?.close();
    await t?.cleanup();
  });

  // HEAD routes are Fastify's automatic twins of the GET routes, decided by the same handler.
  const registered = () =>
    hub.app.hubRoutes.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`);

  it('has a row for every registered route, and no row for a route that does not exist', (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    const routes = registered();
    expect(
      routes.filter((r) => !(r in MATRIX)),
      'routes missing from MATRIX',
    ).toEqual([]);
    expect(
      Object.keys(MATRIX).filter((r) => !routes.includes(r)),
      'MATRIX rows with no route',
    ).toEqual([]);
    expect(SCENARIOS.filter((s) => s.name.startsWith('key ')).length).toBe(API_KEY_SCOPES.length);
  });

  it.for(Object.keys(MATRIX))('%s: allow/deny for every caller', async (routeKey, ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    const row = MATRIX[routeKey] as RouteRow;
    const [method, pattern] = routeKey.split(' ') as [string, string];
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const scenario of SCENARIOS) {
      const headers = await scenario.credential(t);
      const made = row.request?.(scenario.target) ?? {};
      const url = made.url ?? pattern.replace(':nhsNumber', scenario.target);
      const before = await auditCount();
      const res = await hub.app.inject({
        method: method as 'GET',
        url,
        headers: { ...headers, ...made.headers },
        ...(made.payload !== undefined && { payload: made.payload }),
      });
      const refused = res.statusCode === 401 || res.statusCode === 403;
      const allowed = row.allow === 'public' || row.allow.includes(scenario.name);
      const want = allowed ? 'allowed' : scenario.unauthenticated ? '401' : '403';
      const got = refused ? String(res.statusCode) : 'allowed';
      outcomes.push(
        `${scenario.name}: ${got}${got === 'allowed' && res.statusCode >= 500 ? ` (${res.statusCode})` : ''}`,
      );
      expected.push(`${scenario.name}: ${want}`);
      if (refused) {
        expect(res.json(), `${scenario.name} error body`).toMatchObject({ resourceType: 'OperationOutcome' });
      }
      if (row.auditedDenialsOnly) {
        expect(await auditCount(), `${scenario.name} audited`).toBe(before + (allowed ? 0 : 1));
      }
      if (row.audited) {
        // Every decision on a patient route, allowed or denied, leaves exactly one audit record.
        expect(await auditCount(), `${scenario.name} audited`).toBe(before + 1);
        const last = await t.store.db
          .selectFrom('audit_events')
          .selectAll()
          .orderBy('seq', 'desc')
          .executeTakeFirstOrThrow();
        expect(last.decision, scenario.name).toBe(allowed ? 'allowed' : 'denied');
        expect(last.decision_rule, scenario.name).toBeTruthy();
        if (scenario.name.startsWith('R')) {
          expect(last).toMatchObject({ actor_kind: 'clinician', actor_organisation_ods: 'A12345' });
          expect(last.actor_role_code).toMatch(/^S8000:G8000:R\d{4}$/);
        }
        if (scenario.unauthenticated) expect(last.actor_kind).toBeNull();
      }
    }
    expect(outcomes).toEqual(expected);
    expect(
      outcomes.filter((o) => / \(5\d\d\)$/.test(o)),
      'allowed calls that failed',
    ).toEqual([]);
  });

  it('leaves a verifiable audit chain', async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    expect(await verifyAuditChain(t.store)).toMatchObject({ ok: true });
  });

  async function auditCount(): Promise<number> {
    const row = await t.store.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
});
