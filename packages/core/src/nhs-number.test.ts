import { describe, expect, it } from 'vitest';
import {
  formatNhsNumber,
  isSyntheticNhsNumber,
  isValidNhsNumber,
  nhsNumberCheckDigit,
  normaliseNhsNumber,
  parseNhsNumber,
  syntheticNhsNumber,
  syntheticNhsNumbers,
} from './nhs-number.js';

// Vectors: the NHS Data Dictionary's modulus 11 algorithm for the NHS number
// (https://www.datadictionary.nhs.uk/attributes/nhs_number.html), computed and checked by hand.
const VALID = [
  '9434765919',
  '9434765870',
  '4010232137',
  '1234567881',
  '9876543210',
  '9000000009',
  '9000000017',
  '9000000025',
  '9990000018',
  '9990000026',
  '9990000034',
  '9990000042',
  '9990000050',
  '9990000069',
  '9990000077',
  '9990000085',
  '9990000093',
  '9990000107',
  '9999999999',
];
const INVALID = [
  '1234567890',
  '9991234560',
  '2345678901',
  '9434765918',
  '943476591',
  '94347659190',
  '94347659l9',
  '',
];

describe('NHS number (modulus 11)', () => {
  it.each(VALID)('accepts %s', (n) => expect(isValidNhsNumber(n)).toBe(true));
  it.each(INVALID)('rejects %j', (n) => expect(isValidNhsNumber(n)).toBe(false));

  it('normalises spaces and hyphens before checking', () => {
    expect(normaliseNhsNumber(' 943 476 5919 ')).toBe('9434765919');
    expect(parseNhsNumber('943-476-5919')).toBe('9434765919');
    expect(parseNhsNumber('943 476 5918')).toBeNull();
  });

  it('formats as 3 3 4', () => {
    expect(formatNhsNumber('9434765919')).toBe('943 476 5919');
    expect(() => formatNhsNumber('12')).toThrow(RangeError);
  });

  it('gives no check digit for stems whose remainder is 10, and 0 for 11', () => {
    expect(nhsNumberCheckDigit('999123456')).toBeNull();
    expect(nhsNumberCheckDigit('943476591')).toBe(9);
    expect(nhsNumberCheckDigit('999999999')).toBe(9);
  });

  it('makes distinct, valid synthetic numbers in the 999 range', () => {
    expect(syntheticNhsNumber(0)).toBe('9990000018');
    const many = [...take(syntheticNhsNumbers(), 500)];
    expect(new Set(many).size).toBe(500);
    for (const n of many) expect(isSyntheticNhsNumber(n)).toBe(true);
    expect(many[123]).toBe(syntheticNhsNumber(123));
    expect(isSyntheticNhsNumber('9434765919')).toBe(false);
  });
});

function* take<T>(items: Iterable<T>, count: number): Generator<T> {
  if (count <= 0) return;
  let n = 0;
  for (const item of items) {
    yield item;
    if (++n >= count) return;
  }
}
