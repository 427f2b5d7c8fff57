import { randomUUID } from 'node:crypto';
import { OperationOutcomeError, spineOutcome } from '@junction/core';
import { errorFromResponse, networkError } from './errors.js';
import {
  backoffDelayMs,
  DEFAULT_RETRY,
  isRetryableNetworkFailure,
  isRetryableStatus,
  parseRetryAfterMs,
  type ResolvedRetryOptions,
  type RetryMode,
  type RetryOptions,
} from './retry.js';
import { realSleep } from './sleep.js';
import type { AccessTokenProvider, RequestContext, Sleep } from './types.js';

/** What every NHS API client is built from; the same options reach `HttpClient`. */
export interface HttpClientOptions {
  /** Service base URL, e.g. `https://int.api.service.nhs.uk/personal-demographics/FHIR/R4`. */
  baseUrl: string;
  /** Bearer tokens; omit for an unauthenticated sandbox. */
  auth?: AccessTokenProvider;
  fetch?: typeof fetch;
  retry?: RetryOptions;
  /** Clock for `Retry-After` dates and the total time bound. */
  now?: () => Date;
  /** Backoff wait; inject one that records durations to test without waiting. */
  sleep?: Sleep;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** Id generator for `X-Request-ID` / `X-Correlation-ID` (UUID v4 by default). */
  randomUUID?: () => string;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Path below the base URL, already percent-encoded, starting with `/`. */
  path: string;
  /** Query parameters in order; a name may repeat. Values are percent-encoded here. */
  query?: ReadonlyArray<readonly [string, string]>;
  headers?: Record<string, string>;
  /** Serialised as JSON. */
  json?: unknown;
  /** Content-Type of the JSON body (default `application/fhir+json`). */
  contentType?: string;
  retry: RetryMode;
  /** Names the call in error messages, e.g. `PDS read patient`: never the URL, which holds patient data. */
  operation: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body; undefined when empty. */
  body: unknown;
  /** The `X-Request-ID` sent on every attempt of this call. */
  requestId: string;
  correlationId: string;
  /** How many times the request was sent. */
  attempts: number;
}

const FHIR_JSON = 'application/fhir+json';

/**
 * The shared HTTP layer under every NHS API client: ids, auth, retries, error mapping.
 * Any non-2xx answer (after retries) is thrown as `OperationOutcomeError`; so is a network failure
 * (502/504 `UNABLE_TO_CALL_SERVICE`). A request that cannot be sent as given (a body JSON cannot
 * serialise, an illegal header value) is a 400 `INVALID_VALUE` with `local: true`, never sent or
 * retried. An abort through `ctx.signal` rejects with the signal's reason.
 *
 * @example
 * const http = new HttpClient({ baseUrl: 'http://127.0.0.1:9000/personal-demographics/FHIR/R4' });
 * const { body } = await http.request({ method: 'GET', path: '/Patient/9000000009', retry: 'idempotent', operation: 'PDS read patient' });
 */
export class HttpClient {
  readonly baseUrl: string;
  private readonly auth: AccessTokenProvider | undefined;
  private readonly fetch: typeof fetch;
  private readonly retry: ResolvedRetryOptions;
  private readonly now: () => Date;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly uuid: () => string;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.auth = options.auth;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.retry = { ...DEFAULT_RETRY, ...definedOnly(options.retry ?? {}) };
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.uuid = options.randomUUID ?? randomUUID;
  }

  /**
   * Sends one logical request, retrying as `request.retry` allows, with one `X-Request-ID` for all attempts.
   *
   * @example
   * const res = await http.request({ method: 'GET', path: '/Patient', query: [['family', 'Smith']], retry: 'idempotent', operation: 'PDS search' }, { correlationId: 'abc' });
   */
  async request(request: HttpRequest, ctx: RequestContext = {}): Promise<HttpResponse> {
    const signal = ctx.signal;
    const requestId = this.uuid();
    const correlationId = ctx.correlationId ?? this.uuid();
    const url = this.url(request);
    // Serialised once, before anything is sent: a body that cannot be is a local error, not a
    // network failure to retry or to count against the service.
    const body = serialisedBody(request);
    const startedMs = this.now().getTime();
    let attempt = 0;
    let sends = 0;
    let tokenRefreshed = false;

    for (;;) {
      signal?.throwIfAborted();
      attempt++;
      const token = await this.accessToken(request.operation, signal);
      const headers = this.headers(request, ctx, requestId, correlationId, token);
      // Never beyond the total budget, so one slow attempt cannot stretch it by attemptTimeoutMs.
      const remainingMs = this.retry.maxElapsedMs - (this.now().getTime() - startedMs);
      const timeout = AbortSignal.timeout(Math.max(1, Math.min(this.retry.attemptTimeoutMs, remainingMs)));
      const attemptSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;

      let response: Response;
      let answer: unknown;
      sends++;
      try {
        response = await this.fetch(url, {
          method: request.method,
          headers,
          ...(body !== undefined ? { body } : {}),
          signal: attemptSignal,
        });
        answer = await readJson(response);
      } catch (cause) {
        if (signal?.aborted) throw signal.reason;
        const error = networkError(request.operation, cause, timeout.aborted);
        if (
          error.retryable &&
          isRetryableNetworkFailure(request.retry) &&
          (await this.waitToRetry(attempt, undefined, startedMs, signal))
        ) {
          continue;
        }
        throw error;
      }

      if (response.status === 401 && token !== undefined && !tokenRefreshed) {
        // The gateway rejected the token before doing anything: refresh once and re-send, any method.
        tokenRefreshed = true;
        this.auth?.invalidateAccessToken?.(token);
        attempt--;
        continue;
      }
      if (response.ok) {
        return {
          status: response.status,
          headers: response.headers,
          body: answer,
          requestId,
          correlationId,
          attempts: sends,
        };
      }
      const error = errorFromResponse(response.status, answer, request.operation);
      if (isRetryableStatus(request.retry, response.status)) {
        const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), this.now());
        if (await this.waitToRetry(attempt, retryAfterMs, startedMs, signal)) continue;
      }
      throw error;
    }
  }

  private url(request: HttpRequest): string {
    const query = (request.query ?? []).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    return `${this.baseUrl}${request.path}${query ? `?${query}` : ''}`;
  }

  private headers(
    request: HttpRequest,
    ctx: RequestContext,
    requestId: string,
    correlationId: string,
    token: string | undefined,
  ): Headers {
    const headers: Record<string, string> = {
      accept: FHIR_JSON,
      'x-request-id': requestId,
      'x-correlation-id': correlationId,
    };
    if (ctx.endUserOrganisationOds) headers['nhsd-end-user-organisation-ods'] = ctx.endUserOrganisationOds;
    if (ctx.sessionUrid) headers['nhsd-session-urid'] = ctx.sessionUrid;
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (request.json !== undefined) headers['content-type'] = request.contentType ?? FHIR_JSON;
    for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
    try {
      return new Headers(headers);
    } catch {
      // A caller's value (e.g. a correlation id with a newline) is not a legal header: a local error, not
      // a network failure to retry. The value is not echoed.
      throw localError(request.operation, 'a request header value is not a valid HTTP header value');
    }
  }

  private async accessToken(operation: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    if (!this.auth) return undefined;
    try {
      return await this.auth.getAccessToken(signal);
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      if (cause instanceof OperationOutcomeError) throw cause;
      throw tokenError(operation, cause);
    }
  }

  /** Waits before the next attempt; false when the attempt or time budget does not allow one. */
  private async waitToRetry(
    attempt: number,
    retryAfterMs: number | undefined,
    startedMs: number,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    if (attempt >= this.retry.maxAttempts) return false;
    const delayMs = retryAfterMs ?? backoffDelayMs(attempt, this.retry, this.random);
    const elapsedMs = this.now().getTime() - startedMs;
    if (elapsedMs + delayMs > this.retry.maxElapsedMs) return false;
    await this.sleep(delayMs, signal);
    return true;
  }
}

/**
 * The request's JSON body as text. `JSON.stringify` throws for a value nested deep enough to exhaust
 * the stack (RangeError), a cycle or a BigInt (TypeError): answered as a local 400 INVALID_VALUE that
 * names neither the value nor the error class.
 */
function serialisedBody(request: HttpRequest): string | undefined {
  if (request.json === undefined) return undefined;
  try {
    return JSON.stringify(request.json);
  } catch (cause) {
    throw localError(request.operation, 'the request body cannot be serialised as JSON', cause);
  }
}

/** A caller's request that cannot be sent as given: refused before the network, never retried or counted. */
function localError(operation: string, problem: string, cause?: unknown): OperationOutcomeError {
  return new OperationOutcomeError(
    400,
    spineOutcome('INVALID_VALUE', { diagnostics: `${operation}: ${problem}` }),
    {
      local: true,
      ...(cause !== undefined && { cause }),
    },
  );
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

// A failure to get a token becomes the same error currency as any other failed call. The OAuth
// error code (never a secret) is kept; the original error stays reachable as `cause`.
function tokenError(operation: string, cause: unknown): OperationOutcomeError {
  const code = (cause as { code?: unknown }).code;
  const status = (cause as { status?: unknown }).status;
  const rejected = typeof status === 'number' && status >= 400 && status < 500;
  const diagnostics = `${operation}: could not obtain an access token${typeof code === 'string' ? ` (${code})` : ''}`;
  return new OperationOutcomeError(
    rejected ? 401 : 502,
    spineOutcome(rejected ? 'ACCESS_DENIED' : 'UNABLE_TO_CALL_SERVICE', { diagnostics }),
    { cause },
  );
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
