import { describe, expect, it } from 'vitest';
import { toPdsQuery } from './search-params.js';

describe('toPdsQuery (patient-search.yaml parameter names)', () => {
  it('repeats array values and stringifies booleans and numbers', () => {
    expect(
      toPdsQuery({
        given: ['A', 'B'],
        birthdate: ['ge2000-01-01', 'le2000-12-31'],
        fuzzyMatch: true,
        maxResults: 10,
      }),
    ).toEqual([
      ['given', 'A'],
      ['given', 'B'],
      ['birthdate', 'ge2000-01-01'],
      ['birthdate', 'le2000-12-31'],
      ['_fuzzy-match', 'true'],
      ['_max-results', '10'],
    ]);
  });

  it('sends false booleans (an explicit choice) and nothing for absent ones', () => {
    expect(toPdsQuery({ history: false })).toEqual([['_history', 'false']]);
    expect(toPdsQuery({})).toEqual([]);
  });
});
