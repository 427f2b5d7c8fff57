import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

// The arithmetic is the client's exponentialBackoffMs (packages/client/src/http/backoff.test.ts);
// here, that the job queue's option names and defaults reach it.
describe('backoffDelay', () => {
  it('defaults to a 1 s base, a 5 minute bound and full jitter', () => {
    const half = () => 0.5;
    expect(backoffDelay(1, {}, half)).toBe(500);
    expect(backoffDelay(100, {}, half)).toBe(150_000);
    expect(backoffDelay(100, { jitter: 'none' })).toBe(300_000);
  });

  it('takes baseMs, maxMs and jitter as given', () => {
    expect(backoffDelay(2, { baseMs: 10, maxMs: 1_000, jitter: 'none' })).toBe(20);
    expect(backoffDelay(10, { baseMs: 10, maxMs: 1_000, jitter: 'none' })).toBe(1_000);
    expect(() => backoffDelay(1, { baseMs: -1 })).toThrow(RangeError);
  });
});
