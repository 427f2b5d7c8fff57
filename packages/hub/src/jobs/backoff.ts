import { type ExponentialBackoff, exponentialBackoffMs } from '@junction/client';

/** How long a failed job waits before its next attempt. */
export interface BackoffOptions {
  /** Delay ceiling of the first retry, doubled for each further attempt (default 1 s). */
  baseMs?: number;
  /** Bound on any delay (default 5 minutes). */
  maxMs?: number;
  /**
   * `full` (default): a uniformly random delay between 0 and the exponential ceiling, so that
   * jobs failing together (a remote service down) do not retry together. `none`: the ceiling.
   */
  jitter?: ExponentialBackoff['jitter'];
}

export const DEFAULT_BACKOFF = { baseMs: 1_000, maxMs: 5 * 60_000, jitter: 'full' } as const;

/**
 * The delay after failed attempt number `attempt` (1, 2, …): the client's `exponentialBackoffMs`
 * with the job queue's defaults (`DEFAULT_BACKOFF`) filled in.
 * @example backoffDelay(3, { baseMs: 1000, maxMs: 60000 }, () => 0.5) // 2000
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  return exponentialBackoffMs(
    attempt,
    {
      baseMs: options.baseMs ?? DEFAULT_BACKOFF.baseMs,
      maxMs: options.maxMs ?? DEFAULT_BACKOFF.maxMs,
      jitter: options.jitter ?? DEFAULT_BACKOFF.jitter,
    },
    random,
  );
}
