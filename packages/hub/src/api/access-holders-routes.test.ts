import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../access/api-keys.js';
import { ACCESS_ACTIONS, ADMIN_ACTIONS, decide, ROLE_ACTIONS } from '../access/policy.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { fakePds } from '../testing/fake-pds.js';
import { clinician, patient, sessionFor } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import type { ActionHolders } from './access-holders-routes.js';

const TIME = new Date('2025-05-06T07:08:09.000Z');
const now = () => TIME;

describe.each(await testStores())('GET /access/holders on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    hub = await createHub(loadConfig({}, { logLevel: 'silent' }), {
      store: t.store,
      pds: fakePds(),
      now,
      startJobs: false,
    });
  });
  afterEach(async () => {
    await hub?.close();
    await t?.cleanup();
  });

  const holders = async (headers: Record<string, string>) => {
    const res = await hub.app.inject({ url: '/access/holders', headers });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { holders: ActionHolders[] }).holders;
  };

  it("answers every action with the policy's own admin and role tables", async () => {
    const token = await sessionFor(t.store, clinician('R8000'), now);
    const answer = await holders({ authorization: `Bearer ${token}` });
    expect(answer.map((h) => h.action)).toEqual([...ACCESS_ACTIONS]);
    for (const { action, adminAccounts, roles } of answer) {
      expect(adminAccounts, action).toBe(ADMIN_ACTIONS.includes(action));
      expect(roles, action).toEqual(
        Object.entries(ROLE_ACTIONS)
          .filter(([, role]) => role.actions.includes(action))
          .map(([code, role]) => ({ code, name: role.name })),
      );
      // And what the policy decides agrees: a role listed is allowed, one not listed refused.
      for (const code of Object.keys(ROLE_ACTIONS)) {
        const listed = roles.some((r) => r.code === code);
        expect(decide(clinician(code), { action, nhsNumber: '9000000009' }).allow, `${code} ${action}`).toBe(
          listed,
        );
      }
      const admin = decide({ kind: 'admin', id: 'a', username: 'ops.lead' }, { action });
      expect(admin.allow, `admin ${action}`).toBe(adminAccounts);
    }
    // The roles people are refused most often carry their RBAC names.
    const operations = answer.find((h) => h.action === 'operations.read');
    expect(operations).toEqual({
      action: 'operations.read',
      adminAccounts: true,
      roles: [{ code: 'R8008', name: 'Admin/Clinical Support Access Role' }],
    });
    const patientRead = answer.find((h) => h.action === 'patient.read');
    expect(patientRead?.adminAccounts).toBe(false);
    expect(patientRead?.roles).toContainEqual({ code: 'R8000', name: 'Clinical Practitioner Access Role' });
  });

  it('any signed-in caller or API key may read it; no credentials is a 401 OperationOutcome', async () => {
    const key = await createApiKey(t.store, { name: 'reader', scopes: ['medicines:read'] });
    const patientToken = await sessionFor(t.store, patient('P5'), now);
    expect(await holders({ 'x-api-key': key.secret })).toHaveLength(ACCESS_ACTIONS.length);
    expect(await holders({ authorization: `Bearer ${patientToken}` })).toHaveLength(ACCESS_ACTIONS.length);
    const anonymous = await hub.app.inject({ url: '/access/holders' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });
});
