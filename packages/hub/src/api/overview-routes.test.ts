import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { OperationOutcomeError } from '@junction/core';
import { createSandboxServer } from '@junction/sandbox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../access/api-keys.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { environmentOf } from '../observability/upstream-services.js';
import { type FakePds, fakePds } from '../testing/fake-pds.js';
import { clinician, sessionFor } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import type { Overview, ServiceOverview } from './overview-routes.js';

/*
 * GET /operations/overview (the console's Overview page; docs/console-api contract): NHS API
 * health, latency and traffic per service, and the hub's own requests, from the per-minute rows
 * in the store.
 */

describe.each(await testStores())('GET /operations/overview on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  let second: Hub;
  let pds: FakePds;
  let clock = new Date('2026-11-25T10:00:05Z');
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    if (factory.skip) return;
    t = await factory.create();
    pds = fakePds();
    const config = loadConfig({}, { logLevel: 'silent' });
    hub = await createHub(config, { store: t.store, pds, now: () => clock, startJobs: false });
    // Another hub instance on the same database.
    second = await createHub(config, {
      store: await t.openAnother(),
      pds,
      now: () => clock,
      startJobs: false,
    });
    keys.ops = (await createApiKey(t.store, { name: 'ops', scopes: ['operations:read'] })).secret;
    keys.app = (await createApiKey(t.store, { name: 'app', scopes: ['patient:read'] })).secret;
  });
  afterAll(async () => {
    await hub?.close();
    const other = second?.store;
    await second?.close();
    await other?.close();
    await t?.cleanup();
  });

  const read = (h: Hub, nhsNumber = '9000000009') =>
    h.app.inject({ url: `/fhir/R4/Patient/${nhsNumber}`, headers: { authorization: `Bearer ${keys.app}` } });
  const overview = (h: Hub, query = '') =>
    h.app.inject({ url: `/operations/overview${query}`, headers: { authorization: `Bearer ${keys.ops}` } });

  it.skipIf(factory.skip)(
    'one point per bucket, zeros where idle; calls from both instances in their minutes; the same answer from either instance',
    async () => {
      // 10:00 — two reads on instance 1, one on instance 2, one not found (a 404 is not a failure).
      expect((await read(hub)).statusCode).toBe(200);
      expect((await read(hub)).statusCode).toBe(200);
      expect((await read(second)).statusCode).toBe(200);
      expect((await read(second, '9000000017')).statusCode).toBe(404);
      // 10:07 — PDS down: two failures, on instance 2.
      clock = new Date('2026-11-25T10:07:30Z');
      pds.failWith = OperationOutcomeError.spine('SERVICE_UNAVAILABLE');
      expect((await read(second)).statusCode).toBe(503);
      expect((await read(second)).statusCode).toBe(503);
      pds.failWith = undefined;
      // Instance 2's minutes reach the store on its next flush (every 10 s, or on close).
      await second.close();
      clock = new Date('2026-11-25T10:20:00Z');

      const res = await overview(hub);
      expect(res.statusCode).toBe(200);
      const body = res.json() as Overview;
      expect(body.window).toEqual({
        from: '2026-11-25T09:21:00.000Z',
        to: '2026-11-25T10:20:00.000Z',
        bucketSeconds: 60,
      });
      const p = body.services.find((s) => s.id === 'pds') as ServiceOverview;
      expect(p).toMatchObject({
        environment: 'sandbox',
        baseUrl: 'http://127.0.0.1:9000/personal-demographics/FHIR/R4',
        health: 'unreachable', // the last call (10:07) got no answer
        lastCallAt: '2026-11-25T10:07:30.000Z',
        calls: 6,
        failures: 2,
      });
      expect(p.errorRate).toBeCloseTo(2 / 6, 6);
      expect(p.latencyMs).not.toBeNull();
      expect(p.series).toHaveLength(60);
      const at = (iso: string) => p.series.find((s) => s.at === iso);
      expect(at('2026-11-25T10:00:00.000Z')).toMatchObject({ calls: 4, failures: 0 });
      expect(at('2026-11-25T10:07:00.000Z')).toMatchObject({ calls: 2, failures: 2 });
      const idle = p.series.filter(
        (s) => !['2026-11-25T10:00:00.000Z', '2026-11-25T10:07:00.000Z'].includes(s.at),
      );
      expect(idle).toHaveLength(58);
      expect(idle.every((s) => s.calls === 0 && s.failures === 0 && s.p95Ms === null)).toBe(true);
      expect(p.series[0]?.at).toBe('2026-11-25T09:21:00.000Z');
      expect(p.series[59]?.at).toBe('2026-11-25T10:20:00.000Z');

      // The hub's own requests: 6 reads (4 × 200, 1 × 404, 2 × 503 — one 404 and two 5xx) across both instances.
      const minute = (iso: string) => body.hub.series.find((s) => s.at === iso);
      expect(minute('2026-11-25T10:00:00.000Z')).toEqual({
        at: '2026-11-25T10:00:00.000Z',
        requests: 4,
        clientErrors: 1,
        serverErrors: 0,
      });
      expect(minute('2026-11-25T10:07:00.000Z')).toMatchObject({ requests: 2, serverErrors: 2 });
      expect(body.hub.errors).toBe(2);
      expect(body.hub.requests).toBe(6);

      // 6h: 72 points of 5 minutes; 10:00–10:05 holds the 10:00 calls, 10:05–10:10 the 10:07 ones.
      const six = (await overview(hub, '?window=6h')).json() as Overview;
      const p6 = six.services.find((s) => s.id === 'pds') as ServiceOverview;
      expect(six.window.bucketSeconds).toBe(300);
      expect(p6.series).toHaveLength(72);
      expect(p6.series.filter((s) => s.calls > 0).map((s) => [s.at, s.calls])).toEqual([
        ['2026-11-25T10:00:00.000Z', 4],
        ['2026-11-25T10:05:00.000Z', 2],
      ]);
      const day = (await overview(hub, '?window=24h')).json() as Overview;
      expect(day.window.bucketSeconds).toBe(900);
      expect(day.services[0]?.series).toHaveLength(96);
    },
  );

  it.skipIf(factory.skip)(
    'health is unknown without a call in the window; 400 for another window',
    async () => {
      clock = new Date('2026-11-25T12:00:00Z');
      const body = (await overview(hub)).json() as Overview;
      expect(body.services.find((s) => s.id === 'pds')).toMatchObject({
        health: 'unknown',
        calls: 0,
        errorRate: 0,
        latencyMs: null,
        lastCallAt: '2026-11-25T10:07:30.000Z',
      });
      // Probes and scrapes are not traffic; the console's own requests are.
      await hub.app.inject({ url: '/healthz' });
      await hub.app.inject({ url: '/metrics' });
      const again = (await overview(hub)).json() as Overview;
      expect(again.hub.series.at(-1)).toMatchObject({ at: '2026-11-25T12:00:00.000Z', requests: 1 });
      const bad = await overview(hub, '?window=2d');
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'invalid' }] });
    },
  );

  it.skipIf(factory.skip)(
    'needs operations.read: a patient-reading key and a clinician are refused, unauthenticated is 401',
    async () => {
      const app = await hub.app.inject({
        url: '/operations/overview',
        headers: { authorization: `Bearer ${keys.app}` },
      });
      expect(app.statusCode).toBe(403);
      expect(app.json()).toMatchObject({ resourceType: 'OperationOutcome' });
      const gp = await sessionFor(t.store, clinician('R8000'), () => clock);
      const refused = await hub.app.inject({
        url: '/operations/overview',
        headers: { authorization: `Bearer ${gp}` },
      });
      expect(refused.statusCode).toBe(403);
      const admin = await sessionFor(t.store, clinician('R8008'), () => clock);
      const allowed = await hub.app.inject({
        url: '/operations/overview',
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(allowed.statusCode).toBe(200);
      expect((await hub.app.inject({ url: '/operations/overview' })).statusCode).toBe(401);
    },
  );
});

describe('environment of a base URL', () => {
  const config = { sandboxPort: 9000, nhsEnvironment: 'int' as const };
  it('published hosts, the local sandbox, and custom', () => {
    expect(environmentOf('https://int.api.service.nhs.uk/personal-demographics/FHIR/R4', config)).toBe('int');
    expect(environmentOf('https://api.service.nhs.uk/oauth2/token', config)).toBe('live');
    expect(environmentOf('https://sandbox.api.service.nhs.uk/personal-demographics/FHIR/R4', config)).toBe(
      'sandbox',
    );
    expect(environmentOf('https://msg.intspineservices.nhs.uk', config)).toBe('int');
    expect(environmentOf('https://mesh-sync.spineservices.nhs.uk', config)).toBe('live');
    expect(environmentOf('https://auth.login.nhs.uk', config)).toBe('live');
    expect(environmentOf('http://127.0.0.1:9000/personal-demographics/FHIR/R4', config)).toBe('sandbox');
    expect(environmentOf('http://127.0.0.1:9100/personal-demographics/FHIR/R4', config)).toBe('custom');
    // junction start: the sandbox on another port, the hub told it runs against the sandbox.
    const started = { sandboxPort: 9000, nhsEnvironment: 'sandbox' as const };
    expect(environmentOf('http://127.0.0.1:18481/personal-demographics/FHIR/R4', started)).toBe('sandbox');
    expect(environmentOf('https://pds-proxy.example.org/FHIR/R4', started)).toBe('custom');
    expect(environmentOf('https://pds-proxy.example.org/FHIR/R4', config)).toBe('custom');
  });
});

const sqlite = (await testStores()).find((f) => f.dialect === 'sqlite');

describe('a real PDS call through the hub to the sandbox shows in the overview', () => {
  let sandbox: FastifyInstance;
  let t: TestStore;
  let hub: Hub;

  beforeAll(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'app-1', alg: 'RS512', use: 'sig' };
    sandbox = await createSandboxServer({
      pds: { syntheticPatients: 0 },
      auth: { apps: [{ apiKey: 'junction-hub-app', jwks: { keys: [jwk] } }] },
      logger: false,
    });
    await sandbox.listen({ port: 0, host: '127.0.0.1' });
    const port = (sandbox.server.address() as AddressInfo).port;
    t = await (sqlite as NonNullable<typeof sqlite>).create();
    const config = loadConfig(
      {
        JUNCTION_SANDBOX_PORT: String(port),
        JUNCTION_NHS_API_KEY: 'junction-hub-app',
        JUNCTION_NHS_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        JUNCTION_NHS_KEY_ID: 'app-1',
      },
      { logLevel: 'silent' },
    );
    hub = await createHub(config, { store: t.store, startJobs: false });
  });
  afterAll(async () => {
    await hub?.close();
    await t?.cleanup();
    await sandbox?.close();
  });

  it('PDS read (application-restricted, with its token request) counted, reachable, environment sandbox', async () => {
    const key = (await createApiKey(t.store, { name: 'ops', scopes: ['patient:read', 'operations:read'] }))
      .secret;
    const headers = { authorization: `Bearer ${key}` };
    const read = await hub.app.inject({ url: '/fhir/R4/Patient/9000000009', headers });
    expect(read.statusCode).toBe(200);
    const missing = await hub.app.inject({ url: '/fhir/R4/Patient/9111231130', headers });
    expect(missing.statusCode).toBe(404);

    const body = (await hub.app.inject({ url: '/operations/overview', headers })).json() as Overview;
    const pds = body.services.find((s) => s.id === 'pds');
    expect(pds).toMatchObject({ environment: 'sandbox', health: 'reachable', calls: 2, failures: 0 });
    expect(pds?.latencyMs?.max).toBeGreaterThan(0);
    expect(pds?.latencyMs?.p95).toBeLessThanOrEqual(pds?.latencyMs?.max ?? 0);
    // One token for both reads: the client caches it, and only requests really sent count.
    expect(body.services.find((s) => s.id === 'api-platform-auth')).toMatchObject({
      environment: 'sandbox',
      health: 'reachable',
      calls: 1,
      failures: 0,
    });
    const metrics = await hub.app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(
      /junction_upstream_request_duration_seconds_count\{service="pds",operation="read",outcome="ok"\} 1/,
    );
    expect(metrics.body).toMatch(
      /junction_upstream_request_duration_seconds_count\{service="pds",operation="read",outcome="404"\} 1/,
    );
    const health = (await hub.app.inject({ url: '/healthz' })).json() as { checks: { pds: unknown } };
    expect(health.checks.pds).toMatchObject({ status: 'reachable', lastStatus: 404 });
  });
});
