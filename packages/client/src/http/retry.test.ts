import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_RETRY, isRetryableStatus, parseRetryAfterMs } from './retry.js';

const NOW = new Date('2026-01-01T12:00:00Z');

describe('parseRetryAfterMs (RFC 9110 §10.2.3)', () => {
  it('reads delay-seconds', () => expect(parseRetryAfterMs('5', NOW)).toBe(5000));
  it('reads an HTTP date relative to the clock', () =>
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 12:00:30 GMT', NOW)).toBe(30_000));
  it('never returns a negative delay for a past date', () =>
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 11:00:00 GMT', NOW)).toBe(0));
  it('ignores absent or garbage values', () => {
    expect(parseRetryAfterMs(null, NOW)).toBeUndefined();
    expect(parseRetryAfterMs('soon', NOW)).toBeUndefined();
    expect(parseRetryAfterMs('-3', NOW)).toBeUndefined();
  });
});

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap, scaled by jitter', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(n, DEFAULT_RETRY, top))).toEqual([
      199, 399, 799, 1599, 3199, 4999, 4999,
    ]);
    expect(backoffDelayMs(3, DEFAULT_RETRY, () => 0)).toBe(0);
  });
});

describe('isRetryableStatus', () => {
  it('idempotent requests retry throttling, timeouts and gateway faults only', () => {
    expect([408, 429, 502, 503, 504].every((s) => isRetryableStatus('idempotent', s))).toBe(true);
    expect([400, 401, 404, 409, 412, 500].some((s) => isRetryableStatus('idempotent', s))).toBe(false);
  });
  it('rejected-only requests retry 429 and 503 only', () => {
    expect([429, 503].every((s) => isRetryableStatus('rejected-only', s))).toBe(true);
    expect([408, 502, 504].some((s) => isRetryableStatus('rejected-only', s))).toBe(false);
  });
});
