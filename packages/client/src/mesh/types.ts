import type { Readable } from 'node:stream';
import type { RetryOptions } from '../http/retry.js';
import type { Sleep } from '../http/types.js';
import type { MeshBody } from './chunks.js';

/** 75 MiB, NHS mesh-client's default `max_chunk_size`: below the 100 MB per request even after gzip of incompressible data. */
export const MESH_DEFAULT_CHUNK_SIZE = 75 * 1024 * 1024;
/** "The maximum amount of data allowed by MESH in a single request message is 100MB" (mesh-api.yaml "Outbox workflow"). */
export const MESH_MAX_REQUEST_BYTES = 100 * 1000 * 1000;

/** Client certificate, key and CA bundle for the real service's mutual TLS (mesh-api.yaml "Get a TLS certificate"). */
export interface MeshTlsOptions {
  /** PEM client certificate, CN `<local_id>.<ods_code>.api.mesh-client.nhs.uk`. */
  cert: string | Buffer;
  /** PEM private key of that certificate. */
  key: string | Buffer;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /** PEM CA bundle (NHS RootCA + SubCA of the environment) that signs the server; Node's default roots when absent. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Keep true outside a test: false accepts any server certificate. */
  rejectUnauthorized?: boolean;
  /** SNI / certificate name to check when it differs from the URL's host. */
  servername?: string;
}

export interface MeshClientOptions {
  /**
   * The MESH host, without `/messageexchange`: INT `https://msg.intspineservices.nhs.uk`, LIVE
   * `https://mesh-sync.spineservices.nhs.uk`, or the sandbox's base URL (e.g. `http://127.0.0.1:9000`).
   */
  baseUrl: string;
  /** The mailbox id (upper-cased: "Must be uppercase"). */
  mailboxId: string;
  password: string;
  /**
   * The environment's shared secret for the `NHSMESH` token. Always passed in (never read from the environment):
   * NHS issues it with the mailbox ("each environment has the same shared secret"); NHS's mesh-client falls back
   * to `BackBone` (`MESH_CLIENT_SHARED_KEY` unset); NHS's mesh-sandbox and ours use `TestKey`.
   */
  sharedKey: string | Uint8Array;
  /** Uncompressed bytes per chunk; default `MESH_DEFAULT_CHUNK_SIZE` (75 MiB), at most 100 MB. */
  chunkSize?: number;
  /** Gzip each chunk (`Content-Encoding: gzip`); default true. A send can override it. */
  compress?: boolean;
  /**
   * Downloads ask for `Accept-Encoding: gzip` (default, as mesh-client): gzip'd chunks come as they were sent and
   * are decoded here, and a v2 server may gzip plain ones on the fly (less on the wire, more CPU on both sides).
   * false asks for `identity`: the server sends plain bytes (it decodes gzip'd chunks itself).
   */
  acceptGzip?: boolean;
  /**
   * zlib level for `compress`, 1 (fastest) to 9 (smallest); default 6, zlib's. Compression bounds the upload
   * rate (about 24 MB/s per core at 6, twice that at 1, on CSV-like text).
   */
  compressionLevel?: number;
  /** Mutual TLS for the real service (an https: `baseUrl`); the sandbox needs none. */
  tls?: MeshTlsOptions;
  retry?: RetryOptions;
  /** A chunk upload or download that moves no byte for this long is aborted (then retried if allowed). Default 120 s. */
  transferIdleTimeoutMs?: number;
  /** Where a streamed body is spooled while counting its chunks; the OS temp directory by default. */
  tempDir?: string;
  /** `mex-ClientVersion` of the handshake; default `junction==<version>`. */
  clientVersion?: string;
  now?: () => Date;
  sleep?: Sleep;
  random?: () => number;
  /** Nonces and request ids (UUID v4 by default). */
  randomUUID?: () => string;
}

/** A message to send (mesh-api.yaml `send_message` headers). */
export interface MeshSendRequest {
  /** `mex-To`: the recipient mailbox. */
  to: string;
  /** `mex-WorkflowID`. */
  workflowId: string;
  body: MeshBody;
  /** `mex-Subject`. */
  subject?: string;
  /** `mex-LocalID`: your reference ("must not contain PID"). */
  localId?: string;
  /** `mex-FileName`. */
  fileName?: string;
  /** The decoded content's type: `Content-Type` of a one-chunk message, `mex-Content-Type` otherwise (as mesh-client). */
  contentType?: string;
  /** `mex-PartnerID`. */
  partnerId?: string;
  /** `mex-Content-Encrypted: Y`: the payload itself is encrypted (not done here). */
  contentEncrypted?: boolean;
  /** `mex-Content-Compressed: Y`: the payload itself is compressed (apart from the transport gzip). */
  contentCompressed?: boolean;
  /** Gzip each chunk; defaults to the client's `compress`. */
  compress?: boolean;
  /**
   * `mex-Content-Checksum` ("Checksum of the original message contents"): true (default) sends the MD5 of the
   * whole uncompressed content as 32 lower-case hex digits, as the spec's example; a string is sent as given;
   * false sends none.
   */
  checksum?: boolean | string;
  /**
   * Called after MESH accepts each chunk (its 202), and awaited before the next chunk is posted: a caller that
   * must survive a crash records `messageId` and `chunk` here (chunk 1 carries the new message id), then resumes
   * with `resume`. A one-chunk message gets one call. A throw stops the send (the error is passed on as thrown).
   */
  onProgress?: (progress: MeshSendProgress) => void | Promise<void>;
  /**
   * Continues an interrupted upload instead of starting a new message: MESH already holds chunks
   * 1..`fromChunk`-1 of `messageId` (its first POST was accepted), so no new message is created and chunks
   * `fromChunk`..n are posted to `/outbox/{messageId}/{k}`. The body, `chunkSize` and compression must be those of
   * the first attempt (the same n; MESH answers 406 to a chunk range that does not match the message).
   * Re-posting a chunk MESH already has replaces it (mesh-api.yaml `send_chunk` is addressed by chunk number;
   * NHS's mesh-sandbox overwrites it while the message is uploading), so resuming from the last chunk recorded,
   * not the last one posted, is safe. A 423 ("Messages has been finalised; no more chunks can be uploaded") to
   * the first posted chunk, when it is the last one, means the interrupted attempt completed the message.
   * `fromChunk` is 2..n.
   */
  resume?: { messageId: string; fromChunk: number };
}

/** One chunk accepted by MESH (`MeshSendRequest.onProgress`). */
export interface MeshSendProgress {
  messageId: string;
  /** The chunk just accepted, 1..`chunks`. */
  chunk: number;
  chunks: number;
  /** Uncompressed bytes of chunks 1..`chunk` (those of an interrupted attempt included when resuming). */
  bytesSent: number;
  /** Uncompressed size of the whole message. */
  bytesTotal: number;
}

export interface MeshSendResult {
  messageId: string;
  /** How many chunks were posted. */
  chunks: number;
  /** Uncompressed size. */
  bytes: number;
  /** The `mex-Content-Checksum` sent, if any (none on a resumed send: it went with chunk 1). */
  checksum: string | undefined;
}

/** The `mex-*` headers of a downloaded message (mesh-api.yaml `retrieve_message`, "Error Report Header"). */
export interface MeshMessageMetadata {
  messageId: string;
  /** `DATA`, or `REPORT` for an error report (whose body is empty). */
  messageType: string | undefined;
  from: string | undefined;
  to: string | undefined;
  workflowId: string | undefined;
  /** From `mex-Chunk-Range` `k:n` (1 when absent). */
  totalChunks: number;
  localId: string | undefined;
  partnerId: string | undefined;
  fileName: string | undefined;
  subject: string | undefined;
  /** `mex-Content-Type`, else the first chunk's `Content-Type`. */
  contentType: string | undefined;
  checksum: string | undefined;
  contentCompressed: boolean;
  contentEncrypted: boolean;
  statusCode: string | undefined;
  statusEvent: string | undefined;
  statusDescription: string | undefined;
  statusSuccess: string | undefined;
  statusTimestamp: string | undefined;
  /** `mex-LinkedMsgID`: for a REPORT, the message it is about. */
  linkedMessageId: string | undefined;
  addressType: string | undefined;
  version: string | undefined;
  /** Every `mex-*` header, names lower-cased, as received. */
  headers: Record<string, string>;
}

export interface MeshReceived {
  metadata: MeshMessageMetadata;
  /** The whole content, all chunks in order, gunzipped; read it once. */
  body: Readable;
}

export interface MeshReceiveOptions {
  /**
   * Check the content against `mex-Content-Checksum` when that is an MD5 (32 hex digits): a mismatch fails the
   * stream. Off by default: the spec leaves the algorithm to the sender.
   */
  verifyChecksum?: boolean;
  /** Called after each chunk has been read whole from the body stream (before the next is fetched). */
  onProgress?: (progress: MeshReceiveProgress) => void;
}

/** One chunk of a download read (`MeshReceiveOptions.onProgress`). */
export interface MeshReceiveProgress {
  messageId: string;
  /** The chunk just read, 1..`chunks`. */
  chunk: number;
  chunks: number;
  /** Decoded bytes read so far (chunks 1..`chunk`). */
  bytesReceived: number;
}

export interface MeshInboxOptions {
  /** `workflow_filter`: `WORKFLOW1`, `!WORKFLOW1`, `WORKFL*`, `!*_ACK*` ... (mesh-api.yaml inbox). */
  workflowFilter?: string;
  /** `max_results` per page, 10..5000 (server default 500). */
  maxResults?: number;
}

/** Tracking, v2 shape (mesh-api.yaml `tracking_by_message_id`, `application/vnd.mesh.v2+json`). */
export interface MeshTracking {
  message_id: string;
  local_id?: string;
  workflow_id?: string;
  filename?: string;
  expiry_time?: string;
  upload_timestamp?: string;
  recipient?: string;
  recipient_name?: string;
  recipient_ods_code?: string;
  recipient_org_code?: string;
  recipient_org_name?: string;
  status_success?: boolean;
  status?: string;
  status_event?: string;
  status_timestamp?: string;
  status_description?: string;
  status_code?: string;
  [other: string]: unknown;
}

/** One mailbox of an `endpointlookup` / `workflowsearch` answer (v2 `LookupItem`). */
export interface MeshMailboxMatch {
  mailbox_id: string;
  mailbox_name: string;
}
