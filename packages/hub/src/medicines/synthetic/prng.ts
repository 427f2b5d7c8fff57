/**
 * Stateless hashing PRNG: every random choice is a pure function of (seed, stream, index, salt),
 * so each file of a release can be written independently and in any order, with the same bytes.
 */
export function mix(seed: number, stream: number, index: number, salt = 0): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const p of [stream, index, salt]) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A float in [0, 1) for (seed, stream, index, salt). */
export function unit(seed: number, stream: number, index: number, salt = 0): number {
  return mix(seed, stream, index, salt) / 4294967296;
}

/** An integer in [0, n) for (seed, stream, index, salt). */
export function pick(seed: number, stream: number, index: number, salt: number, n: number): number {
  return mix(seed, stream, index, salt) % n;
}
