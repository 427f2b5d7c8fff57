/**
 * ODS (Organisation Data Service) codes: upper-case letters and digits, 3 to 10 characters
 * (trusts `RXX`, trust sites `RXX01`, GP practices `A12345`, pharmacies `FAB12`, commissioners `00Q`).
 */
const ODS_CODE = /^[A-Z0-9]{3,10}$/;

/**
 * Upper-cases and trims a code a person typed.
 * @example normaliseOdsCode(' y12345 ') // 'Y12345'
 */
export function normaliseOdsCode(input: string): string {
  return input.trim().toUpperCase();
}

/**
 * True when `input` (after normalising) has the shape of an ODS code. Shape only: whether the
 * organisation exists is a question for the ODS API.
 * @example isOdsCode('Y12345') // true
 */
export function isOdsCode(input: string): boolean {
  const code = normaliseOdsCode(input);
  // Every ODS code has at least one letter; an all-digit string is more likely a mistyped id.
  return ODS_CODE.test(code) && /[A-Z]/.test(code);
}

/** GP practice codes: one letter and five digits (e.g. `A81001`). */
export function isGpPracticeCode(input: string): boolean {
  return /^[A-Z]\d{5}$/.test(normaliseOdsCode(input));
}
