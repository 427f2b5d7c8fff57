import type { PdsSearchParams } from '@junction/client';
import { OperationOutcomeError } from '@junction/core';

/**
 * Validates a hub trace query and maps it to the client's `PdsSearchParams`. Names and rules are
 * those of the PDS spec (`components/paths/patient-search.yaml`); errors are PDS's own codes so a
 * product sees the same answer from the hub as from PDS.
 */
export type RawQuery = Record<string, string | string[] | undefined>;

const REPEATABLE = new Set(['given', 'birthdate', 'death-date']);
const KNOWN = new Set([
  'family',
  'given',
  'gender',
  'birthdate',
  'death-date',
  'address-postalcode',
  'address-postcode',
  'general-practitioner',
  'email',
  'phone',
  '_fuzzy-match',
  '_exact-match',
  '_history',
  '_max-results',
]);
const GENDERS = ['male', 'female', 'other', 'unknown'] as const;
const DATE_SEARCH = /^(eq|ge|le)?\d{4}-\d{2}-\d{2}$/;
const MAX_RESULTS_LIMIT = 50;

/** Query parameters that make PDS (and the hub) leave restricted patients out of the results. */
export const LOCATION_PARAMS = ['address-postalcode', 'address-postcode', 'general-practitioner'] as const;

export function parsePatientSearchQuery(query: RawQuery): PdsSearchParams {
  const names = Object.keys(query).filter((k) => query[k] !== undefined);
  if (names.length === 0) {
    throw OperationOutcomeError.spine('UNSUPPORTED_SERVICE', {
      diagnostics: 'No search parameters provided',
    });
  }
  for (const name of names) {
    if (!KNOWN.has(name)) {
      throw OperationOutcomeError.spine('ADDITIONAL_PROPERTIES', {
        diagnostics: `Invalid parameter - '${name}' is not a supported search parameter`,
      });
    }
  }
  const values = (name: string): string[] => {
    const v = query[name];
    if (v === undefined) return [];
    const list = Array.isArray(v) ? v : [v];
    if (list.length > 1 && !REPEATABLE.has(name)) {
      throw OperationOutcomeError.spine('INVALID_SEARCH_DATA', {
        diagnostics: `Invalid search data provided - '${name}' may only be given once`,
      });
    }
    for (const item of list) {
      if (item.trim() === '') {
        throw OperationOutcomeError.spine('MISSING_VALUE', {
          diagnostics: `Missing value - '${name}' is empty`,
        });
      }
    }
    return list;
  };
  const one = (name: string): string | undefined => values(name)[0];
  const invalid = (name: string, value: string): never => {
    throw OperationOutcomeError.spine('INVALID_VALUE', {
      diagnostics: `Invalid value - '${value}' in field '${name}'`,
    });
  };
  const bool = (name: string): boolean | undefined => {
    const v = one(name);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') invalid(name, v);
    return v === 'true';
  };
  const dates = (name: string): string[] => {
    const list = values(name);
    for (const d of list)
      if (!DATE_SEARCH.test(d) || Number.isNaN(Date.parse(d.replace(/^\D+/, '')))) invalid(name, d);
    return list;
  };

  const params: PdsSearchParams = {};
  const family = one('family');
  if (family !== undefined) params.family = family;
  const given = values('given');
  if (given.length > 0) params.given = given.length === 1 ? (given[0] as string) : given;
  const gender = one('gender');
  if (gender !== undefined) {
    const g = GENDERS.find((x) => x === gender);
    if (g === undefined) invalid('gender', gender);
    else params.gender = g;
  }
  const birthdate = dates('birthdate');
  if (birthdate.length > 0) params.birthdate = birthdate.length === 1 ? (birthdate[0] as string) : birthdate;
  const deathDate = dates('death-date');
  if (deathDate.length > 0) params.deathDate = deathDate.length === 1 ? (deathDate[0] as string) : deathDate;
  const postalcode = one('address-postalcode');
  const postcode = one('address-postcode');
  if (postalcode !== undefined && postcode !== undefined) {
    throw OperationOutcomeError.spine('INVALID_SEARCH_DATA', {
      diagnostics:
        "Invalid search data provided - 'address-postcode' and 'address-postalcode' cannot both be given",
    });
  }
  // `address-postcode` is deprecated: accepted from products, sent on as `address-postalcode`.
  const postal = postalcode ?? postcode;
  if (postal !== undefined) params.postalCode = postal;
  const gp = one('general-practitioner');
  if (gp !== undefined) params.generalPractitioner = gp;
  const email = one('email');
  if (email !== undefined) params.email = email;
  const phone = one('phone');
  if (phone !== undefined) params.phone = phone;
  const fuzzy = bool('_fuzzy-match');
  if (fuzzy !== undefined) params.fuzzyMatch = fuzzy;
  const exact = bool('_exact-match');
  if (exact !== undefined) params.exactMatch = exact;
  const history = bool('_history');
  if (history !== undefined) params.history = history;
  const max = one('_max-results');
  if (max !== undefined) {
    const n = Number(max);
    if (!/^\d+$/.test(max) || n < 1 || n > MAX_RESULTS_LIMIT) invalid('_max-results', max);
    params.maxResults = n;
  }
  return params;
}

/** Whether the search names a location, so restricted patients must not be returned at all. */
export function searchesByLocation(params: PdsSearchParams): boolean {
  return params.postalCode !== undefined || params.generalPractitioner !== undefined;
}
