import { type Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import {
  backoffDelayMs,
  DEFAULT_RETRY,
  isRetryableStatus,
  parseRetryAfterMs,
  type ResolvedRetryOptions,
  type RetryOptions,
} from '../http/retry.js';
import type { RequestContext, Sleep } from '../http/types.js';
import { meshAuthorization } from './auth.js';
import { type MeshError, meshErrorFromResponse, meshLocalError, meshNetworkError } from './errors.js';

/** `Accept` for every call: MESH v2 response shapes (mesh-api.yaml "API Versioning"). */
export const MESH_V2_JSON = 'application/vnd.mesh.v2+json';

/** Error and JSON bodies are small; a larger one is cut off rather than held in memory. */
const MAX_JSON_BYTES = 1024 * 1024;

/**
 * How a call may be re-sent.
 * - `idempotent`: GET, the acknowledge PUT (acknowledging twice is harmless: mesh-sandbox answers 200 again) and
 *   the handshake: after network failures and 408/429/502/503/504, as the shared layer (`RetryMode`).
 * - `chunk`: a chunk 2..n POST to `/outbox/{id}/{k}`. It names its slot, so a replay overwrites the same chunk
 *   (NHS's mesh-client retries these, never the first POST). Same statuses as `idempotent`; and a 423
 *   ("Messages has been finalised; no more chunks can be uploaded", mesh-api.yaml `send_chunk`) to a replay of
 *   the last chunk means the earlier attempt landed: it counts as success.
 * - `never`: the first POST to `/outbox` creates a message on every call; after a lost answer a replay would
 *   create a second one, so it is sent once whatever happens (mesh-client's `MeshRetry` does the same).
 */
export type MeshRetryMode = 'idempotent' | 'chunk' | 'never';

export type MeshRequestBody = Uint8Array | AsyncIterable<Uint8Array>;

export interface MeshCall {
  method: 'GET' | 'POST' | 'PUT';
  /** Path below the base URL, percent-encoded, starting with `/messageexchange`. */
  path: string;
  query?: ReadonlyArray<readonly [string, string]>;
  headers?: Record<string, string>;
  /** A new body for each attempt (a stream cannot be sent twice). */
  body?: () => MeshRequestBody | Promise<MeshRequestBody>;
  /** Sent as `Content-Length` when known (otherwise the body goes chunked). */
  contentLength?: number;
  retry: MeshRetryMode;
  /** Names the call in errors, e.g. `MESH send message`: never the URL. */
  operation: string;
  /** A large transfer: bounded by an idle timeout (no bytes for `transferIdleTimeoutMs`) instead of a total one. */
  transfer?: boolean;
  /** The call is the last chunk of a message (see `chunk` above). */
  lastChunk?: boolean;
  /**
   * A `chunk` call that resumes an upload another process (or an earlier send) was making: that attempt may
   * already have landed it, so a 423 to the last chunk counts as success from the first attempt on.
   */
  resumed?: boolean;
}

export interface MeshCallResult {
  status: number;
  headers: Headers;
  /** The response body as sent (not decoded: `Content-Encoding: gzip` is the caller's to undo). */
  body: Readable;
  requestId: string;
  correlationId: string;
  attempts: number;
  /** Keeps a transfer's idle timer alive while its body is read; call on every piece read. */
  touch: () => void;
  /** Stops the transfer's idle timer once the body is read or abandoned. */
  done: () => void;
  /** The signal that aborts this attempt (the caller's, the time limit, the idle timer). */
  signal: AbortSignal;
}

export interface MeshTransportOptions {
  baseUrl: string;
  mailboxId: string;
  password: string;
  sharedKey: string | Uint8Array;
  /** Connection pool (and, for https, the TLS client certificate and CA). */
  agent: HttpAgent | HttpsAgent;
  retry?: RetryOptions;
  transferIdleTimeoutMs: number;
  now: () => Date;
  sleep: Sleep;
  random: () => number;
  randomUUID: () => string;
}

/**
 * The MESH flavour of the shared HTTP layer (`HttpClient`): the same `X-Request-ID`/`X-Correlation-ID`, backoff,
 * `Retry-After` and time budget (`http/retry.ts`), but a fresh `NHSMESH` token on every attempt (a MESH token is
 * valid for one request only, so `HttpClient`'s replay of identical headers would be refused with 403), binary
 * bodies streamed both ways with back-pressure, and DTS error bodies. It runs on node:http/node:https rather than
 * `fetch`: fetch decodes `Content-Encoding: gzip` itself and cannot be told not to (MESH chunks are gzip members
 * the client must see), and for 75 MB chunks its decoding measured 3.5× slower than node:http + zlib.
 */
export class MeshTransport {
  readonly baseUrl: string;
  readonly retry: ResolvedRetryOptions;
  private readonly options: MeshTransportOptions;

  constructor(options: MeshTransportOptions) {
    this.options = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.retry = {
      ...DEFAULT_RETRY,
      ...(Object.fromEntries(
        Object.entries(options.retry ?? {}).filter(([, v]) => v !== undefined),
      ) as RetryOptions),
    };
  }

  get now(): () => Date {
    return this.options.now;
  }

  /** Sends one call, retrying as `call.retry` allows. A non-2xx answer (after retries) throws `MeshError`. */
  async request(call: MeshCall, ctx: RequestContext = {}): Promise<MeshCallResult> {
    const signal = ctx.signal;
    const requestId = this.options.randomUUID();
    const correlationId = ctx.correlationId ?? this.options.randomUUID();
    const url = this.url(call);
    const startedMs = this.options.now().getTime();
    let attempt = 0;
    let ambiguous = call.resumed === true; // an earlier attempt may have been acted on
    for (;;) {
      signal?.throwIfAborted();
      attempt++;
      const headers = this.headers(call, requestId, correlationId);
      const limit = this.attemptLimit(call, startedMs);
      const attemptSignal = signal ? AbortSignal.any([signal, limit.signal]) : limit.signal;
      let response: RawResponse;
      try {
        const body = call.body ? await call.body() : undefined;
        response = await send(
          url,
          call.method,
          headers,
          body,
          attemptSignal,
          limit.touch,
          this.options.agent,
        );
      } catch (cause) {
        limit.done();
        if (signal?.aborted) throw signal.reason;
        const error = meshNetworkError(call.operation, cause, limit.timedOut());
        if (call.retry !== 'never') {
          ambiguous = true;
          if (await this.waitToRetry(attempt, undefined, startedMs, signal)) continue;
        }
        throw error;
      }
      const result: MeshCallResult = {
        ...response,
        requestId,
        correlationId,
        attempts: attempt,
        touch: limit.touch,
        done: limit.done,
        signal: attemptSignal,
      };
      if (response.status >= 200 && response.status < 300) return result;
      let error: MeshError;
      try {
        error = meshErrorFromResponse(response.status, await readJson(result), call.operation);
      } catch (cause) {
        if (signal?.aborted) throw signal.reason;
        error = meshNetworkError(call.operation, cause, limit.timedOut());
      }
      if (call.retry === 'chunk' && call.lastChunk && ambiguous && response.status === 423) {
        // The earlier attempt finalised the message; its answer was lost.
        return { ...result, status: 202, body: Readable.from([]) };
      }
      if (call.retry !== 'never' && isRetryableStatus('idempotent', response.status)) {
        ambiguous ||= response.status !== 429;
        const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), this.options.now());
        if (await this.waitToRetry(attempt, retryAfterMs, startedMs, signal)) continue;
      }
      throw error;
    }
  }

  /** Waits before the next attempt; false when the attempt or time budget does not allow one. */
  async waitToRetry(
    attempt: number,
    retryAfterMs: number | undefined,
    startedMs: number,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    if (attempt >= this.retry.maxAttempts) return false;
    const delayMs = retryAfterMs ?? backoffDelayMs(attempt, this.retry, this.options.random);
    const elapsedMs = this.options.now().getTime() - startedMs;
    if (elapsedMs + delayMs > this.retry.maxElapsedMs) return false;
    await this.options.sleep(delayMs, signal);
    return true;
  }

  /** A same-origin URL for a `links.next` path (mesh-api.yaml inbox v2) or a local path. */
  private resolve(pathOrUrl: string, operation: string): string {
    // A path is appended to the base URL (which may carry a prefix of a proxy), as mesh-client does.
    if (pathOrUrl.startsWith('/')) return `${this.baseUrl}${pathOrUrl}`;
    let target: URL;
    try {
      target = new URL(pathOrUrl);
    } catch {
      throw meshLocalError(502, operation, 'MESH returned a link that is not a URL');
    }
    // Never send the mailbox's credentials to another host.
    if (target.origin !== new URL(this.baseUrl).origin) {
      throw meshLocalError(502, operation, 'MESH returned a link to another origin');
    }
    return target.href;
  }

  private url(call: MeshCall): string {
    const query = (call.query ?? []).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    const base = this.resolve(call.path, call.operation);
    return query ? `${base}${base.includes('?') ? '&' : '?'}${query}` : base;
  }

  private headers(call: MeshCall, requestId: string, correlationId: string): Headers {
    const headers: Record<string, string> = {
      accept: MESH_V2_JSON,
      authorization: meshAuthorization({
        mailboxId: this.options.mailboxId,
        password: this.options.password,
        sharedKey: this.options.sharedKey,
        nonce: this.options.randomUUID(),
        now: this.options.now(),
      }),
      'x-request-id': requestId,
      'x-correlation-id': correlationId,
    };
    if (call.contentLength !== undefined) headers['content-length'] = String(call.contentLength);
    for (const [name, value] of Object.entries(call.headers ?? {})) headers[name.toLowerCase()] = value;
    try {
      return new Headers(headers);
    } catch {
      // A caller's value (a subject with a newline) is not a legal header; MESH would refuse it as
      // TRANSFER 06 (malformed control file). Local, not retried, the value not echoed.
      throw meshLocalError(400, call.operation, 'a header value is not a valid HTTP header value');
    }
  }

  private attemptLimit(call: MeshCall, startedMs: number): AttemptLimit {
    if (call.transfer) return idleLimit(this.options.transferIdleTimeoutMs);
    const remainingMs = this.retry.maxElapsedMs - (this.options.now().getTime() - startedMs);
    const timeout = AbortSignal.timeout(Math.max(1, Math.min(this.retry.attemptTimeoutMs, remainingMs)));
    return { signal: timeout, touch: () => {}, done: () => {}, timedOut: () => timeout.aborted };
  }
}

interface AttemptLimit {
  signal: AbortSignal;
  touch: () => void;
  done: () => void;
  timedOut: () => boolean;
}

/** Aborts when nothing has moved for `ms`: a slow link may take minutes per chunk, a dead one must not hang. */
function idleLimit(ms: number): AttemptLimit {
  const controller = new AbortController();
  let fired = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(() => {
      fired = true;
      controller.abort(new DOMException(`no data for ${ms} ms`, 'TimeoutError'));
    }, ms);
  };
  arm();
  return {
    signal: controller.signal,
    touch: () => {
      if (fired || timer === undefined) return;
      clearTimeout(timer);
      arm();
    },
    done: () => {
      clearTimeout(timer);
      timer = undefined;
    },
    timedOut: () => fired,
  };
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: Readable;
}

/**
 * One HTTP exchange on node:http(s): resolves at the response's headers (the body still streaming), rejects
 * when no response comes. A body stream is piped with back-pressure; the server may answer before reading it
 * all (an early 403/417), which is then the answer.
 */
function send(
  url: string,
  method: string,
  headers: Headers,
  body: MeshRequestBody | undefined,
  signal: AbortSignal,
  touch: () => void,
  agent: HttpAgent | HttpsAgent,
): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, {
      method,
      headers: Object.fromEntries(headers),
      agent,
      signal,
    });
    let answered = false;
    request.on('response', (res: IncomingMessage) => {
      answered = true;
      // A body nobody reads yet (a download handed back unread) may still fail when its attempt is aborted;
      // readers see the error through their iterator, an unread body must not crash the process.
      res.on('error', () => {});
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
      }
      resolve({ status: res.statusCode ?? 0, headers: responseHeaders, body: res });
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (body === undefined) {
      request.end();
    } else if (body instanceof Uint8Array) {
      request.end(body);
    } else {
      const source = Readable.from(
        (async function* () {
          for await (const piece of body) {
            touch();
            yield piece;
          }
        })(),
        { objectMode: false },
      );
      pipeline(source, request).catch((error: unknown) => {
        // A source that fails (an unreadable file) fails the request; after an answer nothing is owed.
        if (!answered) {
          request.destroy(error as Error);
          reject(error);
        }
      });
    }
  });
}

/** Reads a small JSON body (`undefined` when empty or not JSON). */
export async function readJson(res: MeshCallResult): Promise<unknown> {
  const pieces: Buffer[] = [];
  let size = 0;
  try {
    for await (const piece of res.body) {
      size += (piece as Buffer).byteLength;
      if (size > MAX_JSON_BYTES) {
        res.body.destroy();
        return undefined;
      }
      pieces.push(piece as Buffer);
    }
  } finally {
    res.done();
  }
  const raw = Buffer.concat(pieces);
  let text: string;
  try {
    text = (res.headers.get('content-encoding') === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
  } catch {
    return undefined;
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
