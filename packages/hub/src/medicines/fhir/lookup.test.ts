import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  COLORAMA_AMPP_30G,
  coloramaAmppDetail,
  DICLOFENAC_VMP_DETAIL,
  DICLOFENAC_VTM,
  fixtureLookup,
  DICLOFENAC_REFS as R,
  syntheticTabletVmpDetail,
  VMPP_30G,
  VMPP_30G_DETAIL,
  voltarolAmpDetail,
  voltarolAmppDetail,
} from '../../testing/fhir/dmd-fixtures.js';
import { r4StructureErrors } from '../../testing/fhir/r4-structure.js';
import type { AmpDetail, DmdConceptRef, VmppDetail } from '../model.js';
import { toDmdLookupParameters } from './lookup.js';

const lookup = fixtureLookup();

/** A `property` read back: code, the value[x] as {type: value}, description, sub-properties. */
interface Prop {
  code: string;
  value: Record<string, unknown>;
  description?: string;
  sub?: Prop[];
}
function readProp(p: ParametersParameter): Prop {
  const parts = p.part ?? [];
  const code = parts.find((x) => x.name === 'code')?.valueCode ?? '';
  const valuePart = parts.find((x) => x.name === 'value') ?? {};
  const value = Object.fromEntries(Object.entries(valuePart).filter(([k]) => k.startsWith('value')));
  const out: Prop = { code, value };
  const description = parts.find((x) => x.name === 'description')?.valueString;
  if (description !== undefined) out.description = description;
  const sub = parts.filter((x) => x.name === 'subproperty').map(readProp);
  if (sub.length > 0) out.sub = sub;
  return out;
}
const propsOf = (p: Parameters) => (p.parameter ?? []).filter((x) => x.name === 'property').map(readProp);
const codesOf = (p: Parameters) => propsOf(p).map((x) => x.code);
const one = (p: Parameters, code: string) => {
  const found = propsOf(p).filter((x) => x.code === code);
  expect(found, code).toHaveLength(1);
  return found[0];
};
const param = (p: Parameters, name: string) => (p.parameter ?? []).filter((x) => x.name === name);

const refs = (...r: DmdConceptRef[]) => r;

describe('toDmdLookupParameters ($lookup output shape, http://hl7.org/fhir/R4/codesystem-operation-lookup.html)', () => {
  const vmp = toDmdLookupParameters(
    {
      detail: DICLOFENAC_VMP_DETAIL,
      parents: refs(R.vtm),
      children: refs(R.voltarol, R.colorama, R.vmpp30),
      releaseId: '201904.1.0',
    },
    lookup,
  );

  it('name, version (release), display (NM), in $lookup order before the properties', () => {
    expect(vmp.resourceType).toBe('Parameters');
    expect(vmp.parameter?.slice(0, 3)).toEqual([
      { name: 'name', valueString: 'dm+d' },
      { name: 'version', valueString: '201904.1.0' },
      { name: 'display', valueString: 'Diclofenac 2.32% gel' },
    ]);
    const names = (vmp.parameter ?? []).map((x) => x.name);
    expect(names.slice(3).every((n) => n === 'property')).toBe(true);
  });

  it('no releaseId → no version parameter', () => {
    const p = toDmdLookupParameters({ detail: DICLOFENAC_VMP_DETAIL, parents: [], children: [] }, lookup);
    expect(param(p, 'version')).toEqual([]);
  });

  it('class as the first `parent` (NHS England Terminology Server convention), then parents and children', () => {
    const props = propsOf(vmp);
    expect(props[0]).toEqual({
      code: 'parent',
      value: { valueCode: 'VMP' },
      description: 'Virtual Medicinal Product',
    });
    expect(props.filter((x) => x.code === 'parent').slice(1)).toEqual([
      {
        code: 'parent',
        value: { valueCode: '32889211000001103' },
        description: 'Diclofenac diethylammonium',
        sub: [
          { code: 'parent', value: { valueCode: 'VTM' }, description: 'Virtual Therapeutic Moiety' },
          { code: 'inactive', value: { valueBoolean: false } },
        ],
      },
    ]);
    const children = props.filter((x) => x.code === 'child');
    expect(
      children.map((c) => [c.value.valueCode, c.description, c.sub?.[0]?.value.valueCode, c.sub?.[1]?.value]),
    ).toEqual([
      ['22479611000001102', 'Voltarol 12 Hour Emulgel P 2.32% gel', 'AMP', { valueBoolean: false }],
      ['29915211000001103', 'Diclofenac 2.32% gel', 'AMP', { valueBoolean: true }],
      ['22479511000001101', 'Diclofenac 2.32% gel 30 gram', 'VMPP', { valueBoolean: false }],
    ]);
  });

  it('the property parameter as FHIR Parameters parts (code, value, description, subproperty)', () => {
    const p = (vmp.parameter ?? []).find(
      (x) => x.name === 'property' && x.part?.[0]?.valueCode === 'PRES_STATCD',
    );
    expect(p).toEqual({
      name: 'property',
      part: [
        { name: 'code', valueCode: 'PRES_STATCD' },
        { name: 'value', valueCode: '0001' },
        { name: 'description', valueString: 'Valid as a prescribable product' },
      ],
    });
  });

  it('VMP facts: every non-empty element by its dm+d name, typed, lookup codes described', () => {
    const props = propsOf(vmp).filter((x) => x.code !== 'parent' && x.code !== 'child');
    expect(props).toEqual([
      { code: 'inactive', value: { valueBoolean: false } },
      { code: 'VTMID', value: { valueCode: '32889211000001103' }, description: 'Diclofenac diethylammonium' },
      {
        code: 'BASISCD',
        value: { valueCode: '0001' },
        description: 'rINN - Recommended International Non-proprietary',
      },
      { code: 'NMDT', value: { valueDateTime: '2014-04-24' } },
      { code: 'NMPREV', value: { valueString: 'Diclofenac 2% gel' } },
      {
        code: 'BASIS_PREVCD',
        value: { valueCode: '0001' },
        description: 'rINN - Recommended International Non-proprietary',
      },
      { code: 'NMCHANGECD', value: { valueCode: '0004' }, description: 'Other' },
      { code: 'PRES_STATCD', value: { valueCode: '0001' }, description: 'Valid as a prescribable product' },
      { code: 'DF_INDCD', value: { valueCode: '2' }, description: 'Continuous' },
      { code: 'FORMCD', value: { valueCode: '385100002' }, description: 'Gel' },
      { code: 'CATCD', value: { valueCode: '0000' }, description: 'No Controlled Drug Status' },
      {
        code: 'VPI',
        value: { valueCode: '426714006' },
        description: 'Diclofenac diethylammonium',
        sub: [
          {
            code: 'BASIS_STRNTCD',
            value: { valueCode: '0001' },
            description: 'Based on Ingredient Substance',
          },
          { code: 'STRNT_NMRTR_VAL', value: { valueDecimal: 23.2 } },
          { code: 'STRNT_NMRTR_UOMCD', value: { valueCode: '258684004' }, description: 'mg' },
          { code: 'STRNT_DNMTR_VAL', value: { valueDecimal: 1 } },
          { code: 'STRNT_DNMTR_UOMCD', value: { valueCode: '258682000' }, description: 'gram' },
        ],
      },
      { code: 'ROUTECD', value: { valueCode: '45890007' }, description: 'Transdermal' },
      { code: 'ONT_FORMCD', value: { valueCode: '0040' }, description: 'gel.transdermal' },
    ]);
  });

  it('dm+d flags appear only when true; INVALID, previous id, availability, controlled drug, BNF/DDD', () => {
    const p = toDmdLookupParameters(
      { detail: syntheticTabletVmpDetail(), parents: [], children: [] },
      lookup,
    );
    const codes = codesOf(p);
    expect(one(p, 'inactive')?.value).toEqual({ valueBoolean: true });
    expect(one(p, 'INVALID')?.value).toEqual({ valueBoolean: true });
    expect(one(p, 'SUG_F')?.value).toEqual({ valueBoolean: true });
    for (const absent of ['GLU_F', 'PRES_F', 'CFC_F', 'VTMID', 'VPID', 'NM', 'FORMCD'])
      expect(codes).not.toContain(absent);
    expect(one(p, 'VPIDPREV')?.value).toEqual({ valueCode: '900000000000002' });
    expect(one(p, 'VPIDDT')?.value).toEqual({ valueDateTime: '2020-01-02' });
    expect(one(p, 'NON_AVAILCD')).toEqual({
      code: 'NON_AVAILCD',
      value: { valueCode: '0001' },
      description: 'Actual Products not Available',
    });
    expect(one(p, 'NON_AVAILDT')?.value).toEqual({ valueDateTime: '2021-03-04' });
    expect(one(p, 'CATCD')).toEqual({
      code: 'CATCD',
      value: { valueCode: '0002' },
      description: 'Schedule 2 (CD)',
    });
    expect(one(p, 'CATDT')?.value).toEqual({ valueDateTime: '2019-05-06' });
    expect(one(p, 'CAT_PREVCD')?.description).toBe('No Controlled Drug Status');
    expect(one(p, 'UDFS')?.value).toEqual({ valueDecimal: 1 });
    expect(one(p, 'UNIT_DOSE_UOMCD')?.description).toBe('tablet');
    expect(one(p, 'BNF')?.value).toEqual({ valueString: '0407020A0AAAAAA' });
    expect(one(p, 'ATC')?.value).toEqual({ valueString: 'N02AA01' });
    expect(one(p, 'DDD')?.value).toEqual({ valueDecimal: 0.1 });
    expect(one(p, 'DDD_UOMCD')?.description).toBe('mg');
    // A VPI whose ingredient is not in the release: no description; absent denominator: no sub-property.
    expect(one(p, 'VPI')?.description).toBeUndefined();
    expect(one(p, 'VPI')?.sub?.map((s) => s.code)).toEqual([
      'BASIS_STRNTCD',
      'STRNT_NMRTR_VAL',
      'STRNT_NMRTR_UOMCD',
    ]);
  });

  it('designations: ABBREVNM and AMP DESC, use SNOMED CT Synonym', () => {
    const p = toDmdLookupParameters(
      { detail: syntheticTabletVmpDetail(), parents: [], children: [] },
      lookup,
    );
    const synonym = { system: 'http://snomed.info/sct', code: '900000000000013009', display: 'Synonym' };
    expect(param(p, 'designation')).toEqual([
      {
        name: 'designation',
        part: [
          { name: 'use', valueCoding: synonym },
          { name: 'value', valueString: 'Synthetamol 10mg tab' },
        ],
      },
    ]);
    expect(one(p, 'ABBREVNM')?.value).toEqual({ valueString: 'Synthetamol 10mg tab' });
    const amp = toDmdLookupParameters(
      { detail: voltarolAmpDetail(), parents: refs(R.vmp), children: [] },
      lookup,
    );
    expect(param(amp, 'designation').map((d) => d.part?.[1]?.valueString)).toEqual([
      'Voltarol 12 Hour Emulgel P 2.32% gel (GlaxoSmithKline Consumer Healthcare)',
    ]);
  });

  it('VTM: class, children, and nothing but its own non-empty elements', () => {
    const p = toDmdLookupParameters(
      { detail: { type: 'VTM', vtm: DICLOFENAC_VTM }, parents: [], children: refs(R.vmp) },
      lookup,
    );
    expect(propsOf(p).map((x) => [x.code, Object.values(x.value)[0]])).toEqual([
      ['parent', 'VTM'],
      ['child', '22480211000001104'],
      ['inactive', false],
    ]);
    const moved = toDmdLookupParameters(
      {
        detail: {
          type: 'VTM',
          vtm: { ...DICLOFENAC_VTM, VTMIDPREV: '900000000000030', VTMIDDT: '2010-01-01' },
        },
        parents: [],
        children: [],
      },
      lookup,
    );
    expect(one(moved, 'VTMIDPREV')?.value).toEqual({ valueCode: '900000000000030' });
    expect(one(moved, 'VTMIDDT')?.value).toEqual({ valueDateTime: '2010-01-01' });
  });

  it('AMP: supplier, licensing, availability restriction, previous name, excipients, licensed routes', () => {
    const detail: AmpDetail = {
      ...voltarolAmpDetail(),
      ingredients: [
        {
          apIng: { APID: '22479611000001102', ISID: '900000000000010', STRNTH: 5, UOMCD: '258684004' },
          ingredient: null,
        },
      ],
      licensedRoutes: [{ APID: '22479611000001102', ROUTECD: '45890007' }],
      info: { APID: '22479611000001102', SZ_WEIGHT: null, COLOURCD: null, PROD_ORDER_NO: 'X-1' },
      bnf: { APID: '22479611000001102', BNF: '1003020U0BBADAI' },
    };
    const p = toDmdLookupParameters({ detail, parents: refs(R.vmp), children: [] }, lookup);
    expect(propsOf(p).filter((x) => !['parent', 'child', 'inactive'].includes(x.code))).toEqual([
      { code: 'VPID', value: { valueCode: '22480211000001104' }, description: 'Diclofenac 2.32% gel' },
      {
        code: 'DESC',
        value: { valueString: 'Voltarol 12 Hour Emulgel P 2.32% gel (GlaxoSmithKline Consumer Healthcare)' },
      },
      { code: 'NMDT', value: { valueDateTime: '2014-04-24' } },
      { code: 'NM_PREV', value: { valueString: 'Voltarol 12 Hour 2% Emulgel P' } },
      {
        code: 'SUPPCD',
        value: { valueCode: '4012401000001102' },
        description: 'GlaxoSmithKline Consumer Healthcare',
      },
      { code: 'LIC_AUTHCD', value: { valueCode: '0001' }, description: 'Medicines - MHRA/EMA' },
      { code: 'AVAIL_RESTRICTCD', value: { valueCode: '0001' }, description: 'None' },
      { code: 'PROD_ORDER_NO', value: { valueString: 'X-1' } },
      { code: 'BNF', value: { valueString: '1003020U0BBADAI' } },
      {
        code: 'AP_ING',
        value: { valueCode: '900000000000010' },
        sub: [
          { code: 'STRNTH', value: { valueDecimal: 5 } },
          { code: 'UOMCD', value: { valueCode: '258684004' }, description: 'mg' },
        ],
      },
      { code: 'LIC_ROUTECD', value: { valueCode: '45890007' }, description: 'Transdermal' },
    ]);
  });

  it('VMPP: quantity and Drug Tariff price in pence with its payment category', () => {
    const p = toDmdLookupParameters(
      { detail: VMPP_30G_DETAIL, parents: refs(R.vmp), children: refs(R.voltarol) },
      lookup,
    );
    expect(propsOf(p).filter((x) => !['parent', 'child', 'inactive'].includes(x.code))).toEqual([
      { code: 'VPID', value: { valueCode: '22480211000001104' }, description: 'Diclofenac 2.32% gel' },
      { code: 'QTYVAL', value: { valueDecimal: 30 } },
      { code: 'QTY_UOMCD', value: { valueCode: '258682000' }, description: 'gram' },
      { code: 'PAY_CATCD', value: { valueCode: '0003' }, description: 'Part VIIIA Category C' },
      { code: 'PRICE', value: { valueInteger: 461 }, description: '£4.61' },
      { code: 'DT', value: { valueDateTime: '2017-04-01' } },
      { code: 'PREVPRICE', value: { valueInteger: 419 }, description: '£4.19' },
    ]);
  });

  it('combination pack contents are listed by dm+d element name (CHLDVPPID)', () => {
    const comb: VmppDetail = {
      ...VMPP_30G_DETAIL,
      vmpp: { ...VMPP_30G, COMBPACKCD: '0001' },
      contents: [{ ...VMPP_30G, VPPID: '900000000000020', NM: 'Component pack' }],
    };
    const p = toDmdLookupParameters({ detail: comb, parents: [], children: [] }, lookup);
    expect(one(p, 'COMBPACKCD')?.description).toBe('Combination pack');
    expect(one(p, 'CHLDVPPID')).toEqual({
      code: 'CHLDVPPID',
      value: { valueCode: '900000000000020' },
      description: 'Component pack',
    });
  });

  it('AMPP: legal category, price with basis, reimbursement, GTIN with its dates, both parents', () => {
    const p = toDmdLookupParameters(
      { detail: voltarolAmppDetail(), parents: refs(R.voltarol, R.vmpp30), children: [] },
      lookup,
    );
    expect(
      propsOf(p)
        .filter((x) => x.code === 'parent')
        .map((x) => x.value.valueCode),
    ).toEqual(['AMPP', '22479611000001102', '22479511000001101']);
    expect(propsOf(p).filter((x) => !['parent', 'child', 'inactive'].includes(x.code))).toEqual([
      {
        code: 'VPPID',
        value: { valueCode: '22479511000001101' },
        description: 'Diclofenac 2.32% gel 30 gram',
      },
      {
        code: 'APID',
        value: { valueCode: '22479611000001102' },
        description: 'Voltarol 12 Hour Emulgel P 2.32% gel',
      },
      { code: 'LEGAL_CATCD', value: { valueCode: '0002' }, description: 'P' },
      { code: 'PRICE', value: { valueInteger: 461 }, description: '£4.61' },
      { code: 'PRICEDT', value: { valueDateTime: '2017-03-01' } },
      { code: 'PRICE_PREV', value: { valueInteger: 419 }, description: '£4.19' },
      { code: 'PRICE_BASISCD', value: { valueCode: '0001' }, description: 'NHS Indicative Price' },
      { code: 'PX_CHRGS', value: { valueInteger: 1 } },
      { code: 'DISP_FEES', value: { valueInteger: 1 } },
      { code: 'SPEC_CONTCD', value: { valueCode: '0001' }, description: 'Special container' },
      {
        code: 'GTIN',
        value: { valueString: '5051562030702' },
        sub: [{ code: 'STARTDT', value: { valueDateTime: '2013-09-17' } }],
      },
    ]);
  });

  it('invalid, discontinued AMPP with no price: INVALID, DISCCD/DISCDT, price 0 with basis "No Price Available"', () => {
    const p = toDmdLookupParameters(
      { detail: coloramaAmppDetail(), parents: refs(R.colorama), children: [] },
      lookup,
    );
    expect(one(p, 'inactive')?.value).toEqual({ valueBoolean: true });
    expect(one(p, 'INVALID')?.value).toEqual({ valueBoolean: true });
    expect(one(p, 'DISCCD')).toEqual({
      code: 'DISCCD',
      value: { valueCode: '0001' },
      description: 'Discontinued Flag',
    });
    expect(one(p, 'DISCDT')?.value).toEqual({ valueDateTime: COLORAMA_AMPP_30G.DISCDT });
    expect(one(p, 'PRICE')).toEqual({ code: 'PRICE', value: { valueInteger: 0 }, description: '£0.00' });
    expect(one(p, 'PRICE_BASISCD')?.description).toBe('No Price Available');
    expect(codesOf(p)).not.toContain('GTIN');
    // The invalid parent AMP is flagged on its reference.
    const parent = propsOf(p).find((x) => x.code === 'parent' && x.value.valueCode === R.colorama.id);
    expect(parent?.sub?.[1]).toEqual({ code: 'inactive', value: { valueBoolean: true } });
  });

  it('PRESCRIB_INFO flags: only the true ones', () => {
    const detail = {
      ...voltarolAmppDetail(),
      prescribingInfo: {
        APPID: '22479911000001108',
        SCHED_2: false,
        ACBS: true,
        PADM: false,
        FP10_MDA: false,
        SCHED_1: false,
        HOSP: false,
        NURSE_F: true,
        ENURSE_F: false,
        DENT_F: false,
      },
    };
    const p = toDmdLookupParameters({ detail, parents: [], children: [] }, lookup);
    const flags = ['SCHED_2', 'ACBS', 'PADM', 'FP10_MDA', 'SCHED_1', 'HOSP', 'NURSE_F', 'ENURSE_F', 'DENT_F'];
    expect(codesOf(p).filter((c) => flags.includes(c))).toEqual(['ACBS', 'NURSE_F']);
    expect(one(p, 'ACBS')?.value).toEqual({ valueBoolean: true });
  });

  it('every output is valid R4 Parameters JSON; every property has one code and one allowed value[x]', () => {
    const outputs = [
      vmp,
      toDmdLookupParameters({ detail: syntheticTabletVmpDetail(), parents: [], children: [] }, lookup),
      toDmdLookupParameters(
        { detail: voltarolAmppDetail(), parents: refs(R.voltarol, R.vmpp30), children: [] },
        lookup,
      ),
      toDmdLookupParameters({ detail: coloramaAmppDetail(), parents: [], children: [] }, fixtureLookup([])),
      toDmdLookupParameters({ detail: VMPP_30G_DETAIL, parents: [], children: [] }, lookup),
    ];
    // $lookup property value[x]: code | Coding | string | integer | boolean | dateTime | decimal (R4).
    const allowed = [
      'valueCode',
      'valueCoding',
      'valueString',
      'valueInteger',
      'valueBoolean',
      'valueDateTime',
      'valueDecimal',
    ];
    const checkParts = (prop: ParametersParameter, nested: boolean) => {
      const parts = prop.part ?? [];
      expect(parts.filter((x) => x.name === 'code')).toHaveLength(1);
      const values = parts.filter((x) => x.name === 'value');
      expect(values).toHaveLength(1);
      expect(Object.keys(values[0] ?? {}).filter((k) => k !== 'name')).toSatisfy(
        (keys: string[]) => keys.length === 1 && allowed.includes(keys[0] ?? ''),
      );
      const names = new Set(parts.map((x) => x.name));
      const legal = nested
        ? ['code', 'value', 'description']
        : ['code', 'value', 'description', 'subproperty'];
      expect([...names].every((n) => legal.includes(n))).toBe(true);
      for (const s of parts.filter((x) => x.name === 'subproperty')) checkParts(s, true);
    };
    for (const p of outputs) {
      expect(r4StructureErrors(p)).toEqual([]);
      expect(param(p, 'name')).toHaveLength(1);
      expect(param(p, 'display')).toHaveLength(1);
      for (const prop of param(p, 'property')) checkParts(prop, false);
    }
  });
});
