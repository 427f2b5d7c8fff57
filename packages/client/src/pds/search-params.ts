import type { PdsSearchParams } from './types.js';

/**
 * Maps typed search parameters to PDS query pairs, in a stable order, repeating `given`,
 * `birthdate` and `death-date` when given several values. Booleans are sent as `true`/`false`.
 *
 * @example
 * toPdsQuery({ family: 'Smith', given: ['John Paul', 'James'], fuzzyMatch: true });
 * // [['family','Smith'], ['given','John Paul'], ['given','James'], ['_fuzzy-match','true']]
 */
export function toPdsQuery(params: PdsSearchParams): Array<[string, string]> {
  const query: Array<[string, string]> = [];
  const add = (name: string, value: string | string[] | boolean | number | undefined) => {
    if (value === undefined) return;
    for (const v of Array.isArray(value) ? value : [value]) query.push([name, String(v)]);
  };
  add('family', params.family);
  add('given', params.given);
  add('gender', params.gender);
  add('birthdate', params.birthdate);
  add('death-date', params.deathDate);
  add('address-postalcode', params.postalCode);
  add('general-practitioner', params.generalPractitioner);
  add('email', params.email);
  add('phone', params.phone);
  add('_fuzzy-match', params.fuzzyMatch);
  add('_exact-match', params.exactMatch);
  add('_history', params.history);
  add('_max-results', params.maxResults);
  return query;
}
