import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TestStore, testStores } from '../testing/test-stores.js';
import {
  ADMIN_LOCKOUT_MS,
  ADMIN_SIGN_IN_FAILURE_ROWS,
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
/** Where the sign-ins come from (RFC 5737 documentation addresses). */
const HERE = '192.0.2.1';
const ELSEWHERE = '198.51.100.7';

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
    const ok = await signInAdmin(t.store, { clientAddress: HERE, username: 'OPS', password: PASSWORD, now });
    expect(ok).toEqual({ ok: true, principal: { kind: 'admin', id: account.id, username: 'ops' } });
    expect((await listAdminAccounts(t.store))[0]?.lastSignInAt).toBe('2025-05-06T07:08:09.000Z');
    expect(
      await signInAdmin(t.store, { clientAddress: HERE, username: 'ops', password: `${PASSWORD}!`, now }),
    ).toEqual({
      ok: false,
      reason: 'invalid',
      username: 'ops',
      known: true,
    });
    expect(
      await signInAdmin(t.store, { clientAddress: HERE, username: 'nobody', password: PASSWORD, now }),
    ).toEqual({
      ok: false,
      reason: 'invalid',
      username: 'nobody',
      known: false,
    });
    expect(await disableAdminAccount(t.store, 'ops', now)).toBe(true);
    expect(await disableAdminAccount(t.store, 'nobody', now)).toBe(false);
    expect(
      await signInAdmin(t.store, { clientAddress: HERE, username: 'ops', password: PASSWORD, now }),
    ).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
    // Resetting enables it again with the new password only.
    const fresh = randomAdminPassword();
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{24}$/);
    await resetAdminAccount(t.store, { username: 'ops', password: fresh, now });
    expect(
      await signInAdmin(t.store, { clientAddress: HERE, username: 'ops', password: PASSWORD, now }),
    ).toMatchObject({
      ok: false,
    });
    expect(
      await signInAdmin(t.store, { clientAddress: HERE, username: 'ops', password: fresh, now }),
    ).toMatchObject({ ok: true });
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
      results.push(
        await signInAdmin(store, {
          clientAddress: HERE,
          username: 'ops',
          password: `wrong ${i} password`,
          now,
        }),
      );
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
    expect(
      await signInAdmin(other, { clientAddress: HERE, username: 'ops', password: PASSWORD, now }),
    ).toMatchObject({
      ok: false,
      reason: 'locked',
      retryAfterS: ADMIN_LOCKOUT_MS / 1000 - 60,
    });
    at += ADMIN_LOCKOUT_MS;
    expect(
      await signInAdmin(t.store, { clientAddress: HERE, username: 'ops', password: PASSWORD, now }),
    ).toMatchObject({
      ok: true,
    });
    // An unknown username locks the same way, so a lock does not tell whether it exists.
    for (let i = 0; i < ADMIN_SIGN_IN_MAX_FAILURES - 1; i++) {
      await signInAdmin(t.store, { clientAddress: HERE, username: 'ghost', password: 'whatever it is', now });
    }
    expect(
      await signInAdmin(t.store, { clientAddress: HERE, username: 'ghost', password: 'whatever it is', now }),
    ).toMatchObject({
      reason: 'locked',
    });
  });

  it('locks a username for the address the failures came from only: the owner elsewhere still signs in', async () => {
    await createAdminAccount(t.store, { username: 'ops', password: PASSWORD, now });
    const attempt = (clientAddress: string, password: string) =>
      signInAdmin(t.store, { username: 'ops', password, clientAddress, now });
    for (let i = 0; i < ADMIN_SIGN_IN_MAX_FAILURES - 1; i++) await attempt(ELSEWHERE, 'a guessed password');
    expect(await attempt(ELSEWHERE, 'a guessed password')).toMatchObject({ reason: 'locked' });
    expect(await attempt(ELSEWHERE, PASSWORD)).toMatchObject({ reason: 'locked' });
    expect(await attempt(HERE, PASSWORD)).toMatchObject({ ok: true });
    // An IPv6 client counts by its /64: moving within it does not start a fresh count.
    for (let i = 1; i < ADMIN_SIGN_IN_MAX_FAILURES; i++)
      await attempt(`2001:db8:5::${i}`, 'a guessed password');
    expect(await attempt('2001:db8:5::ffff', 'a guessed password')).toMatchObject({ reason: 'locked' });
    expect(await attempt('2001:db8:5:0:1::', PASSWORD)).toMatchObject({ reason: 'locked' });
    expect(await attempt('2001:db8:6::1', PASSWORD)).toMatchObject({ ok: true });
  });

  it('keeps a bounded number of failure rows however many names and addresses are tried, never dropping a running lock', async () => {
    await createAdminAccount(t.store, { username: 'ops', password: PASSWORD, now });
    for (let i = 0; i < ADMIN_SIGN_IN_MAX_FAILURES; i++) {
      await signInAdmin(t.store, {
        username: 'ops',
        password: 'a guessed password',
        clientAddress: ELSEWHERE,
        now,
      });
    }
    // A table already full of an attacker's names (older than the lock, inside the window).
    const first = T0 - 60_000;
    const rows = Array.from({ length: ADMIN_SIGN_IN_FAILURE_ROWS }, (_, i) => ({
      username: `name${i}`,
      client_address: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`,
      failures: 1,
      first_failed_at: new Date(first + i).toISOString(),
      locked_until: null,
    }));
    for (let i = 0; i < rows.length; i += 500) {
      await t.store.db
        .insertInto('admin_sign_in_failures')
        .values(rows.slice(i, i + 500))
        .execute();
    }
    at += 1000;
    for (let i = 0; i < 3; i++) {
      at += 1000;
      await signInAdmin(t.store, {
        username: `new${i}`,
        password: 'a guessed password',
        clientAddress: `203.0.113.${i}`,
        now,
      });
    }
    const count = await t.store.db
      .selectFrom('admin_sign_in_failures')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBeLessThanOrEqual(ADMIN_SIGN_IN_FAILURE_ROWS + 1);
    const kept = await t.store.db
      .selectFrom('admin_sign_in_failures')
      .select('username')
      .where('username', 'like', 'new%')
      .execute();
    expect(kept).toHaveLength(3);
    expect(
      await signInAdmin(t.store, { username: 'ops', password: PASSWORD, clientAddress: ELSEWHERE, now }),
    ).toMatchObject({ reason: 'locked' });
  });

  it('forgets failures older than the window, and a success clears them', async () => {
    await createAdminAccount(t.store, { username: 'ops', password: PASSWORD, now });
    for (let i = 0; i < ADMIN_SIGN_IN_MAX_FAILURES - 1; i++) {
      await signInAdmin(t.store, { clientAddress: HERE, username: 'ops', password: 'not the password', now });
    }
    at += 16 * 60_000; // past the 15-minute window
    expect(
      await signInAdmin(t.store, { clientAddress: HERE, username: 'ops', password: 'not the password', now }),
    ).toMatchObject({
      reason: 'invalid',
    });
    expect(
      await signInAdmin(t.store, { clientAddress: HERE, username: 'ops', password: PASSWORD, now }),
    ).toMatchObject({
      ok: true,
    });
    for (let i = 0; i < ADMIN_SIGN_IN_MAX_FAILURES - 1; i++) {
      expect(
        await signInAdmin(t.store, {
          clientAddress: HERE,
          username: 'ops',
          password: 'not the password',
          now,
        }),
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
