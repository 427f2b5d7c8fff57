import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  MeshReceived,
  MeshSendRequest,
  MeshSendResult,
  MeshTracking,
  RequestContext,
} from '@junction/client';
import { MeshError } from '@junction/client';
import { OperationOutcomeError } from '@junction/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { listJobs } from '../jobs/queue.js';
import { HUB, meshHubInstance, PRACTICE } from '../testing/mesh-hub.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { chunkEventDue, MAX_CHUNK_EVENTS, type MeshPort } from './mesh-service.js';
import { getMeshMessage, sendMeshMessage } from './message-log.js';

// Resumable MESH uploads in the hub's send job. MESH here is a chunk-level fake of what the sandbox does
// (mesh-api.yaml send_message / send_chunk: chunk 1 creates the message `uploading`, chunks 2..n are addressed by
// number and replace what MESH holds, delivery once every chunk is in, 423 once finalised); the real client
// against the real sandbox is packages/cli/src/hub-mesh-sandbox.test.ts.

const LEASE_MS = 30_000;

interface ChunkedMessage {
  id: string;
  localId: string | undefined;
  to: string;
  total: number;
  chunks: Array<Buffer | undefined>;
  status: 'uploading' | 'accepted';
  /** How many times each chunk was posted. */
  posts: number[];
}

interface Hooks {
  /** After MESH stored chunk k, before its answer reaches the client (throw: answer lost / the process died). */
  afterAccept?: (k: number, message: ChunkedMessage) => void | Promise<void>;
  /** After the client's onProgress for chunk k returned (a never-settling promise: the process hangs there). */
  afterProgress?: (k: number) => void | Promise<void>;
}

function meshError(status: number, meshMessageId?: string): MeshError {
  const base = new OperationOutcomeError(status, {
    resourceType: 'OperationOutcome',
    issue: [
      { severity: 'error', code: 'processing', diagnostics: `MESH send chunk failed with HTTP ${status}` },
    ],
  });
  return new MeshError(base, meshMessageId === undefined ? {} : { meshMessageId });
}

/** MESH at chunk level, honouring `onProgress` and `resume` as `MeshClient.send` does. */
class ChunkedMesh {
  readonly messages: ChunkedMessage[] = [];
  hooks: Hooks = {};
  private seq = 0;

  constructor(readonly chunkSize: number) {}

  delivered(): ChunkedMessage[] {
    return this.messages.filter((m) => m.status === 'accepted');
  }

  port(mailboxId: string): MeshPort {
    const mesh = this;
    return {
      async send(request: MeshSendRequest, ctx?: RequestContext): Promise<MeshSendResult> {
        const parts: Buffer[] = [];
        for await (const piece of request.body as AsyncIterable<Uint8Array>) parts.push(Buffer.from(piece));
        const body = Buffer.concat(parts);
        const total = Math.max(1, Math.ceil(body.byteLength / mesh.chunkSize));
        const slice = (k: number) => body.subarray((k - 1) * mesh.chunkSize, k * mesh.chunkSize);
        const progress = async (id: string, k: number) => {
          await request.onProgress?.({
            messageId: id,
            chunk: k,
            chunks: total,
            bytesSent: Math.min(body.byteLength, k * mesh.chunkSize),
            bytesTotal: body.byteLength,
          });
          await mesh.hooks.afterProgress?.(k);
        };
        let message: ChunkedMessage;
        let from: number;
        if (request.resume) {
          const found = mesh.messages.find((m) => m.id === request.resume?.messageId);
          if (!found) throw meshError(404, request.resume.messageId);
          message = found;
          from = request.resume.fromChunk;
        } else {
          mesh.seq++;
          message = {
            id: `20250506070809000000_${String(mesh.seq).padStart(6, '0')}`,
            localId: request.localId,
            to: request.to,
            total,
            chunks: [slice(1)],
            status: total === 1 ? 'accepted' : 'uploading',
            posts: [1],
          };
          mesh.messages.push(message);
          await mesh.hooks.afterAccept?.(1, message);
          await progress(message.id, 1);
          from = 2;
        }
        for (let k = from; k <= total; k++) {
          ctx?.signal?.throwIfAborted();
          if (!mesh.messages.includes(message)) throw meshError(404, message.id);
          if (message.status !== 'uploading') {
            // 423: finalised; on the resumed last chunk it means the interrupted attempt completed it.
            if (!(request.resume && k === from && k === total)) throw meshError(423, message.id);
          } else {
            message.chunks[k - 1] = slice(k);
            message.posts[k - 1] = (message.posts[k - 1] ?? 0) + 1;
            if (message.chunks.filter(Boolean).length === total) message.status = 'accepted';
            await mesh.hooks.afterAccept?.(k, message);
          }
          await progress(message.id, k);
        }
        return { messageId: message.id, chunks: total, bytes: body.byteLength, checksum: undefined };
      },
      async *inbox() {},
      async receive(): Promise<MeshReceived> {
        throw meshError(404);
      },
      async acknowledge() {},
      async track(messageId: string): Promise<MeshTracking> {
        const m = mesh.messages.find((x) => x.id === messageId);
        if (!m) throw meshError(404);
        return { message_id: m.id, status: m.status, recipient: m.to };
      },
      async trackByLocalId(localId: string): Promise<MeshTracking | undefined> {
        const m = mesh.messages.find((x) => x.localId === localId && mailboxId === HUB);
        return m && { message_id: m.id, status: m.status, recipient: m.to };
      },
    };
  }
}

/**
 * Where a "process" stops: `at()` marks that it got there (`reached` resolves) and returns a promise that settles
 * only when `kill` is called, so the handler hangs there like a dead process holding its lease.
 */
function hang() {
  let kill: (error: Error) => void = () => {};
  let arrive: () => void = () => {};
  const promise = new Promise<never>((_resolve, reject) => {
    kill = reject;
  });
  promise.catch(() => {});
  const reached = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  return {
    reached,
    at: () => {
      arrive();
      return promise;
    },
    kill: () => kill(new Error('killed')),
  };
}

describe.each(await testStores())('resumable MESH sends on $dialect', (factory) => {
  let t: TestStore;
  let dataDir: string;
  let mesh: ChunkedMesh;
  let clock: Date;
  const now = () => clock;

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    dataDir = await mkdtemp(join(tmpdir(), 'junction-mesh-resume-'));
    mesh = new ChunkedMesh(4);
    clock = new Date('2025-05-06T07:08:09.000Z');
  });
  afterEach(async () => {
    await t?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** A hub "process" on the shared store (a new one after a crash). */
  const instance = () =>
    meshHubInstance({
      store: t.store,
      dataDir,
      port: (id) => mesh.port(id),
      now,
      tick: () => {
        clock = new Date(clock.getTime() + 1_000);
      },
      leaseMs: LEASE_MS,
      drainRounds: 10,
    });

  const send = (body: string, key = 'k1') =>
    sendMeshMessage(
      t.store,
      {
        mailboxId: HUB,
        to: PRACTICE,
        workflowId: 'GPFED_CONSULT_REPORT',
        body,
        correlationId: 'corr-1',
        idempotencyKey: key,
      },
      { now },
    );

  const history = async (id: string) =>
    ((await getMeshMessage(t.store, id))?.events ?? []).map((e) =>
      e.detail ? `${e.event}: ${e.detail}` : e.event,
    );

  it('a send job whose process dies after chunk 2 of 4 (its lease expires) is resumed by the next attempt: chunks 1..4 once each, one message delivered', async () => {
    const body = 'ab12cd34ef56gh78'; // 4 chunks of 4 bytes
    const { messageLogId } = await send(body);
    const first = instance();
    const stuck = hang();
    mesh.hooks.afterProgress = (k) => (k === 2 ? stuck.at() : undefined);
    // Process A takes the job and stops dead after chunk 2 was accepted and recorded.
    const dead = first.jobs.runner.runOnce();
    await stuck.reached;
    expect(await getMeshMessage(t.store, messageLogId)).toMatchObject({
      status: 'sending',
      chunks: 4,
      chunksSent: 2,
      meshMessageId: mesh.messages[0]?.id,
    });
    expect(mesh.delivered()).toEqual([]);

    // Its lease runs out; process B claims the job (attempt 2) and resumes from chunk 3.
    mesh.hooks = {};
    clock = new Date(clock.getTime() + LEASE_MS + 1_000);
    const second = instance();
    await second.drain(3);
    stuck.kill();
    await dead; // A's late failure is refused: it no longer holds the lease.

    expect(mesh.messages).toHaveLength(1);
    const [delivered] = mesh.delivered();
    expect(Buffer.concat(delivered?.chunks as Buffer[]).toString()).toBe(body);
    expect(delivered?.posts).toEqual([1, 1, 1, 1]);
    const logged = await getMeshMessage(t.store, messageLogId);
    expect(logged).toMatchObject({
      status: 'delivered',
      chunks: 4,
      chunksSent: 4,
      meshMessageId: delivered?.id,
    });
    expect(await history(messageLogId)).toEqual([
      'queued',
      'sending: attempt 1',
      `chunk-sent: chunk 1/4 sent, 4 of 16 bytes, MESH message ${delivered?.id}`,
      'chunk-sent: chunk 2/4 sent, 8 of 16 bytes',
      `resuming: attempt 2: MESH message ${delivered?.id} from chunk 3 of 4`,
      'chunk-sent: chunk 3/4 sent, 12 of 16 bytes',
      'chunk-sent: chunk 4/4 sent, 16 of 16 bytes',
      `sent: MESH message ${delivered?.id}, 4 chunk(s), 16 bytes`,
      'delivered: MESH status accepted',
    ]);
    const [job] = await listJobs(t.store, { kind: 'mesh.send' });
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('a chunk accepted but not recorded (died in between) is posted again on resume, replacing itself; recorded once', async () => {
    const body = 'ab12cd34ef56';
    const { messageLogId } = await send(body);
    mesh.hooks.afterAccept = (k) => {
      if (k === 2) throw new Error('killed after MESH accepted chunk 2');
    };
    await instance().jobs.runner.runOnce();
    expect((await getMeshMessage(t.store, messageLogId))?.chunksSent).toBe(1);
    mesh.hooks = {};
    clock = new Date(clock.getTime() + 5_000);
    await instance().drain(3);
    const [message] = mesh.messages;
    expect(mesh.messages).toHaveLength(1);
    expect(message?.status).toBe('accepted');
    expect(message?.posts).toEqual([1, 2, 1]);
    const events = await history(messageLogId);
    expect(events.filter((e) => e.startsWith('chunk-sent'))).toEqual([
      `chunk-sent: chunk 1/3 sent, 4 of 12 bytes, MESH message ${message?.id}`,
      'chunk-sent: chunk 2/3 sent, 8 of 12 bytes',
      'chunk-sent: chunk 3/3 sent, 12 of 12 bytes',
    ]);
    expect(events).toContain(`resuming: attempt 2: MESH message ${message?.id} from chunk 2 of 3`);
  });

  it('chunk 1 accepted but its message id never recorded: found by mex-LocalID still uploading, adopted and resumed from chunk 2', async () => {
    const { messageLogId } = await send('ab12cd34ef56gh78');
    mesh.hooks.afterAccept = (k) => {
      if (k === 1) throw new Error('killed before the answer to chunk 1 was read');
    };
    await instance().jobs.runner.runOnce();
    expect(await getMeshMessage(t.store, messageLogId)).toMatchObject({
      status: 'sending',
      meshMessageId: null,
    });
    mesh.hooks = {};
    clock = new Date(clock.getTime() + 5_000);
    await instance().drain(3);
    const [message] = mesh.messages;
    expect(mesh.messages).toHaveLength(1);
    expect(message?.status).toBe('accepted');
    expect(message?.posts).toEqual([1, 1, 1, 1]);
    const events = await history(messageLogId);
    expect(events.slice(0, 4)).toEqual([
      'queued',
      'sending: attempt 1',
      `found-by-local-id: MESH message ${message?.id} is incomplete (uploading): an interrupted attempt posted it; its upload goes on`,
      `resuming: attempt 2: MESH message ${message?.id} from chunk 2`,
    ]);
    expect((await getMeshMessage(t.store, messageLogId))?.status).toBe('delivered');
  });

  it('every chunk accepted but `sent` not recorded: the next attempt records it without posting anything', async () => {
    const { messageLogId } = await send('ab12cd34');
    const stuck = hang();
    mesh.hooks.afterProgress = (k) => (k === 2 ? stuck.at() : undefined);
    const dead = instance().jobs.runner.runOnce();
    await stuck.reached;
    mesh.hooks = {};
    clock = new Date(clock.getTime() + LEASE_MS + 1_000);
    await instance().drain(3);
    stuck.kill();
    await dead;
    expect(mesh.messages[0]?.posts).toEqual([1, 1]);
    expect(await getMeshMessage(t.store, messageLogId)).toMatchObject({ status: 'delivered', chunksSent: 2 });
  });

  it('an incomplete message MESH no longer has (404) is sent anew by the next attempt: one message delivered', async () => {
    const { messageLogId } = await send('ab12cd34ef56');
    mesh.hooks.afterAccept = (k) => {
      if (k === 2) throw new Error('network cut');
    };
    await instance().jobs.runner.runOnce();
    mesh.hooks = {};
    // MESH dropped the incomplete upload.
    mesh.messages.splice(0, mesh.messages.length);
    clock = new Date(clock.getTime() + 5_000);
    await instance().drain(5);
    expect(mesh.messages).toHaveLength(1);
    expect(mesh.delivered()).toHaveLength(1);
    expect(Buffer.concat(mesh.messages[0]?.chunks as Buffer[]).toString()).toBe('ab12cd34ef56');
    const events = (await getMeshMessage(t.store, messageLogId))?.events.map((e) => e.event);
    expect(events).toEqual([
      'queued',
      'sending',
      'chunk-sent',
      'resuming',
      'restarting',
      'not-found-by-local-id',
      'sending',
      'chunk-sent',
      'chunk-sent',
      'chunk-sent',
      'sent',
      'delivered',
    ]);
  });

  it('a one-chunk message has no chunk events, just `sent` (chunksSent 1)', async () => {
    const { messageLogId } = await send('abc');
    await instance().drain(3);
    expect((await getMeshMessage(t.store, messageLogId))?.events.map((e) => e.event)).toEqual([
      'queued',
      'sending',
      'sent',
      'delivered',
    ]);
    expect(await getMeshMessage(t.store, messageLogId)).toMatchObject({ chunks: 1, chunksSent: 1 });
  });

  it('chunk events are bounded: 150 chunks record chunk 1, every 2nd and the last (76), chunksSent stays exact', async () => {
    mesh = new ChunkedMesh(1);
    const { messageLogId } = await send('x'.repeat(150));
    await instance().drain(3);
    const message = await getMeshMessage(t.store, messageLogId);
    const chunkEvents = message?.events.filter((e) => e.event === 'chunk-sent') ?? [];
    expect(chunkEvents).toHaveLength(76);
    expect(chunkEvents.at(-1)?.detail).toBe('chunk 150/150 sent, 150 of 150 bytes');
    expect(message).toMatchObject({ chunksSent: 150, status: 'delivered' });
  });
});

describe('chunkEventDue', () => {
  it(`records every chunk up to ${MAX_CHUNK_EVENTS} chunks (1 GB in 20 MB chunks: all 50), about ${MAX_CHUNK_EVENTS} beyond`, () => {
    const count = (n: number) =>
      Array.from({ length: n }, (_, i) => i + 1).filter((k) => chunkEventDue(k, n)).length;
    expect(count(50)).toBe(50);
    expect(count(100)).toBe(100);
    expect(count(101)).toBe(52); // 1, every 2nd, 101
    expect(count(100_000)).toBe(101);
    expect(chunkEventDue(100_000, 100_000)).toBe(true);
    expect(chunkEventDue(1, 100_000)).toBe(true);
  });
});

describe('chunk size per mailbox (JUNCTION_MESH_MAILBOXES chunkSize)', () => {
  const mailboxes = (extra: object) =>
    JSON.stringify([
      { mailboxId: 'x26abc1', password: 'p', sharedKey: 'k', baseUrl: 'http://127.0.0.1:1', ...extra },
    ]);

  it('is read per mailbox, absent by default, and refused above the 100 MB request limit (mesh-api.yaml "Outbox workflow")', () => {
    expect(
      loadConfig({ JUNCTION_MESH_MAILBOXES: mailboxes({ chunkSize: 20_971_520 }) }).mesh.mailboxes[0],
    ).toMatchObject({
      mailboxId: 'X26ABC1',
      chunkSize: 20_971_520,
    });
    expect(
      loadConfig({ JUNCTION_MESH_MAILBOXES: mailboxes({}) }).mesh.mailboxes[0]?.chunkSize,
    ).toBeUndefined();
    expect(() => loadConfig({ JUNCTION_MESH_MAILBOXES: mailboxes({ chunkSize: 100_000_001 }) })).toThrow(
      /chunkSize/,
    );
    expect(() => loadConfig({ JUNCTION_MESH_MAILBOXES: mailboxes({ chunkSize: 0 }) })).toThrow(/chunkSize/);
  });
});
