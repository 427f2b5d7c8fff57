import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { PatientStore } from './patient-store.js';
import { type Match, searchResult } from './search.js';
import type { PatientSearchQuery } from './search-params.js';
import { INT_TEST_NHS_NUMBERS } from './seed-examples.js';
import { SEED_NHS_NUMBERS as N } from './seed-patients.js';

/*
 * NHS's public PDS sandbox is a scenario-driven mock: it answers the searches it publishes with fixed
 * patients, whatever a real search would find. Stateless mode emulates it, so these scenarios are
 * consulted (after validation) before the real search engine; a query no scenario covers falls
 * through to the engine. Stateful mode never reads this table.
 *
 * Sources, in NHSDigital/personal-demographics-service-api at the commit in reference/SOURCES.md:
 *  - karate-tests/src/test/java/mocks/sandbox/get-patient-search.js `matchCases` (cited as `gps.js:<line>`),
 *    the mock NHS's sandbox runs, with scores from karate-tests/.../sandbox/stubs.js;
 *  - the "Sandbox testing" table in specification/components/paths/patient-search.yaml (`spec:` + row name).
 * The mock leaves some fields open (e.g. "any fuzzy search without phone or email"); here each
 * scenario also pins the family name and birth date of the published request, so that searches for
 * other patients still reach the real engine. Scenarios answering INT patients Junction does not seed
 * (Jones, Godsoe, Massam, YOUDS, Garton, Attison, Casey MED/HUME, Muir, TUNNEY, ...) are left out.
 */

/** Accepted values of one query field; `undefined` in the list accepts the field's absence. */
type Accept = readonly (string | undefined)[] | 'present';

export interface NhsSandboxScenario {
  /** NHS's name for the scenario (the mock's comment, the spec's row or the Postman request). */
  name: string;
  source: string;
  when: {
    /** Compared case-insensitively (the mock lists `Smith`/`smith`, `KNAPP`/`Knapp`/`knapp`). */
    family: readonly string[];
    /** Given names by position, case-insensitively. */
    given?: readonly string[];
    gender?: PatientSearchQuery['gender'];
    /** Birth date criteria as sent, `eq` optional (`ge2010-10-21,le2010-10-23` for a range). */
    birthdate: readonly string[];
    phone?: Accept;
    email?: Accept;
    /** Whether `_fuzzy-match`, `_history` (or `history`), `_exact-match` are true; unset: either. */
    fuzzy?: boolean;
    history?: boolean;
    exact?: boolean;
    /** `_max-results` below 2 (`Number.parseInt(params.maxResults) < 2` in the mock). */
    maxResultsOne?: boolean;
    /** Whether address-postcode/postalcode or general-practitioner were sent. */
    locationSearch?: boolean;
  };
  /** NHS numbers of the seeded patients answered, best first, and the score the mock gives them. */
  answer: { nhsNumbers: readonly string[]; score: number };
}

const JANE_SMITH_DOB = ['2010-10-22'];
const NONE = { nhsNumbers: [], score: 1 } as const;

/** First match wins, as in the mock's `matchCases.find`. */
export const NHS_SANDBOX_SCENARIOS: readonly NhsSandboxScenario[] = [
  {
    name: 'Fuzzy search (spec: Fuzzy search without phone or email)',
    source: 'gps.js:201-205; stubs.js FUZZY_SEARCH_PATIENT_17',
    when: {
      fuzzy: true,
      family: ['Smith'],
      given: ['Jane'],
      gender: 'female',
      birthdate: JANE_SMITH_DOB,
      phone: [undefined],
      email: [undefined],
    },
    answer: { nhsNumbers: [N.jayneSmyth], score: 0.8976 },
  },
  {
    name: 'Fuzzy search including phone',
    source: 'gps.js:206-210',
    when: {
      fuzzy: true,
      family: ['Smith'],
      given: ['Jane'],
      birthdate: JANE_SMITH_DOB,
      phone: ['01632960587'],
      email: [undefined],
    },
    answer: { nhsNumbers: [N.janeSmith], score: 0.9124 },
  },
  {
    name: 'Fuzzy search including email',
    source: 'gps.js:211-215',
    when: {
      fuzzy: true,
      family: ['Smith'],
      given: ['Jane'],
      birthdate: JANE_SMITH_DOB,
      phone: [undefined],
      email: ['jane.smith@example.com'],
    },
    answer: { nhsNumbers: [N.janeSmith], score: 0.9124 },
  },
  {
    name: 'Fuzzy search including phone and email (spec: Fuzzy search with phone and email)',
    source: 'gps.js:216-220',
    when: {
      fuzzy: true,
      family: ['Smith'],
      given: ['Jane'],
      birthdate: JANE_SMITH_DOB,
      phone: ['01632960587'],
      email: ['jane.smith@example.com'],
    },
    answer: { nhsNumbers: [N.janeSmith], score: 0.9542 },
  },
  {
    name: 'Include history flag for non fuzzy search',
    source: 'gps.js:221-226; stubs/searchResponses/historic_email_searchset.json',
    when: {
      history: true,
      family: ['Smith'],
      gender: 'male',
      birthdate: ['2000-05-05'],
      email: ['Historic@historic.com'],
    },
    answer: { nhsNumbers: [N.samSmithHistoric], score: 1 },
  },
  {
    name: 'Exclude history flag for non fuzzy search',
    source: 'gps.js:227-232',
    when: {
      history: false,
      family: ['Smith'],
      gender: 'male',
      birthdate: ['2000-05-05'],
      email: ['Historic@historic.com'],
    },
    answer: NONE,
  },
  {
    // with `_max-results=1` the two matches give TOO_MANY_MATCHES ("Search with limited results", gps.js:255-259)
    name: 'Wildcard search (spec: Wildcard search without phone/email)',
    source: 'gps.js:250-254; stubs.js WILDCARD_SEARCH',
    when: { family: ['Sm*'], birthdate: JANE_SMITH_DOB, phone: [undefined], email: [undefined] },
    answer: { nhsNumbers: [N.janeSmith, N.jayneSmyth], score: 0.8343 },
  },
  {
    name: 'Search with limited results inc phone',
    source: 'gps.js:260-264',
    when: {
      family: ['Sm*'],
      birthdate: JANE_SMITH_DOB,
      phone: 'present',
      email: [undefined],
      maxResultsOne: true,
    },
    answer: { nhsNumbers: [N.janeSmith], score: 1 },
  },
  {
    name: 'Search with limited results inc email',
    source: 'gps.js:265-269',
    when: {
      family: ['Sm*'],
      birthdate: JANE_SMITH_DOB,
      phone: [undefined],
      email: 'present',
      maxResultsOne: true,
    },
    answer: { nhsNumbers: [N.janeSmith], score: 1 },
  },
  {
    name: 'Wildcard search including phone and/or email (spec: Wildcard search with email and phone)',
    source: 'gps.js:270-284',
    when: {
      family: ['Sm*'],
      birthdate: JANE_SMITH_DOB,
      phone: [undefined, '01632960587'],
      email: [undefined, 'jane.smith@example.com'],
    },
    answer: { nhsNumbers: [N.janeSmith], score: 1 },
  },
  {
    name: 'Wildcard search with the restricted patient’s email',
    source: 'gps.js:285-289',
    when: { family: ['Sm*'], birthdate: JANE_SMITH_DOB, email: ['janet.smythe@example.com'] },
    answer: { nhsNumbers: [N.janeSmith], score: 1 },
  },
  {
    // Spine never returns a restricted patient to a postcode or GP search (patient-search.yaml)
    name: 'Restricted (sensitive) patient search',
    source: 'gps.js:296-300; stubs/searchResponses/search_patient_9000000025.json',
    when: { family: ['Smythe'], birthdate: ['2005-06-16'], locationSearch: false },
    answer: { nhsNumbers: [N.restricted], score: 1 },
  },
  {
    name: 'Search with date range, Basic search, Basic search including phone',
    source: 'gps.js:301-307; stubs.js SIMPLE_SEARCH',
    when: {
      family: ['Smith'],
      gender: 'female',
      birthdate: ['2010-10-22', 'ge2010-10-21,le2010-10-23'],
      phone: [undefined, '01632960587'],
      email: [undefined, 'jane.smith@example.com'],
    },
    answer: { nhsNumbers: [N.janeSmith], score: 1 },
  },
  {
    name: 'Compound name search',
    source: 'gps.js:308-313; stubs/searchResponses/john_paul_smith_searchset.json',
    when: { family: ['Smith'], gender: 'male', given: ['John Paul', 'James'], birthdate: JANE_SMITH_DOB },
    answer: { nhsNumbers: [N.johnPaulSmith], score: 1 },
  },
  {
    name: 'Basic search with phone & email negative',
    source: 'gps.js:393-398',
    when: {
      family: ['Smith'],
      gender: 'female',
      birthdate: JANE_SMITH_DOB,
      phone: ['0121111111'],
      email: ['deb.trotter@example.com'],
    },
    answer: NONE,
  },
  {
    name: 'Search on family name and DoB - No results',
    source: 'gps.js:399-403',
    when: { family: ['Spiderman', 'Bingham'], birthdate: ['1962-07-31', '1934-12-18'] },
    answer: NONE,
  },
  {
    name: 'Include exact match flag for non fuzzy search',
    source: 'gps.js:404-409; stubs/searchResponses/knap_kathy_exact_match.json',
    when: { exact: true, family: ['KNAPP'], gender: 'female', birthdate: ['1943-07-03'] },
    answer: { nhsNumbers: [N.kathyKnapp], score: 1 },
  },
  {
    name: 'Exclude exact match flag for non fuzzy search',
    source: 'gps.js:410-415',
    when: { exact: false, family: ['KNAPP'], gender: 'female', birthdate: ['1943-07-03'] },
    answer: NONE,
  },
];

/**
 * The NHS number NHS's sandbox gives every patient it creates (post-patient.js `initializePatientData`);
 * stateless mode allocates it too, since it keeps nothing.
 */
export const NHS_SANDBOX_ALLOCATED_NHS_NUMBER: string = INT_TEST_NHS_NUMBERS.sandboxAllocated;

/** The first scenario covering a validated query, if any. */
export function findNhsSandboxScenario(query: PatientSearchQuery): NhsSandboxScenario | undefined {
  return NHS_SANDBOX_SCENARIOS.find((scenario) => covers(scenario.when, query));
}

/**
 * Answers a query as NHS's public sandbox does, or undefined when no scenario covers it. The answer
 * goes through the same rendering as a real search: search view, `_max-results` (TOO_MANY_MATCHES).
 */
export function answerNhsSandboxScenario(
  store: PatientStore,
  query: PatientSearchQuery,
  options: { baseUrl: string; now: Date },
): Bundle<Patient> | OperationOutcome | undefined {
  const scenario = findNhsSandboxScenario(query);
  if (!scenario) return undefined;
  const matches: Match[] = [];
  for (const nhsNumber of scenario.answer.nhsNumbers) {
    const resolved = store.resolve(nhsNumber);
    if (resolved.kind === 'found') matches.push({ record: resolved.record, score: scenario.answer.score });
  }
  return searchResult(matches, query.maxResults, options);
}

function covers(when: NhsSandboxScenario['when'], query: PatientSearchQuery): boolean {
  const fold = (text: string) => text.toLowerCase();
  if (query.family === undefined || !when.family.map(fold).includes(fold(query.family))) return false;
  if (
    when.given &&
    !when.given.every((name, i) => query.given[i] !== undefined && fold(query.given[i]) === fold(name))
  )
    return false;
  if (when.gender !== undefined && query.gender !== when.gender) return false;
  const birthdate = query.birthdate.map(({ op, date }) => (op === 'eq' ? date : `${op}${date}`)).join(',');
  if (!when.birthdate.includes(birthdate)) return false;
  if (!accepts(when.phone, query.phone) || !accepts(when.email, query.email)) return false;
  if (when.fuzzy !== undefined && query.fuzzy !== when.fuzzy) return false;
  if (when.history !== undefined && query.history !== when.history) return false;
  if (when.exact !== undefined && query.exact !== when.exact) return false;
  if (when.maxResultsOne !== undefined && (query.maxResults === 1) !== when.maxResultsOne) return false;
  if (when.locationSearch !== undefined && query.locationSearch !== when.locationSearch) return false;
  return true;
}

function accepts(accept: Accept | undefined, value: string | undefined): boolean {
  if (accept === undefined) return true;
  if (accept === 'present') return value !== undefined;
  return accept.includes(value);
}
