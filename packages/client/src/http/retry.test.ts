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

// The arithmetic is exponentialBackoffMs's (backoff.test.ts); here, that the retry options reach it.
describe('backoffDelayMs', () => {
  it('backs off from baseDelayMs (200 ms by default) up to maxDelayMs (5 s by default)', () => {
    const half = () => 0.5;
    expect(backoffDelayMs(1, DEFAULT_RETRY, half)).toBe(100);
    expect(backoffDelayMs(10, DEFAULT_RETRY, half)).toBe(2_500);
    expect(backoffDelayMs(2, { ...DEFAULT_RETRY, baseDelayMs: 1_000, maxDelayMs: 1_500 }, half)).toBe(750);
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
