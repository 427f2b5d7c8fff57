import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminAccount, disableAdminAccount, resetAdminAccount } from '../access/admin-accounts.js';
import { passwordHashingLoad } from '../access/password-hash.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { fakePds } from '../testing/fake-pds.js';
import { type TestStore, testStores } from '../testing/test-stores.js';

const T0 = Date.parse('2025-05-06T07:08:09.000Z');
const PASSWORD = 'a long and unguessable passphrase';
const ORIGIN = 'http://127.0.0.1:8080';

describe.each(await testStores())('hub admin sign-in over HTTP on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  let at: number;
  let logs: string[];
  const now = () => new Date(at);
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    at = T0;
    logs = [];
    hub = await createHub(loadConfig({}, { logLevel: 'trace' }), {
      store: t.store,
      pds: fakePds(),
      now,
      startJobs: false,
      logDestination: { write: (line: string) => void logs.push(line) },
    });
    await createAdminAccount(t.store, { username: 'ops.lead', password: PASSWORD, now });
  });
  afterEach(async () => {
    await hub?.close();
    await t?.cleanup();
  });

  const login = (
    username: string,
    password: string,
    headers: Record<string, string> = {},
    remoteAddress = '127.0.0.1',
  ) =>
    hub.app.inject({
      method: 'POST',
      url: '/auth/admin/login',
      remoteAddress,
      headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
      payload: JSON.stringify({ username, password }),
    });
  /** The audit trail after the account's own admin.create record (made by the CLI's library call). */
  const audit = async () =>
    (await t.store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute()).filter(
      (r) => r.action !== 'admin.create',
    );

  it('signs an admin in: a session cookie, every operational action, no patient data; audited without the password', async () => {
    const res = await login('ops.lead', PASSWORD);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^junction_session=jss_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/,
    );
    const body = res.json();
    expect(body).toEqual({
      principal: { kind: 'admin', id: expect.any(String), username: 'ops.lead' },
      actions: [
        'audit.read',
        'medicine.read',
        'messages.read',
        'jobs.read',
        'jobs.retry',
        'operations.read',
        'keys.manage',
        'medicines.import',
        'settings.manage',
      ],
      expiresAt: '2025-05-06T08:08:09.000Z',
    });
    const cookie = setCookie.split(';')[0] as string;
    const who = await hub.app.inject({ url: '/auth/session', headers: { cookie } });
    expect(who.json()).toMatchObject({
      principal: { kind: 'admin', username: 'ops.lead' },
      actions: body.actions,
    });
    expect((await hub.app.inject({ url: '/jobs', headers: { cookie } })).statusCode).toBe(200);
    const patient = await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers: { cookie } });
    expect(patient.statusCode).toBe(403);
    expect(patient.json().issue[0].diagnostics).toMatch(/Hub admin accounts may not patient.read/);
    const rows = await audit();
    expect(rows[0]).toMatchObject({
      action: 'session.create',
      outcome: 'success',
      actor_kind: 'admin',
      actor_user_id: 'ops.lead',
      decision_rule: 'sign-in.admin',
    });
    expect(rows[1]).toMatchObject({ action: 'patient.read', outcome: 'denied', actor_kind: 'admin' });
    const logout = await hub.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { cookie, origin: ORIGIN },
    });
    expect(logout.statusCode).toBe(204);
    expect((await hub.app.inject({ url: '/auth/session', headers: { cookie } })).statusCode).toBe(401);
    expect(JSON.stringify(rows) + logs.join('')).not.toContain(PASSWORD);
    expect(await verifyAuditChain(t.store)).toMatchObject({ ok: true });
  });

  it('answers an unknown user and a wrong password alike (401), audited; 429 with Retry-After once locked', async () => {
    const unknown = await login('nobody', PASSWORD);
    const wrong = await login('ops.lead', 'not the right password');
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());
    expect(wrong.json().issue[0].diagnostics).toBe('Unknown username or wrong password');
    const rows = await audit();
    expect(rows.map((r) => [r.action, r.outcome, r.actor_kind, r.actor_user_id, r.decision_rule])).toEqual([
      ['session.create', 'denied', null, null, 'sign-in.admin-invalid'],
      ['session.create', 'denied', 'admin', 'ops.lead', 'sign-in.admin-invalid'],
    ]);
    for (let i = 0; i < 3; i++)
      expect((await login('ops.lead', `wrong ${i} password!`)).statusCode).toBe(401);
    const locked = await login('ops.lead', 'wrong again password');
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toBe('900');
    expect(locked.json().issue[0].details.coding[0].code).toBe('TOO_MANY_REQUESTS');
    // Locked on every hub instance on the store, the right password included.
    const other = await createHub(loadConfig({}, { logLevel: 'silent' }), {
      store: await t.openAnother(),
      pds: fakePds(),
      now,
      startJobs: false,
    });
    try {
      const elsewhere = await other.app.inject({
        method: 'POST',
        url: '/auth/admin/login',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ username: 'ops.lead', password: PASSWORD }),
      });
      expect(elsewhere.statusCode).toBe(429);
      // Locked for the address the failures came from only: the owner signs in from another.
      expect((await login('ops.lead', PASSWORD, {}, '192.0.2.10')).statusCode).toBe(200);
    } finally {
      await other.close();
    }
    at += 15 * 60_000;
    expect((await login('ops.lead', PASSWORD)).statusCode).toBe(200);
    expect((await audit()).filter((r) => r.decision_rule === 'sign-in.admin-locked')).toHaveLength(2);
    expect(logs.join('')).not.toMatch(/not the right password|wrong \d password|unguessable/);
  });

  it('bounds the password hashes running at once: other work on the thread pool is served meanwhile, sign-ins beyond the queue get 429 with Retry-After', async () => {
    const attempts = 40;
    let peak = 0;
    let sampling = true;
    const sample = () => {
      peak = Math.max(peak, passwordHashingLoad().active);
      if (sampling) setImmediate(sample);
    };
    sample();
    const signIns = Array.from({ length: attempts }, (_, i) =>
      // Each from its own address: the per-address throttle is not what this is about.
      login(`ghost${i}`, `wrong password ${i}`, {}, `198.51.100.${i + 1}`),
    );
    // While sign-ins are running and queued, a file read (libuv's thread pool, as the console's
    // static files) still completes: the hashes leave threads free.
    while (passwordHashingLoad().waiting === 0) await new Promise((resolve) => setImmediate(resolve));
    await readFile(new URL(import.meta.url));
    const load = passwordHashingLoad();
    expect(load.active + load.waiting).toBeGreaterThan(0);
    const answers = await Promise.all(signIns);
    sampling = false;
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(load.maxActive);
    const busy = answers.filter((a) => a.statusCode === 429);
    expect(busy.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.statusCode === 401)).toHaveLength(attempts - busy.length);
    for (const answer of busy) {
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.json().issue[0].details.coding[0].code).toBe('TOO_MANY_REQUESTS');
      expect(answer.json().issue[0].diagnostics).toBe('Too many sign-ins at once: try again shortly');
    }
  });

  it('throttles sign-in attempts per client address before any hashing: 429 with Retry-After, other addresses unaffected', async () => {
    const answers = [];
    for (let i = 0; i < 12; i++)
      answers.push(await login(`ghost${i}`, 'a wrong password', {}, '203.0.113.9'));
    expect(answers.map((a) => a.statusCode)).toEqual([...Array(10).fill(401), 429, 429]);
    const throttled = answers[10];
    expect(throttled?.headers['retry-after']).toBe('6');
    expect(throttled?.json().issue[0].diagnostics).toBe(
      'Too many sign-in attempts from this address: try again later',
    );
    // Another address signs in at once; this one gets a token back after the refill interval.
    expect((await login('ops.lead', PASSWORD, {}, '192.0.2.10')).statusCode).toBe(200);
    at += 6000;
    expect((await login('ops.lead', PASSWORD, {}, '203.0.113.9')).statusCode).toBe(200);
    expect((await login('ops.lead', PASSWORD, {}, '203.0.113.9')).statusCode).toBe(429);
  });

  it('ends the sessions of a disabled account or one whose password was reset', async () => {
    const first = String((await login('ops.lead', PASSWORD)).headers['set-cookie']).split(';')[0] as string;
    at += 1000;
    await resetAdminAccount(t.store, { username: 'ops.lead', password: 'the new long password', now });
    expect((await hub.app.inject({ url: '/jobs', headers: { cookie: first } })).statusCode).toBe(401);
    at += 1000;
    const second = String((await login('ops.lead', 'the new long password')).headers['set-cookie']).split(
      ';',
    )[0] as string;
    expect((await hub.app.inject({ url: '/jobs', headers: { cookie: second } })).statusCode).toBe(200);
    at += 1000;
    await disableAdminAccount(t.store, 'ops.lead', now);
    expect((await hub.app.inject({ url: '/jobs', headers: { cookie: second } })).statusCode).toBe(401);
    expect((await login('ops.lead', 'the new long password')).statusCode).toBe(401);
  });

  it('refuses a sign-in posted by another site (login CSRF) and a body that is not username and password', async () => {
    const forged = await login('ops.lead', PASSWORD, { origin: 'https://evil.example' });
    expect(forged.statusCode).toBe(403);
    expect(forged.headers['set-cookie']).toBeUndefined();
    const fetchMeta = await login('ops.lead', PASSWORD, { origin: ORIGIN, 'sec-fetch-site': 'cross-site' });
    expect(fetchMeta.statusCode).toBe(200);
    for (const payload of ['{}', '{"username":"ops.lead"}', '{"username":1,"password":2}', 'null']) {
      const res = await hub.app.inject({
        method: 'POST',
        url: '/auth/admin/login',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().resourceType).toBe('OperationOutcome');
    }
  });
});
