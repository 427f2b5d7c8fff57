import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../access/api-keys.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { enqueueJob } from '../jobs/queue.js';
import { FakeMesh } from '../testing/fake-mesh.js';
import { fakePds } from '../testing/fake-pds.js';
import { clinician, sessionFor } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';

type Json = Record<string, unknown>;

describe.each(await testStores())('MESH log and job routes on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  let dataDir: string;
  let mesh: FakeMesh;
  const keys: Record<string, string> = {};
  const now = () => new Date();

  beforeAll(async () => {
    if (factory.skip) return;
    t = await factory.create();
    dataDir = await mkdtemp(join(tmpdir(), 'junction-ops-'));
    mesh = new FakeMesh(['X26ABC1', 'A12345HC001']);
    const config = loadConfig(
      {
        JUNCTION_MESH_MAILBOXES: JSON.stringify([
          { mailboxId: 'X26ABC1', password: 'password', sharedKey: 'TestKey', baseUrl: 'http://127.0.0.1:1' },
        ]),
      },
      { logLevel: 'silent', dataDir },
    );
    hub = await createHub(config, {
      store: t.store,
      pds: fakePds(),
      now,
      startJobs: false,
      meshPortFor: (m) => mesh.port(m.mailboxId),
      jobRunner: { backoff: { baseMs: 1, maxMs: 1 } },
    });
    for (const scope of ['messages:read', 'jobs:read', 'jobs:manage'] as const) {
      keys[scope] = (await createApiKey(t.store, { name: scope, scopes: [scope] })).secret;
    }
    // Two sent (one delivered), one refused by MESH (417 SEND 12, dead job), one inbound.
    await hub.mesh.send(input('a', 'A12345HC001', 'corr-a'));
    await hub.mesh.send(input('b', 'A12345HC001', 'corr-b'));
    await hub.mesh.send(input('c', 'NOBODY', 'corr-c'));
    mesh.deliver('X26ABC1', { workflowId: 'GPFED_CONSULT_REPORT_ACK', body: '<ack/>' });
    await hub.mesh.enqueuePoll(hub.mesh.mailboxes[0] ?? hub.config.mesh.mailboxes[0]!);
    for (let i = 0; i < 5; i++) await hub.jobs.runner.runOnce();
  });
  afterAll(async () => {
    await hub?.close();
    await t?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  function input(key: string, to: string, correlationId: string) {
    return {
      mailboxId: 'X26ABC1',
      to,
      workflowId: 'GPFED_CONSULT_REPORT',
      body: `<Bundle id="${key}"/>`,
      correlationId,
      idempotencyKey: key,
    };
  }
  const get = (url: string, scope = 'messages:read') =>
    hub.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${keys[scope]}` } });

  it('GET /mesh/messages lists the log newest first, with filters and paging', async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    const all = (await get('/mesh/messages')).json() as { messages: Json[] };
    expect(all.messages).toHaveLength(4);
    const statuses = (url: string) =>
      get(url).then((r) => (r.json() as { messages: Json[] }).messages.map((m) => m.status));
    expect((await statuses('/mesh/messages?direction=outbound')).sort()).toEqual([
      'delivered',
      'delivered',
      'failed',
    ]);
    expect(await statuses('/mesh/messages?direction=inbound')).toEqual(['acked']);
    expect(await statuses('/mesh/messages?status=failed')).toEqual(['failed']);
    expect(await statuses('/mesh/messages?correlationId=corr-b')).toEqual(['delivered']);
    expect(await statuses('/mesh/messages?workflow=GPFED_CONSULT_REPORT_ACK')).toEqual(['acked']);
    expect(await statuses('/mesh/messages?mailbox=X26ABC2')).toEqual([]);
    const page1 = (await get('/mesh/messages?limit=3')).json() as { messages: Json[]; next?: string };
    expect(page1.messages).toHaveLength(3);
    expect(page1.next).toBe(page1.messages[2]?.id);
    const page2 = (await get(`/mesh/messages?limit=3&before=${page1.next}`)).json() as {
      messages: Json[];
      next?: string;
    };
    expect(page2.messages).toHaveLength(1);
    expect(page2.next).toBeUndefined();
    const failed = (await get('/mesh/messages?status=failed')).json() as { messages: Json[] };
    expect(failed.messages[0]).toMatchObject({ dts: { event: 'SEND', code: '12' }, to: 'NOBODY' });
    expect(JSON.stringify(all)).not.toContain('<Bundle');
  });

  it('GET /mesh/messages/{id} gives the full history; 404 for an unknown id', async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    const list = (await get('/mesh/messages?correlationId=corr-a')).json() as { messages: Json[] };
    const one = (await get(`/mesh/messages/${list.messages[0]?.id}`)).json() as { events: Json[] };
    expect(one.events.map((e) => e.event)).toEqual(['queued', 'sending', 'sent', 'delivered']);
    const missing = await get('/mesh/messages/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ code: 'not-found' }],
    });
  });

  it('refuses bad filters with 400 OperationOutcomes', async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    for (const url of [
      '/mesh/messages?status=lost',
      '/mesh/messages?direction=sideways',
      '/mesh/messages?limit=0',
      '/mesh/messages?before=unknown-id',
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ issue: [{ code: 'invalid' }] });
    }
    expect((await get('/jobs?status=stuck', 'jobs:read')).statusCode).toBe(400);
  });

  it('GET /jobs leaves out successful periodic runs (mesh.poll), saying how many and when each series last succeeded; include=periodic or a kind shows them; a dead poll always shows', async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    // Two more polls of X26ABC1 as the schedule enqueues them (the first ran in beforeAll), and one
    // of a mailbox the hub does not have, which dies.
    for (const mailboxId of ['X26ABC1', 'X26ABC1', 'X26ZZZ9']) {
      await enqueueJob(t.store, {
        kind: 'mesh.poll',
        payload: { mailboxId },
        maxAttempts: 1,
        periodic: true,
      });
      await hub.jobs.runner.runOnce();
    }
    type Listing = {
      jobs: Json[];
      counts: Record<'succeeded', number>;
      hiddenPeriodic?: { succeeded: number; series: Json[] };
    };
    const list = async (query = '') => {
      const res = await get(`/jobs${query}`, 'jobs:read');
      expect(res.statusCode, query).toBe(200);
      return res.json() as Listing;
    };
    const everything = await list('?include=periodic&limit=1000');
    const isSucceededPoll = (j: Json) => j.kind === 'mesh.poll' && j.status === 'succeeded';
    const polls = everything.jobs.filter(isSucceededPoll);
    expect(polls).toHaveLength(3);
    expect(polls.every((j) => j.periodic === true)).toBe(true);
    expect(everything.hiddenPeriodic).toBeUndefined();

    const people = await list('?limit=1000');
    expect(people.jobs.filter(isSucceededPoll)).toEqual([]);
    expect(people.jobs).toHaveLength(everything.jobs.length - 3);
    expect(people.jobs.filter((j) => j.kind === 'mesh.poll')).toEqual([
      expect.objectContaining({ status: 'dead', payload: { mailboxId: 'X26ZZZ9' } }),
    ]);
    const latest = polls
      .map((j) => String(j.finishedAt))
      .sort()
      .at(-1);
    expect(people.hiddenPeriodic).toEqual({
      succeeded: 3,
      series: [
        { kind: 'mesh.poll', payload: { mailboxId: 'X26ABC1' }, succeeded: 3, lastSucceededAt: latest },
      ],
    });
    expect(people.counts.succeeded).toBe(everything.counts.succeeded - 3);
    expect((await list('?status=succeeded')).hiddenPeriodic?.succeeded).toBe(3);
    // Nothing of the asked status was left out: nothing to say.
    expect((await list('?status=dead')).hiddenPeriodic).toBeUndefined();
    // Naming the kind (or a correlation id) asks for them.
    const byKind = await list('?kind=mesh.poll');
    expect(byKind.jobs.filter(isSucceededPoll)).toHaveLength(3);
    expect(byKind.hiddenPeriodic).toBeUndefined();
    const bad = await get('/jobs?include=everything', 'jobs:read');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      issue: [{ code: 'invalid', diagnostics: expect.stringContaining('include') }],
    });
  });

  it('GET /jobs and /jobs/{id}; POST /jobs/{id}/retry requeues a dead job (audited) and refuses others with 409', async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    const dead = (await get('/jobs?status=dead&kind=mesh.send', 'jobs:read')).json() as { jobs: Json[] };
    expect(dead.jobs).toHaveLength(1);
    const id = String(dead.jobs[0]?.id);
    const detail = (await get(`/jobs/${id}`, 'jobs:read')).json() as { events: Json[] };
    expect(detail.events.map((e) => e.event)).toEqual(['enqueued', 'claimed', 'failed', 'dead']);
    expect((await get('/jobs/unknown', 'jobs:read')).statusCode).toBe(404);

    const retry = (jobId: string, scope = 'jobs:manage') =>
      hub.app.inject({
        method: 'POST',
        url: `/jobs/${jobId}/retry`,
        headers: { authorization: `Bearer ${keys[scope]}` },
      });
    const audits = async () =>
      t.store.db
        .selectFrom('audit_events')
        .select(['action', 'outcome', 'http_status'])
        .where('action', '=', 'jobs.retry')
        .execute();
    const ok = await retry(id);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ id, status: 'queued' });
    const again = await retry(id);
    expect(again.statusCode).toBe(409);
    expect((await retry('unknown')).statusCode).toBe(404);
    expect((await retry(id, 'jobs:read')).statusCode).toBe(403);
    expect(await audits()).toEqual([
      { action: 'jobs.retry', outcome: 'success', http_status: 200 },
      { action: 'jobs.retry', outcome: 'error', http_status: 409 },
      { action: 'jobs.retry', outcome: 'not-found', http_status: 404 },
      { action: 'jobs.retry', outcome: 'denied', http_status: 403 },
    ]);
  });

  it('denies callers without the action: other scopes 403, no credentials 401, patients never', async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    expect((await get('/jobs', 'messages:read')).statusCode).toBe(403);
    expect((await get('/mesh/messages', 'jobs:read')).statusCode).toBe(403);
    expect((await hub.app.inject({ method: 'GET', url: '/mesh/messages' })).statusCode).toBe(401);
    const admin = await sessionFor(t.store, clinician('R8008'), now);
    const receptionist = await sessionFor(t.store, clinician('R8009'), now);
    const as = (token: string, url: string) =>
      hub.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    expect((await as(admin, '/jobs')).statusCode).toBe(200);
    expect((await as(receptionist, '/mesh/messages')).statusCode).toBe(403);
  });
});
