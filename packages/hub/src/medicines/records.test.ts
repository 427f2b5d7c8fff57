import { describe, expect, it } from 'vitest';
import { DMD_SCHEMAS, toDmdRecord } from './records.js';
import { DmdFormatError } from './xml-reader.js';

const FILE = 'f_ampp2_3010419.xml';
const row = (section: string, fields: Record<string, string>, line = 7) => ({ section, line, fields });

describe('toDmdRecord (XSD shapes, value rules of the NHSBSA data file specification)', () => {
  it('types an AMPP price row: ids as strings, pence as integers, codes keep their zeros', () => {
    const rec = toDmdRecord(
      'ampp',
      FILE,
      row('MEDICINAL_PRODUCT_PRICE/PRICE_INFO', {
        APPID: '17147110000011060',
        PRICE: '485',
        PRICE_BASISCD: '0001',
      }),
    );
    expect(rec).toEqual({
      kind: 'ampp',
      section: 'MEDICINAL_PRODUCT_PRICE/PRICE_INFO',
      file: FILE,
      line: 7,
      row: { APPID: '17147110000011060', PRICE: 485, PRICEDT: null, PRICE_PREV: null, PRICE_BASISCD: '0001' },
    });
  });

  it('reads a flag by presence: "1" and "0001" are true, absent is false', () => {
    const rec = toDmdRecord(
      'ampp',
      FILE,
      row('DRUG_PRODUCT_PRESCRIB_INFO/PRESCRIB_INFO', { APPID: '1', ACBS: '0001', HOSP: '1' }),
    );
    expect(rec.row).toMatchObject({ ACBS: true, HOSP: true, SCHED_1: false, SCHED_2: false, DENT_F: false });
  });

  it('parses floats and keeps text as given', () => {
    const rec = toDmdRecord(
      'vmp',
      'f_vmp2_3010419.xml',
      row('VIRTUAL_PRODUCT_INGREDIENT/VPI', { VPID: '1', ISID: '2', STRNT_NMRTR_VAL: '2.32' }),
    );
    expect(rec.row).toMatchObject({ STRNT_NMRTR_VAL: 2.32, STRNT_DNMTR_VAL: null });
  });

  it.each([
    [
      'a missing mandatory element',
      'AMPPS/AMPP',
      { APPID: '1', NM: 'x', VPPID: '2', APID: '3' },
      /lacks mandatory <LEGAL_CATCD>/,
    ],
    [
      'an element the XSD does not define',
      'AMPPS/AMPP',
      { APPID: '1', COLOUR: 'red' },
      /unexpected element <COLOUR>/,
    ],
    [
      'a section the XSD does not define',
      'AMPPS/VMP',
      { APPID: '1' },
      /unexpected record <AMPPS\/VMP> in a ampp file/,
    ],
    [
      'an id that is not digits',
      'COMB_CONTENT/CCONTENT',
      { PRNTAPPID: '1e5', CHLDAPPID: '2' },
      /<PRNTAPPID> .* not a valid id/,
    ],
    [
      'a price beyond 2^53',
      'MEDICINAL_PRODUCT_PRICE/PRICE_INFO',
      { APPID: '1', PRICE: '123456789012345678', PRICE_BASISCD: '0001' },
      /PRICE/,
    ],
    [
      'a date in another format',
      'AMPPS/AMPP',
      { APPID: '1', NM: 'x', VPPID: '2', APID: '3', LEGAL_CATCD: '0003', DISCDT: '01/04/2019' },
      /<DISCDT> .* not a valid date/,
    ],
  ])('refuses %s, naming file and line', (_what, section, fields, message) => {
    let err: unknown;
    try {
      toDmdRecord('ampp', FILE, row(section, fields, 42));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DmdFormatError);
    expect((err as DmdFormatError).message).toMatch(/^f_ampp2_3010419\.xml:42: /);
    expect((err as DmdFormatError).message).toMatch(message);
  });

  it('defines every section of every XSD file (v2.3, GTIN v2.0) and the bonus files', () => {
    expect(
      Object.fromEntries(Object.entries(DMD_SCHEMAS).map(([k, v]) => [k, Object.keys(v).length])),
    ).toEqual({
      vtm: 1,
      vmp: 6,
      amp: 4,
      vmpp: 3,
      ampp: 6,
      ingredient: 1,
      lookup: 26,
      gtin: 1,
      bnf: 2,
      history: 7,
      vtm_ing: 1,
    });
  });
});
