import { describe, expect, it } from 'vitest';
import { isGpPracticeCode, isOdsCode, normaliseOdsCode } from './ods-code.js';

describe('ODS codes', () => {
  it.each(['Y12345', 'A81001', 'RXX', 'RXX01', 'FAB12', '00Q', 'y12345'])('accepts %s', (c) =>
    expect(isOdsCode(c)).toBe(true),
  );
  it.each(['', 'AB', 'A1234567890', 'RXX-01', '12345', 'A 81001'])('rejects %j', (c) =>
    expect(isOdsCode(c)).toBe(false),
  );
  it('normalises case and spaces, and knows GP practice codes', () => {
    expect(normaliseOdsCode(' a81001 ')).toBe('A81001');
    expect(isGpPracticeCode('A81001')).toBe(true);
    expect(isGpPracticeCode('RXX01')).toBe(false);
  });
});
