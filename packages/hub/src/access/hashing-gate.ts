/**
 * A bound on how many password hashes run at once, with a bounded queue behind it.
 *
 * scrypt runs on libuv's thread pool (4 threads by default), which the hub shares with every file
 * read, DNS lookup and zlib call: unbounded sign-in attempts would fill it and starve everything
 * else (60 concurrent attempts kept `/console/` waiting for half a minute). With at most
 * `maxActive` hashes at once the other threads stay free; beyond `maxWaiting` queued hashes the
 * caller is refused at once (`HashingBusyError`, answered 429 with Retry-After) rather than queued
 * without end.
 */
export class HashingGate {
  #active = 0;
  readonly #queue: Array<() => void> = [];

  constructor(
    readonly maxActive: number,
    readonly maxWaiting: number,
  ) {}

  /** Hashes running now. */
  get active(): number {
    return this.#active;
  }

  /** Hashes waiting for a turn. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Runs `task` when a slot is free; throws `HashingBusyError` without running it when the queue
   * is full.
   * @example const key = await gate.run(() => derive(password, salt));
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.maxActive) {
      if (this.#queue.length >= this.maxWaiting) throw new HashingBusyError();
      // The slot is handed over by the finishing task, so #active never exceeds maxActive.
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await task();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

/** Too many password hashes running and queued: try again shortly. */
export class HashingBusyError extends Error {
  override readonly name = 'HashingBusyError';
  readonly code = 'hashing-busy';
  /** A hash takes about a quarter of a second: a second lets the queue move. */
  readonly retryAfterS = 1;
  constructor() {
    super('too many password checks at once: try again shortly');
  }
}
