import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { fakePds } from '../testing/fake-pds.js';
import { clinician, sessionFor } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { createApiKey } from './api-keys.js';
import { isSameOriginRequest } from './csrf.js';

const TIME = new Date('2025-05-06T07:08:09.000Z');
const HUB = 'https://hub.example.com';
const JOB = '/jobs/00000000-0000-4000-8000-000000000000/retry';

describe('isSameOriginRequest (OWASP CSRF cheat sheet: standard headers, Fetch Metadata)', () => {
  it('lets safe methods through and asks unsafe ones for the hub origin or Sec-Fetch-Site: same-origin', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get'])
      expect(isSameOriginRequest(method, {}, HUB)).toBe(true);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(isSameOriginRequest(method, {}, HUB), method).toBe(false);
      expect(isSameOriginRequest(method, { origin: HUB }, HUB), method).toBe(true);
      expect(isSameOriginRequest(method, { 'sec-fetch-site': 'same-origin' }, HUB), method).toBe(true);
    }
    for (const headers of [
      { origin: 'https://evil.example' },
      { origin: 'https://hub.example.com.evil.example' },
      { origin: 'http://hub.example.com' }, // another scheme is another origin
      { origin: 'https://hub.example.com:8443' },
      { origin: 'null' }, // sandboxed frames, data: URLs
      { 'sec-fetch-site': 'same-site' }, // a sibling subdomain is not the hub
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'none', origin: 'https://evil.example' },
    ]) {
      expect(isSameOriginRequest('POST', headers, HUB), JSON.stringify(headers)).toBe(false);
    }
  });
});

describe.each(await testStores())('CSRF over HTTP on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    hub = await createHub(loadConfig({ JUNCTION_PUBLIC_URL: HUB }, { logLevel: 'silent' }), {
      store: t.store,
      pds: fakePds(),
      now: () => TIME,
      startJobs: false,
    });
  });
  afterEach(async () => {
    await hub?.close();
    await t?.cleanup();
  });

  const lastAudit = () =>
    t.store.db.selectFrom('audit_events').selectAll().orderBy('seq', 'desc').executeTakeFirstOrThrow();

  it('refuses a cookie-signed unsafe request from another site with 403, audited with whose cookie it was', async () => {
    const token = await sessionFor(t.store, clinician('R8008'), () => TIME);
    const cookie = `junction_session=${token}`;
    for (const headers of [
      { cookie },
      { cookie, origin: 'https://evil.example' },
      { cookie, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    ]) {
      const res = await hub.app.inject({ method: 'POST', url: JOB, headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json()).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ code: 'forbidden', diagnostics: expect.stringMatching(/^Cross-site request refused/) }],
      });
      expect(await lastAudit()).toMatchObject({
        action: 'jobs.retry',
        outcome: 'denied',
        http_status: 403,
        decision: 'denied',
        decision_rule: 'csrf.cross-site',
        actor_kind: 'clinician',
        actor_role_code: 'S8000:G8000:R8008',
      });
    }
    // From the hub's own page the same cookie gets through to the route (no such job: 404).
    for (const headers of [
      { cookie, origin: HUB },
      { cookie, 'sec-fetch-site': 'same-origin' },
    ]) {
      const res = await hub.app.inject({ method: 'POST', url: JOB, headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(404);
    }
    // Reads are not checked: a cross-site GET changes nothing (and SameSite=Lax allows top-level ones).
    const read = await hub.app.inject({ url: '/jobs', headers: { cookie, origin: 'https://evil.example' } });
    expect(read.statusCode).toBe(200);
  });

  it('leaves credentials a browser never adds by itself alone: bearer session tokens and API keys', async () => {
    const token = await sessionFor(t.store, clinician('R8008'), () => TIME);
    const bearer = await hub.app.inject({
      method: 'POST',
      url: JOB,
      headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example' },
    });
    expect(bearer.statusCode).toBe(404);
    const key = await createApiKey(t.store, { name: 'ops', scopes: ['jobs:manage'] });
    const withKey = await hub.app.inject({ method: 'POST', url: JOB, headers: { 'x-api-key': key.secret } });
    expect(withKey.statusCode).toBe(404);
    // A key in the header wins over a cookie sent with it: the header is what authenticates.
    const both = await hub.app.inject({
      method: 'POST',
      url: JOB,
      headers: { 'x-api-key': key.secret, cookie: `junction_session=${token}` },
    });
    expect(both.statusCode).toBe(404);
  });
});
