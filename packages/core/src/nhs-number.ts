/**
 * NHS number: 10 digits, the tenth a modulus 11 check digit (NHS Data Dictionary, "NHS Number").
 * Test numbers come from 999 000 0000 – 999 999 9999, a range guaranteed never to be issued.
 */

const WEIGHTED_DIGITS = 9;

/** Strips the spaces and hyphens people type ("943 476 5919", "943-476-5919"). Does not validate. */
export function normaliseNhsNumber(input: string): string {
  return input.trim().replace(/[\s-]/g, '');
}

/**
 * The modulus 11 check digit for a 9-digit stem, or `null` when the stem can never be an NHS number
 * (a remainder that gives 10).
 * @example nhsNumberCheckDigit('943476591') // 9
 */
export function nhsNumberCheckDigit(stem: string): number | null {
  if (!/^\d{9}$/.test(stem)) throw new RangeError('an NHS number stem is 9 digits');
  let sum = 0;
  for (let i = 0; i < WEIGHTED_DIGITS; i++) sum += Number(stem[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return null;
  return check;
}

/**
 * True when `input`, after normalising, is 10 digits with a valid modulus 11 check digit.
 * @example isValidNhsNumber('943 476 5919') // true
 */
export function isValidNhsNumber(input: string): boolean {
  const digits = normaliseNhsNumber(input);
  if (!/^\d{10}$/.test(digits)) return false;
  const check = nhsNumberCheckDigit(digits.slice(0, 9));
  return check !== null && check === Number(digits[9]);
}

/**
 * Normalises and validates, returning the 10-digit form, or `null` when it is not an NHS number.
 * @example parseNhsNumber('943-476-5919') // '9434765919'
 */
export function parseNhsNumber(input: string): string | null {
  const digits = normaliseNhsNumber(input);
  return isValidNhsNumber(digits) ? digits : null;
}

/**
 * The 3 3 4 written form.
 * @example formatNhsNumber('9434765919') // '943 476 5919'
 */
export function formatNhsNumber(input: string): string {
  const digits = normaliseNhsNumber(input);
  if (!/^\d{10}$/.test(digits)) throw new RangeError('an NHS number is 10 digits');
  return `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}`;
}

/** True for numbers in the never-issued 999 test range. */
export function isSyntheticNhsNumber(input: string): boolean {
  const digits = normaliseNhsNumber(input);
  return digits.startsWith('999') && isValidNhsNumber(digits);
}

const SYNTHETIC_STEMS = 1_000_000; // stems 999000000 … 999999999

/**
 * The `index`-th valid NHS number of the 999 test range, in ascending order; stems whose check
 * digit would be 10 are skipped, so every index gives a valid, distinct number.
 * @example syntheticNhsNumber(0) // '9990000018'
 */
export function syntheticNhsNumber(index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError('index must be a whole number ≥ 0');
  const { value, done } = syntheticNhsNumbers(index).next();
  if (done) throw new RangeError('the 999 test range has no more NHS numbers');
  return value;
}

/**
 * A lazy sequence of synthetic NHS numbers starting at `fromIndex`; use it to make many numbers
 * without the quadratic cost of calling {@link syntheticNhsNumber} in a loop.
 * @example [...take(syntheticNhsNumbers(), 3)]
 */
export function* syntheticNhsNumbers(fromIndex = 0): Generator<string> {
  let seen = -1;
  for (let stem = 0; stem < SYNTHETIC_STEMS; stem++) {
    const stemText = `999${String(stem).padStart(6, '0')}`;
    const check = nhsNumberCheckDigit(stemText);
    if (check === null) continue;
    seen++;
    if (seen >= fromIndex) yield `${stemText}${check}`;
  }
}
