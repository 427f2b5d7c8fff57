import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { MeshClient, type MeshClientOptions, MeshError } from '@junction/client';
import { createSandboxServer, defaultMeshSeed } from '@junction/sandbox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// The client's MESH module against the sandbox's MESH (both built from NHSDigital/mesh-api-specification,
// specification/mesh-api.yaml; the sandbox's default seed is NHS's mesh-sandbox data: X26ABC1..3, password
// `password`, shared key `TestKey`, TEST_WORKFLOW X26ABC1 → X26ABC2, canned inbox messages). Real HTTP over loopback, no test doubles.
let sandbox: FastifyInstance;
let baseUrl: string;
let spool: string;

beforeAll(async () => {
  sandbox = await createSandboxServer({ pds: { syntheticPatients: 0 }, mesh: { admin: true } });
  await sandbox.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(sandbox.server.address() as AddressInfo).port}`;
  spool = await mkdtemp(join(tmpdir(), 'mesh-client-sandbox-'));
});

afterAll(async () => {
  await sandbox?.close();
  await rm(spool, { recursive: true, force: true });
});

beforeEach(async () => {
  // mesh-sandbox `DELETE /admin/reset`: back to the seed.
  const res = await fetch(`${baseUrl}/messageexchange/admin/reset`, { method: 'DELETE' });
  expect(res.ok).toBe(true);
});

function mesh(mailboxId: string, extra: Partial<MeshClientOptions> = {}): MeshClient {
  return new MeshClient({
    baseUrl,
    mailboxId,
    password: 'password',
    sharedKey: 'TestKey',
    tempDir: spool,
    ...extra,
  });
}

async function ids(client: MeshClient, options = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const id of client.inbox(options)) out.push(id);
  return out;
}

async function readAll(body: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of body) pieces.push(Buffer.from(piece as Uint8Array));
  return Buffer.concat(pieces);
}

async function rejection(promise: Promise<unknown>): Promise<MeshError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MeshError);
  return error as MeshError;
}

describe('MeshClient ↔ sandbox MESH', () => {
  it('handshakes, sends X26ABC1 → X26ABC2 on TEST_WORKFLOW, receives, acknowledges and tracks', async () => {
    const sender = mesh('X26ABC1');
    const recipient = mesh('X26ABC2');
    await sender.handshake();
    await recipient.handshake();
    const body = '<observation>synthetic reading</observation>';
    const sent = await sender.send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body,
      localId: 'junction-test-1',
      subject: 'readings',
      fileName: 'readings.xml',
      contentType: 'application/xml',
    });
    expect(sent.chunks).toBe(1);
    expect(await ids(recipient)).toContain(sent.messageId);
    expect((await sender.track(sent.messageId)).status?.toLowerCase()).toBe('accepted');

    const { metadata, body: content } = await recipient.receive(sent.messageId, {}, { verifyChecksum: true });
    expect(metadata).toMatchObject({
      messageId: sent.messageId,
      messageType: 'DATA',
      from: 'X26ABC1',
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      localId: 'junction-test-1',
      subject: 'readings',
      fileName: 'readings.xml',
      totalChunks: 1,
      checksum: createHash('md5').update(body).digest('hex'),
    });
    expect((await readAll(content)).toString()).toBe(body);

    await recipient.acknowledge(sent.messageId);
    await recipient.acknowledge(sent.messageId); // repeating is harmless
    expect(await ids(recipient)).not.toContain(sent.messageId);
    expect((await sender.track(sent.messageId)).status?.toLowerCase()).toBe('acknowledged');
  });

  it('sends and receives a multi-chunk gzip message streamed from a Readable, content and checksum intact', async () => {
    const chunkSize = 64 * 1024;
    const content = Buffer.alloc(5 * chunkSize - 1000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 31 + (i >> 8)) & 0xff;
    const pieces = Array.from({ length: 40 }, (_, i) =>
      content.subarray((i * content.length) / 40, ((i + 1) * content.length) / 40),
    );
    const sent = await mesh('X26ABC1', { chunkSize }).send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body: Readable.from(pieces),
    });
    expect(sent.chunks).toBe(5);
    expect(await readdir(spool)).toEqual([]);
    const recipient = mesh('X26ABC2');
    const { metadata, body } = await recipient.receive(sent.messageId, {}, { verifyChecksum: true });
    expect(metadata.totalChunks).toBe(5);
    expect((await readAll(body)).equals(content)).toBe(true);
    await recipient.acknowledge(sent.messageId);
  });

  it("receives the seed's canned messages: CHUNKED_MESSAGE_GZ (2 gzip chunks) for X26ABC2, SIMPLE_MESSAGE for X26ABC1", async () => {
    const seed = defaultMeshSeed();
    const expected = (id: string) =>
      Buffer.concat(
        (seed.messages ?? [])
          .find((m) => m.message_id === id)
          ?.chunks.map((c) => ('base64' in c ? Buffer.from(c.base64, 'base64') : Buffer.from(c.text))) ?? [],
      );
    const x2 = mesh('X26ABC2');
    expect(await ids(x2)).toContain('CHUNKED_MESSAGE_GZ');
    const chunked = await x2.receive('CHUNKED_MESSAGE_GZ');
    expect(chunked.metadata).toMatchObject({ from: 'X26ABC1', to: 'X26ABC2', totalChunks: 2 });
    const text = (await readAll(chunked.body)).toString();
    // Each seed chunk is a gzip member of its own; the client hands back the decoded whole.
    const chunks = (seed.messages ?? []).find((m) => m.message_id === 'CHUNKED_MESSAGE_GZ')?.chunks ?? [];
    expect(text).toBe(
      chunks.map((c) => gunzipSync(Buffer.from('base64' in c ? c.base64 : '', 'base64')).toString()).join(''),
    );
    expect(text.startsWith('Lorem ipsum')).toBe(true);

    const x1 = mesh('X26ABC1');
    expect(await ids(x1, { workflowFilter: 'TEST_WORKFLOW' })).toContain('SIMPLE_MESSAGE');
    const simple = await x1.receive('SIMPLE_MESSAGE');
    expect(await readAll(simple.body)).toEqual(expected('SIMPLE_MESSAGE'));
  });

  it('pages an inbox of 23 messages 10 at a time through links.next', async () => {
    const sender = mesh('X26ABC1');
    const sent: string[] = [];
    for (let i = 0; i < 23; i++) {
      sent.push((await sender.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: `m${i}` })).messageId);
    }
    const listed = await ids(mesh('X26ABC2'), { maxResults: 10 });
    expect(listed.filter((id) => sent.includes(id)).sort()).toEqual([...sent].sort());
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('looks up mailboxes: endpointlookup for a PDS sandbox practice, workflowsearch for TEST_WORKFLOW_ACK', async () => {
    const client = mesh('X26ABC1');
    expect(await client.endpointLookup('Y12345', 'GPFED_CONSULT_REPORT')).toEqual([
      { mailbox_id: 'Y12345HC001', mailbox_name: 'GP practice Y12345' },
    ]);
    expect(await client.endpointLookup('X26', 'GPFED_CONSULT_REPORT')).toEqual([]);
    expect((await client.workflowSearch('TEST_WORKFLOW_ACK')).map((r) => r.mailbox_id)).toEqual([
      'X26ABC1',
      'X26ABC3',
    ]);
  });

  it('maps the DTS errors: 417 SEND 12 unknown recipient, 417 SEND 17 unregistered workflow, 403 bad password, 404 unknown message', async () => {
    const sender = mesh('X26ABC1');
    const unknown = await rejection(sender.send({ to: 'NOBODY1', workflowId: 'TEST_WORKFLOW', body: 'x' }));
    expect(unknown.status).toBe(417);
    expect(unknown.dts).toMatchObject({ event: 'SEND', code: '12' });
    const workflow = await rejection(sender.send({ to: 'X26ABC2', workflowId: 'NOT_A_WORKFLOW', body: 'x' }));
    expect(workflow.status).toBe(417);
    expect(workflow.dts).toMatchObject({ event: 'SEND', code: '17' });
    const badPassword = await rejection(mesh('X26ABC1', { password: 'wrong' }).handshake());
    expect(badPassword.status).toBe(403);
    const badKey = await rejection(mesh('X26ABC1', { sharedKey: 'BackBone' }).handshake());
    expect(badKey.status).toBe(403);
    expect((await rejection(sender.receive('NO_SUCH_MESSAGE'))).status).toBe(404);
  });
});

/**
 * A loopback proxy in front of the sandbox that forwards every request until it has forwarded one whose path
 * ends with `cutAfter` (e.g. `/3`, chunk 3): MESH answers that one, but the proxy cuts the connection instead of
 * passing the answer on, and cuts every request after it. The sender sees a network failure mid-upload.
 */
async function cuttingProxy(
  cutAfter: RegExp,
): Promise<{ url: string; close: () => Promise<void>; cut: () => boolean }> {
  let cut = false;
  const target = new URL(baseUrl);
  const server: Server = createServer((req, res) => {
    if (cut) {
      req.socket.destroy();
      return;
    }
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (cutAfter.test(req.url ?? '')) {
          cut = true;
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => cut,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('resuming an interrupted upload (mesh-api.yaml send_chunk)', () => {
  const chunkSize = 32 * 1024;
  const content = Buffer.alloc(5 * chunkSize - 123);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7 + (i >> 9)) & 0xff;

  async function deliveredOnce(messageId: string): Promise<void> {
    const recipient = mesh('X26ABC2');
    expect((await ids(recipient)).filter((id) => id === messageId)).toHaveLength(1);
    const { metadata, body } = await recipient.receive(messageId, {}, { verifyChecksum: true });
    expect(metadata.totalChunks).toBe(5);
    expect((await readAll(body)).equals(content)).toBe(true);
    await recipient.acknowledge(messageId);
    expect(await ids(recipient)).not.toContain(messageId);
  }

  it('the connection is cut after MESH accepted chunk 3 (its answer lost): not delivered; resumed from chunk 3 with the same id, delivered once, byte-identical', async () => {
    const file = join(spool, 'cut.bin');
    await writeFile(file, content);
    const proxy = await cuttingProxy(/\/outbox\/[^/]+\/3$/);
    const accepted: number[] = [];
    let error: unknown;
    try {
      await mesh('X26ABC1', {
        baseUrl: proxy.url,
        chunkSize,
        retry: { maxAttempts: 2, baseDelayMs: 1 },
      }).send({
        to: 'X26ABC2',
        workflowId: 'TEST_WORKFLOW',
        body: { path: file },
        onProgress: (p) => {
          accepted.push(p.chunk);
        },
      });
    } catch (e) {
      error = e;
    } finally {
      await proxy.close();
    }
    expect(proxy.cut()).toBe(true);
    expect(error).toBeInstanceOf(MeshError);
    const messageId = (error as MeshError).meshMessageId ?? '';
    expect(messageId).not.toBe('');
    // The sender recorded chunks 1 and 2; MESH holds 3 too, but the message is incomplete: not in the inbox.
    expect(accepted).toEqual([1, 2]);
    expect(await ids(mesh('X26ABC2'))).not.toContain(messageId);
    expect((await mesh('X26ABC1').track(messageId)).status).toBe('uploading');

    const resumed: number[] = [];
    const result = await mesh('X26ABC1', { chunkSize }).send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body: { path: file },
      resume: { messageId, fromChunk: accepted.at(-1)! + 1 },
      onProgress: (p) => {
        resumed.push(p.chunk);
      },
    });
    expect(result).toMatchObject({ messageId, chunks: 5, bytes: content.length });
    expect(resumed).toEqual([3, 4, 5]);
    await deliveredOnce(messageId);
  });

  it('a sender that dies once MESH accepted chunk 5 of 5 but before recording it resumes from chunk 5: the 423 counts as done, still one delivery', async () => {
    const sender = mesh('X26ABC1', { chunkSize });
    const recorded: number[] = [];
    let messageId = '';
    const died = await sender
      .send({
        to: 'X26ABC2',
        workflowId: 'TEST_WORKFLOW',
        body: content,
        onProgress: (p) => {
          if (p.chunk === 5) throw new Error('killed before recording chunk 5');
          messageId = p.messageId;
          recorded.push(p.chunk);
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(died?.message).toBe('killed before recording chunk 5');
    expect(recorded).toEqual([1, 2, 3, 4]);
    const result = await sender.send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body: content,
      resume: { messageId, fromChunk: 5 },
    });
    expect(result.messageId).toBe(messageId);
    await deliveredOnce(messageId);
  });
});
