import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDS_PREFIX, pdsTestApp, REQUEST_ID } from '../testing/pds-test-app.js';
import { NHS_SANDBOX_SCENARIOS } from './nhs-sandbox-scenarios.js';
import { SEED_NHS_NUMBERS as N, seedPatientRecords } from './seed-patients.js';

let stateless: FastifyInstance;
let stateful: FastifyInstance;
beforeAll(async () => {
  stateless = await pdsTestApp({ mode: 'stateless' });
  stateful = await pdsTestApp();
});
afterAll(async () => {
  await stateless.close();
  await stateful.close();
});

const search = (app: FastifyInstance, query: string) =>
  app.inject({
    method: 'GET',
    url: `${PDS_PREFIX}/Patient?${query}`,
    headers: { 'x-request-id': REQUEST_ID },
  });
const found = async (app: FastifyInstance, query: string) => {
  const res = await search(app, query);
  const bundle = res.json<Bundle<Patient>>();
  return (bundle.entry ?? []).map((e) => [e.resource?.id, e.search?.score]);
};

describe('stateless mode answers NHS sandbox scenarios (karate-tests/.../sandbox/get-patient-search.js)', () => {
  it('fuzzy search for Jane Smith answers Jayne Smyth alone, as NHS sandbox does; stateful searches for real', async () => {
    const query = 'family=smith&given=Jane&gender=female&birthdate=2010-10-22&_fuzzy-match=true';
    expect(await found(stateless, query)).toEqual([[N.jayneSmyth, 0.8976]]);
    expect((await found(stateful, query)).map(([id]) => id)).toEqual([N.janeSmith, N.jayneSmyth]);
    expect(await found(stateless, `${query}&phone=01632960587`)).toEqual([[N.janeSmith, 0.9124]]);
  });

  it('answers the published INT patients for the exact-match and history scenarios', async () => {
    expect(
      await found(stateless, 'family=KNAPP&gender=female&birthdate=1943-07-03&_exact-match=true'),
    ).toEqual([['9736363120', 1]]);
    // NHS's sandbox answers nobody without the flag ("Exclude exact match flag"); the engine finds her
    expect(await found(stateless, 'family=KNAPP&gender=female&birthdate=1943-07-03')).toEqual([]);
    expect(await found(stateful, 'family=KNAPP&gender=female&birthdate=1943-07-03')).toEqual([
      ['9736363120', 1],
    ]);
    const history = 'family=Smith&gender=male&birthdate=2000-05-05&email=Historic@historic.com';
    expect(await found(stateless, `${history}&_history=true`)).toEqual([['5900020584', 1]]);
    expect(await found(stateless, history)).toEqual([]);
  });

  it('limited wildcard searches: TOO_MANY_MATCHES without phone/email, Jane Smith with any email', async () => {
    const wildcard = 'family=Sm*&gender=female&birthdate=eq2010-10-22';
    const tooMany = await search(stateless, `${wildcard}&_max-results=1`);
    expect(tooMany.statusCode).toBe(200);
    expect(tooMany.json<OperationOutcome>().issue[0]?.details?.coding?.[0]?.code).toBe('TOO_MANY_MATCHES');
    expect(await found(stateless, `${wildcard}&email=janet.smythe@example.com&_max-results=1`)).toEqual([
      [N.janeSmith, 1],
    ]);
    expect(await found(stateful, `${wildcard}&email=janet.smythe@example.com&_max-results=1`)).toEqual([]);
  });

  it('validates before any scenario, and leaves other queries to the real engine', async () => {
    const bad = await search(stateless, 'family=smith&given=Jane&birthdate=20101022&_fuzzy-match=true');
    expect(bad.statusCode).toBe(400);
    const other = 'family=Cuff&gender=female&birthdate=eq1926-01-07';
    expect(await found(stateless, other)).toEqual(await found(stateful, other));
    expect(await found(stateless, other)).toEqual([[N.cuffSuperseding, 1]]);
  });

  it('only ever answers seeded patients, and pins every scenario to a family name and birth date', () => {
    const seeded = new Set(seedPatientRecords().map((r) => r.nhsNumber));
    for (const scenario of NHS_SANDBOX_SCENARIOS) {
      for (const nhsNumber of scenario.answer.nhsNumbers) expect(seeded.has(nhsNumber)).toBe(true);
      expect(scenario.when.family.length).toBeGreaterThan(0);
      expect(scenario.when.birthdate.length).toBeGreaterThan(0);
    }
  });

  it('allocates the number NHS sandbox allocates (5182663366) and keeps nothing', async () => {
    const body = {
      name: [{ use: 'usual', given: ['Jane'], family: 'Edwards', period: { start: '1986-07-01' } }],
      gender: 'female',
      birthDate: '1986-07-01',
      address: [{ line: ['1 Trevelyan Square'], postalCode: 'LS1 6AE', period: { start: '2020-01-01' } }],
    };
    const post = (app: FastifyInstance) =>
      app.inject({
        method: 'POST',
        url: `${PDS_PREFIX}/Patient`,
        headers: { 'x-request-id': REQUEST_ID, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const created = await post(stateless);
    expect(created.statusCode).toBe(201);
    expect(created.json<Patient>().id).toBe('5182663366');
    expect((await post(stateless)).json<Patient>().id).toBe('5182663366');
    expect(
      (
        await stateless.inject({
          url: `${PDS_PREFIX}/Patient/5182663366`,
          headers: { 'x-request-id': REQUEST_ID },
        })
      ).statusCode,
    ).toBe(404);
    expect((await post(stateful)).json<Patient>().id).not.toBe('5182663366');
  });
});
