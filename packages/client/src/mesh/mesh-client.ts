import { createHash, randomUUID } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { arch, type as osType, version as osVersion, release } from 'node:os';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { realSleep } from '../http/sleep.js';
import type { RequestContext } from '../http/types.js';
import { type ChunkBody, type PreparedMessage, prepareMessage } from './chunks.js';
import { MeshError, meshLocalError, meshNetworkError } from './errors.js';
import { type MeshCallResult, MeshTransport, readJson } from './transport.js';
import {
  MESH_DEFAULT_CHUNK_SIZE,
  MESH_MAX_REQUEST_BYTES,
  type MeshClientOptions,
  type MeshInboxOptions,
  type MeshMailboxMatch,
  type MeshMessageMetadata,
  type MeshReceived,
  type MeshReceiveOptions,
  type MeshSendRequest,
  type MeshSendResult,
  type MeshTracking,
} from './types.js';

const OCTET_STREAM = 'application/octet-stream';
const MD5_HEX = /^[0-9a-f]{32}$/i;

/**
 * Client for MESH v2 (NHSDigital/mesh-api-specification `specification/mesh-api.yaml`): handshake, streaming
 * chunked send and receive of any size, inbox paging, acknowledge, tracking, endpoint lookup and workflow
 * search. Every request carries a fresh `NHSMESH` token, `Accept: application/vnd.mesh.v2+json`,
 * `X-Request-ID` and `X-Correlation-ID`.
 *
 * Failures throw `MeshError` (an `OperationOutcomeError`) with the HTTP status and, when MESH sent one, the DTS
 * event and code (`error.dts`). Reads, the acknowledge and chunks 2..n are retried after network failures and
 * 408/429/502/503/504 with the shared backoff; the first POST of a message never is (see `MeshRetryMode`).
 *
 * @example
 * const mesh = new MeshClient({ baseUrl: 'http://127.0.0.1:9000', mailboxId: 'X26ABC1', password: 'password', sharedKey: 'TestKey' });
 * const { messageId } = await mesh.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: 'hello' });
 * for await (const id of other.inbox()) { const { metadata, body } = await other.receive(id); ...; await other.acknowledge(id); }
 */
export class MeshClient {
  readonly mailboxId: string;
  private readonly transport: MeshTransport;
  private readonly chunkSize: number;
  private readonly compress: boolean;
  private readonly compressionLevel: number;
  private readonly acceptEncoding: string;
  private readonly tempDir: string | undefined;
  private readonly clientVersion: string;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(options: MeshClientOptions) {
    this.mailboxId = options.mailboxId.toUpperCase();
    if (!/^[A-Z0-9_-]+$/.test(this.mailboxId)) {
      throw new RangeError('MeshClient: mailboxId must be letters, digits, "-" or "_"');
    }
    this.chunkSize = options.chunkSize ?? MESH_DEFAULT_CHUNK_SIZE;
    if (
      !Number.isSafeInteger(this.chunkSize) ||
      this.chunkSize < 1 ||
      this.chunkSize > MESH_MAX_REQUEST_BYTES
    ) {
      throw new RangeError(`MeshClient: chunkSize must be 1..${MESH_MAX_REQUEST_BYTES} bytes`);
    }
    this.compress = options.compress ?? true;
    this.compressionLevel = options.compressionLevel ?? 6;
    this.acceptEncoding = options.acceptGzip === false ? 'identity' : 'gzip';
    if (!Number.isInteger(this.compressionLevel) || this.compressionLevel < 1 || this.compressionLevel > 9) {
      throw new RangeError('MeshClient: compressionLevel must be 1..9');
    }
    this.tempDir = options.tempDir;
    this.clientVersion = options.clientVersion ?? 'junction==0.1.0';
    if (options.tls) {
      if (!options.baseUrl.startsWith('https:')) {
        throw new RangeError('MeshClient: tls options need an https: baseUrl');
      }
      const { cert, key, passphrase, ca, rejectUnauthorized, servername } = options.tls;
      this.agent = new HttpsAgent({
        keepAlive: true,
        cert,
        key,
        ...(passphrase !== undefined ? { passphrase } : {}),
        ...(ca !== undefined ? { ca } : {}),
        ...(rejectUnauthorized !== undefined ? { rejectUnauthorized } : {}),
        ...(servername !== undefined ? { servername } : {}),
      });
    } else {
      this.agent = options.baseUrl.startsWith('https:')
        ? new HttpsAgent({ keepAlive: true })
        : new HttpAgent({ keepAlive: true });
    }
    this.transport = new MeshTransport({
      baseUrl: options.baseUrl,
      mailboxId: this.mailboxId,
      password: options.password,
      sharedKey: options.sharedKey,
      agent: this.agent,
      ...(options.retry ? { retry: options.retry } : {}),
      transferIdleTimeoutMs: options.transferIdleTimeoutMs ?? 120_000,
      now: options.now ?? (() => new Date()),
      sleep: options.sleep ?? realSleep,
      random: options.random ?? Math.random,
      randomUUID: options.randomUUID ?? randomUUID,
    });
  }

  /** Closes the kept-alive connections. */
  async close(): Promise<void> {
    this.agent.destroy();
  }

  private get mailboxPath(): string {
    return `/messageexchange/${encodeURIComponent(this.mailboxId)}`;
  }

  /**
   * Validates the mailbox (POST /messageexchange/{mailbox_id}, mesh-api.yaml `handshake`), "once every 24 hours".
   *
   * @example
   * await mesh.handshake();
   */
  async handshake(ctx?: RequestContext): Promise<void> {
    const res = await this.transport.request(
      {
        method: 'POST',
        path: this.mailboxPath,
        headers: {
          'mex-ClientVersion': this.clientVersion,
          'mex-OSName': osType(),
          'mex-OSVersion': `${release()} ${osVersion()}`.trim(),
          'mex-OSArchitecture': arch(),
          'mex-JavaVersion': 'N/A',
        },
        retry: 'idempotent',
        operation: 'MESH handshake',
      },
      ctx,
    );
    await discard(res);
  }

  /**
   * Sends a message of any size (mesh-api.yaml `send_message` then `send_chunk`): the uncompressed content is split
   * into `chunkSize` pieces, each gzip'd on its own; chunk 1 goes to `/outbox` with `mex-Chunk-Range: 1:n`, chunks
   * 2..n to `/outbox/{message_id}/{k}`. A stream body is spooled to a temporary directory first (n must be known
   * up front), a `{ path }` body is read in place: memory stays flat either way.
   *
   * If a later chunk fails for good, the error's `meshMessageId` names the incomplete message (never delivered
   * until all its chunks are in): record progress with `onProgress` and finish it later with `resume`.
   *
   * @example
   * const { messageId } = await mesh.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: { path: '/data/big.csv' }, fileName: 'big.csv',
   *   onProgress: ({ chunk, chunks }) => console.error(`chunk ${chunk}/${chunks} sent`) });
   * // after a crash past chunk 3 of message `id`:
   * await mesh.send({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: { path: '/data/big.csv' }, resume: { messageId: id, fromChunk: 4 } });
   */
  async send(request: MeshSendRequest, ctx: RequestContext = {}): Promise<MeshSendResult> {
    const operation = 'MESH send message';
    if (!request.to || !request.workflowId) {
      throw meshLocalError(400, operation, 'to and workflowId are required');
    }
    const compress = request.compress ?? this.compress;
    const checksumOption = request.checksum ?? true;
    let prepared: PreparedMessage;
    try {
      prepared = await prepareMessage(request.body, {
        chunkSize: this.chunkSize,
        compress,
        level: this.compressionLevel,
        // A resumed upload sends no checksum (it went with chunk 1): no whole read of the body for it.
        md5: checksumOption === true && request.resume === undefined,
        tempDir: this.tempDir,
        signal: ctx.signal,
      });
    } catch (cause) {
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      if (cause instanceof MeshError) throw cause;
      throw meshLocalError(400, operation, 'could not read the message body', cause);
    }
    try {
      const total = prepared.total;
      const checksum =
        request.resume !== undefined
          ? undefined
          : typeof checksumOption === 'string'
            ? checksumOption
            : prepared.md5;
      const progress = async (messageId: string, chunk: number) =>
        request.onProgress?.({
          messageId,
          chunk,
          chunks: total,
          bytesSent: Math.min(prepared.bytes, chunk * this.chunkSize),
          bytesTotal: prepared.bytes,
        });
      let messageId: string;
      let from: number;
      let chunkCtx: RequestContext;
      if (request.resume) {
        ({ messageId } = request.resume);
        from = request.resume.fromChunk;
        if (!messageId || !Number.isInteger(from) || from < 2 || from > total) {
          throw meshLocalError(
            400,
            operation,
            `resume needs the message id and a fromChunk of 2..${total} (the message has ${total} chunk(s))`,
          );
        }
        chunkCtx = ctx;
      } else {
        const first = await this.transport.request(
          {
            method: 'POST',
            path: `${this.mailboxPath}/outbox`,
            headers: firstChunkHeaders(request, total, checksum, compress),
            ...chunkRequest(prepared.chunk(1)),
            retry: 'never',
            operation,
            transfer: true,
          },
          ctx,
        );
        messageId = await sendResponseId(first, operation);
        chunkCtx = { ...ctx, correlationId: first.correlationId };
        await progress(messageId, 1);
        from = 2;
      }
      for (let k = from; k <= total; k++) {
        try {
          const res = await this.transport.request(
            {
              method: 'POST',
              path: `${this.mailboxPath}/outbox/${encodeURIComponent(messageId)}/${k}`,
              headers: {
                'content-type': OCTET_STREAM,
                'mex-Chunk-Range': `${k}:${total}`,
                ...(compress ? { 'content-encoding': 'gzip' } : {}),
              },
              ...chunkRequest(prepared.chunk(k)),
              retry: 'chunk',
              lastChunk: k === total,
              ...(request.resume && k === from ? { resumed: true } : {}),
              operation: `MESH send chunk ${k} of ${total}`,
              transfer: true,
            },
            chunkCtx,
          );
          await discard(res);
        } catch (error) {
          if (error instanceof MeshError && error.meshMessageId === undefined) {
            throw withMessageId(error, messageId);
          }
          throw error;
        }
        await progress(messageId, k);
      }
      return { messageId, chunks: total, bytes: prepared.bytes, checksum };
    } finally {
      await prepared.cleanup();
    }
  }

  /**
   * Iterates the ids in the inbox (GET /inbox, mesh-api.yaml `list_messages`), following `links.next`
   * (`continue_from`) page after page until there is none. A filtered page may be empty while more follow.
   *
   * @example
   * for await (const id of mesh.inbox({ workflowFilter: '!*_ACK*' })) console.log(id);
   */
  async *inbox(
    options: MeshInboxOptions = {},
    ctx: RequestContext = {},
  ): AsyncGenerator<string, void, undefined> {
    const operation = 'MESH list inbox';
    const query: Array<[string, string]> = [];
    if (options.maxResults !== undefined) {
      if (!Number.isInteger(options.maxResults) || options.maxResults < 10 || options.maxResults > 5000) {
        throw meshLocalError(400, operation, 'maxResults must be 10..5000');
      }
      query.push(['max_results', String(options.maxResults)]);
    }
    if (options.workflowFilter !== undefined) query.push(['workflow_filter', options.workflowFilter]);
    let path = `${this.mailboxPath}/inbox`;
    let pageQuery: Array<[string, string]> = query;
    const seen = new Set<string>();
    for (;;) {
      const res = await this.transport.request(
        { method: 'GET', path, query: pageQuery, retry: 'idempotent', operation },
        ctx,
      );
      const body = await readJsonBody(res, operation);
      const messages = (body as { messages?: unknown }).messages;
      if (!Array.isArray(messages) || !messages.every((m) => typeof m === 'string')) {
        throw meshLocalError(502, operation, 'MESH returned an inbox without a messages list');
      }
      for (const id of messages as string[]) yield id;
      const next = (body as { links?: { next?: unknown } }).links?.next;
      if (typeof next !== 'string' || next === '') return;
      if (seen.has(next)) throw meshLocalError(502, operation, 'MESH returned the same next link twice');
      seen.add(next);
      path = next;
      pageQuery = [];
    }
  }

  /**
   * Downloads a message (GET /inbox/{id}, then /inbox/{id}/{k} while MESH answers 206, mesh-api.yaml
   * `retrieve_message` / `retrieve_chunk`): the metadata from the `mex-*` headers, and one stream of the whole
   * content, each chunk gunzipped when sent with `Content-Encoding: gzip`. Chunks are fetched as the stream is
   * read; a chunk cut off mid-way is fetched again and resumed where it stopped.
   *
   * @example
   * const { metadata, body } = await mesh.receive(id);
   * await pipeline(body, createWriteStream(`/data/${metadata.fileName}`));
   */
  async receive(
    messageId: string,
    ctx: RequestContext = {},
    options: MeshReceiveOptions = {},
  ): Promise<MeshReceived> {
    const operation = 'MESH download message';
    const first = await this.downloadChunk(messageId, 1, ctx, operation);
    const metadata = parseMetadata(messageId, first.headers);
    const total = metadata.totalChunks;
    const expected = options.verifyChecksum && metadata.checksum && MD5_HEX.test(metadata.checksum);
    const correlationId = first.correlationId;
    const self = this;
    async function* content(): AsyncGenerator<Uint8Array, void, undefined> {
      const hash = expected ? createHash('md5') : undefined;
      let current: MeshCallResult | undefined = first;
      let bytesReceived = 0;
      try {
        for (let k = 1; k <= total; k++) {
          for await (const piece of self.chunkContent(messageId, k, total, current, {
            ...ctx,
            correlationId,
          })) {
            hash?.update(piece);
            bytesReceived += piece.byteLength;
            yield piece;
          }
          current = undefined;
          options.onProgress?.({ messageId, chunk: k, chunks: total, bytesReceived });
        }
      } finally {
        // An abandoned read stops the chunk in flight.
        current?.body.destroy();
        current?.done();
      }
      if (hash && hash.digest('hex') !== metadata.checksum?.toLowerCase()) {
        throw meshLocalError(502, operation, 'the content does not match mex-Content-Checksum');
      }
    }
    return { metadata, body: Readable.from(content(), { objectMode: false }) };
  }

  /** One chunk's decoded bytes; re-fetched and resumed after a cut. */
  private async *chunkContent(
    messageId: string,
    k: number,
    total: number,
    firstAttempt: MeshCallResult | undefined,
    ctx: RequestContext,
  ): AsyncGenerator<Uint8Array, void, undefined> {
    const operation = `MESH download chunk ${k} of ${total}`;
    let res = firstAttempt ?? (await this.downloadChunk(messageId, k, ctx, operation));
    let emitted = 0;
    let failures = 0;
    const startedMs = this.transport.now().getTime();
    for (;;) {
      let skip = emitted;
      try {
        // Each chunk is its own gzip member when sent with Content-Encoding: gzip (mesh-api.yaml send_chunk).
        const body: Readable =
          res.headers.get('content-encoding') === 'gzip'
            ? pipeline(res.body, createGunzip(), () => {})
            : res.body;
        for await (const piece of body as AsyncIterable<Uint8Array>) {
          res.touch();
          let out = piece;
          if (skip > 0) {
            const drop = Math.min(skip, out.byteLength);
            skip -= drop;
            out = out.subarray(drop);
            if (out.byteLength === 0) continue;
          }
          emitted += out.byteLength;
          yield out;
        }
        if (skip > 0) throw meshLocalError(502, operation, 'a chunk was shorter when fetched again');
        res.done();
        return;
      } catch (cause) {
        res.done();
        res.body.destroy();
        if (ctx.signal?.aborted) throw ctx.signal.reason;
        if (cause instanceof MeshError) throw cause;
        failures++;
        const error = meshNetworkError(operation, cause, res.signal.aborted && !ctx.signal?.aborted);
        if (!(await this.transport.waitToRetry(failures, undefined, startedMs, ctx.signal))) throw error;
        res = await this.downloadChunk(messageId, k, ctx, operation);
      }
    }
  }

  private downloadChunk(
    messageId: string,
    k: number,
    ctx: RequestContext,
    operation: string,
  ): Promise<MeshCallResult> {
    const id = encodeURIComponent(messageId);
    return this.transport.request(
      {
        method: 'GET',
        path: k === 1 ? `${this.mailboxPath}/inbox/${id}` : `${this.mailboxPath}/inbox/${id}/${k}`,
        headers: { 'accept-encoding': this.acceptEncoding },
        retry: 'idempotent',
        operation,
        transfer: true,
      },
      ctx,
    );
  }

  /**
   * Acknowledges a downloaded message, removing it from the inbox (PUT /inbox/{id}/status/acknowledged,
   * mesh-api.yaml `acknowledge_message`). Safe to repeat.
   *
   * @example
   * await mesh.acknowledge(id);
   */
  async acknowledge(messageId: string, ctx?: RequestContext): Promise<void> {
    const res = await this.transport.request(
      {
        method: 'PUT',
        path: `${this.mailboxPath}/inbox/${encodeURIComponent(messageId)}/status/acknowledged`,
        retry: 'idempotent',
        operation: 'MESH acknowledge message',
      },
      ctx,
    );
    await discard(res);
  }

  /**
   * The status of a sent message (GET /outbox/tracking?messageID=, mesh-api.yaml `tracking_by_message_id`), v2.
   *
   * @example
   * const { status } = await mesh.track(messageId); // 'accepted' | 'acknowledged' | ...
   */
  async track(messageId: string, ctx?: RequestContext): Promise<MeshTracking> {
    const operation = 'MESH track message';
    const res = await this.transport.request(
      {
        method: 'GET',
        path: `${this.mailboxPath}/outbox/tracking`,
        query: [['messageID', messageId]],
        retry: 'idempotent',
        operation,
      },
      ctx,
    );
    const body = await readJsonBody(res, operation);
    if (typeof (body as { message_id?: unknown }).message_id !== 'string') {
      throw meshLocalError(502, operation, 'MESH returned tracking without message_id');
    }
    return body as MeshTracking;
  }

  /**
   * The sent message with this `mex-LocalID`, or undefined when MESH knows none (404) (GET
   * /outbox/tracking/{local_id}, mesh-api.yaml `tracking_by_local_id`, "deprecated": "tracking?messageID should
   * be used instead"). Its one use left: finding out whether a send whose answer was lost reached MESH, before
   * sending again. The v1 body (camelCase) is mapped to the v2 field names of {@link MeshTracking}; MESH answers
   * 300 when the local id is not unique, which fails here.
   *
   * @example
   * const earlier = await mesh.trackByLocalId('submission-5f1c'); // → { message_id, status, ... } | undefined
   */
  async trackByLocalId(localId: string, ctx?: RequestContext): Promise<MeshTracking | undefined> {
    const operation = 'MESH track message by local id';
    if (localId === '') throw meshLocalError(400, operation, 'localId is required');
    let res: MeshCallResult;
    try {
      res = await this.transport.request(
        {
          method: 'GET',
          path: `${this.mailboxPath}/outbox/tracking/${encodeURIComponent(localId)}`,
          retry: 'idempotent',
          operation,
        },
        ctx,
      );
    } catch (error) {
      if (error instanceof MeshError && error.status === 404) return undefined;
      throw error;
    }
    const b = (await readJsonBody(res, operation)) as Record<string, unknown>;
    const messageId = b.message_id ?? b.messageId ?? b.dtsId;
    if (typeof messageId !== 'string') {
      throw meshLocalError(502, operation, 'MESH returned tracking without a message id');
    }
    const out: MeshTracking = { ...b, message_id: messageId };
    const v1: Array<[string, string]> = [
      ['localId', 'local_id'],
      ['workflowId', 'workflow_id'],
      ['statusCode', 'status_code'],
      ['statusEvent', 'status_event'],
      ['statusDescription', 'status_description'],
      ['recipient', 'recipient'],
    ];
    for (const [from, to] of v1) if (out[to] === undefined && typeof b[from] === 'string') out[to] = b[from];
    if (typeof out.status === 'string') out.status = out.status.toLowerCase();
    return out;
  }

  /**
   * The mailboxes of an organisation for a workflow (GET /messageexchange/endpointlookup/{ods}/{workflow},
   * mesh-api.yaml `get_receiving_mailbox_ids`), v2 `results`.
   *
   * @example
   * const [practice] = await mesh.endpointLookup('A12345', 'GPFED_CONSULT_REPORT');
   */
  async endpointLookup(
    odsCode: string,
    workflowId: string,
    ctx?: RequestContext,
  ): Promise<MeshMailboxMatch[]> {
    return this.lookup(
      `/messageexchange/endpointlookup/${encodeURIComponent(odsCode)}/${encodeURIComponent(workflowId)}`,
      'MESH endpoint lookup',
      ctx,
    );
  }

  /**
   * The mailboxes registered for a workflow (GET /messageexchange/workflowsearch/{workflow}), v2 `results`.
   *
   * @example
   * const mailboxes = await mesh.workflowSearch('TEST_WORKFLOW');
   */
  async workflowSearch(workflowId: string, ctx?: RequestContext): Promise<MeshMailboxMatch[]> {
    return this.lookup(
      `/messageexchange/workflowsearch/${encodeURIComponent(workflowId)}`,
      'MESH workflow search',
      ctx,
    );
  }

  private async lookup(path: string, operation: string, ctx?: RequestContext): Promise<MeshMailboxMatch[]> {
    const res = await this.transport.request({ method: 'GET', path, retry: 'idempotent', operation }, ctx);
    const results = ((await readJsonBody(res, operation)) as { results?: unknown }).results;
    if (!Array.isArray(results)) throw meshLocalError(502, operation, 'MESH returned no results list');
    return results.map((r: Record<string, unknown>) => {
      // v2 `{mailbox_id, mailbox_name}`; v1 `{address, description}` from a server that ignored Accept.
      const mailboxId = r.mailbox_id ?? r.address;
      const mailboxName = r.mailbox_name ?? r.description;
      if (typeof mailboxId !== 'string')
        throw meshLocalError(502, operation, 'MESH returned a result without a mailbox id');
      return { mailbox_id: mailboxId, mailbox_name: typeof mailboxName === 'string' ? mailboxName : '' };
    });
  }
}

/** The headers of the first POST (mesh-api.yaml `send_message`): the message's metadata and `mex-Chunk-Range: 1:n`. */
function firstChunkHeaders(
  request: MeshSendRequest,
  total: number,
  checksum: string | undefined,
  compress: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {
    'mex-To': request.to,
    'mex-WorkflowID': request.workflowId,
    'mex-Chunk-Range': `1:${total}`,
    'content-type': request.contentType && total === 1 ? request.contentType : OCTET_STREAM,
  };
  if (request.contentType && total > 1) headers['mex-Content-Type'] = request.contentType;
  if (request.subject !== undefined) headers['mex-Subject'] = request.subject;
  if (request.localId !== undefined) headers['mex-LocalID'] = request.localId;
  if (request.fileName !== undefined) headers['mex-FileName'] = request.fileName;
  if (request.partnerId !== undefined) headers['mex-PartnerID'] = request.partnerId;
  if (checksum !== undefined) headers['mex-Content-Checksum'] = checksum;
  if (request.contentEncrypted !== undefined) {
    headers['mex-Content-Encrypted'] = request.contentEncrypted ? 'Y' : 'N';
  }
  if (request.contentCompressed !== undefined) {
    headers['mex-Content-Compressed'] = request.contentCompressed ? 'Y' : 'N';
  }
  if (compress) headers['content-encoding'] = 'gzip';
  return headers;
}

function chunkRequest(chunk: ChunkBody): {
  body: () => Promise<Uint8Array | AsyncIterable<Uint8Array>>;
  contentLength?: number;
} {
  return { body: () => chunk.open(), ...(chunk.length !== undefined ? { contentLength: chunk.length } : {}) };
}

async function sendResponseId(res: MeshCallResult, operation: string): Promise<string> {
  const body = await readJsonBody(res, operation);
  // v2 `message_id`; v1 `messageID` from a server that ignored Accept.
  const id =
    (body as { message_id?: unknown; messageID?: unknown }).message_id ??
    (body as { messageID?: unknown }).messageID;
  if (typeof id !== 'string' || id === '')
    throw meshLocalError(502, operation, 'MESH accepted the message without an id');
  return id;
}

async function readJsonBody(res: MeshCallResult, operation: string): Promise<object> {
  let parsed: unknown;
  try {
    parsed = await readJson(res);
  } catch (cause) {
    throw meshNetworkError(operation, cause, res.signal.aborted);
  }
  if (typeof parsed === 'object' && parsed !== null) return parsed;
  throw meshLocalError(502, operation, 'MESH returned a body that is not a JSON object');
}

async function discard(res: MeshCallResult): Promise<void> {
  try {
    for await (const _ of res.body) {
      // drained
    }
  } catch {
    // The call succeeded; an unread acknowledgement body does not matter.
  } finally {
    res.done();
  }
}

function withMessageId(error: MeshError, messageId: string): MeshError {
  return new MeshError(error, {
    ...(error.dts ? { dts: error.dts } : {}),
    meshMessageId: messageId,
    ...(error.internalId ? { internalId: error.internalId } : {}),
    cause: error.cause,
  });
}

function parseMetadata(messageId: string, headers: Headers): MeshMessageMetadata {
  const mex: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.toLowerCase().startsWith('mex-')) mex[name.toLowerCase()] = value;
  });
  const get = (name: string) => mex[`mex-${name}`] || undefined;
  const flag = (name: string) => ['Y', 'TRUE'].includes((get(name) ?? '').toUpperCase());
  const range = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(get('chunk-range') ?? '');
  const totalChunks = range ? Math.max(1, Number(range[2])) : 1;
  return {
    messageId: get('messageid') ?? messageId,
    messageType: get('messagetype'),
    from: get('from'),
    to: get('to'),
    workflowId: get('workflowid'),
    totalChunks,
    localId: get('localid'),
    partnerId: get('partnerid'),
    fileName: get('filename'),
    subject: get('subject'),
    contentType: get('content-type') ?? (headers.get('content-type') || undefined),
    checksum: get('content-checksum'),
    contentCompressed: flag('content-compressed'),
    contentEncrypted: flag('content-encrypted'),
    statusCode: get('statuscode'),
    statusEvent: get('statusevent'),
    statusDescription: get('statusdescription'),
    statusSuccess: get('statussuccess'),
    statusTimestamp: get('statustimestamp'),
    linkedMessageId: get('linkedmsgid'),
    addressType: get('addresstype'),
    version: get('version'),
    headers: mex,
  };
}
