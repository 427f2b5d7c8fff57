import { describe, expect, it } from 'vitest';
import { JtiCache } from './jti-cache.js';

describe('JtiCache', () => {
  it('remembers a jti per client until its assertion expires', () => {
    const cache = new JtiCache();
    cache.add('app-1', 'jti-1', 2_000, 1_000);
    expect(cache.has('app-1', 'jti-1', 1_500)).toBe(true);
    expect(cache.has('app-1', 'jti-1', 2_000)).toBe(true);
    expect(cache.has('app-1', 'jti-1', 2_001)).toBe(false);
    expect(cache.has('app-2', 'jti-1', 1_500)).toBe(false);
  });

  it('does not confuse clients whose ids and jtis concatenate alike', () => {
    const cache = new JtiCache();
    cache.add('ab', 'c', 2_000, 1_000);
    expect(cache.has('a', 'bc', 1_000)).toBe(false);
  });

  it('sweeps expired entries as it grows (bounded memory)', () => {
    const cache = new JtiCache();
    for (let i = 0; i < 1_000; i++) cache.add('app', `old-${i}`, 2_000, 1_000);
    expect(cache.size).toBe(1_000);
    for (let i = 0; i < 100; i++) cache.add('app', `new-${i}`, 400_000, 100_000);
    expect(cache.size).toBeLessThan(200);
    expect(cache.has('app', 'new-99', 100_000)).toBe(true);
  });
});
