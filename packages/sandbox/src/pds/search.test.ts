import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDS_PREFIX, pdsTestApp, REQUEST_ID } from '../testing/pds-test-app.js';
import { SEED_NHS_NUMBERS as N } from './seed-patients.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await pdsTestApp();
});
afterAll(() => app.close());

const search = (query: string) =>
  app.inject({
    method: 'GET',
    url: `${PDS_PREFIX}/Patient?${query}`,
    headers: { 'x-request-id': REQUEST_ID },
  });
const ids = (body: string) => ((JSON.parse(body) as Bundle<Patient>).entry ?? []).map((e) => e.resource?.id);
const issue = (body: string) => (JSON.parse(body) as OperationOutcome).issue[0];

describe('GET /Patient search (specification/components/paths/patient-search.yaml)', () => {
  it('finds Jane Smith with a searchset Bundle: total, fullUrl, score 1, reduced data set', async () => {
    const res = await search('family=Smith&gender=female&birthdate=eq2010-10-22');
    expect(res.statusCode).toBe(200);
    const bundle = res.json<Bundle<Patient>>();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    const entry = bundle.entry?.[0];
    expect(entry?.fullUrl).toBe(`http://localhost:80${PDS_PREFIX}/Patient/${N.janeSmith}`);
    expect(entry?.search?.score).toBe(1);
    const patient = entry?.resource as Patient;
    expect(patient.extension?.map((e) => e.url)).toEqual([
      'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus',
    ]);
    expect(patient.address?.map((a) => a.use)).toEqual(['home']);
    expect(patient.managingOrganization).toBeUndefined();
    expect(patient.contact).toHaveLength(1);
  });

  it('matches birth date ranges given as repeated ge/le parameters, and a plain date as eq', async () => {
    expect(
      ids((await search('family=Smith&gender=female&birthdate=ge2010-10-21&birthdate=le2010-10-23')).body),
    ).toEqual([N.janeSmith]);
    expect(ids((await search('family=Smith&gender=female&birthdate=ge2010-10-23')).body)).not.toContain(
      N.janeSmith,
    );
    expect(ids((await search('family=smith&birthdate=2010-10-22&gender=female')).body)).toEqual([
      N.janeSmith,
    ]);
  });

  it('wildcards match the start of names, score below 1, and sort by score then NHS number', async () => {
    const res = await search('family=Sm*&gender=female&birthdate=eq2010-10-22');
    expect(ids(res.body)).toEqual([N.janeSmith, N.jayneSmyth]);
    expect(res.json<Bundle>().entry?.[0]?.search?.score).toBeLessThan(1);
  });

  it('rejects a wildcard in the first two characters, and wildcards with fuzzy search', async () => {
    const early = await search('family=S*&birthdate=eq2010-10-22');
    expect(early.statusCode).toBe(400);
    expect(issue(early.body)?.details?.coding?.[0]?.code).toBe('INVALID_SEARCH_DATA');
    const fuzzy = await search('family=Smi*&given=Jane&birthdate=eq2010-10-22&_fuzzy-match=true');
    expect(issue(fuzzy.body)?.diagnostics).toBe(
      "Invalid search data provided - 'A fuzzy search was requested however the data given did not meet the fuzzy search criteria'",
    );
  });

  it('filters exactly on phone and email (email case-insensitively)', async () => {
    expect(
      ids((await search('family=Sm*&gender=female&birthdate=eq2010-10-22&phone=01632960587')).body),
    ).toEqual([N.janeSmith]);
    expect(
      ids((await search('family=Sm*&birthdate=eq2010-10-22&email=JAYNE.SMYTH@example.com')).body),
    ).toEqual([N.jayneSmyth]);
    const none = await search(
      'family=Smith&gender=female&birthdate=eq2010-10-22&phone=0121111111&email=deb.trotter@example.com',
    );
    expect(none.json()).toMatchObject({ total: 0 });
    expect(none.json()).not.toHaveProperty('entry');
  });

  it('matches compound given names position by position (given=John Paul&given=James)', async () => {
    expect(
      ids(
        (await search('family=Smith&given=John%20Paul&given=James&gender=male&birthdate=eq2010-10-22')).body,
      ),
    ).toEqual([N.johnPaulSmith]);
    expect(ids((await search('family=Smith&given=James&birthdate=eq2010-10-22')).body)).toEqual([]);
  });

  it('fuzzy search matches homophones (Soundex) and transposed names, exact matches first', async () => {
    const res = await search('family=Smyth&given=Jayne&birthdate=eq2010-10-22&_fuzzy-match=true');
    const bundle = res.json<Bundle<Patient>>();
    expect(ids(res.body)).toEqual([N.jayneSmyth, N.janeSmith]);
    expect(bundle.entry?.[1]?.search?.score).toBeLessThan(1);
    expect(
      ids((await search('family=Jane&given=Smith&birthdate=eq2010-10-22&_fuzzy-match=true')).body),
    ).toContain(N.janeSmith);
    const notFuzzy = await search('family=Smyth&given=Jane&birthdate=eq2010-10-22');
    expect(bundle.entry?.[0]?.search?.score).toBe(1);
    expect(ids(notFuzzy.body)).toEqual([]);
  });

  it('fuzzy search needs one of the documented combinations', async () => {
    const res = await search('family=Smith&gender=female&birthdate=eq2010-10-22&_fuzzy-match=true');
    expect(res.statusCode).toBe(400);
    expect(issue(res.body)?.details?.coding?.[0]?.code).toBe('INVALID_SEARCH_DATA');
    const ok = await search(
      'given=Jane&gender=female&address-postalcode=LS16AE&birthdate=eq2010-10-22&_fuzzy-match=true',
    );
    // Jayne Smyth shares the address, and Jayne sounds like Jane: exact first
    expect(ids(ok.body)).toEqual([N.janeSmith, N.jayneSmyth]);
  });

  it('searches historic data only with _history (and always when fuzzy)', async () => {
    const q = 'family=Smith&gender=male&birthdate=2000-05-05&email=Historic@historic.com';
    expect(ids((await search(q)).body)).toEqual([]);
    expect(ids((await search(`${q}&_history=true`)).body)).toEqual([N.samSmithHistoric]);
  });

  it('_exact-match keeps only score 1 results', async () => {
    expect(
      ids((await search('family=KNAPP&gender=female&birthdate=1943-07-03&_exact-match=true')).body),
    ).toEqual([N.kathyKnapp]);
    expect(
      ids((await search('family=Kn*&gender=female&birthdate=1943-07-03&_exact-match=true')).body),
    ).toEqual([]);
  });

  it('answers too many matches with HTTP 200 and a TOO_MANY_MATCHES OperationOutcome', async () => {
    const res = await search('family=Sm*&gender=female&birthdate=eq2010-10-22&_max-results=1');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'information',
          code: 'multiple-matches',
          details: {
            coding: [
              {
                system: 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode',
                version: '1',
                code: 'TOO_MANY_MATCHES',
                display: 'Too Many Matches',
              },
            ],
          },
        },
      ],
    });
  });

  it('returns restricted patients without location data, and never for postcode or GP searches', async () => {
    const res = await search('family=Smythe&given=Janet&gender=female&birthdate=eq2005-06-16');
    const patient = res.json<Bundle<Patient>>().entry?.[0]?.resource;
    expect(patient?.id).toBe(N.restricted);
    for (const field of ['address', 'telecom', 'generalPractitioner', 'contact'])
      expect(patient).not.toHaveProperty(field);
    expect(
      ids((await search('family=Smythe&birthdate=eq2005-06-16&general-practitioner=Y12345')).body),
    ).toEqual([]);
    expect(
      ids((await search('family=Smythe&birthdate=eq2005-06-16&address-postalcode=LS17 9LF')).body),
    ).toEqual([]);
  });

  it('never returns invalidated records; superseded ones come back as the superseding record', async () => {
    expect(ids((await search('family=Bentley&birthdate=eq1950-02-14')).body)).toEqual([]);
    expect(ids((await search('family=Cuff&gender=female&birthdate=eq1926-01-07')).body)).toEqual([
      N.cuffSuperseding,
    ]);
  });

  it('ignores spaces and case in postcodes, and supports postcode wildcards', async () => {
    expect(
      ids((await search('family=Smith&gender=female&birthdate=eq2010-10-22&address-postalcode=ls16ae')).body),
    ).toEqual([N.janeSmith]);
    expect(
      ids((await search('family=Smith&gender=female&birthdate=eq2010-10-22&address-postcode=LS1*')).body),
    ).toEqual([N.janeSmith]);
  });

  it.each([
    ['', 'UNSUPPORTED_SERVICE', undefined],
    [
      'family=Smith&gender=mal&birthdate=eq2010-10-22',
      'INVALID_VALUE',
      "Invalid value - 'mal' in field 'gender'",
    ],
    ['family=Smith&birthdate=20101022', 'INVALID_VALUE', "Invalid value - '20101022' in field 'birthdate'"],
    [
      'family=Smith&birthdate=2010-10-22&death-date=20101022',
      'INVALID_VALUE',
      "Invalid value - '20101022' in field 'death-date'",
    ],
    [
      'family=Smith&birthdate=2010-13-40',
      'INVALID_VALUE',
      "Invalid value - '2010-13-40' in field 'birthdate'",
    ],
    [
      'family=Smith&birthdate=2010-10-22&_max-results=51',
      'INVALID_VALUE',
      "Invalid value - '51' in field '_max-results'",
    ],
    [
      'family=Smith&birthdate=2010-10-22&_fuzzy-match=yes',
      'INVALID_VALUE',
      "Invalid value - 'yes' in field '_fuzzy-match'",
    ],
    [
      'family=Sm*&invalidParam=123&birthdate=eq2010-10-22',
      'ADDITIONAL_PROPERTIES',
      "Invalid request with error - Additional properties are not allowed ('invalidParam' was unexpected)",
    ],
    [
      'email=j.smith@example.com&phone=0163',
      'MISSING_VALUE',
      "Missing value - 'birth_date/birth_date_range_start/birth_date_range_end'",
    ],
    [
      'given=Jane&birthdate=2010-10-22',
      'INVALID_SEARCH_DATA',
      "Invalid search data provided - 'No searches were performed as the search criteria did not meet the minimum requirements'",
    ],
  ])('rejects %j with 400 %s', async (query, code, diagnostics) => {
    const res = await search(query);
    expect(res.statusCode).toBe(400);
    expect(issue(res.body)?.details?.coding?.[0]?.code).toBe(code);
    if (diagnostics) expect(issue(res.body)?.diagnostics).toBe(diagnostics);
  });

  it('rejects address-postcode together with address-postalcode (INVALID_SEARCH_DATA)', async () => {
    const res = await search(
      'family=Smith&birthdate=2010-10-22&address-postcode=LS1 6AE&address-postalcode=LS1 6AE',
    );
    expect(res.statusCode).toBe(400);
    expect(issue(res.body)?.details?.coding?.[0]?.code).toBe('INVALID_SEARCH_DATA');
  });
});
