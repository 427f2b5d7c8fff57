// PDS access modes (personal-demographics.yaml "Access modes") driven end to end:
// an id_token exchanged at /oauth2/token, then PDS with the bearer. Rules and strings from
// personal-demographics-service-api proxies/live/apiproxy/targets/ig3.xml, resources/jsc/RestrictRequest.js
// and policies/RaiseFault.*.xml; patient PATCH limits from components/paths/patient-patch.yaml.
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessTokenStore } from '../oauth/access-token-store.js';
import { oauthPlugin } from '../oauth/oauth-plugin.js';
import { clientAssertion, type TestKey, testKey } from '../testing/oauth-test-keys.js';
import { PDS_PREFIX, REQUEST_ID } from '../testing/pds-test-app.js';
import {
  CIS2_CLIENT_ID,
  cis2Claims,
  type FakeProvider,
  fakeProvider,
  NHS_LOGIN_CLIENT_ID,
  nhsLoginClaims,
  subjectToken,
  withChanges,
} from '../testing/subject-tokens.js';
import { pdsPlugin } from './index.js';
import { SEED_NHS_NUMBERS as N } from './seed-patients.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const ORIGIN = 'http://localhost:80';
const API_KEY = 'pds-user-app';

let appKey: TestKey;
let nhsLogin: FakeProvider;
let cis2: FakeProvider;
let server: FastifyInstance;

beforeAll(async () => {
  appKey = await testKey('app-1');
  nhsLogin = await fakeProvider('nhs-login', 'nl-1');
  cis2 = await fakeProvider('cis2', 'cis2-1');
  const now = () => NOW;
  const tokens = new AccessTokenStore({ now });
  server = Fastify();
  await server.register(oauthPlugin, {
    prefix: '/oauth2',
    apps: [
      {
        apiKey: API_KEY,
        jwks: { keys: [appKey.publicJwk] },
        nhsLoginClientId: NHS_LOGIN_CLIENT_ID,
        cis2ClientId: CIS2_CLIENT_ID,
      },
    ],
    tokens,
    now,
    identityProviders: [nhsLogin, cis2],
  });
  await server.register(pdsPlugin, {
    prefix: PDS_PREFIX,
    syntheticPatients: 50,
    now,
    verifyAccessToken: (token) => tokens.verify(token),
  });
  await server.ready();
});
afterAll(() => server.close());

async function exchange(subject: string): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    subject_token: subject,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion({
      key: appKey,
      apiKey: API_KEY,
      aud: `${ORIGIN}/oauth2/token`,
      nowS: NOW_S,
    }),
  });
  const res = await server.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form.toString(),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ access_token: string }>().access_token;
}

const clinicianToken = (claims: Record<string, unknown> = {}) =>
  subjectToken({
    provider: cis2,
    claims: withChanges(cis2Claims(`${ORIGIN}/openam/oauth2/realms/root/realms/oidc`, NOW_S), claims),
  }).then(exchange);
const patientToken = (claims: Record<string, unknown> = {}) =>
  subjectToken({
    provider: nhsLogin,
    claims: withChanges(nhsLoginClaims(`${ORIGIN}/nhs-login`, NOW_S), claims),
  }).then(exchange);

function pds(
  token: string,
  method: 'GET' | 'PATCH' | 'POST',
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
) {
  return server.inject({
    method,
    url: `${PDS_PREFIX}${path}`,
    headers: {
      'x-request-id': REQUEST_ID,
      authorization: `Bearer ${token}`,
      ...(method === 'PATCH' && { 'content-type': 'application/json-patch+json' }),
      ...(method === 'POST' && { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body !== undefined && { payload: JSON.stringify(options.body) }),
  });
}

const issue = (body: string) => (JSON.parse(body) as OperationOutcome).issue[0];
const coding = (body: string) => issue(body)?.details?.coding?.[0];
const ids = (body: string) => ((JSON.parse(body) as Bundle<Patient>).entry ?? []).map((e) => e.resource?.id);

async function patchOwn(token: string, nhsNumber: string, patches: unknown[]) {
  const read = await pds(token, 'GET', `/Patient/${nhsNumber}`);
  expect(read.statusCode, read.body).toBe(200);
  return pds(token, 'PATCH', `/Patient/${nhsNumber}`, {
    body: { patches },
    headers: { 'if-match': read.headers.etag as string },
  });
}

const PATIENT_CANNOT = {
  code: 'ACCESS_DENIED',
  display: 'Patient cannot perform this action',
};
const PATIENT_DIAGNOSTICS =
  'Your access token has insufficient permissions. See documentation regarding Patient access restrictions https://digital.nhs.uk/developer/api-catalogue/personal-demographics-service-fhir';

describe('healthcare worker access (CIS2 id_token)', () => {
  it('searches with up to 50 results: several matches come back (patient-search.yaml)', async () => {
    const token = await clinicianToken();
    const res = await pds(token, 'GET', '/Patient?family=Sm*&gender=female&birthdate=eq2010-10-22');
    expect(res.statusCode).toBe(200);
    expect(ids(res.body)).toEqual([N.janeSmith, N.jayneSmyth]);
    const tooMany = await pds(token, 'GET', '/Patient?family=Smith&birthdate=eq2010-10-22&_max-results=51');
    expect(tooMany.statusCode).toBe(400);
    expect(coding(tooMany.body)?.code).toBe('INVALID_VALUE');
  });

  it('reads, updates and creates', async () => {
    const token = await clinicianToken();
    expect((await pds(token, 'GET', `/Patient/${N.jayneSmyth}`)).statusCode).toBe(200);
    const patched = await patchOwn(token, N.minimal, [{ op: 'add', path: '/gender', value: 'female' }]);
    expect(patched.statusCode, patched.body).toBe(200);
    const created = await pds(token, 'POST', '/Patient', {
      body: {
        resourceType: 'Patient',
        name: [{ use: 'usual', given: ['Ada'], family: 'Accessmode', period: { start: '2020-01-01' } }],
        gender: 'female',
        birthDate: '1990-01-02',
        address: [
          { line: ['1 Test Street'], postalCode: 'LS1 6AE', use: 'home', period: { start: '2020-01-01' } },
        ],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
  });

  it('NHSD-Session-URID must be the selected role: the same one passes, another is 400 INVALID_VALUE', async () => {
    const token = await clinicianToken();
    const ok = await pds(token, 'GET', `/Patient/${N.janeSmith}`, {
      headers: { 'nhsd-session-urid': '555254240100' },
    });
    expect(ok.statusCode).toBe(200);
    const wrong = await pds(token, 'GET', `/Patient/${N.janeSmith}`, {
      headers: { 'nhsd-session-urid': '555254240199' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(coding(wrong.body)?.code).toBe('INVALID_VALUE');
    expect(issue(wrong.body)?.diagnostics).toBe(
      "Invalid value - '555254240199' in header 'NHSD-Session-URID'. Refer to the guidance for this header in our API Specification https://digital.nhs.uk/developer/api-catalogue/personal-demographics-service-fhir",
    );
  });

  it('Coverage is not for healthcare workers: 403 ACCESS_DENIED (RaiseFault.ResourceRestricted)', async () => {
    const res = await pds(await clinicianToken(), 'GET', `/Coverage?subscriber:identifier=${N.janeSmith}`);
    expect(res.statusCode).toBe(403);
    expect(coding(res.body)).toMatchObject({
      code: 'ACCESS_DENIED',
      display: 'Cannot GET resource with user-restricted access token',
    });
  });

  it('an AAL1 token has no healthcare-worker scope: PDS treats it as application-restricted', async () => {
    const token = await clinicianToken({ authentication_assurance_level: 1, acr: 'AAL1_USERPASS' });
    const res = await pds(token, 'PATCH', `/Patient/${N.janeSmith}`, {
      body: { patches: [] },
      headers: { 'if-match': 'W/"2"' },
    });
    expect(res.statusCode).toBe(403);
    expect(coding(res.body)).toMatchObject({
      code: 'INVALID_METHOD',
      display: 'Cannot update resource with application-restricted access token',
    });
  });
});

describe('patient access (NHS login id_token, P9)', () => {
  it('reads the own record and related people', async () => {
    const token = await patientToken();
    const res = await pds(token, 'GET', `/Patient/${N.janeSmith}`);
    expect(res.statusCode).toBe(200);
    expect(res.json<Patient>().id).toBe(N.janeSmith);
    expect((await pds(token, 'GET', `/Patient/${N.janeSmith}/RelatedPerson`)).statusCode).toBe(200);
  });

  it("another patient's record is 403 ACCESS_DENIED with the proxy's display and diagnostics", async () => {
    const token = await patientToken();
    for (const path of [`/Patient/${N.jayneSmyth}`, `/Patient/${N.jayneSmyth}/RelatedPerson`]) {
      const res = await pds(token, 'GET', path);
      expect(res.statusCode).toBe(403);
      expect(coding(res.body)).toMatchObject(PATIENT_CANNOT);
      expect(issue(res.body)).toMatchObject({ code: 'forbidden', diagnostics: PATIENT_DIAGNOSTICS });
    }
  });

  it('search is not available to patients: 403 ACCESS_DENIED', async () => {
    const res = await pds(await patientToken(), 'GET', '/Patient?family=Smith&birthdate=eq2010-10-22');
    expect(res.statusCode).toBe(403);
    expect(coding(res.body)).toMatchObject(PATIENT_CANNOT);
  });

  it('create is 403 INVALID_METHOD (RaiseFault.PostMethodNotAllowed)', async () => {
    const res = await pds(await patientToken(), 'POST', '/Patient', { body: { resourceType: 'Patient' } });
    expect(res.statusCode).toBe(403);
    expect(coding(res.body)).toMatchObject({
      code: 'INVALID_METHOD',
      display: 'Cannot create resource with patient-access access token',
    });
  });

  it('P5 and P0 tokens, and a P9 vot outside P9.Cp.Cd / P9.Cp.Ck / P9.Cm, cannot read even their own record', async () => {
    for (const claims of [
      { identity_proofing_level: 'P5', vot: 'P5.Cp.Cd' },
      { identity_proofing_level: 'P0', vot: 'P0.Cp.Cd' },
      { vot: 'P9.Cp' },
    ]) {
      const res = await pds(await patientToken(claims), 'GET', `/Patient/${N.janeSmith}`);
      expect(res.statusCode).toBe(403);
      expect(coding(res.body)).toMatchObject(PATIENT_CANNOT);
    }
  });

  it('Coverage: own NHS number only, and only the documented search form', async () => {
    const token = await patientToken();
    expect((await pds(token, 'GET', `/Coverage?subscriber:identifier=${N.janeSmith}`)).statusCode).toBe(200);
    const other = await pds(token, 'GET', `/Coverage?subscriber:identifier=${N.jayneSmyth}`);
    expect(other.statusCode).toBe(403);
    expect(coding(other.body)).toMatchObject(PATIENT_CANNOT);
    const malformed = await pds(token, 'GET', '/Coverage?subscriber=9000000009');
    expect(malformed.statusCode).toBe(400);
    expect(coding(malformed.body)?.code).toBe('INVALID_SEARCH_DATA');
  });

  it('PATCH: address, emergency contact, mobile/email telecom and permitted extensions are allowed', async () => {
    const token = await patientToken();
    const res = await patchOwn(token, N.janeSmith, [
      { op: 'add', path: '/telecom/-', value: { system: 'phone', use: 'mobile', value: '07700900123' } },
      { op: 'add', path: '/telecom/-', value: { system: 'email', use: 'home', value: 'ada@example.com' } },
      {
        op: 'add',
        path: '/address/-',
        value: { line: ['2 Test Street', 'Leeds'], postalCode: 'LS1 6AE', use: 'home' },
      },
      {
        op: 'add',
        path: '/extension/-',
        value: {
          url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
          valueAddress: { city: 'Manchester', country: 'GBR' },
        },
      },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(
      res
        .json<Patient>()
        .telecom?.map((t) => t.value)
        .slice(-2),
    ).toEqual(['07700900123', 'ada@example.com']);
  });

  it.each([
    ['gender', [{ op: 'replace', path: '/gender', value: 'male' }]],
    ['name', [{ op: 'add', path: '/name/-', value: { use: 'nickname', given: ['Janey'], family: 'Smith' } }]],
    [
      'home phone',
      [{ op: 'add', path: '/telecom/-', value: { system: 'phone', use: 'home', value: '01632960123' } }],
    ],
    ['a part of a telecom item', [{ op: 'replace', path: '/telecom/0/value', value: '07700900999' }]],
    [
      'another extension',
      [
        {
          op: 'add',
          path: '/extension/-',
          value: {
            url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus',
          },
        },
      ],
    ],
  ])('PATCH of %s is 403 FORBIDDEN_UPDATE (patient-patch.yaml "Patient access")', async (_case, patches) => {
    const token = await patientToken();
    const res = await patchOwn(token, N.janeSmith, patches);
    expect(res.statusCode, res.body).toBe(403);
    expect(coding(res.body)?.code).toBe('FORBIDDEN_UPDATE');
  });

  it("PATCH of another patient's record is 403 ACCESS_DENIED", async () => {
    const res = await pds(await patientToken(), 'PATCH', `/Patient/${N.jayneSmyth}`, {
      body: {
        patches: [{ op: 'add', path: '/telecom/-', value: { system: 'email', value: 'x@example.com' } }],
      },
      headers: { 'if-match': 'W/"1"' },
    });
    expect(res.statusCode).toBe(403);
    expect(coding(res.body)).toMatchObject(PATIENT_CANNOT);
  });

  it('a proxy (act.sub) reaches the delegated patient, not their own record', async () => {
    const parent = await subjectToken({
      provider: nhsLogin,
      claims: nhsLoginClaims(`${ORIGIN}/nhs-login`, NOW_S, N.jayneSmyth),
    });
    const token = await patientToken({ nhs_number: N.janeSmith, act: { sub: parent } });
    expect((await pds(token, 'GET', `/Patient/${N.janeSmith}`)).statusCode).toBe(200);
    expect((await pds(token, 'GET', `/Patient/${N.jayneSmyth}`)).statusCode).toBe(403);
  });
});

describe('application-restricted access (client_credentials)', () => {
  it('Coverage is refused: 403 ACCESS_DENIED (RaiseFault.ResourceRestricted, after the PATCH check)', async () => {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion({
        key: appKey,
        apiKey: API_KEY,
        aud: `${ORIGIN}/oauth2/token`,
        nowS: NOW_S,
      }),
    });
    const answer = await server.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    });
    const token = answer.json<{ access_token: string }>().access_token;
    const read = await pds(token, 'GET', `/Coverage?subscriber:identifier=${N.janeSmith}`);
    expect(read.statusCode).toBe(403);
    expect(coding(read.body)).toMatchObject({
      code: 'ACCESS_DENIED',
      display: 'Cannot GET resource with application-restricted access token',
    });
    const search = await pds(token, 'GET', '/Patient?family=Smith&gender=female&birthdate=eq2010-10-22');
    expect(search.json()).toMatchObject({ total: 1 });
  });
});
