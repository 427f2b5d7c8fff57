import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MeshMailboxConfig } from '../config/load-config.js';
import { HubJobs } from '../jobs/hub-jobs.js';
import { listJobs } from '../jobs/queue.js';
import { FakeMesh } from '../testing/fake-mesh.js';
import { HUB, MAILBOX, meshHubInstance, PRACTICE } from '../testing/mesh-hub.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { type MeshLogEvent, MeshService } from './mesh-service.js';
import { getMeshMessage, listMeshEvents, listMeshMessages, sendMeshMessage } from './message-log.js';

const silent = { warn: () => {}, error: () => {} };

describe.each(await testStores())('hub MESH mailboxes on $dialect', (factory) => {
  let t: TestStore;
  let dataDir: string;
  let mesh: FakeMesh;
  let clock: Date;
  const now = () => clock;

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    dataDir = await mkdtemp(join(tmpdir(), 'junction-mesh-'));
    mesh = new FakeMesh([HUB, PRACTICE, 'X26ABC2']);
    clock = new Date('2025-05-06T07:08:09.000Z');
  });
  afterEach(async () => {
    await t?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** A hub "process": its service and runner on the shared store (a new one after a crash). */
  function instance(options: { inlineBodyMax?: number; mailbox?: Partial<MeshMailboxConfig> } = {}) {
    const hub = meshHubInstance({
      ...options,
      store: t.store,
      dataDir,
      port: (id) => mesh.port(id),
      now,
      tick: () => {
        clock = new Date(clock.getTime() + 1_000);
      },
      drainRounds: 20,
    });
    const seen: MeshLogEvent[] = [];
    hub.service.events.on('message', (e) => seen.push(e));
    return { ...hub, seen };
  }

  const send = (key = 'submission-1', to = PRACTICE) =>
    sendMeshMessage(
      t.store,
      {
        mailboxId: HUB,
        to,
        workflowId: 'GPFED_CONSULT_REPORT',
        subject: 'Readings',
        body: '<Bundle/>',
        contentType: 'application/xml',
        correlationId: 'corr-1',
        idempotencyKey: key,
      },
      { now },
    );

  it('reconfigure (settings changed in the console): new mailboxes polled, changed ones get a new port, removed ones refused', async () => {
    const jobs = new HubJobs(t.store, {
      now,
      logger: silent,
      random: () => 0,
      backoff: { baseMs: 1, maxMs: 1 },
    });
    const drain = async () => {
      for (let round = 0; round < 20 && (await jobs.runner.runOnce()).claimed > 0; round++) {
        clock = new Date(clock.getTime() + 1_000);
      }
    };
    const ports: string[] = [];
    const service = new MeshService({
      store: t.store,
      dataDir,
      mailboxes: [MAILBOX],
      portFor: (m) => {
        ports.push(`${m.mailboxId}@${m.baseUrl}`);
        return mesh.port(m.mailboxId);
      },
      now,
    });
    for (const [kind, handler] of Object.entries(service.jobHandlers)) jobs.register(kind, handler);
    const polls = async () =>
      (await listJobs(t.store, { kind: 'mesh.poll', limit: 100 }))
        .map((j) => (j.payload as { mailboxId: string }).mailboxId)
        .sort();
    service.startPolling();
    await vi.waitFor(async () => expect(await polls()).toEqual([HUB]));
    await drain();
    expect(ports).toEqual([`${HUB}@${MAILBOX.baseUrl}`]);

    // X26ABC2 added, X26ABC1 moved to another host: a poll for the new one at once, a new port for the moved one.
    const moved = { ...MAILBOX, baseUrl: 'http://127.0.0.1:2' };
    await service.reconfigure([moved, { ...MAILBOX, mailboxId: 'X26ABC2' }]);
    expect(service.mailboxes.map((m) => m.mailboxId)).toEqual([HUB, 'X26ABC2']);
    await vi.waitFor(async () => expect(await polls()).toContain('X26ABC2'));
    clock = new Date(clock.getTime() + MAILBOX.pollIntervalMs);
    await service.enqueuePoll(moved);
    await drain();
    expect(ports).toEqual([
      `${HUB}@${MAILBOX.baseUrl}`,
      'X26ABC2@http://127.0.0.1:1',
      `${HUB}@http://127.0.0.1:2`,
    ]);

    // X26ABC1 removed: a message queued from it is dead-lettered with the reason, never sent.
    await service.reconfigure([{ ...MAILBOX, mailboxId: 'X26ABC2' }]);
    await send();
    await drain();
    const [job] = await listJobs(t.store, { kind: 'mesh.send' });
    expect(job).toMatchObject({
      status: 'dead',
      lastError: expect.stringContaining(`MESH mailbox ${HUB} is not configured`),
    });
    expect(mesh.messages).toEqual([]);
    service.stopPolling();
    await service.close();
  });

  it('send → sent → delivered → acknowledged, with its history (mesh-api.yaml send_message, tracking_by_message_id)', async () => {
    const hub = instance();
    const first = await send();
    expect(first.created).toBe(true);
    expect(await send()).toEqual({ messageLogId: first.messageLogId, created: false });
    expect((await getMeshMessage(t.store, first.messageLogId))?.status).toBe('queued');

    await hub.drain(3);
    const [posted] = mesh.messages;
    expect(mesh.messages).toHaveLength(1);
    expect(posted).toMatchObject({
      to: PRACTICE,
      workflowId: 'GPFED_CONSULT_REPORT',
      localId: first.messageLogId,
    });
    expect(posted?.body.toString()).toBe('<Bundle/>');
    let logged = await getMeshMessage(t.store, first.messageLogId);
    expect(logged).toMatchObject({ status: 'delivered', meshMessageId: posted?.id, chunks: 1 });

    // The practice downloads and acknowledges it: the next tracking look sees `acknowledged`.
    if (posted) posted.status = 'acknowledged';
    await hub.drain();
    logged = await getMeshMessage(t.store, first.messageLogId);
    expect(logged?.status).toBe('acknowledged');
    expect(logged?.events.map((e) => e.event)).toEqual([
      'queued',
      'sending',
      'sent',
      'delivered',
      'acknowledged',
    ]);
    expect(hub.seen.map((e) => e.event)).toEqual(['sending', 'sent', 'delivered', 'acknowledged']);
    expect(mesh.messages).toHaveLength(1);
    // No tracking job is left waiting once the message is acknowledged.
    expect(await listJobs(t.store, { status: 'queued' })).toEqual([]);
  });

  it('never sends twice when the hub dies between the POST and recording the message id', async () => {
    const first = instance();
    await send();
    // MESH stores the message; the hub never learns its id (killed, or the answer lost).
    mesh.hooks.afterPost = () => {
      throw new Error('killed after the POST');
    };
    await first.jobs.runner.runOnce();
    mesh.hooks = {};
    const [row] = await listMeshMessages(t.store);
    expect(row).toMatchObject({ status: 'sending', meshMessageId: null });
    expect(mesh.messages).toHaveLength(1);

    // A new process takes the retried job: it finds the message by its local id instead of sending again.
    const second = instance();
    clock = new Date(clock.getTime() + 5_000);
    await second.drain(3);
    expect(mesh.messages).toHaveLength(1);
    const logged = await getMeshMessage(t.store, row?.id ?? '');
    expect(logged).toMatchObject({ meshMessageId: mesh.messages[0]?.id, status: 'delivered' });
    expect(logged?.events.map((e) => e.event)).toEqual([
      'queued',
      'sending',
      'found-by-local-id',
      'delivered',
    ]);
  });

  it('sends again when the interrupted attempt never reached MESH (tracking by local id: 404)', async () => {
    await send();
    // The POST fails before MESH stores anything (a 503 leaves it unknown to the hub).
    const realPort = mesh.port.bind(mesh);
    let failNext = true;
    const service = new MeshService({
      store: t.store,
      dataDir,
      mailboxes: [MAILBOX],
      now,
      portFor: (m) => {
        const port = realPort(m.mailboxId);
        return {
          ...port,
          inbox: port.inbox.bind(port),
          receive: port.receive.bind(port),
          acknowledge: port.acknowledge.bind(port),
          track: port.track.bind(port),
          trackByLocalId: port.trackByLocalId.bind(port),
          send: async (req, ctx) => {
            if (failNext) {
              failNext = false;
              throw Object.assign(new Error('503 Service Unavailable'), { status: 503 });
            }
            return port.send(req, ctx);
          },
        };
      },
    });
    const jobs = new HubJobs(t.store, {
      now,
      logger: silent,
      random: () => 0,
      backoff: { baseMs: 1, maxMs: 1 },
    });
    for (const [kind, handler] of Object.entries(service.jobHandlers)) jobs.register(kind, handler);
    for (let i = 0; i < 4; i++) {
      await jobs.runner.runOnce();
      clock = new Date(clock.getTime() + 1_000);
    }
    expect(mesh.messages).toHaveLength(1);
    const [row] = await listMeshMessages(t.store);
    const logged = await getMeshMessage(t.store, row?.id ?? '');
    expect(logged?.events.map((e) => e.event)).toEqual([
      'queued',
      'sending',
      'not-found-by-local-id',
      'sending',
      'sent',
      'delivered',
    ]);
  });

  it('an interrupted send whose local id MESH finds on several messages (300) fails for a person, not sent again', async () => {
    const hub = instance();
    const { messageLogId } = await sendMeshMessage(
      t.store,
      {
        mailboxId: HUB,
        to: PRACTICE,
        workflowId: 'W',
        body: 'x',
        localId: 'dup',
        correlationId: 'c',
        idempotencyKey: 'd',
      },
      { now },
    );
    mesh.hooks.afterPost = () => {
      throw new Error('killed after the POST');
    };
    await hub.jobs.runner.runOnce();
    mesh.hooks = {};
    // Another sender on the same mailbox (another system) used the same local id.
    mesh.messages.push({ ...(mesh.messages[0] as (typeof mesh.messages)[number]), id: mesh.nextId() });
    clock = new Date(clock.getTime() + 5_000);
    await hub.drain();
    expect(mesh.messages).toHaveLength(2);
    const failed = await getMeshMessage(t.store, messageLogId);
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toMatch(/several MESH messages carry local id dup/);
    expect((await listJobs(t.store, { kind: 'mesh.send' }))[0]?.status).toBe('dead');
  });

  it('a refusal (417 SEND 12, unregistered recipient) fails the message with its DTS code, dead-letters the job, and is not retried', async () => {
    const hub = instance();
    const { messageLogId } = await send('k', 'NOBODY1');
    await hub.drain();
    expect(await getMeshMessage(t.store, messageLogId)).toMatchObject({
      status: 'failed',
      dts: { event: 'SEND', code: '12' },
    });
    expect(mesh.messages).toHaveLength(0);
    const [job] = await listJobs(t.store, { kind: 'mesh.send' });
    expect(job).toMatchObject({ status: 'dead', attempts: 1 });
  });

  it('an undeliverable report in the inbox fails the outbound message it links to', async () => {
    const hub = instance();
    const { messageLogId } = await send();
    await hub.drain(2);
    const sent = mesh.messages[0];
    if (sent) sent.status = 'undeliverable';
    mesh.deliver(HUB, {
      type: 'REPORT',
      linkedMessageId: sent?.id ?? '',
      statusEvent: 'SEND',
      statusCode: '14',
      body: '',
      workflowId: 'GPFED_CONSULT_REPORT',
    });
    await hub.service.poll(HUB, ctxFor('poll'));
    const failed = await getMeshMessage(t.store, messageLogId);
    expect(failed).toMatchObject({ status: 'failed', dts: { event: 'SEND', code: '14' } });
  });

  it('stores inbound messages before acknowledging them; a crash before the ack loses nothing and stores nothing twice', async () => {
    const hub = instance();
    const a = mesh.deliver(HUB, { body: 'first', workflowId: 'GPFED_CONSULT_REPORT_ACK' });
    const b = mesh.deliver(HUB, { body: 'second' });
    mesh.hooks.beforeAck = (id) => {
      if (id === a.id) throw new Error('killed before the acknowledgement');
    };
    await expect(hub.service.poll(HUB, ctxFor('poll-1'))).rejects.toThrow('killed');
    // Stored, not acknowledged: still in MESH's inbox.
    let stored = await listMeshMessages(t.store, { direction: 'inbound' });
    expect(stored.map((m) => [m.meshMessageId, m.status])).toEqual([[a.id, 'received']]);
    expect(mesh.inboxOf(HUB).map((m) => m.id)).toEqual([a.id, b.id]);

    mesh.hooks = {};
    const summary = await instance().service.poll(HUB, ctxFor('poll-2'));
    expect(summary).toEqual({ mailboxId: HUB, listed: 2, stored: 1, acked: 2 });
    stored = await listMeshMessages(t.store, { direction: 'inbound' });
    expect(stored.map((m) => m.meshMessageId).sort()).toEqual([a.id, b.id].sort());
    expect(stored.every((m) => m.status === 'acked')).toBe(true);
    expect(mesh.inboxOf(HUB)).toEqual([]);
    const first = stored.find((m) => m.meshMessageId === a.id);
    expect(await (await hub.service.body(first?.id ?? ''))?.text()).toBe('first');
    const history = await getMeshMessage(t.store, first?.id ?? '');
    expect(history?.events.map((e) => e.event)).toEqual(['received', 'stored', 'acked-to-mesh']);
    expect(history?.events.at(-1)?.detail).toBe('acknowledged by a later poll');
  });

  it('a download cut mid-way stores nothing and is not acknowledged; the next poll stores it once', async () => {
    const hub = instance();
    const a = mesh.deliver(HUB, { body: 'a body of some length' });
    mesh.hooks.duringDownload = () => {
      throw new Error('connection reset');
    };
    await expect(hub.service.poll(HUB, ctxFor('p1'))).rejects.toThrow('connection reset');
    expect(await listMeshMessages(t.store)).toEqual([]);
    expect(mesh.inboxOf(HUB)).toHaveLength(1);
    expect(await readdir(join(dataDir, 'mesh', 'tmp'))).toEqual([]);
    mesh.hooks = {};
    await hub.service.poll(HUB, ctxFor('p2'));
    const [stored] = await listMeshMessages(t.store);
    expect(stored).toMatchObject({ meshMessageId: a.id, status: 'acked', bytes: 21 });
  });

  it('large inbound bodies go to files under the data dir, small ones to the store', async () => {
    const hub = instance({ inlineBodyMax: 8 });
    mesh.deliver(HUB, { body: 'x'.repeat(100) });
    mesh.deliver(HUB, { body: 'tiny' });
    await hub.service.poll(HUB, ctxFor('p'));
    const rows = await t.store.db.selectFrom('mesh_messages').select(['id', 'body_path', 'bytes']).execute();
    const big = rows.find((r) => Number(r.bytes) === 100);
    const small = rows.find((r) => Number(r.bytes) === 4);
    expect(big?.body_path).toBe(join('mesh', 'messages', big?.id ?? ''));
    expect(small?.body_path).toBeNull();
    expect(await (await hub.service.body(big?.id ?? ''))?.text()).toBe('x'.repeat(100));
    expect(await (await hub.service.body(small?.id ?? ''))?.text()).toBe('tiny');
  });

  it('polls every page of the inbox (MESH max_results paging)', async () => {
    const hub = instance({ mailbox: { inboxPageSize: 10 } });
    for (let i = 0; i < 25; i++) mesh.deliver(HUB, { body: `m${i}` });
    const summary = await hub.service.poll(HUB, ctxFor('p'));
    expect(summary).toMatchObject({ listed: 25, stored: 25, acked: 25 });
    expect(mesh.pagesServed).toBe(3);
    expect(await listMeshMessages(t.store, { limit: 500 })).toHaveLength(25);
  });

  it('runs the inbound handler of a workflow as a job, with the stored body; other workflows are only stored', async () => {
    const hub = instance();
    const handled: string[] = [];
    hub.service.registerInboundHandler('GPFED_CONSULT_REPORT_ACK', async (message, body) => {
      handled.push(`${message.workflowId}:${await body.text()}`);
      return { ok: true };
    });
    mesh.deliver(HUB, { body: '<ack/>', workflowId: 'GPFED_CONSULT_REPORT_ACK' });
    mesh.deliver(HUB, { body: 'other', workflowId: 'TEST_WORKFLOW' });
    await hub.service.enqueuePoll(MAILBOX);
    await hub.drain();
    expect(handled).toEqual(['GPFED_CONSULT_REPORT_ACK:<ack/>']);
    expect(await listJobs(t.store, { kind: 'mesh.inbound' })).toMatchObject([{ status: 'succeeded' }]);
    const ack = (await listMeshMessages(t.store, { workflowId: 'GPFED_CONSULT_REPORT_ACK' }))[0];
    expect((await getMeshMessage(t.store, ack?.id ?? ''))?.events.map((e) => e.event)).toEqual([
      'received',
      'stored',
      'acked-to-mesh',
      'handled',
    ]);
  });

  it('status handlers learn durably of sent, delivered, acknowledged; the events cursor lists everything', async () => {
    const hub = instance();
    const statuses: string[] = [];
    hub.service.registerStatusHandler('GPFED_CONSULT_REPORT', async (message) => {
      statuses.push(message.status);
    });
    await send();
    await hub.drain(3);
    if (mesh.messages[0]) mesh.messages[0].status = 'acknowledged';
    await hub.drain();
    // Each handler job reads the message as it is when it runs: the set of statuses seen ends acknowledged.
    expect(statuses.at(-1)).toBe('acknowledged');
    const jobs = await listJobs(t.store, { kind: 'mesh.status' });
    expect(jobs.map((j) => (j.payload as { status: string }).status).sort()).toEqual(
      ['acknowledged', 'delivered', 'sent'].sort(),
    );
    const events = await listMeshEvents(t.store);
    expect(events.map((e) => e.event)).toEqual(['queued', 'sending', 'sent', 'delivered', 'acknowledged']);
    expect(await listMeshEvents(t.store, { afterId: events[2]?.id ?? 0 })).toHaveLength(2);
  });

  it('one poll job per mailbox per tick, however many instances enqueue it', async () => {
    const a = instance();
    const b = instance();
    await a.service.enqueuePoll(MAILBOX);
    await b.service.enqueuePoll(MAILBOX);
    expect(await listJobs(t.store, { kind: 'mesh.poll' })).toHaveLength(1);
    clock = new Date(clock.getTime() + MAILBOX.pollIntervalMs);
    await b.service.enqueuePoll(MAILBOX);
    expect(await listJobs(t.store, { kind: 'mesh.poll' })).toHaveLength(2);
  });

  it('lists with filters and pages (by mailbox, workflow, status, correlation id, direction)', async () => {
    const hub = instance();
    for (let i = 0; i < 5; i++) {
      clock = new Date(clock.getTime() + 1_000);
      await send(`k${i}`);
    }
    mesh.deliver(HUB, { workflowId: 'TEST_WORKFLOW' });
    await hub.service.poll(HUB, ctxFor('p'));
    expect(await listMeshMessages(t.store, { direction: 'outbound' })).toHaveLength(5);
    expect(await listMeshMessages(t.store, { direction: 'inbound', status: 'acked' })).toHaveLength(1);
    expect(await listMeshMessages(t.store, { workflowId: 'TEST_WORKFLOW' })).toHaveLength(1);
    expect(await listMeshMessages(t.store, { correlationId: 'corr-1' })).toHaveLength(5);
    expect(await listMeshMessages(t.store, { mailboxId: 'x26abc2' })).toHaveLength(0);
    expect(await listMeshMessages(t.store, { status: 'queued', mailboxId: 'x26abc1' })).toHaveLength(5);
    const page1 = await listMeshMessages(t.store, { limit: 4 });
    const page2 = await listMeshMessages(t.store, { limit: 4, before: page1.at(-1)?.id ?? '' });
    expect(page1).toHaveLength(4);
    expect(page2).toHaveLength(2);
    expect(new Set([...page1, ...page2].map((m) => m.id)).size).toBe(6);
  });
});

function ctxFor(id: string) {
  return {
    jobId: id,
    kind: 'mesh.poll',
    attempt: 1,
    idempotencyKey: id,
    correlationId: `corr-${id}`,
    owner: 'test',
    signal: new AbortController().signal,
  };
}
