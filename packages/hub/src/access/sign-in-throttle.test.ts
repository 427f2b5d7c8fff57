import { describe, expect, it } from 'vitest';
import { addressKey, SignInThrottle } from './sign-in-throttle.js';

describe('the sign-in throttle (a token bucket per client address, before any hashing)', () => {
  it('allows a burst, then one attempt per refill interval, each address on its own; says when to come back', () => {
    let at = Date.parse('2025-05-06T07:08:09.000Z');
    const throttle = new SignInThrottle({
      capacity: 3,
      refillIntervalMs: 6000,
      maxAddresses: 100,
      now: () => new Date(at),
    });
    expect([1, 2, 3].map(() => throttle.take('192.0.2.1').ok)).toEqual([true, true, true]);
    expect(throttle.take('192.0.2.1')).toEqual({ ok: false, retryAfterS: 6 });
    expect(throttle.take('192.0.2.2')).toEqual({ ok: true });
    at += 2000;
    expect(throttle.take('192.0.2.1')).toEqual({ ok: false, retryAfterS: 4 });
    at += 4000;
    expect(throttle.take('192.0.2.1')).toEqual({ ok: true });
    expect(throttle.take('192.0.2.1').ok).toBe(false);
    at += 60_000;
    expect([1, 2, 3, 4].map(() => throttle.take('192.0.2.1').ok)).toEqual([true, true, true, false]);
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    const throttle = new SignInThrottle({
      capacity: 1,
      refillIntervalMs: 60_000,
      maxAddresses: 100,
      now: () => new Date(0),
    });
    expect(throttle.take('2001:db8:1:2::1').ok).toBe(true);
    expect(throttle.take('2001:db8:1:2::2').ok).toBe(false);
  });

  it('remembers at most maxAddresses, forgetting the least recently seen', () => {
    const throttle = new SignInThrottle({
      capacity: 1,
      refillIntervalMs: 60_000,
      maxAddresses: 3,
      now: () => new Date(0),
    });
    for (let i = 1; i <= 1000; i++) throttle.take(`198.51.100.${i % 250}`);
    expect(throttle.size).toBe(3);
  });
});
