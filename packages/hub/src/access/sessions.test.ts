import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clinician, patient } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { createSession, findSession, revokeSession } from './sessions.js';

const T0 = Date.parse('2025-05-06T07:08:09.000Z');
const ID_TOKEN = 'eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

describe.each(await testStores())('sessions on $dialect', (factory) => {
  let t: TestStore;
  let now: Date;
  const clock = () => now;
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    now = new Date(T0);
  });
  afterEach(async () => {
    await t?.cleanup();
  });

  it('stores only the hash of the token and the id_token encrypted; finds the session by its token', async () => {
    const s = await createSession(t.store, {
      principal: patient('P9'),
      idToken: ID_TOKEN,
      ttlS: 3600,
      now: clock,
    });
    expect(s.token).toMatch(/^jss_[A-Za-z0-9_-]{43}$/);
    const rows = await t.store.db.selectFrom('sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    const text = JSON.stringify(rows);
    expect(text).not.toContain(s.token.slice(4));
    expect(text).not.toContain(ID_TOKEN);
    expect(text).not.toContain('eyJzdWIi');
    const found = await findSession(t.store, s.token, clock);
    expect(found).toEqual({
      status: 'active',
      session: {
        principal: patient('P9'),
        idToken: ID_TOKEN,
        createdAt: new Date(T0).toISOString(),
        expiresAt: new Date(T0 + 3600_000).toISOString(),
        lastSeenAt: new Date(T0).toISOString(),
      },
    });
  });

  it('tells invalid, expired and revoked apart, and ends at notAfter when that is sooner', async () => {
    const s = await createSession(t.store, {
      principal: clinician('R8000'),
      ttlS: 8 * 3600,
      notAfter: new Date(T0 + 600_000),
      now: clock,
    });
    expect(s.expiresAt).toBe(new Date(T0 + 600_000).toISOString());
    expect((await findSession(t.store, 'jss_nope', clock)).status).toBe('invalid');
    expect((await findSession(t.store, `jss_${'A'.repeat(43)}`, clock)).status).toBe('invalid');
    expect(
      (
        await findSession(
          t.store,
          s.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
          clock,
        )
      ).status,
    ).toBe('invalid');
    now = new Date(T0 + 600_000);
    expect((await findSession(t.store, s.token, clock)).status).toBe('expired');

    now = new Date(T0);
    const other = await createSession(t.store, {
      principal: patient('P5'),
      idToken: ID_TOKEN,
      ttlS: 60,
      now: clock,
    });
    expect(await revokeSession(t.store, other.token, clock)).toBe(true);
    expect(await revokeSession(t.store, other.token, clock)).toBe(false);
    expect((await findSession(t.store, other.token, clock)).status).toBe('revoked');
    const [row] = await t.store.db.selectFrom('sessions').selectAll().where('kind', '=', 'patient').execute();
    expect(row?.id_token_enc).toBeNull();
  });

  it('writes last seen at most once a minute', async () => {
    const s = await createSession(t.store, { principal: patient('P9'), ttlS: 3600, now: clock });
    now = new Date(T0 + 59_000);
    expect(await findSession(t.store, s.token, clock)).toMatchObject({
      session: { lastSeenAt: new Date(T0).toISOString() },
    });
    now = new Date(T0 + 61_000);
    expect(await findSession(t.store, s.token, clock)).toMatchObject({
      session: { lastSeenAt: new Date(T0 + 61_000).toISOString() },
    });
  });

  it('cannot decrypt an id_token moved to another session row', async () => {
    const a = await createSession(t.store, {
      principal: patient('P9'),
      idToken: ID_TOKEN,
      ttlS: 3600,
      now: clock,
    });
    const b = await createSession(t.store, {
      principal: clinician('R8000'),
      idToken: 'other',
      ttlS: 3600,
      now: clock,
    });
    const hashOf = (token: string) => createHash('sha256').update(token.slice(4)).digest('hex');
    const rowA = await t.store.db
      .selectFrom('sessions')
      .select('id_token_enc')
      .where('id_hash', '=', hashOf(a.token))
      .executeTakeFirstOrThrow();
    await t.store.db
      .updateTable('sessions')
      .set({ id_token_enc: rowA.id_token_enc })
      .where('id_hash', '=', hashOf(b.token))
      .execute();
    expect(await findSession(t.store, a.token, clock)).toMatchObject({ session: { idToken: ID_TOKEN } });
    const movedTo = await findSession(t.store, b.token, clock);
    expect(movedTo.status).toBe('active');
    expect(movedTo.status === 'active' && movedTo.session.idToken).toBe(undefined);
  });
});
