import { OperationOutcomeError } from '@junction/core';
import type { Caller } from './access.js';

export interface DateCriterion {
  op: 'eq' | 'ge' | 'le';
  date: string;
}

/** A validated `GET /Patient` query (specification/components/paths/patient-search.yaml). */
export interface PatientSearchQuery {
  family?: string;
  given: string[];
  gender?: 'male' | 'female' | 'other' | 'unknown';
  birthdate: DateCriterion[];
  deathDate: DateCriterion[];
  postalCode?: string;
  /** Whether a postcode or GP parameter was sent: restricted patients are then never returned. */
  locationSearch: boolean;
  generalPractitioner?: string;
  email?: string;
  phone?: string;
  fuzzy: boolean;
  exact: boolean;
  history: boolean;
  maxResults: number;
}

/** The parameters PDS knows; `history` (no underscore) is accepted as NHS's sandbox does (get-patient-search.js VALID_PARAMS). */
const KNOWN = new Set([
  '_fuzzy-match',
  '_exact-match',
  '_history',
  'history',
  '_max-results',
  'family',
  'given',
  'gender',
  'birthdate',
  'death-date',
  'address-postcode',
  'address-postalcode',
  'general-practitioner',
  'email',
  'phone',
]);
const REPEATABLE = new Set(['given', 'birthdate', 'death-date']);
const GENDERS = new Set(['male', 'female', 'other', 'unknown']);
const NAME_MAX_LENGTH = 35;
const MAX_RESULTS_LIMIT = 50;
const DATE = /^(eq|ge|le)?(\d{4}-\d{2}-\d{2})$/;

const invalidValue = (value: string, field: string) =>
  OperationOutcomeError.spine('INVALID_VALUE', {
    diagnostics: `Invalid value - '${value}' in field '${field}'`,
  });
const invalidSearch = (reason: string) =>
  OperationOutcomeError.spine('INVALID_SEARCH_DATA', {
    diagnostics: `Invalid search data provided - '${reason}'`,
  });

export const MINIMUM_NOT_MET =
  'No searches were performed as the search criteria did not meet the minimum requirements';
export const FUZZY_NOT_MET =
  'A fuzzy search was requested however the data given did not meet the fuzzy search criteria';

/**
 * Validates a search query in the order NHS's sandbox does (karate-tests/.../sandbox/get-patient-search.js
 * `validateQueryParams`): no parameters, unknown parameters, values, then the required combinations.
 */
export function parsePatientSearch(rawQuery: string, caller: Caller): PatientSearchQuery {
  const params = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    if (name === '') continue; // `&=` as in the Postman collection's "Invalid date format" request
    params.set(name, [...(params.get(name) ?? []), value]);
  }
  if (params.size === 0) throw OperationOutcomeError.spine('UNSUPPORTED_SERVICE');

  const unknown = [...params.keys()].filter((name) => !KNOWN.has(name));
  if (unknown.length > 0) {
    const list = unknown.map((name) => `'${name}'`).join(', ');
    throw OperationOutcomeError.spine('ADDITIONAL_PROPERTIES', {
      diagnostics: `Invalid request with error - Additional properties are not allowed (${list} ${unknown.length === 1 ? 'was' : 'were'} unexpected)`,
    });
  }

  const single = (name: string): string | undefined => {
    const values = params.get(name);
    if (!values) return undefined;
    if (values.length > 1 && !REPEATABLE.has(name)) throw invalidValue(values.join(','), name);
    return values[0];
  };
  const bool = (name: string): boolean => {
    const value = single(name);
    if (value === undefined) return false;
    if (value !== 'true' && value !== 'false') throw invalidValue(value, name);
    return value === 'true';
  };

  const birthdate = dates(params.get('birthdate') ?? [], 'birthdate');
  const deathDate = dates(params.get('death-date') ?? [], 'death-date');

  const gender = single('gender');
  if (gender !== undefined && !GENDERS.has(gender)) throw invalidValue(gender, 'gender');
  const family = single('family');
  if (family !== undefined && (family.trim() === '' || family.length > NAME_MAX_LENGTH))
    throw invalidValue(family, 'family');
  const given = params.get('given') ?? [];
  for (const name of given)
    if (name.trim() === '' || name.length > NAME_MAX_LENGTH) throw invalidValue(name, 'given');

  const maxResultsText = single('_max-results');
  let maxResults = caller.accessMode === 'application-restricted' ? 1 : MAX_RESULTS_LIMIT;
  if (maxResultsText !== undefined) {
    const value = /^\d+$/.test(maxResultsText) ? Number(maxResultsText) : Number.NaN;
    if (caller.accessMode === 'application-restricted' && value !== 1) {
      // proxies/live/apiproxy/policies/RaiseFault.MaxResultsInvalidAppRestricted.xml
      throw OperationOutcomeError.spine('INVALID_VALUE', {
        status: 403,
        display: 'Cannot retrieve more than one result with application-restricted access token',
        diagnostics: 'Your app has insufficient permissions to perform this search. Please contact support.',
      });
    }
    if (!(value >= 1 && value <= MAX_RESULTS_LIMIT)) throw invalidValue(maxResultsText, '_max-results');
    maxResults = value;
  }

  const fuzzy = bool('_fuzzy-match');
  const exact = bool('_exact-match');
  const history = bool('_history') || bool('history');

  const postalcode = single('address-postalcode');
  const postcode = single('address-postcode');
  if (postalcode !== undefined && postcode !== undefined) {
    // personal-demographics.yaml AddressPostcode: "If both … are provided, an INVALID_SEARCH_DATA error will be returned."
    throw invalidSearch(
      'address-postcode and address-postalcode cannot both be supplied; use address-postalcode',
    );
  }
  const postalCode = postalcode ?? postcode;
  const generalPractitioner = single('general-practitioner');

  const query: PatientSearchQuery = {
    given,
    birthdate,
    deathDate,
    locationSearch: postalCode !== undefined || generalPractitioner !== undefined,
    fuzzy,
    exact,
    history: history || fuzzy,
    maxResults,
  };
  if (family !== undefined) query.family = family;
  if (gender !== undefined) query.gender = gender as NonNullable<PatientSearchQuery['gender']>;
  if (postalCode !== undefined) query.postalCode = postalCode;
  if (generalPractitioner !== undefined) query.generalPractitioner = generalPractitioner;
  const email = single('email');
  const phone = single('phone');
  if (email !== undefined) query.email = email;
  if (phone !== undefined) query.phone = phone;

  checkWildcards(query);
  checkRequired(query);
  return query;
}

function dates(values: string[], field: string): DateCriterion[] {
  const criteria = values.map((value) => {
    const match = DATE.exec(value);
    const date = match?.[2];
    if (!match || !date || !isRealDate(date)) throw invalidValue(value, field);
    return { op: (match[1] ?? 'eq') as DateCriterion['op'], date };
  });
  // a range is one ge and one le (patient-search.yaml Birthdate): anything more says nothing sensible
  if (criteria.length > 2) throw invalidSearch(`Too many '${field}' values were supplied`);
  return criteria;
}

function isRealDate(date: string): boolean {
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date);
}

/** `*` is allowed in names and postcode, never in the first two characters, never with fuzzy matching. */
function checkWildcards(query: PatientSearchQuery): void {
  const wildcarded = [
    ['family', query.family],
    ...query.given.map((given) => ['given', given] as const),
    ['address-postalcode', query.postalCode],
  ] as const;
  for (const [field, value] of wildcarded) {
    if (value === undefined || !value.includes('*')) continue;
    if (query.fuzzy) throw invalidSearch(FUZZY_NOT_MET);
    if (value.replace(/\s/g, '').indexOf('*') < 2) {
      throw invalidSearch(`Wildcard in '${field}' must be preceded by at least two characters`);
    }
  }
}

/**
 * Non-fuzzy search needs family and birthdate; fuzzy needs {given, family, birthdate},
 * {family, birthdate, gender, postcode} or {given, birthdate, gender, postcode} (patient-search.yaml).
 * A missing birth date is MISSING_VALUE, the rest INVALID_SEARCH_DATA (get-patient-search.js `validateRequiredFields`).
 */
function checkRequired(query: PatientSearchQuery): void {
  if (query.birthdate.length === 0) {
    throw OperationOutcomeError.spine('MISSING_VALUE', {
      diagnostics: "Missing value - 'birth_date/birth_date_range_start/birth_date_range_end'",
    });
  }
  if (!query.fuzzy) {
    if (query.family === undefined) throw invalidSearch(MINIMUM_NOT_MET);
    return;
  }
  const has = {
    given: query.given.length > 0,
    family: query.family !== undefined,
    gender: query.gender !== undefined,
    postcode: query.postalCode !== undefined,
  };
  const combination =
    (has.given && has.family) ||
    (has.family && has.gender && has.postcode) ||
    (has.given && has.gender && has.postcode);
  if (!combination) throw invalidSearch(FUZZY_NOT_MET);
}
