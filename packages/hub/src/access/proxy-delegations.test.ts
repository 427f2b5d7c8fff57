import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../audit/list-audit-events.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { fakePds } from '../testing/fake-pds.js';
import {
  grantParentProxy,
  JANE_NHS,
  JANET_NHS,
  PARENT_NHS,
  PROXY_PARENT,
  sessionFor,
} from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { decide, type Principal } from './policy.js';
import {
  activeDelegationsFor,
  grantProxyDelegation,
  listProxyDelegations,
  revokeProxyDelegation,
} from './proxy-delegations.js';

const TIME = new Date('2025-05-06T07:08:09.000Z');
const DAY_MS = 86_400_000;

describe.each(await testStores())('proxy delegations on $dialect', (factory) => {
  let t: TestStore;
  let clock: Date;
  const now = () => clock;

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    clock = TIME;
  });
  afterEach(async () => {
    await t?.cleanup();
  });

  it('records a delegation, lists it, and gives the policy only the active ones', async () => {
    const granted = await grantParentProxy(t.store, now, {
      access: ['demographics', 'gp-record'],
      validUntil: new Date(TIME.getTime() + 30 * DAY_MS),
    });
    expect(granted).toMatchObject({
      proxyNhsNumber: PARENT_NHS,
      patientNhsNumber: JANET_NHS,
      relationship: 'parent',
      access: ['demographics', 'gp-record'],
      validFrom: TIME.toISOString(),
      validUntil: '2025-06-05T07:08:09.000Z',
      createdBy: 'cli',
      revokedAt: null,
    });
    // Starts next week: listed, but not active yet.
    await grantProxyDelegation(t.store, {
      proxyNhsNumber: PARENT_NHS,
      patientNhsNumber: JANE_NHS,
      relationship: 'carer',
      access: ['appointments'],
      validFrom: new Date(TIME.getTime() + 7 * DAY_MS),
      now,
    });

    expect(await listProxyDelegations(t.store, { patientNhsNumber: JANET_NHS })).toEqual([granted]);
    expect(await listProxyDelegations(t.store, { proxyNhsNumber: PARENT_NHS })).toHaveLength(2);
    expect(await activeDelegationsFor(t.store, PARENT_NHS, now)).toEqual([
      { nhsNumber: JANET_NHS, access: ['demographics', 'gp-record'] },
    ]);
    clock = new Date(TIME.getTime() + 8 * DAY_MS);
    expect(await activeDelegationsFor(t.store, PARENT_NHS, now)).toEqual([
      { nhsNumber: JANE_NHS, access: ['appointments'] },
      { nhsNumber: JANET_NHS, access: ['demographics', 'gp-record'] },
    ]);
    clock = new Date(TIME.getTime() + 31 * DAY_MS); // the first has expired
    expect(await activeDelegationsFor(t.store, PARENT_NHS, now)).toEqual([
      { nhsNumber: JANE_NHS, access: ['appointments'] },
    ]);
    // Nobody else is anyone's proxy.
    expect(await activeDelegationsFor(t.store, JANET_NHS, now)).toEqual([]);
  });

  it('revokes (audited once) and answers false for an unknown id', async () => {
    const granted = await grantParentProxy(t.store, now);
    clock = new Date(TIME.getTime() + 60_000);
    expect(await revokeProxyDelegation(t.store, granted.id, { now })).toBe(true);
    expect(await revokeProxyDelegation(t.store, granted.id, { now })).toBe(true);
    expect(await revokeProxyDelegation(t.store, 'no-such-id', { now })).toBe(false);
    expect(await activeDelegationsFor(t.store, PARENT_NHS, now)).toEqual([]);
    const [listed] = await listProxyDelegations(t.store);
    expect(listed?.revokedAt).toBe(clock.toISOString());

    const audit = await listAuditEvents(t.store);
    expect(
      audit.map((r) => [r.action, r.actorKind, r.actorUserId, r.nhsNumbers, r.decision, r.occurredAt]),
    ).toEqual([
      ['proxy.grant', 'operator', 'cli', [PARENT_NHS, JANET_NHS], 'allowed', TIME.toISOString()],
      ['proxy.revoke', 'operator', 'cli', [PARENT_NHS, JANET_NHS], 'allowed', clock.toISOString()],
    ]);
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 2 });
    // After revocation the same pair may be granted again.
    await expect(grantParentProxy(t.store, now)).resolves.toMatchObject({ revokedAt: null });
  });

  it('refuses bad NHS numbers, self-proxy, unknown relationships and access, empty periods, duplicates', async () => {
    const base = {
      proxyNhsNumber: PARENT_NHS,
      patientNhsNumber: JANET_NHS,
      relationship: 'parent' as const,
      now,
    };
    const refused = (input: Partial<Parameters<typeof grantProxyDelegation>[1]>) =>
      grantProxyDelegation(t.store, { ...base, ...input });
    await expect(refused({ proxyNhsNumber: '9000000000' })).rejects.toThrow(
      "the proxy's NHS number is not valid: 9000000000",
    );
    await expect(refused({ patientNhsNumber: '12345' })).rejects.toThrow(
      "the patient's NHS number is not valid: 12345",
    );
    await expect(refused({ patientNhsNumber: PARENT_NHS })).rejects.toThrow(
      'a person cannot be their own proxy',
    );
    await expect(refused({ relationship: 'friend' as never })).rejects.toThrow(
      "unknown relationship 'friend'; relationships are: parent, legal-guardian, carer, power-of-attorney",
    );
    await expect(refused({ access: ['everything' as never] })).rejects.toThrow(/unknown access 'everything'/);
    await expect(refused({ access: [] })).rejects.toThrow('at least one kind of access');
    await expect(refused({ validUntil: TIME })).rejects.toThrow('would end before it starts');
    expect(await listAuditEvents(t.store)).toEqual([]);

    const first = await refused({});
    await expect(refused({ relationship: 'carer' })).rejects.toThrow(
      `${PARENT_NHS} is already a proxy for ${JANET_NHS} (delegation ${first.id})`,
    );
    // The database itself refuses a self-delegation, whoever writes the row.
    await expect(
      sql`insert into proxy_delegations (id, proxy_nhs_number, patient_nhs_number, relationship, access,
          valid_from, created_by, created_at)
          values ('x', ${PARENT_NHS}, ${PARENT_NHS}, 'parent', '[]', ${TIME.toISOString()}, 'cli',
          ${TIME.toISOString()})`.execute(t.store.db),
    ).rejects.toThrow();
  });

  describe('through the hub', () => {
    let hub: Hub;
    beforeEach(async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      hub = await createHub(loadConfig({}, { logLevel: 'silent' }), { store: t.store, pds: fakePds(), now });
    });
    afterEach(async () => {
      await hub?.close();
    });

    const read = (token: string, nhsNumber: string) =>
      hub.app.inject({ url: `/fhir/R4/Patient/${nhsNumber}`, headers: { authorization: `Bearer ${token}` } });
    const principalOf = async (token: string) =>
      (await hub.app.inject({ url: '/auth/session', headers: { authorization: `Bearer ${token}` } })).json()
        .principal as Principal;

    it("lets a signed-in P9 proxy read the delegated patient's record, not another's", async () => {
      await grantParentProxy(t.store, now);
      const token = await sessionFor(t.store, PROXY_PARENT, now);
      const allowed = await read(token, JANET_NHS);
      expect(allowed.statusCode).toBe(200);
      expect(allowed.json().id).toBe(JANET_NHS);
      const denied = await read(token, JANE_NHS);
      expect(denied.statusCode).toBe(403);
      expect(denied.json().issue[0].details.coding[0].code).toBe('ACCESS_DENIED');
      const audit = await listAuditEvents(t.store, { nhsNumber: JANET_NHS });
      expect(audit.at(-1)).toMatchObject({ action: 'patient.read', decisionRule: 'patient.proxy' });
    });

    it('stops at once, in the same session, when the delegation is revoked or has expired', async () => {
      const granted = await grantParentProxy(t.store, now);
      const token = await sessionFor(t.store, PROXY_PARENT, now);
      expect((await read(token, JANET_NHS)).statusCode).toBe(200);
      await revokeProxyDelegation(t.store, granted.id, { now });
      const revoked = await read(token, JANET_NHS);
      expect(revoked.statusCode).toBe(403);
      expect(revoked.json().issue[0].diagnostics).toMatch(
        /only their own record or one they are a proxy for/,
      );

      await grantParentProxy(t.store, now, { validUntil: new Date(TIME.getTime() + 30 * 60_000) });
      expect((await read(token, JANET_NHS)).statusCode).toBe(200);
      clock = new Date(TIME.getTime() + 31 * 60_000); // the session (1 h) lives on; the delegation does not
      expect((await read(token, JANET_NHS)).statusCode).toBe(403);
    });

    it('keeps to the delegated access: demographics only does not reach the GP record', async () => {
      await grantParentProxy(t.store, now, { access: ['demographics'] });
      const token = await sessionFor(t.store, PROXY_PARENT, now);
      expect((await read(token, JANET_NHS)).statusCode).toBe(200);
      const principal = await principalOf(token);
      expect(principal).toMatchObject({ delegations: [{ nhsNumber: JANET_NHS, access: ['demographics'] }] });
      expect(decide(principal, { action: 'gp-record.read', nhsNumber: JANET_NHS })).toMatchObject({
        allow: false,
        rule: 'patient.proxy-access',
      });
      expect(decide(principal, { action: 'patient.update', nhsNumber: JANET_NHS }).allow).toBe(true);
    });
  });
});
