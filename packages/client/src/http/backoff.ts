/**
 * The arithmetic of one exponential backoff, shared by the HTTP layer's retries (`retry.ts`) and the hub's
 * job queue; each caller keeps its own option names and defaults and maps them onto these.
 */
export interface ExponentialBackoff {
  /** Delay ceiling of the first retry, doubled for each further one. */
  baseMs: number;
  /** Bound on any delay. */
  maxMs: number;
  /**
   * `full` (default): a uniformly random delay between 0 and the exponential ceiling, so that callers
   * failing together (a remote service down) do not retry together. `none`: the ceiling itself.
   */
  jitter?: 'full' | 'none';
}

/**
 * The delay in whole milliseconds after failed attempt number `attempt` (1, 2, …):
 * `min(maxMs, baseMs · 2^(attempt−1))`, times `random()` with full jitter ("Exponential Backoff And
 * Jitter", AWS Architecture Blog, 2015). Rounded down, so a jittered delay stays below the ceiling.
 * Throws `RangeError` when `baseMs` or `maxMs` is negative (or not a number).
 *
 * @example
 * exponentialBackoffMs(3, { baseMs: 1000, maxMs: 60000 }, () => 0.5); // 2000
 * exponentialBackoffMs(3, { baseMs: 1000, maxMs: 60000, jitter: 'none' }); // 4000
 */
export function exponentialBackoffMs(
  attempt: number,
  { baseMs, maxMs, jitter = 'full' }: ExponentialBackoff,
  random: () => number = Math.random,
): number {
  if (!(baseMs >= 0) || !(maxMs >= 0)) throw new RangeError('backoff baseMs and maxMs must be ≥ 0');
  // The exponent is capped so that 0 · 2^n never becomes 0 · Infinity (NaN); min() bounds the rest.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 64));
  const scale = jitter === 'none' ? 1 : Math.min(Math.max(random(), 0), 1);
  return Math.floor(ceiling * scale);
}
