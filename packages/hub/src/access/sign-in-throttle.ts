import { isIPv6 } from 'node:net';

/**
 * A token bucket per client address in front of admin sign-in, taken before anything is looked up
 * or hashed: a burst of `capacity` attempts, then one every `refillIntervalMs`. Beyond it the
 * attempt is refused with the seconds until the next token (429, Retry-After).
 *
 * Held in this process's memory, not in the store, on purpose: what it protects (this process's
 * CPU and thread pool, see `hashing-gate.ts`) is per process, it must cost no database round trip
 * for a refused attempt, and the lockout that counts guesses at a password is in the store and
 * shared by every instance (`admin-accounts.ts`). The table is bounded (`maxAddresses`, least
 * recently seen forgotten first), so a flood from many addresses cannot grow it without end.
 *
 * An IPv6 client is counted by its /64: one subscriber is usually given a whole /64 (RFC 6177), so
 * counting single addresses would give an attacker 2^64 buckets.
 */
export class SignInThrottle {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly options: {
      capacity: number;
      refillIntervalMs: number;
      maxAddresses: number;
      now: () => Date;
    },
  ) {}

  /**
   * Takes one attempt for `address`: `{ ok: true }`, or how long to wait.
   * @example const taken = throttle.take(request.ip); if (!taken.ok) reply.header('retry-after', taken.retryAfterS);
   */
  take(address: string): { ok: true } | { ok: false; retryAfterS: number } {
    const { capacity, refillIntervalMs, maxAddresses } = this.options;
    const key = addressKey(address);
    const at = this.options.now().getTime();
    const previous = this.#buckets.get(key);
    const refilled = previous
      ? Math.min(capacity, previous.tokens + Math.max(0, at - previous.at) / refillIntervalMs)
      : capacity;
    // Re-inserted so the Map's order is least recently seen first.
    this.#buckets.delete(key);
    if (refilled < 1) {
      this.#buckets.set(key, { tokens: refilled, at });
      // Rounded to the millisecond first, so float dust does not add a second.
      const waitMs = Math.round((1 - refilled) * refillIntervalMs);
      return { ok: false, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    this.#buckets.set(key, { tokens: refilled - 1, at });
    while (this.#buckets.size > maxAddresses) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest === undefined) break;
      this.#buckets.delete(oldest);
    }
    return { ok: true };
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#buckets.size;
  }
}

/** An IPv4 address as it is (an IPv4-mapped IPv6 one as IPv4); an IPv6 one as its /64. */
export function addressKey(address: string): string {
  const ip = address.replace(/%.*$/, '').toLowerCase();
  if (!isIPv6(ip)) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped?.[1]) return mapped[1];
  const [head = '', tail] = ip.split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? front : [...front, ...Array(8 - front.length - back.length).fill('0'), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
