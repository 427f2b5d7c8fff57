import { describe, expect, it } from 'vitest';
import { isValidSctId, isVerhoeffValid, parseSctId, verhoeffCheckDigit } from './snomed-id.js';

// Vectors: SNOMED CT ids (the root, core and UK modules, dm+d ids such as those in reference/refdata/dmd/),
// checked against the Verhoeff tables of the SNOMED RF2 spec §6.4.2.
const VALID = [
  '138875005',
  '404684003',
  '116680003',
  '900000000000207008',
  '318136009',
  '90332006',
  '387516008',
  '258684004',
  '26643006',
  '385055001',
  '22480211000001104',
  '1714711000001106',
  '999000011000001104',
  '35894711000001106',
  '12797611000001109',
  '999000011000000103',
  '83821000000107',
];
const INVALID = [
  '22480211000001105',
  '8968011000001101',
  '8967511000001109',
  '200001001',
  '12345',
  '0138875005',
  'abc',
];

describe('SNOMED CT identifiers', () => {
  it.each(VALID)('accepts %s', (id) => expect(isValidSctId(id)).toBe(true));
  it.each(INVALID)('rejects %s', (id) => expect(isValidSctId(id)).toBe(false));

  it('computes the Verhoeff check digit that validates', () => {
    expect(verhoeffCheckDigit('13887500')).toBe(5);
    expect(verhoeffCheckDigit('2248021100000110')).toBe(4);
    expect(isVerhoeffValid('2363')).toBe(true); // Verhoeff's own worked example
  });

  it('reads partition, format and namespace', () => {
    expect(parseSctId('138875005')).toEqual({
      partition: '00',
      kind: 'concept',
      format: 'short',
      itemId: '138875',
    });
    expect(parseSctId('22480211000001104')).toEqual({
      partition: '10',
      kind: 'concept',
      format: 'long',
      namespace: '1000001',
      itemId: '2248021',
    });
    expect(parseSctId('1714711000001106')?.kind).toBe('concept');
  });
});
