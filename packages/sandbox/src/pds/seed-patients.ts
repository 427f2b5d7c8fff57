import { buildPatient } from './patient-builder.js';
import type { PatientRecord } from './patient-store.js';
import {
  INT_TEST_NHS_NUMBERS,
  JANE_SMITH,
  JANE_SMITH_COVERAGE,
  JANE_SMITH_RELATED_PEOPLE,
  JANET_SMYTHE_RESTRICTED,
  JAYNE_SMYTH,
  JAYNE_SMYTH_RELATED_PEOPLE,
  JOHN_PAUL_SMITH,
  KATHY_KNAPP,
  MINIMAL,
  SAM_SMITH_HISTORIC,
} from './seed-examples.js';

/** NHS numbers of the seed records, for tests and docs. 9111231130 is valid and deliberately absent. */
export const SEED_NHS_NUMBERS = {
  janeSmith: '9000000009',
  jayneSmyth: '9000000017',
  restricted: '9000000025',
  minimal: '9000000033',
  notFound: '9111231130',
  invalid: '9000000000',
  johnPaulSmith: '9999900003',
  kathyKnapp: INT_TEST_NHS_NUMBERS.kathyKnapp,
  samSmithHistoric: INT_TEST_NHS_NUMBERS.samSmithHistoric,
  mcMatchSingle: '9999900046',
  mcMatchMultiple1: '9999900054',
  mcMatchMultiple2: '9999900062',
  cuffSuperseded: '9999900070',
  cuffSuperseding: '9999900089',
  invalidated: '9999900097',
} as const;

/**
 * The sandbox's scenario patients (see seed-examples.ts for where each comes from). The published
 * INT test patients the Postman collection names are seeded as published; the other scenarios NHS
 * documents with INT numbers are rebuilt with 999-range numbers and the same demographics:
 * karate-mock/stubs/searchResponses/cuff_superseded_searchset.json and the create scenarios of
 * karate-tests/.../sandbox/post-patient.js.
 */
export function seedPatientRecords(): PatientRecord[] {
  const n = SEED_NHS_NUMBERS;
  const records: PatientRecord[] = [
    {
      nhsNumber: n.janeSmith,
      patient: structuredClone(JANE_SMITH),
      state: 'active',
      relatedPersons: structuredClone(JANE_SMITH_RELATED_PEOPLE),
      coverage: { versionId: 2, entries: [structuredClone(JANE_SMITH_COVERAGE)] },
    },
    {
      nhsNumber: n.jayneSmyth,
      patient: structuredClone(JAYNE_SMYTH),
      state: 'active',
      relatedPersons: structuredClone(JAYNE_SMYTH_RELATED_PEOPLE),
    },
    { nhsNumber: n.restricted, patient: structuredClone(JANET_SMYTHE_RESTRICTED), state: 'active' },
    // "an empty bundle, alongside a meta object" (personal-demographics.yaml SubscriberIdentifier)
    {
      nhsNumber: n.minimal,
      patient: structuredClone(MINIMAL),
      state: 'active',
      coverage: { versionId: 1, entries: [] },
    },
    { nhsNumber: n.johnPaulSmith, patient: structuredClone(JOHN_PAUL_SMITH), state: 'active' },
    { nhsNumber: n.kathyKnapp, patient: structuredClone(KATHY_KNAPP), state: 'active' },
    {
      nhsNumber: n.samSmithHistoric,
      patient: structuredClone(SAM_SMITH_HISTORIC),
      state: 'active',
      // What PDS holds beyond the published resource, so that `_history=true&email=Historic@historic.com`
      // finds him (karate-tests/.../sandbox/get-patient-search.js "Include history flag for non fuzzy search").
      history: { emails: ['Historic@historic.com'], phones: ['0121000111'], postalCodes: ['DN17 1BX'] },
    },
    active(n.mcMatchSingle, createScenario('Jane', 'McMatch-Single', 'BAP 4WG')),
    active(n.mcMatchMultiple1, createScenario('Louisa', 'McMatch-Multiple', 'DN19 7UD')),
    active(n.mcMatchMultiple2, createScenario('Louisa', 'McMatch-Multiple', 'DN19 7UD')),
    {
      ...active(n.cuffSuperseded, cuff()),
      state: 'superseded',
      supersededBy: n.cuffSuperseding,
    },
    active(n.cuffSuperseding, cuff()),
    {
      ...active(n.invalidated, {
        given: ['Harold'],
        family: 'Bentley',
        gender: 'male',
        birthDate: '1950-02-14',
        address: {
          lines: ['9 Mill Street', 'Barton-upon-Humber'],
          postalCode: 'DN18 5AB',
          since: '2001-01-01',
        },
      }),
      state: 'invalidated',
    },
  ];
  return records;
}

function active(
  nhsNumber: string,
  facts: Omit<Parameters<typeof buildPatient>[0], 'nhsNumber'>,
): PatientRecord {
  return { nhsNumber, patient: buildPatient({ nhsNumber, versionId: 2, ...facts }), state: 'active' };
}

function createScenario(given: string, family: string, postalCode: string) {
  return {
    prefix: 'Mrs',
    given: [given],
    family,
    gender: 'female' as const,
    birthDate: '1982-07-10',
    address: { lines: ['1 Trevelyan Square', 'Boar Lane', 'Leeds'], postalCode, since: '2020-01-01' },
  };
}

function cuff() {
  return {
    prefix: 'Mrs',
    given: ['Jane'],
    family: 'Cuff',
    gender: 'female' as const,
    birthDate: '1926-01-07',
    address: { lines: ['2 Brigg Road', 'Barnetby'], postalCode: 'DN20 0PQ', since: '1955-06-09' },
  };
}
