import type { Dispatcher } from 'undici';
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
}

export interface MeshCallResult {
  response: Response;
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
  fetch: typeof fetch;
  dispatcher?: Dispatcher;
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
 * streamed bodies both ways, and DTS error bodies.
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

  get sleep(): Sleep {
    return this.options.sleep;
  }

  get now(): () => Date {
    return this.options.now;
  }

  backoff(attempt: number): number {
    return backoffDelayMs(attempt, this.retry, this.options.random);
  }

  /** Sends one call, retrying as `call.retry` allows. A non-2xx answer (after retries) throws `MeshError`. */
  async request(call: MeshCall, ctx: RequestContext = {}): Promise<MeshCallResult> {
    const signal = ctx.signal;
    const requestId = this.options.randomUUID();
    const correlationId = ctx.correlationId ?? this.options.randomUUID();
    const url = this.url(call);
    const startedMs = this.options.now().getTime();
    let attempt = 0;
    let ambiguous = false; // an earlier attempt may have been acted on
    for (;;) {
      signal?.throwIfAborted();
      attempt++;
      const headers = this.headers(call, requestId, correlationId);
      const limit = this.attemptLimit(call, startedMs);
      const attemptSignal = signal ? AbortSignal.any([signal, limit.signal]) : limit.signal;
      let response: Response;
      try {
        const body = call.body ? await call.body() : undefined;
        response = await this.options.fetch(url, {
          method: call.method,
          headers,
          ...(body !== undefined ? { body: withTouch(body, limit.touch), duplex: 'half' } : {}),
          signal: attemptSignal,
          ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
        } as unknown as RequestInit);
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
      if (response.ok) {
        return {
          response,
          requestId,
          correlationId,
          attempts: attempt,
          touch: limit.touch,
          done: limit.done,
          signal: attemptSignal,
        };
      }
      let error: MeshError;
      try {
        error = meshErrorFromResponse(response.status, await readJson(response), call.operation);
      } catch (cause) {
        if (signal?.aborted) throw signal.reason;
        error = meshNetworkError(call.operation, cause, limit.timedOut());
      } finally {
        limit.done();
      }
      if (call.retry === 'chunk' && call.lastChunk && ambiguous && response.status === 423) {
        // The earlier attempt finalised the message; its answer was lost.
        return {
          response: new Response(null, { status: 202 }),
          requestId,
          correlationId,
          attempts: attempt,
          touch: () => {},
          done: () => {},
          signal: attemptSignal,
        };
      }
      if (call.retry !== 'never' && isRetryableStatus('idempotent', response.status)) {
        ambiguous ||= response.status !== 429 && response.status !== 503;
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
    const delayMs = retryAfterMs ?? this.backoff(attempt);
    const elapsedMs = this.options.now().getTime() - startedMs;
    if (elapsedMs + delayMs > this.retry.maxElapsedMs) return false;
    await this.options.sleep(delayMs, signal);
    return true;
  }

  /** A same-origin URL for a `links.next` path (mesh-api.yaml inbox v2) or a local path. */
  resolve(pathOrUrl: string, operation: string): string {
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

function withTouch(body: MeshRequestBody, touch: () => void): MeshRequestBody {
  if (body instanceof Uint8Array) return body;
  return (async function* () {
    for await (const piece of body) {
      touch();
      yield piece;
    }
  })();
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
