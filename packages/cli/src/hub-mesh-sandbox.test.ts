import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshClient } from '@junction/client';
import {
  createHub,
  getMeshMessage,
  type Hub,
  listMeshMessages,
  loadConfig,
  type MeshPort,
  meshClientFor,
} from '@junction/hub';
import { createSandboxServer } from '@junction/sandbox';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type TestStore, testStores } from '../../hub/src/testing/test-stores.js';

/*
 * The hub's MESH mailboxes end to end: hub (real MeshClient) → sandbox MESH over loopback HTTP
 * (mesh-api.yaml send_message, tracking_by_message_id, tracking_by_local_id, list_messages,
 * retrieve_message, acknowledge_message), on SQLite and PostgreSQL. The sandbox's default seed:
 * TEST_WORKFLOW X26ABC1 → X26ABC2, TEST_WORKFLOW_ACK X26ABC2 → X26ABC1; password `password`, key `TestKey`.
 */
let sandbox: FastifyInstance;
let baseUrl: string;

beforeAll(async () => {
  sandbox = await createSandboxServer({ pds: { syntheticPatients: 0 }, mesh: { admin: true } });
  await sandbox.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(sandbox.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sandbox?.close();
});

const client = (mailboxId: string) =>
  new MeshClient({ baseUrl, mailboxId, password: 'password', sharedKey: 'TestKey' });

/** The seed's canned messages (e.g. CHUNKED_MESSAGE_GZ for X26ABC2) are left out. */
async function inbox(mailboxId: string, workflowFilter?: string): Promise<string[]> {
  const out: string[] = [];
  const c = client(mailboxId);
  for await (const id of c.inbox(workflowFilter ? { workflowFilter } : {}))
    if (/^\d{20}_/.test(id)) out.push(id);
  await c.close();
  return out;
}

describe.each(await testStores())('hub MESH mailboxes against the sandbox on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  let dataDir: string;
  let clock: Date;
  /** Wraps the real MeshClient: a chance to "kill the hub" at chosen points. */
  let faults: {
    afterPost?: () => void;
    beforeAck?: (id: string) => void;
    /** After the hub recorded chunk k (its onProgress returned), before chunk k+1 is posted. */
    afterChunk?: (k: number) => void;
  };

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    const reset = await fetch(`${baseUrl}/messageexchange/admin/reset`, { method: 'DELETE' });
    expect(reset.ok).toBe(true);
    t = await factory.create();
    dataDir = await mkdtemp(join(tmpdir(), 'junction-hub-mesh-'));
    clock = new Date();
    faults = {};
    const mailboxes = [
      {
        mailboxId: 'X26ABC1',
        password: 'password',
        sharedKey: 'TestKey',
        baseUrl,
        workflows: ['TEST_WORKFLOW_ACK'],
        inboxPageSize: 10,
        // 256-byte chunks: the hub's small test messages go in several (mesh-api.yaml send_chunk).
        chunkSize: 256,
      },
    ];
    hub = await createHub(
      loadConfig({ JUNCTION_MESH_MAILBOXES: JSON.stringify(mailboxes) }, { logLevel: 'silent', dataDir }),
      {
        store: t.store,
        startJobs: false,
        now: () => clock,
        jobRunner: { backoff: { baseMs: 1, maxMs: 1 } },
        meshPortFor: (m) => faulty(meshClientFor(m)),
      },
    );
  });
  afterEach(async () => {
    await hub?.close();
    await t?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  function faulty(port: MeshPort): MeshPort {
    return {
      send: async (request, ctx) => {
        const record = request.onProgress;
        const onProgress: typeof record = async (p) => {
          await record?.(p);
          faults.afterChunk?.(p.chunk);
        };
        const result = await port.send({ ...request, onProgress }, ctx);
        faults.afterPost?.();
        return result;
      },
      inbox: (options, ctx) => port.inbox(options, ctx),
      receive: (id, ctx) => port.receive(id, ctx),
      acknowledge: async (id, ctx) => {
        faults.beforeAck?.(id);
        return port.acknowledge(id, ctx);
      },
      track: (id, ctx) => port.track(id, ctx),
      trackByLocalId: (id, ctx) => port.trackByLocalId(id, ctx),
      close: () => port.close?.() ?? Promise.resolve(),
    };
  }

  /** Runs due jobs; the hub's clock moves past the tracking interval each round. */
  async function drain(rounds = 6) {
    for (let i = 0; i < rounds; i++) {
      const { claimed } = await hub.jobs.runner.runOnce();
      clock = new Date(clock.getTime() + 61_000);
      if (claimed === 0) return;
    }
  }

  const message = (key: string) => ({
    mailboxId: 'X26ABC1',
    to: 'X26ABC2',
    workflowId: 'TEST_WORKFLOW',
    subject: 'synthetic readings',
    body: `<Bundle xmlns="http://hl7.org/fhir"><id value="${key}"/></Bundle>`,
    contentType: 'application/xml',
    correlationId: `corr-${key}`,
    idempotencyKey: key,
  });

  it('send → sent → delivered → acknowledged against the sandbox, and the recipient gets it once', async () => {
    const { messageLogId } = await hub.mesh.send(message('one'));
    await hub.mesh.send(message('one')); // same key: nothing more
    await drain(2);
    const sent = await getMeshMessage(t.store, messageLogId);
    expect(sent).toMatchObject({ status: 'delivered', to: 'X26ABC2', localId: messageLogId });
    const ids = await inbox('X26ABC2', 'TEST_WORKFLOW');
    expect(ids).toEqual([sent?.meshMessageId]);

    const practice = client('X26ABC2');
    const got = await practice.receive(ids[0] ?? '');
    const text = Buffer.concat(await got.body.toArray()).toString();
    expect(text).toBe(message('one').body);
    expect(got.metadata).toMatchObject({
      from: 'X26ABC1',
      workflowId: 'TEST_WORKFLOW',
      localId: messageLogId,
    });
    await practice.acknowledge(ids[0] ?? '');
    await practice.close();

    await drain();
    const done = await getMeshMessage(t.store, messageLogId);
    expect(done?.status).toBe('acknowledged');
    expect(done?.events.map((e) => e.event)).toEqual([
      'queued',
      'sending',
      'sent',
      'delivered',
      'acknowledged',
    ]);
  });

  it('a send whose answer is lost (hub killed after the POST) is found by mex-LocalID, never sent twice', async () => {
    const { messageLogId } = await hub.mesh.send(message('lost'));
    faults.afterPost = () => {
      throw new Error('killed after the POST');
    };
    await hub.jobs.runner.runOnce();
    expect((await getMeshMessage(t.store, messageLogId))?.status).toBe('sending');
    faults = {};
    clock = new Date(clock.getTime() + 1_000);
    await drain(2);
    const found = await getMeshMessage(t.store, messageLogId);
    expect(found?.events.map((e) => e.event)).toEqual([
      'queued',
      'sending',
      'found-by-local-id',
      'delivered',
    ]);
    expect(await inbox('X26ABC2', 'TEST_WORKFLOW')).toEqual([found?.meshMessageId]);
  });

  it('a chunked send killed after chunk 2 of 5 is resumed by the next attempt: same MESH message, chunks 1..5 once, delivered once, byte-identical', async () => {
    const body = `<Bundle xmlns="http://hl7.org/fhir">${'<entry><resource>synthetic</resource></entry>'.repeat(25)}</Bundle>`;
    expect(Math.ceil(body.length / 256)).toBe(5);
    const { messageLogId } = await hub.mesh.send({ ...message('chunked'), body });
    faults.afterChunk = (k) => {
      if (k === 2) throw new Error('killed after chunk 2');
    };
    await hub.jobs.runner.runOnce();
    const cut = await getMeshMessage(t.store, messageLogId);
    expect(cut).toMatchObject({ status: 'sending', chunks: 5, chunksSent: 2 });
    // Incomplete at MESH: not delivered, tracked as uploading.
    expect(await inbox('X26ABC2', 'TEST_WORKFLOW')).toEqual([]);
    const sender = client('X26ABC1');
    expect((await sender.track(cut?.meshMessageId ?? '')).status).toBe('uploading');
    await sender.close();

    faults = {};
    clock = new Date(clock.getTime() + 1_000);
    await drain(2);
    const done = await getMeshMessage(t.store, messageLogId);
    expect(done).toMatchObject({ status: 'delivered', meshMessageId: cut?.meshMessageId, chunksSent: 5 });
    expect(done?.events.filter((e) => e.event === 'chunk-sent').map((e) => e.detail?.split(',')[0])).toEqual([
      'chunk 1/5 sent',
      'chunk 2/5 sent',
      'chunk 3/5 sent',
      'chunk 4/5 sent',
      'chunk 5/5 sent',
    ]);
    expect(done?.events.map((e) => e.event)).toContain('resuming');
    const ids = await inbox('X26ABC2', 'TEST_WORKFLOW');
    expect(ids).toEqual([cut?.meshMessageId]);
    const practice = client('X26ABC2');
    const got = await practice.receive(ids[0] ?? '', {}, { verifyChecksum: true });
    expect(got.metadata.totalChunks).toBe(5);
    expect(Buffer.concat(await got.body.toArray()).toString()).toBe(body);
    await practice.close();
  });

  it('a refused send (417 SEND 12, unregistered recipient) fails with its DTS code', async () => {
    const { messageLogId } = await hub.mesh.send({ ...message('nobody'), to: 'NOBODY99' });
    await drain();
    expect(await getMeshMessage(t.store, messageLogId)).toMatchObject({
      status: 'failed',
      dts: { event: 'SEND', code: '12' },
    });
  });

  it('polls every page, stores before acknowledging; killed before an ack: nothing lost, nothing stored twice', async () => {
    const practice = client('X26ABC2');
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await practice.send({
        to: 'X26ABC1',
        workflowId: 'TEST_WORKFLOW_ACK',
        body: `ack ${i}`,
        localId: `ack-${i}`,
      });
      sent.push(r.messageId);
    }
    await practice.close();
    let acks = 0;
    faults.beforeAck = () => {
      acks++;
      if (acks === 5) throw new Error('killed before the acknowledgement');
    };
    await hub.mesh.enqueuePoll(hub.mesh.mailboxes[0] ?? hub.config.mesh.mailboxes[0]!);
    await hub.jobs.runner.runOnce();
    const first = await listMeshMessages(t.store, { direction: 'inbound', limit: 100 });
    expect(first.filter((m) => m.status === 'acked')).toHaveLength(4);
    expect(first.filter((m) => m.status === 'received')).toHaveLength(1);
    expect(await inbox('X26ABC1', 'TEST_WORKFLOW_ACK')).toHaveLength(8);

    faults = {};
    clock = new Date(clock.getTime() + 61_000);
    await hub.mesh.enqueuePoll(hub.mesh.mailboxes[0] ?? hub.config.mesh.mailboxes[0]!);
    await drain();
    const all = await listMeshMessages(t.store, { direction: 'inbound', limit: 100 });
    expect(all.map((m) => m.meshMessageId).sort()).toEqual([...sent].sort());
    expect(all.every((m) => m.status === 'acked')).toBe(true);
    expect(await inbox('X26ABC1', 'TEST_WORKFLOW_ACK')).toEqual([]);
    const body = await hub.mesh.body(all.find((m) => m.localId === 'ack-7')?.id ?? '');
    expect(await body?.text()).toBe('ack 7');
  });
});
