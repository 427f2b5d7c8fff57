import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from baseMs per attempt and is bounded by maxMs (no jitter)', () => {
    const o = { baseMs: 1_000, maxMs: 10_000, jitter: 'none' } as const;
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, o))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });

  it('full jitter scales the ceiling by random() in [0, 1)', () => {
    const o = { baseMs: 1_000, maxMs: 10_000 };
    expect(backoffDelay(3, o, () => 0)).toBe(0);
    expect(backoffDelay(3, o, () => 0.25)).toBe(1_000);
    expect(backoffDelay(10, o, () => 0.5)).toBe(5_000);
    expect(backoffDelay(10, o, () => 0.999)).toBe(9_990);
  });

  it('stays finite and bounded for huge attempt numbers and a zero base', () => {
    expect(backoffDelay(5_000, { baseMs: 1_000, maxMs: 60_000, jitter: 'none' })).toBe(60_000);
    expect(backoffDelay(5_000, { baseMs: 0, maxMs: 60_000, jitter: 'none' })).toBe(0);
  });

  it('refuses negative settings', () => {
    expect(() => backoffDelay(1, { baseMs: -1 })).toThrow(RangeError);
  });
});
