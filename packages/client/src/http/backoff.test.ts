import { describe, expect, it } from 'vitest';
import { exponentialBackoffMs } from './backoff.js';

describe('exponentialBackoffMs', () => {
  it('doubles from baseMs per attempt and is bounded by maxMs (no jitter)', () => {
    const o = { baseMs: 1_000, maxMs: 10_000, jitter: 'none' } as const;
    expect([1, 2, 3, 4, 5, 6].map((a) => exponentialBackoffMs(a, o))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });

  it('full jitter scales the ceiling by random() in [0, 1)', () => {
    const o = { baseMs: 1_000, maxMs: 10_000 };
    expect(exponentialBackoffMs(3, o, () => 0)).toBe(0);
    expect(exponentialBackoffMs(3, o, () => 0.25)).toBe(1_000);
    expect(exponentialBackoffMs(10, o, () => 0.5)).toBe(5_000);
    expect(exponentialBackoffMs(10, o, () => 0.999)).toBe(9_990);
  });

  it('rounds a jittered delay down, so it stays below the ceiling', () => {
    const o = { baseMs: 200, maxMs: 5_000 };
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => exponentialBackoffMs(a, o, top))).toEqual([
      199, 399, 799, 1599, 3199, 4999, 4999,
    ]);
  });

  it('stays finite and bounded for huge attempt numbers and a zero base', () => {
    expect(exponentialBackoffMs(5_000, { baseMs: 1_000, maxMs: 60_000, jitter: 'none' })).toBe(60_000);
    expect(exponentialBackoffMs(5_000, { baseMs: 0, maxMs: 60_000, jitter: 'none' })).toBe(0);
  });

  it('refuses negative settings', () => {
    expect(() => exponentialBackoffMs(1, { baseMs: -1, maxMs: 1_000 })).toThrow(RangeError);
    expect(() => exponentialBackoffMs(1, { baseMs: 1_000, maxMs: -1 })).toThrow(RangeError);
  });
});
