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
  jitter?: 'full' | 'none';
}

export const DEFAULT_BACKOFF = { baseMs: 1_000, maxMs: 5 * 60_000, jitter: 'full' } as const;

/**
 * The delay after failed attempt number `attempt` (1, 2, …): `min(maxMs, baseMs · 2^(attempt−1))`,
 * times `random()` with full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 * @example backoffDelay(3, { baseMs: 1000, maxMs: 60000 }, () => 0.5) // 2000
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  if (!(baseMs >= 0) || !(maxMs >= 0)) throw new RangeError('backoff baseMs and maxMs must be ≥ 0');
  // The exponent is capped so that 0 · 2^n never becomes 0 · Infinity (NaN); min() bounds the rest.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 64));
  if ((options.jitter ?? DEFAULT_BACKOFF.jitter) === 'none') return Math.round(ceiling);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling * r);
}
