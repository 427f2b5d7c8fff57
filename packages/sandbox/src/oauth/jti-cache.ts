/**
 * The `jti` values already used, per client (the platform's cache key is `sub` + `jti`). The
 * platform keeps them 30 days, but an assertion past its `exp` is refused as expired before the
 * `jti` is looked at, so keeping each entry until its assertion's `exp` answers the same while
 * bounding memory to what can still be replayed.
 */
export class JtiCache {
  readonly #expiresAtMs = new Map<string, number>();
  #sweepAtSize = 1024;

  has(sub: unknown, jti: string, nowMs: number): boolean {
    const expiresAtMs = this.#expiresAtMs.get(key(sub, jti));
    return expiresAtMs !== undefined && nowMs <= expiresAtMs;
  }

  add(sub: unknown, jti: string, expiresAtMs: number, nowMs: number): void {
    this.#expiresAtMs.set(key(sub, jti), expiresAtMs);
    // Sweep when the map has doubled since the last sweep: amortised O(1) per add.
    if (this.#expiresAtMs.size >= this.#sweepAtSize) {
      for (const [k, exp] of this.#expiresAtMs) if (nowMs > exp) this.#expiresAtMs.delete(k);
      this.#sweepAtSize = Math.max(1024, this.#expiresAtMs.size * 2);
    }
  }

  get size(): number {
    return this.#expiresAtMs.size;
  }
}

const key = (sub: unknown, jti: string) => JSON.stringify([String(sub), jti]);
