import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip, createGzip } from 'node:zlib';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { mailboxDetails, meshAdminRoutes } from './admin.js';
import { authoriseMailbox, TokenReplayCache } from './auth.js';
import { MESH_MESSAGES, MeshError, MeshStatus, MeshValidationError } from './errors.js';
import { messageHeaders } from './headers.js';
import type { MeshMailbox, MeshMessage, MeshSeed, MessageMetadata, MessageStatus } from './model.js';
import { statusOf } from './model.js';
import { defaultMeshSeed, loadMeshSeed, withGpPracticeMailboxes } from './seed.js';
import { BodyTooLargeError, DEFAULT_INBOX_EXPIRY_MS, MeshStore, partyOf, toIso } from './store.js';
import { trackingView } from './views.js';

export { MESH_AUTH_SCHEME, meshTokenHash, TOKEN_WINDOW_MS } from './auth.js';
export { MESH_ERRORS, MESH_MESSAGES } from './errors.js';
export type { MeshMailbox, MeshMessage, MeshSeed, MeshWorkflow } from './model.js';
export {
  defaultMeshSeed,
  GP_CONSULT_REPORT_ACK_WORKFLOW,
  GP_CONSULT_REPORT_WORKFLOW,
  gpMailboxId,
  loadMeshSeed,
  withGpPracticeMailboxes,
} from './seed.js';

/** Options of the MESH v2 simulator (`/messageexchange`). */
export interface MeshPluginOptions {
  /** A seed file (JSON shaped like `MeshSeed`) or a directory in NHS's sandbox layout; default: NHS's sandbox seed. */
  seedFile?: string;
  /** A seed given directly (wins over `seedFile`). */
  seed?: MeshSeed;
  /** The environment's shared key for the `NHSMESH` HMAC; default: the seed's (`TestKey`). */
  sharedKey?: string;
  /** ODS codes of GP practices that get a mailbox registered for GPFED_CONSULT_REPORT. */
  gpPractices?: Iterable<string>;
  /** Where messages are kept; default: a new temp dir, removed when the server closes. */
  dataDir?: string;
  /** How long a delivered message waits for acknowledgement before it expires (default 5 days, per spec). */
  inboxExpiryMs?: number;
  /** Largest request body (one message or chunk); default 100 MB, the spec's limit. */
  maxRequestBytes?: number;
  /** Test-only admin routes at `/admin/...` and `/messageexchange/admin/...`, as NHS's sandbox has; default off. */
  admin?: boolean;
  /**
   * Accept a send on any workflow id, registered or not, as NHS's sandbox does (it never checks).
   * Default off: mesh-api.yaml's SEND 17 "Workflow ID not registered for mailbox" unless the workflow
   * is registered with the sender as a sender and the recipient as a receiver.
   */
  anyWorkflow?: boolean;
  /** Clock, for tests. */
  now?: () => Date;
}

/** mesh-api.yaml "Outbox workflow": "The maximum amount of data allowed by MESH in a single request message is 100MB". */
export const DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024;
export const MESH_V2 = 'application/vnd.mesh.v2+json';
const DEFAULT_MAX_RESULTS = 500;
/** The real service's base path (mesh-api.yaml paths), which the sandbox keeps. */
export const MESH_BASE_PATH = '/messageexchange';
/** Where NHS's sandbox answers its `ping` (mesh-sandbox `routers/admin.py`); `/_status` is the Junction sandbox's own. */
const MESH_SANDBOX_PING_PATHS = [
  '/health',
  '/healthcheck',
  '/_ping',
  `${MESH_BASE_PATH}/_ping`,
  `${MESH_BASE_PATH}/deepping`,
];

type Params = Record<string, string>;
type Req = FastifyRequest<{ Params: Params; Querystring: Record<string, string | undefined> }>;

/**
 * The MESH API v2 simulator as a Fastify plugin, faithful to mesh-api.yaml and NHS's own MESH
 * sandbox: `NHSMESH` authorisation, send with chunking, inbox paging, download (200/206),
 * acknowledge, tracking, endpoint lookup, v1/v2 bodies by `Accept`, error reports and message
 * expiry. Message bytes live on disk and stream through; never whole in memory. Mount it without a
 * prefix: it serves the API at `/messageexchange` and, like NHS's sandbox, its health and admin
 * routes beside it (`/health`, `/admin/...`).
 * @example await app.register(meshPlugin, { admin: true })
 */
export const meshPlugin: FastifyPluginAsync<MeshPluginOptions> = async (root, options) => {
  const now = options.now ?? (() => new Date());
  let seed = options.seed ?? (options.seedFile ? await loadMeshSeed(options.seedFile) : defaultMeshSeed());
  if (options.gpPractices) seed = withGpPracticeMailboxes(seed, options.gpPractices);
  const sharedKey = options.sharedKey ?? seed.sharedKey;
  const ownDir = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'junction-mesh-')) : undefined;
  const store = new MeshStore({
    dataDir: options.dataDir ?? (ownDir as string),
    seed,
    now,
    inboxExpiryMs: options.inboxExpiryMs ?? DEFAULT_INBOX_EXPIRY_MS,
  });
  await store.open();
  if (ownDir) root.addHook('onClose', async () => rm(ownDir, { recursive: true, force: true }));
  const maxBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const replay = new TokenReplayCache();
  const workflows = store.workflows;

  // Bodies are never parsed: the send routes stream `request.raw` to disk themselves.
  root.removeAllContentTypeParsers();
  root.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  root.setErrorHandler(async (error: FastifyError | Error, request, reply) => {
    const version = safeVersion(request);
    if (error instanceof MeshError) {
      return reply
        .code(error.status)
        .type(version >= 2 ? MESH_V2 : 'application/json')
        .send(error.body(version, internalId()));
    }
    if (error instanceof MeshValidationError)
      return reply.code(400).type('application/json').send(error.body());
    if (error instanceof MeshStatus) return reply.code(error.status).send();
    if (error instanceof BodyTooLargeError) {
      return reply.code(413).type('application/json').send({ detail: error.message });
    }
    const status = (error as FastifyError).statusCode;
    if (typeof status === 'number' && status < 500) return reply.code(status).send({ detail: error.message });
    request.log.error(error);
    // mesh-sandbox `get_error_response` without detail.
    return reply
      .code(500)
      .send({ internal_id: internalId(), message: 'An internal error occurred.\n\nPlease contact support.' });
  });

  const authorised = (request: Req): MeshMailbox =>
    authoriseMailbox(request.params.mailbox ?? '', request.headers.authorization, {
      sharedKey,
      mailboxOf: (id) => store.mailbox(id),
      replay,
      nowMs: now().getTime(),
    });

  const sendJson = (reply: FastifyReply, version: number, status: number, body: unknown) =>
    reply
      .code(status)
      .type(version >= 2 ? MESH_V2 : 'application/json')
      .send(body);

  // mesh-sandbox `routers/admin.py` `ping`: the health checks its users poll (its docker healthcheck asks `/health`).
  const ping = async () => ({ env: 'sandbox', build_label: 'latest', status: 'running', outcome: 'Yes' });
  for (const path of MESH_SANDBOX_PING_PATHS) root.get(path, ping);

  if (options.admin) {
    await root.register(meshAdminRoutes, { prefix: '/admin', store, report: false });
    await root.register(meshAdminRoutes, { prefix: `${MESH_BASE_PATH}/admin`, store, report: true });
    // mesh-sandbox `get_mailbox_details` is served at this third path too (not in mesh-api.yaml, hence admin only).
    root.get(`${MESH_BASE_PATH}/mailbox/:mailbox`, async (request: Req) =>
      mailboxDetails(store, request.params.mailbox),
    );
  }

  await root.register(
    async (app) => {
      // --- Handshake: POST /messageexchange/{mailbox_id} (operation handshake_…_post) ------------
      app.post('/:mailbox', async (request: Req, reply) => {
        const version = acceptVersion(request);
        const mailbox = authorised(request);
        for (const name of ['mex-clientversion', 'mex-osname', 'mex-osversion']) {
          if (request.headers[name] === undefined) {
            throw new MeshValidationError(['header', name], 'field required', 'value_error.missing');
          }
        }
        if (version < 2) return sendJson(reply, version, 200, { mailboxId: mailbox.mailbox_id });
        return reply.code(200).send();
      });

      // --- Send: POST /messageexchange/{mailbox_id}/outbox (operation send_message) --------------
      app.post('/:mailbox/outbox', async (request: Req, reply) => {
        const version = acceptVersion(request);
        const sender = authorised(request);
        const header = (name: string) => headerOf(request, name);
        const mexTo = (header('mex-to') ?? '').trim().toUpperCase();
        const workflowId = header('mex-workflowid');
        if (!mexTo) throw new MeshError(400, 'missingToAddress');
        if (workflowId === undefined) {
          throw new MeshValidationError(
            ['header', 'mex-workflowid'],
            'field required',
            'value_error.missing',
          );
        }
        checkControlCharacters(request);
        const encoding = (header('content-encoding') ?? '').trim().toLowerCase();
        if (encoding && encoding !== 'gzip') throw new MeshError(422, 'unsupportedContentEncoding');
        const range = chunkRange(header('mex-chunk-range'), 1);
        if (!range) throw new MeshError(417, 'invalidHeaderChunks');
        const recipient = store.mailbox(mexTo);
        if (!recipient) throw new MeshError(417, 'unregisteredRecipient');
        const workflow = workflows.get(workflowId.trim());
        const registered =
          workflow?.senders.includes(sender.mailbox_id) && workflow.receivers.includes(recipient.mailbox_id);
        if (!registered && !options.anyWorkflow) throw new MeshError(417, 'workflowNotRegistered');
        if (request.headers['content-length'] === '0') throw new MeshError(417, 'missingDataFile');
        const messageId = store.newMessageId();
        const created = toIso(now());
        const contentType = (header('content-type') ?? '').trim();
        const message: MeshMessage = {
          message_id: messageId,
          message_type: 'DATA',
          workflow_id: workflowId.trim(),
          sender: partyOf(sender),
          recipient: partyOf(recipient),
          total_chunks: range.total,
          chunks_received: [],
          file_size: 0,
          metadata: dropEmpty({
            subject: header('mex-subject'),
            content_type: header('mex-content-type') || contentType || undefined,
            content_encoding: encoding || undefined,
            file_name: header('mex-filename') || `${messageId}.dat`,
            local_id: header('mex-localid'),
            partner_id: header('mex-partnerid'),
            checksum: header('mex-content-checksum'),
            encrypted: yes(header('mex-content-encrypted')),
            compressed: yes(header('mex-content-compressed')),
          }) as MessageMetadata,
          events: [{ status: 'uploading', timestamp: created }],
          created_timestamp: created,
          last_modified: created,
        };
        await store.add(message);
        let bytes: number;
        try {
          bytes = await store.writeChunk(messageId, 1, request.raw, maxBytes);
        } catch (error) {
          await store.remove(messageId);
          throw error;
        }
        if (bytes === 0) {
          await store.remove(messageId);
          throw new MeshError(417, 'missingDataFile');
        }
        message.chunks_received = [1];
        if (range.total === 1) await store.accept(message, bytes);
        else await store.save(message);
        return sendJson(
          reply,
          version,
          202,
          version < 2 ? { messageID: messageId } : { message_id: messageId },
        );
      });

      // --- Send chunk: POST /messageexchange/{mailbox_id}/outbox/{message_id}/{chunk_number} (send_chunk)
      app.post('/:mailbox/outbox/:messageId/:chunk', async (request: Req, reply) => {
        const version = acceptVersion(request);
        const sender = authorised(request);
        const messageId = (request.params.messageId ?? '').toUpperCase();
        const chunk = chunkNumber(request.params.chunk);
        const rangeHeader = headerOf(request, 'mex-chunk-range');
        const range = rangeHeader?.trim() ? chunkRange(rangeHeader, chunk) : undefined;
        if (!range) throw new MeshError(417, 'invalidHeaderChunks', messageId);
        const message = store.message(messageId);
        if (!message) throw new MeshStatus(404);
        if (message.sender.mailbox_id !== sender.mailbox_id) throw new MeshStatus(403);
        if (statusOf(message) !== 'uploading') throw new MeshStatus(423, 'message has been finalised');
        if (
          chunk > message.total_chunks ||
          range.total !== message.total_chunks ||
          message.message_type !== 'DATA'
        ) {
          throw new MeshStatus(406);
        }
        const encoding = (headerOf(request, 'content-encoding') ?? '').trim().toLowerCase();
        if (encoding !== (message.metadata.content_encoding ?? '')) {
          throw new MeshError(417, { description: MESH_MESSAGES.contentEncodingChanged }, messageId);
        }
        // A chunk is addressed by its number (mesh-api.yaml `send_chunk` path `chunk_number`), and the spec's only
        // refusal of a chunk already sent is 423 once the message "has been finalised". While it is uploading, a chunk
        // posted again replaces the one held (NHS's mesh-sandbox `send_chunk` stores it again, unchecked): that is what
        // lets a sender resume an interrupted upload from the last chunk it recorded. Chunks may come in any order; the
        // message is delivered once all have arrived, exactly once. The spec gives an incomplete message no lifetime
        // (its "Message expiration" counts from delivery), so this sandbox keeps one until it is completed or reset.
        await store.writeChunk(messageId, chunk, request.raw, maxBytes);
        const received = new Set(message.chunks_received ?? []);
        received.add(chunk);
        message.chunks_received = [...received].sort((a, b) => a - b);
        if (received.size === message.total_chunks && statusOf(message) === 'uploading') {
          let size = 0;
          for (let n = 1; n <= message.total_chunks; n++) size += (await store.chunkSize(messageId, n)) ?? 0;
          await store.accept(message, size);
        } else {
          await store.save(message);
        }
        if (version < 2) return sendJson(reply, version, 202, { messageID: messageId, blockID: chunk });
        return reply.code(202).send();
      });

      // --- Inbox: GET /messageexchange/{mailbox_id}/inbox (list_messages_…_inbox_get) -------------
      app.get('/:mailbox/inbox', async (request: Req, reply) => {
        const version = acceptVersion(request);
        const mailbox = authorised(request);
        await store.expire();
        const query = request.query;
        const maxResults = integerQuery(query.max_results, 'max_results', DEFAULT_MAX_RESULTS, 10, 5000);
        const filter = workflowFilter(query.workflow_filter);
        const all = store.inbox(mailbox.mailbox_id);
        let messages = filter ? all.filter((m) => filter(m.workflow_id)) : all;
        if (query.continue_from) {
          const after = continueKey(query.continue_from, version, store);
          messages = messages.filter((m) => compareKey(m, after) > 0);
        }
        const more = messages.length > maxResults;
        messages = messages.slice(0, maxResults);
        const ids = messages.map((m) => m.message_id);
        if (version < 2) return sendJson(reply, version, 200, { messages: ids });
        const base = `/messageexchange/${mailbox.mailbox_id}/inbox`;
        const args: Record<string, string> = {};
        if (maxResults !== DEFAULT_MAX_RESULTS) args.max_results = String(maxResults);
        if (query.workflow_filter) args.workflow_filter = query.workflow_filter;
        const links: Record<string, string> = { self: withQuery(base, args) };
        const last = messages.at(-1);
        if (more && last) {
          const key = Buffer.from(
            JSON.stringify({ message_id: last.message_id, created: last.created_timestamp }),
          );
          links.next = withQuery(base, { ...args, continue_from: key.toString('base64url') });
        }
        return sendJson(reply, version, 200, { messages: ids, links, approx_inbox_count: all.length });
      });

      // --- Count (deprecated): GET /messageexchange/{mailbox_id}/count ---------------------------
      app.get('/:mailbox/count', async (request: Req, reply) => {
        const version = acceptVersion(request);
        const mailbox = authorised(request);
        await store.expire();
        const count = store.inbox(mailbox.mailbox_id).length;
        if (version >= 2) return sendJson(reply, version, 200, { count });
        return sendJson(reply, version, 200, { count, internalID: internalId(), allResultsIncluded: true });
      });

      // --- Download: GET|HEAD /messageexchange/{mailbox_id}/inbox/{message_id}[/{chunk_number}] ----
      const download = async (request: Req, reply: FastifyReply, chunk: number) => {
        const version = acceptVersion(request);
        const mailbox = authorised(request);
        await store.expire();
        const message = store.message(request.params.messageId ?? '');
        if (!message) throw new MeshError(404, 'messageDoesNotExist');
        if (message.recipient.mailbox_id !== mailbox.mailbox_id) throw new MeshStatus(403);
        if (!isDownloadable(statusOf(message))) throw new MeshError(410, 'messageGone');
        const headers = messageHeaders(message, chunk, toIso(now()));
        if (message.message_type !== 'DATA') return reply.code(200).headers(headers).send('');
        if (chunk < 1 || chunk > message.total_chunks) throw new MeshError(404, 'messageDoesNotExist');
        const size = await store.chunkSize(message.message_id, chunk);
        if (size === undefined) throw new MeshError(404, 'messageDoesNotExist');
        const status = chunk >= message.total_chunks ? 200 : 206;
        const acceptEncoding = (headerOf(request, 'accept-encoding') ?? '').toLowerCase();
        const stored = message.metadata.content_encoding ?? '';
        let body: NodeJS.ReadableStream = store.readChunk(message.message_id, chunk);
        // As mesh-sandbox `_retrieve_message_or_chunk`: gzip'd chunks are unzipped for a client that
        // does not accept gzip; v2 clients accepting gzip get plain chunks gzip'd. Both stream.
        if (stored === 'gzip' && !acceptEncoding.includes('gzip')) {
          delete headers['Content-Encoding'];
          body = body.pipe(createGunzip());
        } else if (version > 1 && !stored && acceptEncoding.includes('gzip')) {
          headers['Content-Encoding'] = 'gzip';
          body = body.pipe(createGzip());
        } else {
          headers['Content-Length'] = String(size);
        }
        if (headers['Content-Encoding'] === 'gzip') headers['mex-Content-Compressed'] = 'Y';
        const mediaType =
          version > 1 && message.total_chunks < 2 && message.metadata.content_type
            ? message.metadata.content_type
            : 'application/octet-stream';
        return reply.code(status).headers(headers).type(mediaType).send(body);
      };
      app.get('/:mailbox/inbox/:messageId', { exposeHeadRoute: false }, (request: Req, reply) =>
        download(request, reply, 1),
      );
      app.get('/:mailbox/inbox/:messageId/:chunk', (request: Req, reply) =>
        download(request, reply, chunkNumber(request.params.chunk)),
      );

      // HEAD /messageexchange/{mailbox_id}/inbox/{message_id} (head_message_…): headers only; the sender may ask too.
      app.head('/:mailbox/inbox/:messageId', async (request: Req, reply) => {
        acceptVersion(request);
        const mailbox = authorised(request);
        await store.expire();
        const message = store.message(request.params.messageId ?? '');
        if (!message) throw new MeshError(404, 'messageDoesNotExist');
        const isRecipient = message.recipient.mailbox_id === mailbox.mailbox_id;
        if (!isRecipient && message.sender.mailbox_id !== mailbox.mailbox_id)
          throw new MeshError(404, 'messageDoesNotExist');
        if (isRecipient && !isDownloadable(statusOf(message))) throw new MeshError(410, 'messageGone');
        return reply
          .code(200)
          .headers(messageHeaders(message, 1, toIso(now())))
          .send();
      });

      // --- Acknowledge: PUT /messageexchange/{mailbox_id}/inbox/{message_id}/status/acknowledged ---
      app.put('/:mailbox/inbox/:messageId/status/acknowledged', async (request: Req, reply) => {
        const version = acceptVersion(request);
        const mailbox = authorised(request);
        const message = store.message(request.params.messageId ?? '');
        if (!message) throw new MeshError(404, 'messageDoesNotExist');
        if (message.recipient.mailbox_id !== mailbox.mailbox_id) throw new MeshStatus(403);
        if (statusOf(message) === 'accepted') await store.addEvent(message, { status: 'acknowledged' });
        if (version < 2) return sendJson(reply, version, 200, { messageId: message.message_id });
        return reply.code(200).send();
      });

      // --- Tracking: GET /messageexchange/{mailbox_id}/outbox/tracking?messageID= ----------------
      app.get('/:mailbox/outbox/tracking', async (request: Req, reply) => {
        const version = acceptVersion(request);
        const mailbox = authorised(request);
        await store.expire();
        const id = request.query.messageID;
        if (!id)
          throw new MeshValidationError(['query', 'messageID'], 'field required', 'value_error.missing');
        const message = store.message(id);
        // Not a 403 for another sender's message: "intentionally not a 403 (matching spine)" (mesh-sandbox).
        if (!message || message.sender.mailbox_id !== mailbox.mailbox_id) throw new MeshStatus(404);
        return sendJson(reply, version, 200, trackingView(message, version));
      });

      // Deprecated: GET /messageexchange/{mailbox_id}/outbox/tracking/{local_id} (v1 body; 300 when not unique).
      app.get('/:mailbox/outbox/tracking/:localId', async (request: Req, reply) => {
        acceptVersion(request);
        const mailbox = authorised(request);
        await store.expire();
        const found = store
          .all()
          .filter(
            (m) =>
              m.sender.mailbox_id === mailbox.mailbox_id && m.metadata.local_id === request.params.localId,
          );
        const [message] = found;
        if (!message) throw new MeshStatus(404);
        if (found.length > 1) throw new MeshStatus(300);
        return sendJson(reply, 1, 200, trackingView(message, 1));
      });

      // --- Lookup (no authorisation in the spec) --------------------------------------------------
      app.get('/endpointlookup/:ods/:workflow', async (request: Req, reply) => {
        const version = acceptVersion(request);
        const ods = (request.params.ods ?? '').trim().toUpperCase();
        const workflowId = (request.params.workflow ?? '').trim();
        const receivers = new Set(workflows.get(workflowId)?.receivers ?? []);
        const found = [...store.mailboxes.values()].filter(
          (m) => m.ods_code.toUpperCase() === ods && receivers.has(m.mailbox_id),
        );
        if (version < 2) {
          return sendJson(reply, version, 200, {
            query_id: randomUUID().replace(/-/g, ''),
            results: found.map((m) => ({
              address: m.mailbox_id,
              description: m.mailbox_name,
              endpoint_type: 'MESH',
            })),
          });
        }
        return sendJson(reply, version, 200, {
          results: found.map((m) => ({ mailbox_id: m.mailbox_id, mailbox_name: m.mailbox_name })),
        });
      });

      app.get('/workflowsearch/:workflow', async (request: Req, reply) => {
        const version = acceptVersion(request);
        const receivers = workflows.get((request.params.workflow ?? '').trim())?.receivers ?? [];
        const results = receivers
          .map((id) => store.mailbox(id))
          .filter((m): m is MeshMailbox => m !== undefined)
          .map((m) => ({ mailbox_id: m.mailbox_id, mailbox_name: m.mailbox_name }));
        return sendJson(reply, version, 200, { results });
      });
    },
    { prefix: MESH_BASE_PATH },
  );
};

/**
 * The API version the `Accept` header asks for (mesh-sandbox `parse_accept_header`): none or no
 * `vnd.mesh` → 1; `application/vnd.mesh.vN+json` → N; any other `vnd.mesh` → 400.
 */
export function parseAcceptVersion(accept: string | undefined): number | undefined {
  if (!accept) return 1;
  for (const part of accept.split(/[;,]/)) {
    const value = part.trim();
    if (!value?.includes('vnd.mesh')) continue;
    const match = /^application\/vnd\.mesh\.v(\d+)\+json$/.exec(value);
    return match ? Number(match[1]) : undefined;
  }
  return 1;
}

function acceptVersion(request: FastifyRequest): number {
  const version = parseAcceptVersion(request.headers.accept);
  if (version === undefined) throw new MeshError(400, { description: 'Accept header api format incorrect' });
  return version;
}

function safeVersion(request: FastifyRequest): number {
  return parseAcceptVersion(request.headers.accept) ?? 1;
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** mesh-sandbox `get_chunk_range`: `k:n` with 0 < k ≤ n and k equal to the chunk being sent; none means 1:1. */
export function chunkRange(
  header: string | undefined,
  chunk: number,
): { chunk: number; total: number } | undefined {
  const value = (header ?? '').trim();
  if (!value) return chunk === 1 ? { chunk: 1, total: 1 } : undefined;
  const parts = value.split(':');
  if (parts.length !== 2) return undefined;
  const [k, n] = parts.map((p) => (/^\s*\d+\s*$/.test(p) ? Number(p) : Number.NaN)) as [number, number];
  if (!Number.isInteger(k) || !Number.isInteger(n) || !(k > 0 && k <= n) || k !== chunk) return undefined;
  return { chunk: k, total: n };
}

function chunkNumber(value: string | undefined): number {
  if (!value || !/^\d+$/.test(value)) {
    throw new MeshValidationError(
      ['path', 'chunk_number'],
      'value is not a valid integer',
      'type_error.integer',
    );
  }
  return Number(value);
}

function integerQuery(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) {
    throw new MeshValidationError(['query', name], 'value is not a valid integer', 'type_error.integer');
  }
  const n = Number(value);
  if (n < min) {
    throw new MeshValidationError(
      ['query', name],
      `ensure this value is greater than or equal to ${min}`,
      'value_error.number.not_ge',
    );
  }
  if (n > max) {
    throw new MeshValidationError(
      ['query', name],
      `ensure this value is less than or equal to ${max}`,
      'value_error.number.not_le',
    );
  }
  return n;
}

/**
 * mesh-api.yaml `workflow_filter`: `WORKFLOW1` equals, `!WORKFLOW1` not equal, `WORKFL*` begins with,
 * `!WORKFL*` does not begin with, `*_ACK*` contains, `!*_ACK*` does not contain (mesh-sandbox `_get_workflow_filter`).
 */
export function workflowFilter(raw: string | undefined): ((workflowId: string) => boolean) | undefined {
  let value = (raw ?? '').trim();
  if (!value) return undefined;
  const not = value.startsWith('!');
  if (not) value = value.slice(1);
  const contains = value.startsWith('*');
  if (contains) value = value.slice(1, -1);
  const beginsWith = !contains && value.endsWith('*');
  if (beginsWith) value = value.slice(0, -1);
  const test = contains
    ? (id: string) => id.includes(value)
    : beginsWith
      ? (id: string) => id.startsWith(value)
      : (id: string) => id === value;
  return not ? (id) => !test(id) : test;
}

interface ContinueKey {
  created: string;
  message_id: string;
}

function continueKey(raw: string, version: number, store: MeshStore): ContinueKey {
  if (version < 2) {
    // v1: `continue_from` is a message id (mesh-api.yaml example `20220228174323123_ACDED1`).
    const message = store.message(raw);
    return { created: message?.created_timestamp ?? '', message_id: raw.toUpperCase() };
  }
  try {
    const key = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<ContinueKey>;
    if (typeof key.created === 'string' && typeof key.message_id === 'string') {
      return { created: key.created, message_id: key.message_id };
    }
  } catch {
    // fall through
  }
  throw new MeshValidationError(['query', 'continue_from'], 'invalid continue_from', 'value_error');
}

/** Inbox order is upload time, then id; paging continues strictly after the last id returned. */
function compareKey(message: MeshMessage, key: ContinueKey): number {
  return (
    message.created_timestamp.localeCompare(key.created) || message.message_id.localeCompare(key.message_id)
  );
}

function withQuery(path: string, args: Record<string, string>): string {
  const query = new URLSearchParams(args).toString();
  return query ? `${path}?${query}` : path;
}

function isDownloadable(status: MessageStatus): boolean {
  return status === 'accepted' || status === 'acknowledged';
}

/** mesh-sandbox `strtobool` for the `mex-Content-Encrypted` / `-Compressed` flags. */
function yes(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return ['y', 'yes', 't', 'true', 'on', '1'].includes(value.trim().toLowerCase());
}

/** mesh-sandbox `mex_headers._validate_headers`: control characters in a mex header → 400 TRANSFER 06. */
function checkControlCharacters(request: FastifyRequest): void {
  for (const [name, value] of Object.entries(request.headers)) {
    if (!name.startsWith('mex-') || typeof value !== 'string') continue;
    const bad =
      [...value].some((c) => c.charCodeAt(0) < 0x20) ||
      (/^(mex-to|mex-workflowid|mex-content-checksum)$/.test(name) && /^https?:\/\//i.test(value));
    if (bad) throw new MeshError(400, { event: 'TRANSFER', code: '06', description: 'MalformedControlFile' });
  }
}

function dropEmpty(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined && v !== ''));
}

function internalId(): string {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 17);
  return `${stamp}_${randomBytes(3).toString('hex')}`;
}
