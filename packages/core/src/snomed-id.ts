/**
 * SNOMED CT identifiers (SCTIDs), per the SNOMED CT Release File Specification §6.3–6.5:
 * 6–18 digits, no leading zero, the 2nd and 3rd digits from the right the partition identifier,
 * the rightmost a Verhoeff check digit. Always strings: many exceed 2^53.
 */

// Verhoeff's dihedral group D5 tables, as published in §6.4.2.
const D5: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const PERMUTATION: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const INVERSE = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9] as const;

function verhoeffFold(digits: string, offset: number): number {
  let c = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[digits.length - 1 - i]);
    c = D5[c]![PERMUTATION[(i + offset) % 8]![digit]!]!;
  }
  return c;
}

/**
 * The Verhoeff check digit to append to `payload` (a string of digits).
 * @example verhoeffCheckDigit('13887500') // 5
 */
export function verhoeffCheckDigit(payload: string): number {
  if (!/^\d+$/.test(payload)) throw new RangeError('a Verhoeff payload is digits only');
  return INVERSE[verhoeffFold(payload, 1) as 0]!;
}

/** True when the last digit of `digits` is the Verhoeff check digit of the rest. */
export function isVerhoeffValid(digits: string): boolean {
  return /^\d+$/.test(digits) && verhoeffFold(digits, 0) === 0;
}

export type SctIdKind = 'concept' | 'description' | 'relationship' | 'expression';

export interface SctIdParts {
  /** The two partition digits, e.g. `'00'` or `'10'`. */
  partition: string;
  kind: SctIdKind;
  /** `short` = International Release; `long` carries a 7-digit namespace before the partition. */
  format: 'short' | 'long';
  /** The extension namespace (long format only), e.g. `'1000001'` for the UK drug extension. */
  namespace?: string;
  itemId: string;
}

const PARTITIONS: Readonly<Record<string, { kind: SctIdKind; format: 'short' | 'long' }>> = {
  '00': { kind: 'concept', format: 'short' },
  '01': { kind: 'description', format: 'short' },
  '02': { kind: 'relationship', format: 'short' },
  '10': { kind: 'concept', format: 'long' },
  '11': { kind: 'description', format: 'long' },
  '12': { kind: 'relationship', format: 'long' },
  '16': { kind: 'expression', format: 'long' },
};

/**
 * Splits a valid SCTID into partition, kind, format and namespace; `null` when it is not a valid
 * SCTID (length, leading zero, reserved partition or check digit).
 * @example parseSctId('22480211000001104') // { partition: '10', kind: 'concept', format: 'long', namespace: '1000001', … }
 */
export function parseSctId(id: string): SctIdParts | null {
  if (!/^[1-9]\d{5,17}$/.test(id) || !isVerhoeffValid(id)) return null;
  const partition = id.slice(-3, -1);
  const meaning = PARTITIONS[partition];
  if (!meaning) return null;
  if (meaning.format === 'short') return { partition, ...meaning, itemId: id.slice(0, -3) };
  if (id.length < 11) return null; // at least one item digit, 7 namespace digits, partition, check
  return { partition, ...meaning, namespace: id.slice(-10, -3), itemId: id.slice(0, -10) };
}

/**
 * True when `id` is a well-formed SCTID (any partition) with a valid check digit.
 * @example isValidSctId('138875005') // true
 */
export function isValidSctId(id: string): boolean {
  return parseSctId(id) !== null;
}
