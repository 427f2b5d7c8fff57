import type { Medication } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  COLORAMA_AMP,
  coloramaAmppDetail,
  DICLOFENAC_ING,
  DICLOFENAC_VMP_DETAIL,
  DICLOFENAC_VTM,
  fixtureLookup,
  syntheticTabletVmpDetail,
  VMPP_30G,
  VMPP_30G_DETAIL,
  voltarolAmpDetail,
  voltarolAmppDetail,
} from '../../testing/fhir/dmd-fixtures.js';
import { r4StructureErrors } from '../../testing/fhir/r4-structure.js';
import type { AmpDetail, VmppDetail, VtmDetail } from '../model.js';
import { toFhirMedication } from './medication.js';

const lookup = fixtureLookup();
const DMD = 'https://dmd.nhs.uk';
const SCT = 'http://snomed.info/sct';
const PROFILE = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Medication';

// The diclofenac 2.32% gel VMP's facts, as every class below it inherits them.
const GEL_FORM = { coding: [{ system: SCT, code: '385100002', display: 'Gel' }] };
const DICLOFENAC_ACTIVE = {
  itemCodeableConcept: {
    coding: [{ system: SCT, code: '426714006', display: 'Diclofenac diethylammonium' }],
  },
  isActive: true,
  strength: {
    numerator: { value: 23.2, unit: 'mg', system: SCT, code: '258684004' },
    denominator: { value: 1, unit: 'gram', system: SCT, code: '258682000' },
  },
};
const code = (id: string, display: string) => ({
  coding: [
    { system: DMD, code: id, display },
    { system: SCT, code: id, display },
  ],
});

describe('toFhirMedication (UK Core Medication, https://fhir.hl7.org.uk/StructureDefinition/UKCore-Medication)', () => {
  it('VMP: id, profile, dm+d + SNOMED code, DRUG_FORM form, VPI ingredient with strength ratio', () => {
    expect(toFhirMedication(DICLOFENAC_VMP_DETAIL, lookup)).toEqual({
      resourceType: 'Medication',
      id: '22480211000001104',
      meta: { profile: [PROFILE] },
      code: code('22480211000001104', 'Diclofenac 2.32% gel'),
      status: 'active',
      form: GEL_FORM,
      ingredient: [DICLOFENAC_ACTIVE],
    } satisfies Medication);
  });

  it('VTM: a Medication with code and status only (not a product: no form, ingredient, amount)', () => {
    const vtm: VtmDetail = { type: 'VTM', vtm: DICLOFENAC_VTM };
    expect(toFhirMedication(vtm, lookup)).toEqual({
      resourceType: 'Medication',
      id: '32889211000001103',
      meta: { profile: [PROFILE] },
      code: code('32889211000001103', 'Diclofenac diethylammonium'),
      status: 'active',
    });
  });

  it('VMP: the VTM is not added as a coding of code (a broader concept, not a synonym)', () => {
    const codes = toFhirMedication(DICLOFENAC_VMP_DETAIL, lookup).code?.coding?.map((c) => c.code);
    expect(codes).toEqual(['22480211000001104', '22480211000001104']);
  });

  it('AMP: manufacturer from SUPPLIER; form and active ingredients inherited from the VMP detail', () => {
    expect(toFhirMedication(voltarolAmpDetail(), lookup, { vmp: DICLOFENAC_VMP_DETAIL })).toEqual({
      resourceType: 'Medication',
      id: '22479611000001102',
      meta: { profile: [PROFILE] },
      code: code('22479611000001102', 'Voltarol 12 Hour Emulgel P 2.32% gel'),
      status: 'active',
      form: GEL_FORM,
      ingredient: [DICLOFENAC_ACTIVE],
      manufacturer: { display: 'GlaxoSmithKline Consumer Healthcare' },
    });
  });

  it('AMP without the VMP detail: no form nor ingredients (never guessed)', () => {
    const med = toFhirMedication(voltarolAmpDetail(), lookup);
    expect(med.form).toBeUndefined();
    expect(med.ingredient).toBeUndefined();
    expect(med.manufacturer).toEqual({ display: 'GlaxoSmithKline Consumer Healthcare' });
  });

  it('a VMP detail of another VMP is refused', () => {
    expect(() => toFhirMedication(voltarolAmpDetail(), lookup, { vmp: syntheticTabletVmpDetail() })).toThrow(
      /VMP 900000000000001 passed for AMP of VMP 22480211000001104/,
    );
  });

  it('INVALID AMP → status inactive (entered-in-error is never used)', () => {
    const amp: AmpDetail = { ...voltarolAmpDetail(), amp: COLORAMA_AMP };
    const med = toFhirMedication(amp, lookup);
    expect(med.status).toBe('inactive');
    expect(med.manufacturer).toEqual({ display: 'Colorama Pharmaceuticals Ltd' });
  });

  it('AMP excipients (AP_INGREDIENT) are ingredients with isActive false, after the active ones', () => {
    const amp: AmpDetail = {
      ...voltarolAmpDetail(),
      ingredients: [
        {
          apIng: { APID: '22479611000001102', ISID: '900000000000010', STRNTH: 5, UOMCD: '258684004' },
          ingredient: null,
        },
        {
          apIng: { APID: '22479611000001102', ISID: '426714006', STRNTH: null, UOMCD: null },
          ingredient: DICLOFENAC_ING,
        },
      ],
    };
    expect(toFhirMedication(amp, lookup, { vmp: DICLOFENAC_VMP_DETAIL }).ingredient).toEqual([
      DICLOFENAC_ACTIVE,
      {
        itemCodeableConcept: { coding: [{ system: SCT, code: '900000000000010' }] },
        isActive: false,
        strength: {
          numerator: { value: 5, unit: 'mg', system: SCT, code: '258684004' },
          denominator: { value: 1 },
        },
      },
      {
        itemCodeableConcept: {
          coding: [{ system: SCT, code: '426714006', display: 'Diclofenac diethylammonium' }],
        },
        isActive: false,
      },
    ]);
  });

  it('VMPP: amount QTYVAL QTY_UOMCD per pack, no manufacturer; VMP facts inherited', () => {
    expect(toFhirMedication(VMPP_30G_DETAIL, lookup, { vmp: DICLOFENAC_VMP_DETAIL })).toEqual({
      resourceType: 'Medication',
      id: '22479511000001101',
      meta: { profile: [PROFILE] },
      code: code('22479511000001101', 'Diclofenac 2.32% gel 30 gram'),
      status: 'active',
      form: GEL_FORM,
      ingredient: [DICLOFENAC_ACTIVE],
      amount: {
        numerator: { value: 30, unit: 'gram', system: SCT, code: '258682000' },
        denominator: { value: 1 },
      },
    });
  });

  it("AMPP: amount of its VMPP, manufacturer of its AMP's supplier", () => {
    expect(toFhirMedication(voltarolAmppDetail(), lookup, { vmp: DICLOFENAC_VMP_DETAIL })).toEqual({
      resourceType: 'Medication',
      id: '22479911000001108',
      meta: { profile: [PROFILE] },
      code: code(
        '22479911000001108',
        'Voltarol 12 Hour Emulgel P 2.32% gel (GlaxoSmithKline Consumer Healthcare) 30 gram',
      ),
      status: 'active',
      form: GEL_FORM,
      ingredient: [DICLOFENAC_ACTIVE],
      amount: {
        numerator: { value: 30, unit: 'gram', system: SCT, code: '258682000' },
        denominator: { value: 1 },
      },
      manufacturer: { display: 'GlaxoSmithKline Consumer Healthcare' },
    });
  });

  it('invalid, discontinued AMPP → inactive', () => {
    const med = toFhirMedication(coloramaAmppDetail(), lookup);
    expect(med.status).toBe('inactive');
    expect(med.manufacturer).toEqual({ display: 'Colorama Pharmaceuticals Ltd' });
  });

  it('strength without a denominator is per unit dose (UNIT_DOSE_UOMCD); unnamed ingredient has no display', () => {
    const med = toFhirMedication(syntheticTabletVmpDetail(), lookup);
    expect(med.status).toBe('inactive');
    expect(med.form).toBeUndefined();
    expect(med.ingredient).toEqual([
      {
        itemCodeableConcept: { coding: [{ system: SCT, code: '900000000000003' }] },
        isActive: true,
        strength: {
          numerator: { value: 10, unit: 'mg', system: SCT, code: '258684004' },
          denominator: { value: 1, unit: 'tablet', system: SCT, code: '428673006' },
        },
      },
    ]);
  });

  it('strength without a denominator nor unit dose: denominator 1 (Ratio needs both, rat-1)', () => {
    const vmp = syntheticTabletVmpDetail();
    vmp.vmp.UNIT_DOSE_UOMCD = null;
    expect(toFhirMedication(vmp, lookup).ingredient?.[0]?.strength?.denominator).toEqual({ value: 1 });
  });

  it('combination pack: its component packs are ingredients coded by their dm+d id', () => {
    const comb: VmppDetail = {
      ...VMPP_30G_DETAIL,
      vmpp: { ...VMPP_30G, COMBPACKCD: '0001' },
      contents: [{ ...VMPP_30G, VPPID: '900000000000020', NM: 'Component pack', COMBPACKCD: '0002' }],
    };
    expect(toFhirMedication(comb, lookup).ingredient).toEqual([
      {
        itemCodeableConcept: {
          coding: [{ system: DMD, code: '900000000000020', display: 'Component pack' }],
        },
      },
    ]);
  });

  it('snomedCoding: false leaves the dm+d coding alone', () => {
    expect(toFhirMedication(DICLOFENAC_VMP_DETAIL, lookup, { snomedCoding: false }).code).toEqual({
      coding: [{ system: DMD, code: '22480211000001104', display: 'Diclofenac 2.32% gel' }],
    });
  });

  it('codes missing from the lookup: no manufacturer, units coded without a unit text, form without display', () => {
    const empty = fixtureLookup([]);
    const med = toFhirMedication(voltarolAmppDetail(), empty, { vmp: DICLOFENAC_VMP_DETAIL });
    expect(med.manufacturer).toBeUndefined();
    expect(med.form).toEqual({ coding: [{ system: SCT, code: '385100002' }] });
    expect(med.amount?.numerator).toEqual({ value: 30, system: SCT, code: '258682000' });
    expect(r4StructureErrors(med)).toEqual([]);
  });

  describe('structure', () => {
    const all = (): [string, Medication][] => [
      ['VTM', toFhirMedication({ type: 'VTM', vtm: DICLOFENAC_VTM }, lookup)],
      ['VMP', toFhirMedication(DICLOFENAC_VMP_DETAIL, lookup)],
      ['synthetic VMP', toFhirMedication(syntheticTabletVmpDetail(), lookup)],
      ['AMP', toFhirMedication(voltarolAmpDetail(), lookup, { vmp: DICLOFENAC_VMP_DETAIL })],
      ['VMPP', toFhirMedication(VMPP_30G_DETAIL, lookup, { vmp: DICLOFENAC_VMP_DETAIL })],
      ['AMPP', toFhirMedication(voltarolAmppDetail(), lookup, { vmp: DICLOFENAC_VMP_DETAIL })],
      ['invalid AMPP', toFhirMedication(coloramaAmppDetail(), lookup)],
    ];

    it.each(all())(
      '%s is valid R4 Medication JSON (elements, cardinality, primitives, qty-3, rat-1)',
      (_, med) => {
        expect(r4StructureErrors(med)).toEqual([]);
        expect(JSON.parse(JSON.stringify(med))).toEqual(med); // nothing undefined left behind
      },
    );

    it.each(all())(
      '%s meets UK Core Medication: profile, code 1..1 from dm+d, form from SNOMED CT',
      (_, med) => {
        expect(med.meta?.profile).toEqual([PROFILE]);
        // code min 1 (UKCore-Medication differential); UKCore-MedicationCode includes system https://dmd.nhs.uk
        expect(med.code?.coding?.[0]?.system).toBe(DMD);
        expect(med.code?.coding?.[0]?.code).toBe(med.id);
        // UKCore-MedicationForm includes SNOMED CT (the dm+d dose form refset 999000781000001107)
        for (const c of med.form?.coding ?? []) expect(c.system).toBe(SCT);
        expect(med.batch).toBeUndefined();
        expect(med.extension).toBeUndefined();
      },
    );

    it('the structure check itself rejects what R4 forbids', () => {
      const med = toFhirMedication(VMPP_30G_DETAIL, lookup);
      const bad = {
        ...med,
        status: 'retired',
        ingredients: [],
        amount: { numerator: { value: 1, code: 'g' } },
        code: { coding: [] },
      };
      expect(r4StructureErrors(bad)).toEqual([
        'Medication.code.coding: expected a non-empty array',
        'Medication.amount.numerator: qty-3 a code needs a system',
        'Medication.amount: rat-1 numerator and denominator both or neither',
        'Medication.ingredients: not an element of Medication',
        'Medication.status: not in medication-status',
      ]);
    });
  });
});
