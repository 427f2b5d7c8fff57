import { describe, expect, it } from 'vitest';
import { dummyPasswordHash, hashPassword, PASSWORD_HASH_COST, verifyPassword } from './password-hash.js';

describe('admin password hashing (scrypt, OWASP Password Storage Cheat Sheet parameters)', () => {
  it('stores scrypt parameters, a fresh salt per hash, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^scrypt\$1\$32768\$8\$3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(PASSWORD_HASH_COST).toEqual({ N: 2 ** 15, r: 8, p: 3 });
    expect(a).not.toBe(b); // per-password salt
    expect(a).not.toContain('horse');
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', a)).toBe(false);
    expect(await verifyPassword('Correct horse battery staple', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('matches a password however its Unicode is composed (NFKC, NIST SP 800-63B §5.1.1.2)', async () => {
    const stored = await hashPassword('caf\u00e9 au lait noir');
    expect(await verifyPassword('cafe\u0301 au lait noir', stored)).toBe(true);
  });

  it('never matches a malformed or tampered stored value, nor the dummy hash', async () => {
    const good = await hashPassword('a long enough password');
    for (const bad of [
      '',
      'plain-text',
      good.replace('scrypt$1$', 'scrypt$2$'),
      good.replace('$32768$', '$1099511627776$'), // would ask for unbounded memory
      good.replace('$32768$', '$1000$'), // not a power of two
      good.slice(0, -10),
    ]) {
      expect(await verifyPassword('a long enough password', bad), bad).toBe(false);
    }
    expect(await verifyPassword('a long enough password', await dummyPasswordHash())).toBe(false);
    expect(await dummyPasswordHash()).toBe(await dummyPasswordHash());
  });
});
