import { describe, expect, it } from 'vitest';
import type { DmdConcept } from '../api';
import { DMD_FIELD_LABELS, dmdFacts } from './dmd-fields';

// The hub's /medicines/concepts/{code} for the 2019 sample release's diclofenac gel VMP (shape only).
const vmp: DmdConcept = {
  release: { id: 1, releaseDate: '2019-04-01' },
  matchedBy: 'id',
  type: 'VMP',
  id: '22480211000001104',
  name: 'Diclofenac 2.32% gel',
  detail: {
    type: 'VMP',
    vmp: {
      VPID: '22480211000001104',
      VPIDDT: null,
      VTMID: '32889211000001103',
      INVALID: false,
      NM: 'Diclofenac 2.32% gel',
      BASISCD: '0001',
      NMDT: '2014-04-24',
      NMCHANGECD: '0099',
      DF_INDCD: '2',
      UDFS: 1.5,
    },
  },
  codes: {
    BASISCD: {
      list: 'BASIS_OF_NAME',
      code: '0001',
      description: 'rINN - Recommended International Non-proprietary',
    },
    NMCHANGECD: { list: 'NAMECHANGE_REASON', code: '0099', description: null },
    DF_INDCD: { list: 'DF_INDICATOR', code: '2', description: 'Continuous' },
  },
  parents: [{ type: 'VTM', id: '32889211000001103', name: 'Diclofenac', invalid: false }],
  children: [],
};

describe('dm+d concept details in words (NHSBSA data file specification names)', () => {
  it('labels the main elements of a concept record: name, basis, prescribing status, dose form, supplier', () => {
    expect(DMD_FIELD_LABELS).toMatchObject({
      NM: 'Name',
      ABBREVNM: 'Abbreviated name',
      BASISCD: 'Basis of name',
      PRES_STATCD: 'Prescribing status',
      DF_INDCD: 'Dose form indicator',
      UDFS: 'Unit dose form size',
      UDFS_UOMCD: 'Unit dose form units',
      SUPPCD: 'Supplier',
    });
  });

  it('decodes lookup codes, names parent ids, formats dates and flags, keeps the element name', () => {
    expect(dmdFacts(vmp)).toEqual([
      { element: 'VPID', label: 'VMP identifier', text: '22480211000001104' },
      {
        element: 'VTMID',
        label: 'VTM identifier',
        text: '32889211000001103',
        link: { id: '32889211000001103', name: 'Diclofenac' },
      },
      { element: 'INVALID', label: 'Invalid', text: 'No' },
      { element: 'NM', label: 'Name', text: 'Diclofenac 2.32% gel' },
      {
        element: 'BASISCD',
        label: 'Basis of name',
        text: 'rINN - Recommended International Non-proprietary',
        code: '0001',
      },
      { element: 'NMDT', label: 'Date of name applicability', text: '24 April 2014' },
      // A code the lookup lacks: the code itself.
      { element: 'NMCHANGECD', label: 'Reason for name change', text: '0099' },
      { element: 'DF_INDCD', label: 'Dose form indicator', text: 'Continuous', code: '2' },
      { element: 'UDFS', label: 'Unit dose form size', text: '1.5' },
    ]);
  });

  it('shows the code when the hub sends no decoded codes (an older hub)', () => {
    const { codes: _, ...older } = vmp;
    expect(dmdFacts(older).find((f) => f.element === 'BASISCD')).toEqual({
      element: 'BASISCD',
      label: 'Basis of name',
      text: '0001',
    });
  });
});
