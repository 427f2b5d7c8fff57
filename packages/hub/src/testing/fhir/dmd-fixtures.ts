import type {
  AmpDetail,
  AmppDetail,
  AmppRow,
  AmpRow,
  DmdConceptRef,
  DmdLookupResolver,
  GtinRow,
  IngredientRow,
  VmpDetail,
  VmppDetail,
  VmppRow,
  VmpRow,
  VtmRow,
} from '../../medicines/model.js';
import type { DmdRow, LookupList } from '../../medicines/records.js';

/*
 * Test fixtures (used by the *.test.ts beside this file only): the diclofenac 2.32% gel family as
 * the 2019-04-01 sample release has it (reference/refdata/dmd/openprescribing-2019-04-01), field
 * for field; fixtures.test.ts checks each row against the reader's output for that release.
 * The `tablet` VMP and the combination pack further down are synthetic.
 */

export const DICLOFENAC_VTM: VtmRow = {
  VTMID: '32889211000001103',
  INVALID: false,
  NM: 'Diclofenac diethylammonium',
  ABBREVNM: null,
  VTMIDPREV: null,
  VTMIDDT: null,
};

export const DICLOFENAC_VMP: VmpRow = {
  VPID: '22480211000001104',
  VPIDDT: null,
  VPIDPREV: null,
  VTMID: '32889211000001103',
  INVALID: false,
  NM: 'Diclofenac 2.32% gel',
  ABBREVNM: null,
  BASISCD: '0001',
  NMDT: '2014-04-24',
  NMPREV: 'Diclofenac 2% gel',
  BASIS_PREVCD: '0001',
  NMCHANGECD: '0004',
  COMBPRODCD: null,
  PRES_STATCD: '0001',
  SUG_F: false,
  GLU_F: false,
  PRES_F: false,
  CFC_F: false,
  NON_AVAILCD: null,
  NON_AVAILDT: null,
  DF_INDCD: '2',
  UDFS: null,
  UDFS_UOMCD: null,
  UNIT_DOSE_UOMCD: null,
};

export const DICLOFENAC_ING: IngredientRow = {
  ISID: '426714006',
  ISIDDT: '2007-11-14',
  ISIDPREV: '3527811000001106',
  INVALID: false,
  NM: 'Diclofenac diethylammonium',
};

export const DICLOFENAC_VPI: DmdRow<'vmp', 'VIRTUAL_PRODUCT_INGREDIENT/VPI'> = {
  VPID: '22480211000001104',
  ISID: '426714006',
  BASIS_STRNTCD: '0001',
  BS_SUBID: null,
  STRNT_NMRTR_VAL: 23.2,
  STRNT_NMRTR_UOMCD: '258684004',
  STRNT_DNMTR_VAL: 1,
  STRNT_DNMTR_UOMCD: '258682000',
};

export const DICLOFENAC_VMP_DETAIL: VmpDetail = {
  type: 'VMP',
  vmp: DICLOFENAC_VMP,
  vtm: DICLOFENAC_VTM,
  ingredients: [{ vpi: DICLOFENAC_VPI, ingredient: DICLOFENAC_ING }],
  ontForms: [{ VPID: '22480211000001104', FORMCD: '0040' }],
  form: { VPID: '22480211000001104', FORMCD: '385100002' },
  routes: [{ VPID: '22480211000001104', ROUTECD: '45890007' }],
  control: { VPID: '22480211000001104', CATCD: '0000', CATDT: null, CAT_PREVCD: null },
  bnf: null,
};

/** Voltarol 12 Hour Emulgel P 2.32% gel: the valid, available brand. */
export const VOLTAROL_AMP: AmpRow = {
  APID: '22479611000001102',
  INVALID: false,
  VPID: '22480211000001104',
  NM: 'Voltarol 12 Hour Emulgel P 2.32% gel',
  ABBREVNM: null,
  DESC: 'Voltarol 12 Hour Emulgel P 2.32% gel (GlaxoSmithKline Consumer Healthcare)',
  NMDT: '2014-04-24',
  NM_PREV: 'Voltarol 12 Hour 2% Emulgel P',
  SUPPCD: '4012401000001102',
  LIC_AUTHCD: '0001',
  LIC_AUTH_PREVCD: null,
  LIC_AUTHCHANGECD: null,
  LIC_AUTHCHANGEDT: null,
  COMBPRODCD: null,
  FLAVOURCD: null,
  EMA: false,
  PARALLEL_IMPORT: false,
  AVAIL_RESTRICTCD: '0001',
};

/** Diclofenac 2.32% gel (Colorama Pharmaceuticals Ltd): invalid, not available. */
export const COLORAMA_AMP: AmpRow = {
  APID: '29915211000001103',
  INVALID: true,
  VPID: '22480211000001104',
  NM: 'Diclofenac 2.32% gel',
  ABBREVNM: null,
  DESC: 'Diclofenac 2.32% gel (Colorama Pharmaceuticals Ltd)',
  NMDT: null,
  NM_PREV: null,
  SUPPCD: '22635811000001102',
  LIC_AUTHCD: '0001',
  LIC_AUTH_PREVCD: null,
  LIC_AUTHCHANGECD: null,
  LIC_AUTHCHANGEDT: null,
  COMBPRODCD: null,
  FLAVOURCD: null,
  EMA: false,
  PARALLEL_IMPORT: false,
  AVAIL_RESTRICTCD: '0009',
};

export const voltarolAmpDetail = (): AmpDetail => ({
  type: 'AMP',
  amp: VOLTAROL_AMP,
  vmp: DICLOFENAC_VMP,
  ingredients: [],
  licensedRoutes: [],
  info: null,
  bnf: null,
});

export const VMPP_30G: VmppRow = {
  VPPID: '22479511000001101',
  INVALID: false,
  NM: 'Diclofenac 2.32% gel 30 gram',
  ABBREVNM: null,
  VPID: '22480211000001104',
  QTYVAL: 30,
  QTY_UOMCD: '258682000',
  COMBPACKCD: null,
};

export const VMPP_30G_DETAIL: VmppDetail = {
  type: 'VMPP',
  vmpp: VMPP_30G,
  vmp: DICLOFENAC_VMP,
  drugTariff: { VPPID: '22479511000001101', PAY_CATCD: '0003', PRICE: 461, DT: '2017-04-01', PREVPRICE: 419 },
  contents: [],
};

/** Voltarol 12 Hour Emulgel P 2.32% gel (GlaxoSmithKline Consumer Healthcare) 30 gram. */
export const VOLTAROL_AMPP_30G: AmppRow = {
  APPID: '22479911000001108',
  INVALID: false,
  NM: 'Voltarol 12 Hour Emulgel P 2.32% gel (GlaxoSmithKline Consumer Healthcare) 30 gram',
  ABBREVNM: null,
  VPPID: '22479511000001101',
  APID: '22479611000001102',
  COMBPACKCD: null,
  LEGAL_CATCD: '0002',
  SUBP: null,
  DISCCD: null,
  DISCDT: null,
};

export const VOLTAROL_GTIN_30G: GtinRow = {
  AMPPID: '22479911000001108',
  GTIN: '5051562030702',
  STARTDT: '2013-09-17',
  ENDDT: null,
};

export const voltarolAmppDetail = (): AmppDetail => ({
  type: 'AMPP',
  ampp: VOLTAROL_AMPP_30G,
  amp: VOLTAROL_AMP,
  vmpp: VMPP_30G,
  packInfo: null,
  prescribingInfo: null,
  priceInfo: {
    APPID: '22479911000001108',
    PRICE: 461,
    PRICEDT: '2017-03-01',
    PRICE_PREV: 419,
    PRICE_BASISCD: '0001',
  },
  reimbursementInfo: {
    APPID: '22479911000001108',
    PX_CHRGS: 1,
    DISP_FEES: 1,
    BB: false,
    LTD_STAB: false,
    CAL_PACK: false,
    SPEC_CONTCD: '0001',
    DND: null,
    FP34D: false,
  },
  gtins: [VOLTAROL_GTIN_30G],
  contents: [],
});

/** Diclofenac 2.32% gel (Colorama Pharmaceuticals Ltd) 30 gram: invalid, discontinued, no price. */
export const COLORAMA_AMPP_30G: AmppRow = {
  APPID: '29915311000001106',
  INVALID: true,
  NM: 'Diclofenac 2.32% gel (Colorama Pharmaceuticals Ltd) 30 gram',
  ABBREVNM: null,
  VPPID: '22479511000001101',
  APID: '29915211000001103',
  COMBPACKCD: null,
  LEGAL_CATCD: '0002',
  SUBP: null,
  DISCCD: '0001',
  DISCDT: '2017-10-01',
};

export const coloramaAmppDetail = (): AmppDetail => ({
  type: 'AMPP',
  ampp: COLORAMA_AMPP_30G,
  amp: COLORAMA_AMP,
  vmpp: VMPP_30G,
  packInfo: null,
  prescribingInfo: null,
  priceInfo: { APPID: '29915311000001106', PRICE: 0, PRICEDT: null, PRICE_PREV: null, PRICE_BASISCD: '0002' },
  reimbursementInfo: {
    APPID: '29915311000001106',
    PX_CHRGS: 1,
    DISP_FEES: 1,
    BB: false,
    LTD_STAB: false,
    CAL_PACK: false,
    SPEC_CONTCD: '0001',
    DND: null,
    FP34D: false,
  },
  gtins: [],
  contents: [],
});

export const DICLOFENAC_REFS = {
  vtm: { type: 'VTM', id: '32889211000001103', name: 'Diclofenac diethylammonium', invalid: false },
  vmp: { type: 'VMP', id: '22480211000001104', name: 'Diclofenac 2.32% gel', invalid: false },
  voltarol: {
    type: 'AMP',
    id: '22479611000001102',
    name: 'Voltarol 12 Hour Emulgel P 2.32% gel',
    invalid: false,
  },
  colorama: { type: 'AMP', id: '29915211000001103', name: 'Diclofenac 2.32% gel', invalid: true },
  vmpp30: { type: 'VMPP', id: '22479511000001101', name: 'Diclofenac 2.32% gel 30 gram', invalid: false },
} as const satisfies Record<string, DmdConceptRef>;

/** The lookup entries the fixtures use, copied from the same release's f_lookup2_3010419.xml. */
export const LOOKUP_ENTRIES: readonly [LookupList, string, string][] = [
  ['FORM', '385100002', 'Gel'],
  ['UNIT_OF_MEASURE', '258684004', 'mg'],
  ['UNIT_OF_MEASURE', '258682000', 'gram'],
  ['UNIT_OF_MEASURE', '428673006', 'tablet'],
  ['ROUTE', '45890007', 'Transdermal'],
  ['ONT_FORM_ROUTE', '0040', 'gel.transdermal'],
  ['SUPPLIER', '4012401000001102', 'GlaxoSmithKline Consumer Healthcare'],
  ['SUPPLIER', '22635811000001102', 'Colorama Pharmaceuticals Ltd'],
  ['CONTROL_DRUG_CATEGORY', '0000', 'No Controlled Drug Status'],
  ['CONTROL_DRUG_CATEGORY', '0002', 'Schedule 2 (CD)'],
  ['VIRTUAL_PRODUCT_PRES_STATUS', '0001', 'Valid as a prescribable product'],
  ['VIRTUAL_PRODUCT_NON_AVAIL', '0001', 'Actual Products not Available'],
  ['BASIS_OF_NAME', '0001', 'rINN - Recommended International Non-proprietary'],
  ['NAMECHANGE_REASON', '0004', 'Other'],
  ['DF_INDICATOR', '1', 'Discrete'],
  ['DF_INDICATOR', '2', 'Continuous'],
  ['BASIS_OF_STRNTH', '0001', 'Based on Ingredient Substance'],
  ['LICENSING_AUTHORITY', '0001', 'Medicines - MHRA/EMA'],
  ['AVAILABILITY_RESTRICTION', '0001', 'None'],
  ['AVAILABILITY_RESTRICTION', '0009', 'Not available'],
  ['LEGAL_CATEGORY', '0002', 'P'],
  ['DT_PAYMENT_CATEGORY', '0003', 'Part VIIIA Category C'],
  ['PRICE_BASIS', '0001', 'NHS Indicative Price'],
  ['PRICE_BASIS', '0002', 'No Price Available'],
  ['SPEC_CONT', '0001', 'Special container'],
  ['DISCONTINUED_IND', '0001', 'Discontinued Flag'],
  ['COMBINATION_PACK_IND', '0001', 'Combination pack'],
  ['COMBINATION_PROD_IND', '0001', 'Combination Product'],
];

/** A resolver over {@link LOOKUP_ENTRIES}, as the store's `f_lookup2` resolver behaves: unknown → null. */
export function fixtureLookup(entries = LOOKUP_ENTRIES): DmdLookupResolver {
  const map = new Map(entries.map(([list, code, desc]) => [`${list}|${code}`, desc]));
  return (list, code) => (code ? (map.get(`${list}|${code}`) ?? null) : null);
}

/**
 * Synthetic discrete VMP (strength without a denominator, UNIT_DOSE_UOMCD tablet), invalid,
 * controlled, with a previous id and flags: exercises the branches the diclofenac gel does not.
 */
export function syntheticTabletVmpDetail(): VmpDetail {
  const VPID = '900000000000001';
  return {
    type: 'VMP',
    vmp: {
      ...DICLOFENAC_VMP,
      VPID,
      VPIDDT: '2020-01-02',
      VPIDPREV: '900000000000002',
      VTMID: null,
      INVALID: true,
      NM: 'Synthetamol 10mg tablets',
      ABBREVNM: 'Synthetamol 10mg tab',
      NMDT: null,
      NMPREV: null,
      BASIS_PREVCD: null,
      NMCHANGECD: null,
      SUG_F: true,
      PRES_F: false,
      NON_AVAILCD: '0001',
      NON_AVAILDT: '2021-03-04',
      DF_INDCD: '1',
      UDFS: 1,
      UDFS_UOMCD: '428673006',
      UNIT_DOSE_UOMCD: '428673006',
    },
    vtm: null,
    ingredients: [
      {
        vpi: {
          VPID,
          ISID: '900000000000003',
          BASIS_STRNTCD: '0001',
          BS_SUBID: null,
          STRNT_NMRTR_VAL: 10,
          STRNT_NMRTR_UOMCD: '258684004',
          STRNT_DNMTR_VAL: null,
          STRNT_DNMTR_UOMCD: null,
        },
        ingredient: null,
      },
    ],
    ontForms: [],
    form: null,
    routes: [],
    control: { VPID, CATCD: '0002', CATDT: '2019-05-06', CAT_PREVCD: '0000' },
    bnf: { VPID, BNF: '0407020A0AAAAAA', ATC: 'N02AA01', DDD: 0.1, DDD_UOMCD: '258684004' },
  };
}
