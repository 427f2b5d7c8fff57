import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordingSleep, UUID_V4 } from '../testing/fake-fetch.js';
import { type FakeMesh, type FakeMeshOptions, startFakeMesh } from '../testing/fake-mesh-server.js';
import { MeshError } from './errors.js';
import { MeshClient } from './mesh-client.js';
import type { MeshClientOptions } from './types.js';

const KEY = 'TestKey';
const MAILBOXES = { X26ABC1: 'password', X26ABC2: 'password' };
const TOKEN = /^NHSMESH X26ABC1:([0-9a-f-]{36}):0:(\d{12}):([0-9a-f]{64})$/;

let mesh: FakeMesh;
let spoolDir: string;

async function start(extra: Partial<FakeMeshOptions> = {}): Promise<FakeMesh> {
  mesh = await startFakeMesh({ sharedKey: KEY, mailboxes: MAILBOXES, ...extra });
  return mesh;
}

function client(extra: Partial<MeshClientOptions> = {}, mailboxId = 'X26ABC1') {
  const { sleep, waits } = recordingSleep();
  const c = new MeshClient({
    baseUrl: mesh.baseUrl,
    mailboxId,
    password: 'password',
    sharedKey: KEY,
    tempDir: spoolDir,
    sleep,
    random: () => 0.5,
    ...extra,
  });
  return { mesh: c, waits };
}

function pattern(size: number, seed = 7): Buffer {
  const out = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = (x >> 16) & 0xff;
  }
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<MeshError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MeshError);
  return error as MeshError;
}

async function readAll(body: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of body) pieces.push(Buffer.from(piece as Uint8Array));
  return Buffer.concat(pieces);
}

beforeEach(async () => {
  spoolDir = await mkdtemp(join(tmpdir(), 'mesh-client-test-'));
});

afterEach(async () => {
  await mesh?.close();
  await rm(spoolDir, { recursive: true, force: true });
});

describe('MeshClient requests (mesh-api.yaml)', () => {
  it('handshake: POST /messageexchange/{mailbox_id} with the mex-* client headers, v2 Accept and a valid token', async () => {
    await start();
    await client().mesh.handshake({ correlationId: 'corr-1' });
    const [req] = mesh.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/messageexchange/X26ABC1');
    expect(req?.headers.accept).toBe('application/vnd.mesh.v2+json');
    expect(req?.headers.authorization).toMatch(TOKEN);
    expect(req?.headers['mex-clientversion']).toBe('junction==0.1.0');
    expect(req?.headers['mex-javaversion']).toBe('N/A');
    for (const name of ['mex-osname', 'mex-osversion', 'mex-osarchitecture'])
      expect(req?.headers[name]).toBeTruthy();
    expect(req?.headers['x-request-id']).toMatch(UUID_V4);
    expect(req?.headers['x-correlation-id']).toBe('corr-1');
  });

  it('a refused token (wrong shared key) is a 403 MeshError, not retried', async () => {
    await start();
    const error = await rejection(client({ sharedKey: 'BackBone' }).mesh.handshake());
    expect(error.status).toBe(403);
    expect(mesh.requests).toHaveLength(1);
  });

  it('sends a one-chunk message as is: exact body, mex-* headers, MD5 checksum of the content', async () => {
    await start();
    const body = 'hello, GP practice\n';
    const result = await client().mesh.send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body,
      subject: 'readings',
      localId: 'sub-123',
      fileName: 'readings.txt',
      contentType: 'text/plain',
      partnerId: 'p1',
      compress: false,
    });
    const md5 = createHash('md5').update(body).digest('hex');
    expect(result).toEqual({ messageId: expect.any(String), chunks: 1, bytes: body.length, checksum: md5 });
    const [req] = mesh.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/messageexchange/X26ABC1/outbox');
    expect(req?.body.toString()).toBe(body);
    expect(req?.headers).toMatchObject({
      'mex-to': 'X26ABC2',
      'mex-workflowid': 'TEST_WORKFLOW',
      'mex-chunk-range': '1:1',
      'mex-subject': 'readings',
      'mex-localid': 'sub-123',
      'mex-filename': 'readings.txt',
      'mex-partnerid': 'p1',
      'mex-content-checksum': md5,
      'content-type': 'text/plain',
      'content-length': String(body.length),
      accept: 'application/vnd.mesh.v2+json',
    });
    expect(req?.headers['content-encoding']).toBeUndefined();
    expect(req?.headers['mex-content-type']).toBeUndefined();
    expect(mesh.messages.get(result.messageId)?.chunks[0]?.toString()).toBe(body);
  });

  it('streams a multi-chunk message: split on uncompressed bytes, each chunk gzip-ed on its own, 1:n then k:n', async () => {
    await start();
    const content = pattern(3500);
    const source = Readable.from([
      content.subarray(0, 1234),
      content.subarray(1234, 3000),
      content.subarray(3000),
    ]);
    const { mesh: c } = client({ chunkSize: 1000 });
    const result = await c.send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body: source,
      contentType: 'text/csv',
    });
    expect(result.chunks).toBe(4);
    expect(result.bytes).toBe(3500);
    expect(mesh.requests.map((r) => `${r.method} ${r.url} ${r.headers['mex-chunk-range']}`)).toEqual([
      'POST /messageexchange/X26ABC1/outbox 1:4',
      `POST /messageexchange/X26ABC1/outbox/${result.messageId}/2 2:4`,
      `POST /messageexchange/X26ABC1/outbox/${result.messageId}/3 3:4`,
      `POST /messageexchange/X26ABC1/outbox/${result.messageId}/4 4:4`,
    ]);
    mesh.requests.forEach((req, i) => {
      expect(req.headers['content-encoding']).toBe('gzip');
      expect(req.headers['content-type']).toBe('application/octet-stream');
      expect(req.headers['content-length']).toBe(String(req.body.length));
      // Each body is a complete gzip member of its own slice of the uncompressed content.
      expect(gunzipSync(req.body)).toEqual(content.subarray(i * 1000, (i + 1) * 1000));
    });
    const first = mesh.requests[0]?.headers;
    expect(first?.['mex-content-type']).toBe('text/csv');
    expect(first?.['mex-content-checksum']).toBe(createHash('md5').update(content).digest('hex'));
    expect(mesh.requests[1]?.headers['mex-to']).toBeUndefined();
    // One token per request, never reused.
    const nonces = mesh.requests.map((r) => TOKEN.exec(String(r.headers.authorization))?.[1]);
    expect(new Set(nonces).size).toBe(4);
    // The spool directory is removed.
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('sends a file in place (ranges read per chunk) and bytes in memory with the same chunking', async () => {
    await start();
    const content = pattern(2500, 3);
    const file = join(spoolDir, 'payload.bin');
    await writeFile(file, content);
    const { mesh: c } = client({ chunkSize: 1000 });
    const fromFile = await c.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: { path: file } });
    const fromBytes = await c.send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body: content,
      compress: false,
    });
    for (const id of [fromFile.messageId, fromBytes.messageId]) {
      const stored = mesh.messages.get(id);
      expect(stored?.total).toBe(3);
      const plain = stored?.chunks.map((chunk) =>
        stored.contentEncoding === 'gzip' ? gunzipSync(chunk) : chunk,
      );
      expect(Buffer.concat(plain ?? [])).toEqual(content);
    }
    expect(mesh.messages.get(fromFile.messageId)?.contentEncoding).toBe('gzip');
    expect(mesh.messages.get(fromBytes.messageId)?.contentEncoding).toBeUndefined();
    expect(fromFile.checksum).toBe(createHash('md5').update(content).digest('hex'));
    expect(fromBytes.checksum).toBe(fromFile.checksum);
  });

  it('compressionLevel sets the gzip level of each chunk (1 vs 9: same content, 9 no larger)', async () => {
    await start();
    const text = Buffer.from('observation,heart-rate,72,bpm\n'.repeat(5000));
    await client({ compressionLevel: 1 }).mesh.send({ to: 'X26ABC2', workflowId: 'W', body: text });
    await client({ compressionLevel: 9 }).mesh.send({ to: 'X26ABC2', workflowId: 'W', body: text });
    const [fast, small] = mesh.requests.map((r) => r.body);
    expect(gunzipSync(fast ?? Buffer.alloc(0))).toEqual(text);
    expect(gunzipSync(small ?? Buffer.alloc(0))).toEqual(text);
    expect(fast?.equals(small ?? Buffer.alloc(0))).toBe(false);
    expect(small?.length).toBeLessThanOrEqual(fast?.length ?? 0);
    expect(() => client({ compressionLevel: 0 })).toThrow(RangeError);
  });

  it('an empty body is one chunk; checksum: false sends none, a string is sent as given', async () => {
    await start();
    const { mesh: c } = client();
    const empty = await c.send({ to: 'X26ABC2', workflowId: 'W', body: '', checksum: false });
    expect(empty.chunks).toBe(1);
    expect(gunzipSync(mesh.requests[0]?.body ?? Buffer.alloc(0)).length).toBe(0);
    expect(mesh.requests[0]?.headers['mex-content-checksum']).toBeUndefined();
    await c.send({ to: 'X26ABC2', workflowId: 'W', body: 'x', checksum: 'sha256:abc' });
    expect(mesh.requests[1]?.headers['mex-content-checksum']).toBe('sha256:abc');
  });
});

describe('MeshClient send errors and retries', () => {
  it('417 unregistered recipient: MeshError with the DTS event/code/message (v2 detail), sent once', async () => {
    await start();
    const error = await rejection(
      client().mesh.send({ to: 'NOSUCHMB', workflowId: 'TEST_WORKFLOW', body: 'x' }),
    );
    expect(error.status).toBe(417);
    expect(error.dts).toEqual({ event: 'SEND', code: '12', message: 'Unregistered recipient' });
    expect(error.isDts('SEND', '12')).toBe(true);
    expect(error.message).toContain('SEND 12 Unregistered recipient');
    expect(mesh.requests).toHaveLength(1);
  });

  it('reads the v1 error shape too (errorEvent/errorCode/errorDescription)', async () => {
    await start({
      fault: () => ({
        status: 417,
        body: {
          messageID: 'M1',
          errorEvent: 'SEND',
          errorCode: '17',
          errorDescription: 'Workflow ID not registered for mailbox',
        },
      }),
    });
    const error = await rejection(client().mesh.send({ to: 'X26ABC2', workflowId: 'NOPE', body: 'x' }));
    expect(error.dts).toEqual({
      event: 'SEND',
      code: '17',
      message: 'Workflow ID not registered for mailbox',
    });
    expect(error.meshMessageId).toBe('M1');
  });

  it.each([
    ['a connection reset', 'reset' as const, 502],
    ['503', { status: 503, headers: { 'retry-after': '1' } }, 503],
    ['502', { status: 502 }, 502],
  ])(
    'never re-sends the first POST after %s (it would create a second message)',
    async (_name, fault, status) => {
      await start({ fault: (_r, i) => (i === 0 ? fault : undefined) });
      const error = await rejection(
        client().mesh.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: 'x' }),
      );
      expect(error.status).toBe(status);
      expect(mesh.requests).toHaveLength(1);
      expect(mesh.messages.size).toBe(0);
    },
  );

  it('re-sends chunk k after a reset or 503, same bytes and X-Request-ID, a new token', async () => {
    await start({
      fault: (_r, i) =>
        i === 1 ? 'reset' : i === 2 ? { status: 503, headers: { 'retry-after': '2' } } : undefined,
    });
    const content = pattern(2000);
    const { mesh: c, waits } = client({ chunkSize: 1000 });
    const result = await c.send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body: Readable.from([content]),
    });
    const chunk2 = mesh.requests.slice(1);
    expect(chunk2.map((r) => r.url)).toEqual(
      Array(3).fill(`/messageexchange/X26ABC1/outbox/${result.messageId}/2`),
    );
    expect(new Set(chunk2.map((r) => r.body.toString('hex'))).size).toBe(1);
    expect(new Set(chunk2.map((r) => r.headers['x-request-id'])).size).toBe(1);
    expect(new Set(chunk2.map((r) => r.headers.authorization)).size).toBe(3);
    expect(waits).toEqual([100, 2000]);
    expect(
      Buffer.concat(mesh.messages.get(result.messageId)?.chunks.map((b) => gunzipSync(b)) ?? []),
    ).toEqual(content);
  });

  it('a send to a server that stops answering fails with 504 after the idle timeout instead of hanging', async () => {
    await start({ fault: () => 'hang' });
    const { mesh: c } = client({ transferIdleTimeoutMs: 100 });
    const error = await rejection(c.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: 'x' }));
    expect(error.status).toBe(504);
    expect(mesh.requests).toHaveLength(1);
  });

  it('a 423 to the replay of a last chunk whose answer was lost counts as delivered', async () => {
    await start({ fault: (_r, i) => (i === 1 ? 'lose-answer' : undefined) });
    const { mesh: c } = client({ chunkSize: 10 });
    const result = await c.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: 'x'.repeat(20) });
    expect(result.chunks).toBe(2);
    expect(mesh.requests).toHaveLength(3);
  });

  it('a chunk that fails for good names the incomplete message in the error', async () => {
    await start({ fault: (_r, i) => (i === 1 ? { status: 400, body: { detail: [] } } : undefined) });
    const { mesh: c } = client({ chunkSize: 10 });
    const error = await rejection(
      c.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: 'y'.repeat(20) }),
    );
    expect(error.status).toBe(400);
    expect(error.meshMessageId).toMatch(/^20251125/);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('onProgress: called after each chunk is accepted, awaited before the next is posted', async () => {
    await start();
    const content = pattern(2500);
    const { mesh: c } = client({ chunkSize: 1000 });
    const seen: Array<{ chunk: number; chunks: number; bytesSent: number; requests: number }> = [];
    const result = await c.send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body: content,
      onProgress: async (p) => {
        await new Promise((resolve) => setImmediate(resolve));
        expect(p.messageId).toMatch(/^20251125/);
        expect(p.bytesTotal).toBe(2500);
        seen.push({
          chunk: p.chunk,
          chunks: p.chunks,
          bytesSent: p.bytesSent,
          requests: mesh.requests.length,
        });
      },
    });
    expect(result.chunks).toBe(3);
    // Chunk k is reported once MESH has answered its POST, and before chunk k+1 is posted.
    expect(seen).toEqual([
      { chunk: 1, chunks: 3, bytesSent: 1000, requests: 1 },
      { chunk: 2, chunks: 3, bytesSent: 2000, requests: 2 },
      { chunk: 3, chunks: 3, bytesSent: 2500, requests: 3 },
    ]);
  });

  it('a throwing onProgress stops the send after that chunk', async () => {
    await start();
    const { mesh: c } = client({ chunkSize: 10 });
    const send = c.send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body: 'z'.repeat(40),
      onProgress: (p) => {
        if (p.chunk === 2) throw new Error('stop here');
      },
    });
    await expect(send).rejects.toThrow('stop here');
    expect(mesh.requests).toHaveLength(2);
  });

  it('resume: an upload cut after chunk 2 of 4 continues from chunk 3 with the same message id, no new message (mesh-api.yaml send_chunk)', async () => {
    // Chunk 3 fails for good the first time (the process would give up, or die).
    await start({ fault: (_r, i) => (i === 2 ? { status: 400, body: { detail: [] } } : undefined) });
    const content = pattern(3500, 11);
    const { mesh: c } = client({ chunkSize: 1000 });
    const accepted: number[] = [];
    const error = await rejection(
      c.send({
        to: 'X26ABC2',
        workflowId: 'TEST_WORKFLOW',
        body: content,
        onProgress: (p) => {
          accepted.push(p.chunk);
        },
      }),
    );
    expect(accepted).toEqual([1, 2]);
    const messageId = error.meshMessageId ?? '';
    const progress: Array<[number, number]> = [];
    const result = await c.send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body: content,
      resume: { messageId, fromChunk: 3 },
      onProgress: (p) => {
        progress.push([p.chunk, p.bytesSent]);
      },
    });
    expect(result).toMatchObject({ messageId, chunks: 4, bytes: 3500, checksum: undefined });
    expect(progress).toEqual([
      [3, 3000],
      [4, 3500],
    ]);
    expect(mesh.requests.slice(3).map((r) => `${r.url} ${r.headers['mex-chunk-range']}`)).toEqual([
      `/messageexchange/X26ABC1/outbox/${messageId}/3 3:4`,
      `/messageexchange/X26ABC1/outbox/${messageId}/4 4:4`,
    ]);
    expect(mesh.messages.size).toBe(1);
    expect(Buffer.concat(mesh.messages.get(messageId)?.chunks.map((b) => gunzipSync(b)) ?? [])).toEqual(
      content,
    );
  });

  it('resume: a 423 to the last chunk means the interrupted attempt finished the message; to an earlier chunk it is an error', async () => {
    await start();
    const { mesh: c } = client({ chunkSize: 10 });
    const body = 'q'.repeat(30);
    const sent = await c.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body });
    // The process died after chunk 3 was accepted, before it recorded that: it resumes from 3.
    const again = await c.send({
      to: 'X26ABC2',
      workflowId: 'TEST_WORKFLOW',
      body,
      resume: { messageId: sent.messageId, fromChunk: 3 },
    });
    expect(again.messageId).toBe(sent.messageId);
    expect(mesh.requests).toHaveLength(4);
    const early = await rejection(
      c.send({
        to: 'X26ABC2',
        workflowId: 'TEST_WORKFLOW',
        body,
        resume: { messageId: sent.messageId, fromChunk: 2 },
      }),
    );
    expect(early.status).toBe(423);
    expect(early.meshMessageId).toBe(sent.messageId);
  });

  it('resume: fromChunk outside 2..n is refused locally, before any request', async () => {
    await start();
    const { mesh: c } = client({ chunkSize: 10 });
    for (const fromChunk of [1, 4, 2.5]) {
      const error = await rejection(
        c.send({
          to: 'X26ABC2',
          workflowId: 'TEST_WORKFLOW',
          body: 'r'.repeat(30),
          resume: { messageId: 'X', fromChunk },
        }),
      );
      expect(error.status).toBe(400);
    }
    expect(mesh.requests).toHaveLength(0);
  });

  it('a header value MESH cannot carry is refused locally, before any request', async () => {
    await start();
    const error = await rejection(
      client().mesh.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: 'x', subject: 'a\nb' }),
    );
    expect(error.status).toBe(400);
    expect(error.message).not.toContain('a\nb');
    expect(mesh.requests).toHaveLength(0);
  });

  it('an unreadable stream body is a local 400 and leaves no spool files', async () => {
    await start();
    const failing = (async function* () {
      yield Buffer.from('abc');
      throw new Error('disk gone');
    })();
    const error = await rejection(client().mesh.send({ to: 'X26ABC2', workflowId: 'W', body: failing }));
    expect(error.status).toBe(400);
    expect(mesh.requests).toHaveLength(0);
    expect(await readdir(spoolDir)).toEqual([]);
  });
});

function deliverChunked(id: string, parts: Buffer[], gzip: boolean, headers: Record<string, string> = {}) {
  mesh.deliver({
    id,
    from: 'X26ABC2',
    to: 'X26ABC1',
    workflowId: 'TEST_WORKFLOW',
    chunks: parts.map((p) => (gzip ? gzipSync(p) : p)),
    total: parts.length,
    contentEncoding: gzip ? 'gzip' : undefined,
    headers,
  });
}

describe('MeshClient inbox, receive, acknowledge', () => {
  it('pages the inbox through links.next (continue_from) and passes workflow_filter', async () => {
    await start();
    for (let i = 0; i < 25; i++)
      deliverChunked(`MSG${String(i).padStart(2, '0')}`, [Buffer.from('x')], false);
    const ids: string[] = [];
    for await (const id of client().mesh.inbox({ maxResults: 10, workflowFilter: 'TEST_WORKFLOW' }))
      ids.push(id);
    expect(ids).toHaveLength(25);
    expect(new Set(ids).size).toBe(25);
    expect(mesh.requests.map((r) => r.url)).toEqual([
      '/messageexchange/X26ABC1/inbox?max_results=10&workflow_filter=TEST_WORKFLOW',
      '/messageexchange/X26ABC1/inbox?max_results=10&continue_from=10',
      '/messageexchange/X26ABC1/inbox?max_results=10&continue_from=20',
    ]);
    await expect(client().mesh.inbox({ maxResults: 5 }).next()).rejects.toThrow(MeshError);
  });

  it('receives a 3-chunk gzip message as one stream (206, 206, 200) with every mex-* header parsed', async () => {
    await start();
    const parts = [pattern(1000, 1), pattern(1000, 2), pattern(10, 3)];
    const whole = Buffer.concat(parts);
    deliverChunked('CHUNKED', parts, true, {
      'mex-localid': 'loc-1',
      'mex-filename': 'data.bin',
      'mex-subject': 'subj',
      'mex-content-checksum': createHash('md5').update(whole).digest('hex'),
    });
    const { metadata, body } = await client().mesh.receive('CHUNKED', {}, { verifyChecksum: true });
    expect(metadata).toMatchObject({
      messageId: 'CHUNKED',
      messageType: 'DATA',
      from: 'X26ABC2',
      to: 'X26ABC1',
      workflowId: 'TEST_WORKFLOW',
      totalChunks: 3,
      localId: 'loc-1',
      fileName: 'data.bin',
      subject: 'subj',
      statusCode: '00',
      statusEvent: 'TRANSFER',
      statusSuccess: 'SUCCESS',
    });
    expect(metadata.headers['mex-chunk-range']).toBe('1:3');
    // Chunks after the first are fetched only as the stream is read.
    expect(mesh.requests).toHaveLength(1);
    expect(await readAll(body)).toEqual(whole);
    expect(mesh.requests.map((r) => `${r.method} ${r.url} ${r.headers['accept-encoding']}`)).toEqual([
      'GET /messageexchange/X26ABC1/inbox/CHUNKED gzip',
      'GET /messageexchange/X26ABC1/inbox/CHUNKED/2 gzip',
      'GET /messageexchange/X26ABC1/inbox/CHUNKED/3 gzip',
    ]);
  });

  it('receive onProgress: once per chunk, after the chunk is read, with the decoded bytes so far', async () => {
    await start();
    deliverChunked('PROGRESS', [pattern(1000, 1), pattern(1000, 2), pattern(10, 3)], true);
    const seen: Array<[number, number, number]> = [];
    const { body } = await client().mesh.receive(
      'PROGRESS',
      {},
      { onProgress: (p) => seen.push([p.chunk, p.chunks, p.bytesReceived]) },
    );
    expect(seen).toEqual([]);
    expect((await readAll(body)).byteLength).toBe(2010);
    expect(seen).toEqual([
      [1, 3, 1000],
      [2, 3, 2000],
      [3, 3, 2010],
    ]);
  });

  it('acceptGzip: false asks for identity (the server then sends plain bytes)', async () => {
    await start();
    deliverChunked('PLAIN', [Buffer.from('plain')], false);
    const { body } = await client({ acceptGzip: false }).mesh.receive('PLAIN');
    expect((await readAll(body)).toString()).toBe('plain');
    expect(mesh.requests[0]?.headers['accept-encoding']).toBe('identity');
  });

  it('resumes a chunk cut off mid-body where it stopped', async () => {
    let cut = false;
    await start({
      fault: (r) => {
        if (!cut && r.url.endsWith('/CUT/2')) {
          cut = true;
          return 'cut-body';
        }
        return undefined;
      },
    });
    const parts = [pattern(5000, 1), pattern(200_000, 2), pattern(5000, 3)];
    deliverChunked('CUT', parts, false);
    const { body } = await client().mesh.receive('CUT');
    expect(await readAll(body)).toEqual(Buffer.concat(parts));
    expect(mesh.requests.map((r) => r.url.split('/').slice(-1)[0])).toEqual(['CUT', '2', '2', '3']);
  });

  it('a download left unread past the idle timeout does not crash; reading it later fetches the chunk again', async () => {
    await start();
    deliverChunked('IDLE', [pattern(100_000, 4)], true);
    const { body } = await client({ transferIdleTimeoutMs: 50 }).mesh.receive('IDLE');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await readAll(body)).toEqual(pattern(100_000, 4));
    expect(mesh.requests.map((r) => r.url)).toEqual([
      '/messageexchange/X26ABC1/inbox/IDLE',
      '/messageexchange/X26ABC1/inbox/IDLE',
    ]);
  });

  it('verifyChecksum fails the stream when the content does not match an MD5 mex-Content-Checksum', async () => {
    await start();
    deliverChunked('BAD', [Buffer.from('abc')], true, { 'mex-content-checksum': '0'.repeat(32) });
    const { body } = await client().mesh.receive('BAD', {}, { verifyChecksum: true });
    await expect(readAll(body)).rejects.toThrow(/mex-Content-Checksum/);
  });

  it('404 for an unknown message, not retried; 503 on a read is retried with backoff', async () => {
    await start({ fault: (r, i) => (i === 1 && r.url.endsWith('/KNOWN') ? { status: 503 } : undefined) });
    const { mesh: c, waits } = client();
    const error = await rejection(c.receive('UNKNOWN'));
    expect(error.status).toBe(404);
    expect(mesh.requests).toHaveLength(1);
    deliverChunked('KNOWN', [Buffer.from('ok')], false);
    const { body } = await c.receive('KNOWN');
    expect((await readAll(body)).toString()).toBe('ok');
    expect(waits).toEqual([100]);
  });

  it('acknowledges with PUT .../status/acknowledged; the message leaves the inbox', async () => {
    await start();
    deliverChunked('ACKME', [Buffer.from('x')], false);
    const { mesh: c } = client();
    await c.acknowledge('ACKME');
    expect(mesh.requests[0]?.method).toBe('PUT');
    expect(mesh.requests[0]?.url).toBe('/messageexchange/X26ABC1/inbox/ACKME/status/acknowledged');
    const ids: string[] = [];
    for await (const id of c.inbox()) ids.push(id);
    expect(ids).toEqual([]);
  });

  it('an abort signal stops a read between retries with the signal reason', async () => {
    await start({ fault: () => ({ status: 503 }) });
    const controller = new AbortController();
    const c = new MeshClient({
      baseUrl: mesh.baseUrl,
      mailboxId: 'X26ABC1',
      password: 'password',
      sharedKey: KEY,
      sleep: async () => controller.abort(new Error('stop')),
    });
    await expect(c.acknowledge('X', { signal: controller.signal })).rejects.toThrow('stop');
  });
});

describe('MeshClient tracking and lookup', () => {
  it('track: GET /outbox/tracking?messageID= returns the v2 object', async () => {
    await start();
    const { mesh: c } = client();
    const { messageId } = await c.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: 'x' });
    const tracking = await c.track(messageId);
    expect(mesh.requests[1]?.url).toBe(`/messageexchange/X26ABC1/outbox/tracking?messageID=${messageId}`);
    expect(tracking).toMatchObject({ message_id: messageId, recipient: 'X26ABC2', status: 'accepted' });
  });

  it('endpointLookup and workflowSearch return the v2 results', async () => {
    await start();
    const { mesh: c } = client();
    expect(await c.endpointLookup('X26', 'TEST_WORKFLOW')).toEqual([
      { mailbox_id: 'X26ABC2', mailbox_name: 'TESTMB2' },
    ]);
    expect(await c.workflowSearch('TEST_WORKFLOW')).toEqual([
      { mailbox_id: 'X26ABC2', mailbox_name: 'TESTMB2' },
    ]);
    expect(mesh.requests.map((r) => r.url)).toEqual([
      '/messageexchange/endpointlookup/X26/TEST_WORKFLOW',
      '/messageexchange/workflowsearch/TEST_WORKFLOW',
    ]);
  });

  it('rejects a chunk size above the 100 MB request limit', () => {
    expect(
      () =>
        new MeshClient({
          baseUrl: 'http://x',
          mailboxId: 'X',
          password: 'p',
          sharedKey: 'k',
          chunkSize: 100_000_001,
        }),
    ).toThrow(RangeError);
  });
});
