import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { HashingGate } from './hashing-gate.js';

/**
 * Password hashing for hub admin accounts: scrypt from `node:crypto` (no native add-on to build),
 * a random 128-bit salt per password, constant-time comparison.
 *
 * Cost: N=2^15, r=8, p=3 (32 MiB, ~0.25 s on one core), one of the equivalent settings the OWASP
 * Password Storage Cheat Sheet gives for scrypt ("N=2^15 (32 MiB), r=8 (1024 bytes), p=3"). The
 * parameters are stored with each hash, so they can be raised later without breaking old hashes.
 * Passwords are NFKC-normalised first (NIST SP 800-63B §5.1.1.2), so the same password typed on
 * another keyboard or system still matches.
 *
 * Stored form: `scrypt$1$<N>$<r>$<p>$<salt, base64url>$<key, base64url>`.
 *
 * Every hash goes through one gate per process (the thread pool it protects is per process): at
 * most 2 at once, 16 waiting, and beyond that `HashingBusyError` at once (`hashing-gate.ts`).
 */
export const PASSWORD_HASH_COST = { N: 2 ** 15, r: 8, p: 3 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const PREFIX = 'scrypt$1$';
const SCRYPT_GATE = new HashingGate(2, 16);

/** How many hashes run and wait now (for tests and monitoring). */
export function passwordHashingLoad(): { active: number; waiting: number; maxActive: number } {
  return { active: SCRYPT_GATE.active, waiting: SCRYPT_GATE.waiting, maxActive: SCRYPT_GATE.maxActive };
}

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return SCRYPT_GATE.run(
    () =>
      new Promise((resolve, reject) =>
        scrypt(password.normalize('NFKC'), salt, KEY_BYTES, options, (error, key) =>
          error ? reject(error) : resolve(key),
        ),
      ),
  );
}

/**
 * A new salted hash of `password`, for storing. Throws `HashingBusyError` when too many hashes are
 * running and queued.
 * @example const stored = await hashPassword('correct horse battery staple');
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, PASSWORD_HASH_COST);
  const { N, r, p } = PASSWORD_HASH_COST;
  return `${PREFIX}${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * Whether `password` matches a stored hash, compared in constant time. Throws `HashingBusyError`
 * when too many hashes are running and queued. A malformed stored value
 * never matches (and costs the same as a real one, so a caller cannot be timed into telling).
 * @example if (await verifyPassword(typed, account.passwordHash)) signIn();
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  const key = await derive(
    password,
    parsed?.salt ?? Buffer.alloc(SALT_BYTES),
    parsed?.cost ?? PASSWORD_HASH_COST,
  );
  if (!parsed || parsed.key.length !== key.length) return false;
  return timingSafeEqual(parsed.key, key);
}

/**
 * A stored hash no password matches (random salt and key, real cost parameters): compared against
 * when the username is unknown, so that sign-in costs one scrypt like a real account's. Nothing
 * needs deriving to make it, so there is no warm-up and no first-call delay that would tell.
 */
const DUMMY_HASH = (() => {
  const { N, r, p } = PASSWORD_HASH_COST;
  const salt = randomBytes(SALT_BYTES).toString('base64url');
  return `${PREFIX}${N}$${r}$${p}$${salt}$${randomBytes(KEY_BYTES).toString('base64url')}`;
})();
export function dummyPasswordHash(): string {
  return DUMMY_HASH;
}

function parse(
  stored: string,
): { cost: { N: number; r: number; p: number }; salt: Buffer; key: Buffer } | undefined {
  if (!stored.startsWith(PREFIX)) return undefined;
  const [n, r, p, salt, key] = stored.slice(PREFIX.length).split('$');
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  // Bounds keep a tampered row from asking for unbounded memory or time.
  const ok =
    Number.isInteger(cost.N) &&
    cost.N >= 2 ** 14 &&
    cost.N <= 2 ** 20 &&
    (cost.N & (cost.N - 1)) === 0 &&
    Number.isInteger(cost.r) &&
    cost.r >= 1 &&
    cost.r <= 32 &&
    Number.isInteger(cost.p) &&
    cost.p >= 1 &&
    cost.p <= 16 &&
    salt !== undefined &&
    key !== undefined;
  if (!ok) return undefined;
  return { cost, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') };
}
