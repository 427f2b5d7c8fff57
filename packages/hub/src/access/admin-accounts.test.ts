import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TestStore, testStores } from '../testing/test-stores.js';
import {
  ADMIN_LOCKOUT_MS,
  ADMIN_SIGN_IN_MAX_FAILURES,
  type AdminAccountError,
  adminSessionValid,
  createAdminAccount,
  disableAdminAccount,
  listAdminAccounts,
  randomAdminPassword,
  resetAdminAccount,
  signInAdmin,
} from './admin-accounts.js';

const T0 = Date.parse('2025-05-06T07:08:09.000Z');
const PASSWORD = 'a long and unguessable passphrase';

describe.each(await testStores())('hub admin accounts on $dialect', (factory) => {
  let t: TestStore;
  let at: number;
  const now = () => new Date(at);
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    at = T0;
  });
  afterEach(async () => {
    await t?.cleanup();
  });

  it('creates accounts with a checked username and password; lists them without the hash; one username once', async () => {
    const created = await createAdminAccount(t.store, { username: ' Ops.Lead ', password: PASSWORD, now });
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: 'ops.lead',
      createdAt: '2025-05-06T07:08:09.000Z',
      passwordChangedAt: '2025-05-06T07:08:09.000Z',
      lastSignInAt: null,
      disabledAt: null,
    });
    const rows = await t.store.db.selectFrom('admin_accounts').selectAll().execute();
    expect(rows[0]?.password_hash).toMatch(/^scrypt\$1\$/);
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
    expect(await listAdminAccounts(t.store)).toEqual([created]);
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: AdminAccountError) => e.code,
      );
    expect(await refusal(createAdminAccount(t.store, { username: 'OPS.LEAD', password: PASSWORD }))).toBe(
      'exists',
    );
    expect(await refusal(createAdminAccount(t.store, { username: 'x', password: PASSWORD }))).toBe(
      'invalid-username',
    );
    expect(await refusal(createAdminAccount(t.store, { username: 'has space', password: PASSWORD }))).toBe(
      'invalid-username',
    );
    // OWASP ASVS 4.0 V2.1.1 / V2.1.2: at least 12 characters, at most 128.
    expect(await refusal(createAdminAccount(t.store, { username: 'short', password: '12345678901' }))).toBe(
      'invalid-password',
    );
    expect(await refusal(createAdminAccount(t.store, { username: 'long', password: 'x'.repeat(129) }))).toBe(
      'invalid-password',
    );
    expect(await createAdminAccount(t.store, { username: 'twelve', password: '123456789012' })).toMatchObject(
      {
        username: 'twelve',
      },
    );
    // Each account made is on the audit trail, by whom (the tool), never with its password.
    const audit = await t.store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
    expect(audit.map((r) => [r.action, r.actor_kind, r.actor_user_id, r.correlation_id])).toEqual([
      ['admin.create', 'operator', 'cli', 'admin-account:ops.lead'],
      ['admin.create', 'operator', 'cli', 'admin-account:twelve'],
    ]);
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
  });

  it('signs in with the right password only, the same refusal for an unknown user, a wrong password or a disabled account', async () => {
    const account = await createAdminAccount(t.store, { username: 'ops', password: PASSWORD, now });
    const ok = await signInAdmin(t.store, { username: 'OPS', password: PASSWORD, now });
    expect(ok).toEqual({ ok: true, principal: { kind: 'admin', id: account.id, username: 'ops' } });
    expect((await listAdminAccounts(t.store))[0]?.lastSignInAt).toBe('2025-05-06T07:08:09.000Z');
    expect(await signInAdmin(t.store, { username: 'ops', password: `${PASSWORD}!`, now })).toEqual({
      ok: false,
      reason: 'invalid',
      username: 'ops',
      known: true,
    });
    expect(await signInAdmin(t.store, { username: 'nobody', password: PASSWORD, now })).toEqual({
      ok: false,
      reason: 'invalid',
      username: 'nobody',
      known: false,
    });
    expect(await disableAdminAccount(t.store, 'ops', now)).toBe(true);
    expect(await disableAdminAccount(t.store, 'nobody', now)).toBe(false);
    expect(await signInAdmin(t.store, { username: 'ops', password: PASSWORD, now })).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
    // Resetting enables it again with the new password only.
    const fresh = randomAdminPassword();
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{24}$/);
    await resetAdminAccount(t.store, { username: 'ops', password: fresh, now });
    expect(await signInAdmin(t.store, { username: 'ops', password: PASSWORD, now })).toMatchObject({
      ok: false,
    });
    expect(await signInAdmin(t.store, { username: 'ops', password: fresh, now })).toMatchObject({ ok: true });
    const audit = await t.store.db.selectFrom('audit_events').select('action').orderBy('seq').execute();
    expect(audit.map((r) => r.action)).toEqual(['admin.create', 'admin.disable', 'admin.reset']);
  });

  it('locks a username after repeated failures, counted across hub instances, and unlocks after the lockout', async () => {
    await createAdminAccount(t.store, { username: 'ops', password: PASSWORD, now });
    const other = await t.openAnother(); // a second hub instance on the same database
    const results = [];
    for (let i = 0; i < ADMIN_SIGN_IN_MAX_FAILURES; i++) {
      at += 1000;
      const store = i % 2 ? other : t.store;
      results.push(await signInAdmin(store, { username: 'ops', password: `wrong ${i} password`, now }));
    }
    expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual([
      'invalid',
      'invalid',
      'invalid',
      'invalid',
      'locked',
    ]);
    expect(results.at(-1)).toMatchObject({ retryAfterS: ADMIN_LOCKOUT_MS / 1000 });
    // Locked: even the right password is refused, on every instance.
    at += 60_000;
    expect(await signInAdmin(other, { username: 'ops', password: PASSWORD, now })).toMatchObject({
      ok: false,
      reason: 'locked',
      retryAfterS: ADMIN_LOCKOUT_MS / 1000 - 60,
    });
    at += ADMIN_LOCKOUT_MS;
    expect(await signInAdmin(t.store, { username: 'ops', password: PASSWORD, now })).toMatchObject({
      ok: true,
    });
    // An unknown username locks the same way, so a lock does not tell whether it exists.
    for (let i = 0; i < ADMIN_SIGN_IN_MAX_FAILURES - 1; i++) {
      await signInAdmin(t.store, { username: 'ghost', password: 'whatever it is', now });
    }
    expect(await signInAdmin(t.store, { username: 'ghost', password: 'whatever it is', now })).toMatchObject({
      reason: 'locked',
    });
  });

  it('forgets failures older than the window, and a success clears them', async () => {
    await createAdminAccount(t.store, { username: 'ops', password: PASSWORD, now });
    for (let i = 0; i < ADMIN_SIGN_IN_MAX_FAILURES - 1; i++) {
      await signInAdmin(t.store, { username: 'ops', password: 'not the password', now });
    }
    at += 16 * 60_000; // past the 15-minute window
    expect(await signInAdmin(t.store, { username: 'ops', password: 'not the password', now })).toMatchObject({
      reason: 'invalid',
    });
    expect(await signInAdmin(t.store, { username: 'ops', password: PASSWORD, now })).toMatchObject({
      ok: true,
    });
    for (let i = 0; i < ADMIN_SIGN_IN_MAX_FAILURES - 1; i++) {
      expect(
        await signInAdmin(t.store, { username: 'ops', password: 'not the password', now }),
      ).toMatchObject({
        reason: 'invalid',
      });
    }
  });

  it('ends sessions made before a disable or a password reset', async () => {
    const account = await createAdminAccount(t.store, { username: 'ops', password: PASSWORD, now });
    const principal = { kind: 'admin' as const, id: account.id, username: 'ops' };
    at += 1000;
    const sessionAt = now().toISOString();
    expect(await adminSessionValid(t.store, principal, sessionAt)).toBe(true);
    at += 1000;
    await resetAdminAccount(t.store, { username: 'ops', password: PASSWORD, now });
    expect(await adminSessionValid(t.store, principal, sessionAt)).toBe(false);
    expect(await adminSessionValid(t.store, principal, now().toISOString())).toBe(true);
    at += 1000;
    await disableAdminAccount(t.store, 'ops', now);
    expect(await adminSessionValid(t.store, principal, now().toISOString())).toBe(false);
    expect(await adminSessionValid(t.store, { ...principal, id: 'no-such-id' }, sessionAt)).toBe(false);
  });
});
