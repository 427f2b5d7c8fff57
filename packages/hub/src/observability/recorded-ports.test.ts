import { AuthError } from '@junction/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedEndpointLookup, recordedMeshPort } from '../mesh/recorded-mesh-port.js';
import { FakeMesh } from '../testing/fake-mesh.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { createMetrics, type HubMetrics } from './metrics.js';
import { readLastCalls, readUpstreamMinutes, type UpstreamMinute } from './operations-stats.js';
import { recordedRelyingParty, recordedTokenFetch } from './recorded-ports.js';
import { UpstreamCalls } from './upstream-calls.js';

/*
 * The wrappers that send every NHS API call through the one recorder: what each counts as a call,
 * a failure and reachable, seen in the stored minutes and the Prometheus histogram.
 */

const sqlite = (await testStores()).find((f) => f.dialect === 'sqlite');
const MINUTE = '2026-11-25T10:00:00.000Z';

describe('recorded NHS API ports', () => {
  let t: TestStore;
  let metrics: HubMetrics;
  let calls: UpstreamCalls;

  beforeAll(async () => {
    t = await (sqlite as NonNullable<typeof sqlite>).create();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const fresh = () => {
    metrics = createMetrics({ defaultMetrics: false });
    calls = new UpstreamCalls({ store: t.store, metrics, now: () => new Date('2026-11-25T10:00:30Z') });
  };
  const stored = async (service: string): Promise<UpstreamMinute | undefined> => {
    await calls.flush();
    const rows = await readUpstreamMinutes(t.store, MINUTE, '2026-11-25T10:01:00.000Z');
    return rows.find((r) => r.service === service);
  };
  const histogram = async () =>
    (await metrics.registry.getSingleMetricAsString('junction_upstream_request_duration_seconds'))
      .split('\n')
      .filter((l) => l.includes('_count'));

  it('MESH: send, a whole inbox listing as one call, receive; a refused send is a call, not a failure; a dead MESH is', async () => {
    fresh();
    const mesh = new FakeMesh(['X26ABC1', 'A12345HC001']);
    const port = recordedMeshPort(mesh.port('X26ABC1'), calls);
    await port.send({ to: 'A12345HC001', workflowId: 'WF', body: 'a' });
    await expect(port.send({ to: 'NOBODY', workflowId: 'WF', body: 'b' })).rejects.toThrow();
    const inbox = recordedMeshPort(mesh.port('A12345HC001'), calls);
    const ids: string[] = [];
    for await (const id of inbox.inbox()) ids.push(id);
    expect(ids).toHaveLength(1);
    await inbox.receive(ids[0] as string);
    expect(await stored('mesh')).toMatchObject({ calls: 4, failures: 0 });
    expect(await histogram()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/service="mesh",operation="send",outcome="ok"\} 1$/),
        expect.stringMatching(/service="mesh",operation="send",outcome="417"\} 1$/),
        expect.stringMatching(/service="mesh",operation="inbox",outcome="ok"\} 1$/),
        expect.stringMatching(/service="mesh",operation="receive",outcome="ok"\} 1$/),
      ]),
    );
    const down = recordedEndpointLookup(
      {
        endpointLookup: async (_ods: string, _workflow: string) =>
          Promise.reject(new TypeError('fetch failed')),
      },
      calls,
    );
    await expect(down.endpointLookup('Y12345', 'WF')).rejects.toThrow('fetch failed');
    expect(await stored('mesh')).toMatchObject({ calls: 5, failures: 1 });
    expect((await readLastCalls(t.store)).get('mesh')).toMatchObject({ reachable: false });
  });

  it("NHS login / CIS2: the token exchange and userinfo are calls; building the authorisation URL is not; a person's invalid_grant is not a failure", async () => {
    fresh();
    let refuse: AuthError | undefined;
    const rp = {
      issuer: 'https://auth.login.nhs.uk',
      async authorizationUrl() {
        return new URL('https://auth.login.nhs.uk/authorize');
      },
      async exchangeCode() {
        if (refuse) throw refuse;
        return { idToken: 'x' };
      },
      async userinfo() {
        return { sub: 'u' };
      },
    };
    const cis2 = recordedRelyingParty(rp, 'cis2', calls);
    expect(cis2.issuer).toBe('https://auth.login.nhs.uk');
    await cis2.authorizationUrl();
    await cis2.exchangeCode();
    await cis2.userinfo();
    refuse = new AuthError('invalid_grant', { status: 400 });
    await expect(cis2.exchangeCode()).rejects.toBe(refuse);
    refuse = new AuthError('invalid_client', { status: 401 });
    await expect(cis2.exchangeCode()).rejects.toBe(refuse);
    refuse = new AuthError('token_endpoint_unreachable');
    await expect(cis2.exchangeCode()).rejects.toBe(refuse);
    expect(await stored('cis2')).toMatchObject({ calls: 5, failures: 2 });
    expect((await readLastCalls(t.store)).get('cis2')).toMatchObject({ reachable: false });
    expect(await histogram()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/service="cis2",operation="token",outcome="ok"\} 1$/),
        expect.stringMatching(/service="cis2",operation="userinfo",outcome="ok"\} 1$/),
        expect.stringMatching(/service="cis2",operation="token",outcome="401"\} 1$/),
      ]),
    );
  });

  it('API platform token requests: each request sent is a call; 401 and 5xx fail; no answer is unreachable', async () => {
    fresh();
    const answers: (number | Error)[] = [200, 401, 400, 503, new TypeError('fetch failed')];
    const fetch = recordedTokenFetch(
      async () => {
        const a = answers.shift() as number | Error;
        if (a instanceof Error) throw a;
        return new Response('{}', { status: a });
      },
      'client-credentials',
      calls,
    );
    for (let i = 0; i < 4; i++)
      await fetch('https://int.api.service.nhs.uk/oauth2/token', { method: 'POST' });
    await expect(fetch('https://int.api.service.nhs.uk/oauth2/token')).rejects.toThrow('fetch failed');
    expect(await stored('api-platform-auth')).toMatchObject({ calls: 5, failures: 3 });
    expect((await readLastCalls(t.store)).get('api-platform-auth')).toMatchObject({ reachable: false });
  });
});
