import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { createApiKey, listApiKeys, revokeApiKey, verifyApiKey } from './api-keys.js';
import { authenticate } from './authenticate.js';

const FIXED = () => new Date('2025-01-02T03:04:05.000Z');

const now = () => FIXED();

describe.each(await testStores())('API keys on $dialect', (factory) => {
  let t: TestStore;
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
  });
  afterEach(async () => {
    await t?.cleanup();
  });

  it('creates a key whose secret is shown once and stored only hashed', async () => {
    const key = await createApiKey(t.store, { name: 'pharmacy-app', organisationOds: 'fa123', now: FIXED });
    expect(key.secret).toMatch(/^jct_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key.secret.startsWith(`jct_${key.prefix}_`)).toBe(true);
    expect(key).toMatchObject({
      name: 'pharmacy-app',
      organisationOds: 'FA123',
      createdAt: FIXED().toISOString(),
    });
    expect(key.scopes).toEqual(['patient:read', 'patient:search', 'medicines:read']);

    const rows = await t.store.db.selectFrom('api_keys').selectAll().execute();
    expect(rows).toHaveLength(1);
    const secretPart = key.secret.split('_').slice(2).join('_');
    expect(JSON.stringify(rows)).not.toContain(secretPart);
    expect(rows[0]?.secret_hash).toMatch(/^[0-9a-f]{64}$/);

    const listed = await listApiKeys(t.store);
    expect(listed).toHaveLength(1);
    expect(listed[0]).not.toHaveProperty('secret');
  });

  it('verifies the right secret only, and stops after revocation', async () => {
    const key = await createApiKey(t.store, { name: 'a', scopes: ['patient:read'] });
    const other = await createApiKey(t.store, { name: 'b' });
    expect((await verifyApiKey(t.store, key.secret))?.id).toBe(key.id);
    expect((await verifyApiKey(t.store, other.secret))?.id).toBe(other.id);
    // right prefix, wrong secret
    const forged = `jct_${key.prefix}_${other.secret.split('_').slice(2).join('_')}`;
    expect(await verifyApiKey(t.store, forged)).toBeUndefined();
    expect(await verifyApiKey(t.store, 'jct_nope')).toBeUndefined();
    expect(await verifyApiKey(t.store, '')).toBeUndefined();

    expect(await revokeApiKey(t.store, key.id, FIXED)).toBe(true);
    expect(await verifyApiKey(t.store, key.secret)).toBeUndefined();
    expect((await verifyApiKey(t.store, other.secret))?.id).toBe(other.id);
    expect(await revokeApiKey(t.store, '00000000-0000-4000-8000-000000000000')).toBe(false);
    const revoked = (await listApiKeys(t.store)).find((k) => k.id === key.id);
    expect(revoked?.revokedAt).toBe(FIXED().toISOString());
  });

  it('reads the key from Authorization: Bearer or X-API-Key', async () => {
    const key = await createApiKey(t.store, { name: 'a' });
    expect(await authenticate(t.store, { authorization: `Bearer ${key.secret}` }, now)).toMatchObject({
      ok: true,
    });
    expect(await authenticate(t.store, { 'x-api-key': key.secret }, now)).toMatchObject({ ok: true });
    expect(await authenticate(t.store, {}, now)).toEqual({ ok: false, reason: 'missing' });
    expect(await authenticate(t.store, { authorization: 'Basic abc' }, now)).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(await authenticate(t.store, { 'x-api-key': `${key.secret}x` }, now)).toEqual({
      ok: false,
      reason: 'invalid',
    });
  });

  it('rejects bad input when creating', async () => {
    await expect(createApiKey(t.store, { name: ' ' })).rejects.toThrow(RangeError);
    await expect(createApiKey(t.store, { name: 'x', organisationOds: 'not an ods code!' })).rejects.toThrow(
      /ODS/,
    );
  });
});
