import { exponentialBackoffMs } from './backoff.js';

/**
 * How the shared HTTP layer retries transient failures. Defaults suit PDS: its rate limit is
 * 5 TPS per app (429 with `Retry-After`) and a PATCH/POST that outlives `X-Sync-Wait` (10 s)
 * answers 503 with `Retry-After`.
 */
export interface RetryOptions {
  /** Total attempts including the first; 1 disables retries. Default 4. */
  maxAttempts?: number;
  /** First backoff delay before jitter. Default 200 ms. */
  baseDelayMs?: number;
  /** Upper bound of one backoff delay (not of a server's `Retry-After`). Default 5000 ms. */
  maxDelayMs?: number;
  /** Give up rather than start a wait that would end later than this after the first attempt. Default 60000 ms. */
  maxElapsedMs?: number;
  /**
   * Abort one attempt that takes longer than this, or than what is left of `maxElapsedMs` (then treated
   * as a network failure). Default 30000 ms: above PDS's 10 s default `X-Sync-Wait`.
   */
  attemptTimeoutMs?: number;
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetryOptions = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxElapsedMs: 60_000,
  attemptTimeoutMs: 30_000,
};

/**
 * Which failures a request may be re-sent after.
 * - `idempotent`: 408, 429, 502, 503, 504 and network failures. For GET, and for PATCH guarded by
 *   `If-Match` (a replay can never apply twice: at worst PDS answers 409 RESOURCE_VERSION_MISMATCH)
 *   with the same `X-Request-ID` that PDS de-duplicates on.
 * - `rejected-only`: only answers that prove the request was not acted on or that the spec says to
 *   re-send: 429 (throttled at the gateway) and 503 (PDS: "Re-send the request after the time
 *   specified in the Retry-After header using the same X-Request-ID"). Never after a network failure,
 *   502 or 504, where the server may have acted. For POST /Patient, which allocates an NHS number.
 * - `never`: no retries at all.
 * A 401 is re-sent once with a fresh token under every mode: the gateway rejected it unprocessed.
 */
export type RetryMode = 'idempotent' | 'rejected-only' | 'never';

const IDEMPOTENT_RETRY_STATUSES = new Set([408, 429, 502, 503, 504]);
const REJECTED_ONLY_RETRY_STATUSES = new Set([429, 503]);

export function isRetryableStatus(mode: RetryMode, status: number): boolean {
  if (mode === 'idempotent') return IDEMPOTENT_RETRY_STATUSES.has(status);
  if (mode === 'rejected-only') return REJECTED_ONLY_RETRY_STATUSES.has(status);
  return false;
}

export function isRetryableNetworkFailure(mode: RetryMode): boolean {
  return mode === 'idempotent';
}

/**
 * The wait before re-sending, from the retry options' `baseDelayMs` and `maxDelayMs`: exponential
 * backoff with full jitter (`exponentialBackoffMs`). `retry` counts from 1 (the wait before the second attempt).
 */
export function backoffDelayMs(retry: number, options: ResolvedRetryOptions, random: () => number): number {
  return exponentialBackoffMs(retry, { baseMs: options.baseDelayMs, maxMs: options.maxDelayMs }, random);
}

/**
 * Parses `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns milliseconds
 * from `now`, never negative, or undefined when absent or unparseable.
 *
 * @example
 * parseRetryAfterMs('5', new Date()); // 5000
 * parseRetryAfterMs('Thu, 01 Jan 2026 12:00:30 GMT', new Date('2026-01-01T12:00:00Z')); // 30000
 */
export function parseRetryAfterMs(value: string | null, now: Date): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date always names a month; without this Date.parse would read "-3" as a year.
  if (!/[a-z]{3}/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}
