import { DmdFormatError, type RawRow } from './xml-reader.js';

/*
 * Typed dm+d records, one shape per section of each file, taken element by element from the
 * NHSBSA XSDs (reference/refdata/dmd/openprescribing-2019-04-01/*.xsd, v2.3; GTIN v2.0) and,
 * for the supplementary files, the layouts of wardle/dmd's examples of them
 * (reference/refdata/dmd/wardle-dmd-2021-08-26/: f_bnf1_…, HISTORIC_CODES/, VTM_INGREDIENTS/).
 * Field names are the XSD element names, so every column traces back to the spec.
 *
 * Value rules (NOTES §1.5):
 * - id: SNOMED CT identifiers as strings (17-digit ids exceed 2^53);
 * - code: lookup codes as strings, zero padding kept ("0001");
 * - flag: present → true, absent → false (dm+d omits false flags; true is "1" or "0001");
 * - date: ISO `YYYY-MM-DD`; int: safe integers (prices in pence); float: decimals;
 * - text: as given, entities decoded.
 * A trailing `!` marks an element the XSD makes mandatory (minOccurs 1).
 */

type Kind = 'id' | 'code' | 'text' | 'date' | 'flag' | 'int' | 'float' | 'gtin';
type FieldSpec = Kind | `${Exclude<Kind, 'flag'>}!`;
type Schema = Readonly<Record<string, FieldSpec>>;

interface KindValue {
  id: string;
  code: string;
  text: string;
  date: string;
  flag: boolean;
  int: number;
  float: number;
  gtin: string;
}
type ValueOf<S> = S extends `${infer K extends keyof KindValue}!`
  ? KindValue[K]
  : S extends 'flag'
    ? boolean
    : S extends keyof KindValue
      ? KindValue[S] | null
      : never;
/** The record type a schema describes: mandatory → value, optional → value | null, flag → boolean. */
export type RowOf<S extends Schema> = { -readonly [K in keyof S]: ValueOf<S[K]> };

const VTM = {
  VTMID: 'id!',
  INVALID: 'flag',
  NM: 'text!',
  ABBREVNM: 'text',
  VTMIDPREV: 'id',
  VTMIDDT: 'date',
} as const;

const VMP = {
  VPID: 'id!',
  VPIDDT: 'date',
  VPIDPREV: 'id',
  VTMID: 'id',
  INVALID: 'flag',
  NM: 'text!',
  ABBREVNM: 'text',
  BASISCD: 'code!',
  NMDT: 'date',
  NMPREV: 'text',
  BASIS_PREVCD: 'code',
  NMCHANGECD: 'code',
  COMBPRODCD: 'code',
  PRES_STATCD: 'code!',
  SUG_F: 'flag',
  GLU_F: 'flag',
  PRES_F: 'flag',
  CFC_F: 'flag',
  NON_AVAILCD: 'code',
  NON_AVAILDT: 'date',
  DF_INDCD: 'code',
  UDFS: 'float',
  UDFS_UOMCD: 'id',
  UNIT_DOSE_UOMCD: 'id',
} as const;
const VPI = {
  VPID: 'id!',
  ISID: 'id!',
  BASIS_STRNTCD: 'code',
  BS_SUBID: 'id',
  STRNT_NMRTR_VAL: 'float',
  STRNT_NMRTR_UOMCD: 'id',
  STRNT_DNMTR_VAL: 'float',
  STRNT_DNMTR_UOMCD: 'id',
} as const;
const ONT = { VPID: 'id!', FORMCD: 'code!' } as const;
const DFORM = { VPID: 'id!', FORMCD: 'id!' } as const;
const DROUTE = { VPID: 'id!', ROUTECD: 'id!' } as const;
const CONTROL_INFO = { VPID: 'id!', CATCD: 'code!', CATDT: 'date', CAT_PREVCD: 'code' } as const;

const AMP = {
  APID: 'id!',
  INVALID: 'flag',
  VPID: 'id!',
  NM: 'text!',
  ABBREVNM: 'text',
  DESC: 'text!',
  NMDT: 'date',
  NM_PREV: 'text',
  SUPPCD: 'id!',
  LIC_AUTHCD: 'code!',
  LIC_AUTH_PREVCD: 'code',
  LIC_AUTHCHANGECD: 'code',
  LIC_AUTHCHANGEDT: 'date',
  COMBPRODCD: 'code',
  FLAVOURCD: 'code',
  EMA: 'flag',
  PARALLEL_IMPORT: 'flag',
  AVAIL_RESTRICTCD: 'code!',
} as const;
const AP_ING = { APID: 'id!', ISID: 'id!', STRNTH: 'float', UOMCD: 'id' } as const;
const LIC_ROUTE = { APID: 'id!', ROUTECD: 'id!' } as const;
const AP_INFO = { APID: 'id!', SZ_WEIGHT: 'text', COLOURCD: 'code', PROD_ORDER_NO: 'text' } as const;

const VMPP = {
  VPPID: 'id!',
  INVALID: 'flag',
  NM: 'text!',
  ABBREVNM: 'text',
  VPID: 'id!',
  QTYVAL: 'float!',
  QTY_UOMCD: 'id!',
  COMBPACKCD: 'code',
} as const;
const DTINFO = { VPPID: 'id!', PAY_CATCD: 'code!', PRICE: 'int', DT: 'date', PREVPRICE: 'int' } as const;
const VMPP_CCONTENT = { PRNTVPPID: 'id!', CHLDVPPID: 'id!' } as const;

const AMPP = {
  APPID: 'id!',
  INVALID: 'flag',
  NM: 'text!',
  ABBREVNM: 'text',
  VPPID: 'id!',
  APID: 'id!',
  COMBPACKCD: 'code',
  LEGAL_CATCD: 'code!',
  SUBP: 'text',
  DISCCD: 'code',
  DISCDT: 'date',
} as const;
const PACK_INFO = {
  APPID: 'id!',
  REIMB_STATCD: 'code!',
  REIMB_STATDT: 'date',
  REIMB_STATPREVCD: 'code',
  PACK_ORDER_NO: 'text',
} as const;
const PRESCRIB_INFO = {
  APPID: 'id!',
  SCHED_2: 'flag',
  ACBS: 'flag',
  PADM: 'flag',
  FP10_MDA: 'flag',
  SCHED_1: 'flag',
  HOSP: 'flag',
  NURSE_F: 'flag',
  ENURSE_F: 'flag',
  DENT_F: 'flag',
} as const;
const PRICE_INFO = {
  APPID: 'id!',
  PRICE: 'int',
  PRICEDT: 'date',
  PRICE_PREV: 'int',
  PRICE_BASISCD: 'code!',
} as const;
const REIMB_INFO = {
  APPID: 'id!',
  PX_CHRGS: 'int',
  DISP_FEES: 'int',
  BB: 'flag',
  LTD_STAB: 'flag',
  CAL_PACK: 'flag',
  SPEC_CONTCD: 'code',
  DND: 'code',
  FP34D: 'flag',
} as const;
const AMPP_CCONTENT = { PRNTAPPID: 'id!', CHLDAPPID: 'id!' } as const;

const ING = { ISID: 'id!', ISIDDT: 'date', ISIDPREV: 'id', INVALID: 'flag', NM: 'text!' } as const;

/** One shape for all 26 lookup lists (the XSD's InfoType, HistoryInfoType and SupplierInfoType). */
const LOOKUP_INFO = { CD: 'code!', CDDT: 'date', CDPREV: 'code', INVALID: 'flag', DESC: 'text!' } as const;
export const LOOKUP_LISTS = [
  'COMBINATION_PACK_IND',
  'COMBINATION_PROD_IND',
  'BASIS_OF_NAME',
  'NAMECHANGE_REASON',
  'VIRTUAL_PRODUCT_PRES_STATUS',
  'CONTROL_DRUG_CATEGORY',
  'LICENSING_AUTHORITY',
  'UNIT_OF_MEASURE',
  'FORM',
  'ONT_FORM_ROUTE',
  'ROUTE',
  'DT_PAYMENT_CATEGORY',
  'SUPPLIER',
  'FLAVOUR',
  'COLOUR',
  'BASIS_OF_STRNTH',
  'REIMBURSEMENT_STATUS',
  'SPEC_CONT',
  'DND',
  'VIRTUAL_PRODUCT_NON_AVAIL',
  'DISCONTINUED_IND',
  'DF_INDICATOR',
  'PRICE_BASIS',
  'LEGAL_CATEGORY',
  'AVAILABILITY_RESTRICTION',
  'LICENSING_AUTHORITY_CHANGE_REASON',
] as const;
export type LookupList = (typeof LOOKUP_LISTS)[number];
type LookupSchemas = { readonly [L in LookupList as `${L}/INFO`]: typeof LOOKUP_INFO };
const LOOKUP = Object.fromEntries(LOOKUP_LISTS.map((l) => [`${l}/INFO`, LOOKUP_INFO])) as LookupSchemas;

/** GTIN rows flattened: one per GTINDATA, with its AMPP's AMPPID (an APPID). */
const GTINDATA = { AMPPID: 'id!', GTIN: 'gtin!', STARTDT: 'date!', ENDDT: 'date' } as const;

// Supplementary ("bonus") files: NOTES §1.1.
const BNF_VMP = { VPID: 'id!', BNF: 'text', ATC: 'text', DDD: 'float', DDD_UOMCD: 'id' } as const;
const BNF_AMP = { APID: 'id!', BNF: 'text' } as const;
const HISTORY = { IDCURRENT: 'id!', IDPREVIOUS: 'id!', STARTDT: 'date', ENDDT: 'date' } as const;
const VTM_ING = { VTMID: 'id!', ISID: 'id!' } as const;

/** Every file kind and its sections (path below the root → schema). */
export const DMD_SCHEMAS = {
  vtm: { VTM },
  vmp: {
    'VMPS/VMP': VMP,
    'VIRTUAL_PRODUCT_INGREDIENT/VPI': VPI,
    'ONT_DRUG_FORM/ONT': ONT,
    'DRUG_FORM/DFORM': DFORM,
    'DRUG_ROUTE/DROUTE': DROUTE,
    'CONTROL_DRUG_INFO/CONTROL_INFO': CONTROL_INFO,
  },
  amp: {
    'AMPS/AMP': AMP,
    'AP_INGREDIENT/AP_ING': AP_ING,
    'LICENSED_ROUTE/LIC_ROUTE': LIC_ROUTE,
    'AP_INFORMATION/AP_INFO': AP_INFO,
  },
  vmpp: {
    'VMPPS/VMPP': VMPP,
    'DRUG_TARIFF_INFO/DTINFO': DTINFO,
    'COMB_CONTENT/CCONTENT': VMPP_CCONTENT,
  },
  ampp: {
    'AMPPS/AMPP': AMPP,
    'APPLIANCE_PACK_INFO/PACK_INFO': PACK_INFO,
    'DRUG_PRODUCT_PRESCRIB_INFO/PRESCRIB_INFO': PRESCRIB_INFO,
    'MEDICINAL_PRODUCT_PRICE/PRICE_INFO': PRICE_INFO,
    'REIMBURSEMENT_INFO/REIMB_INFO': REIMB_INFO,
    'COMB_CONTENT/CCONTENT': AMPP_CCONTENT,
  },
  ingredient: { ING },
  lookup: LOOKUP,
  gtin: { 'AMPPS/AMPP/GTINDATA': GTINDATA },
  bnf: { 'VMPS/VMP': BNF_VMP, 'AMPS/AMP': BNF_AMP },
  history: {
    'VTMS/VTM': HISTORY,
    'VMPS/VMP': HISTORY,
    'INGS/ING': HISTORY,
    'SUPPS/SUPP': HISTORY,
    'FORMS/FORM': HISTORY,
    'ROUTES/ROUTE': HISTORY,
    'UOMS/UOM': HISTORY,
  },
  vtm_ing: { VTM_ING },
} as const;

type Schemas = typeof DMD_SCHEMAS;
/** A file kind: the name part of `f_<kind><n>_<n><DDMMYY>.xml`. */
export type DmdFileKind = keyof Schemas;
/** The root element each file kind must have (NOTES §1.1). */
export const DMD_ROOTS: Readonly<Record<DmdFileKind, string>> = {
  vtm: 'VIRTUAL_THERAPEUTIC_MOIETIES',
  vmp: 'VIRTUAL_MED_PRODUCTS',
  amp: 'ACTUAL_MEDICINAL_PRODUCTS',
  vmpp: 'VIRTUAL_MED_PRODUCT_PACK',
  ampp: 'ACTUAL_MEDICINAL_PROD_PACKS',
  ingredient: 'INGREDIENT_SUBSTANCES',
  lookup: 'LOOKUP',
  gtin: 'GTIN_DETAILS',
  bnf: 'BNF_DETAILS',
  history: 'HISTORY',
  vtm_ing: 'VTM_INGREDIENTS',
};
export type DmdSection<K extends DmdFileKind> = keyof Schemas[K] & string;
/** The typed row of one section of one file kind, e.g. `DmdRow<'vmp', 'VMPS/VMP'>`. */
export type DmdRow<K extends DmdFileKind, S extends DmdSection<K>> = Schemas[K][S] extends Schema
  ? RowOf<Schemas[K][S]>
  : never;

/** A typed record with where it came from; discriminated by `kind` and `section`. */
export type DmdRecord = {
  [K in DmdFileKind]: {
    [S in DmdSection<K>]: { kind: K; section: S; file: string; line: number; row: DmdRow<K, S> };
  }[DmdSection<K>];
}[DmdFileKind];

export function isDmdFileKind(s: string): s is DmdFileKind {
  return Object.hasOwn(DMD_SCHEMAS, s);
}

const PATTERNS: Record<Exclude<Kind, 'text' | 'flag'>, RegExp> = {
  id: /^\d{1,18}$/,
  code: /^\d{1,18}$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  int: /^-?\d{1,15}$/,
  float: /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/,
  gtin: /^(\d{13}|\d{14})?$/,
};

/**
 * Types one raw row of a file of the given kind. Unknown sections or elements, a missing
 * mandatory element or a value of the wrong form throw {@link DmdFormatError} naming file and line.
 *
 * @example
 * const rec = toDmdRecord('vmp', 'f_vmp2_3010419.xml', rawRow);
 * if (rec.kind === 'vmp' && rec.section === 'VMPS/VMP') rec.row.VPID; // string
 */
export function toDmdRecord(kind: DmdFileKind, file: string, raw: RawRow): DmdRecord {
  const sections = DMD_SCHEMAS[kind] as Readonly<Record<string, Schema>>;
  const schema = Object.hasOwn(sections, raw.section) ? sections[raw.section] : undefined;
  const fail = (reason: string): never => {
    throw new DmdFormatError(file, raw.line, undefined, reason);
  };
  if (!schema) return fail(`unexpected record <${raw.section}> in a ${kind} file`);
  const compiled = compile(schema);
  for (const name in raw.fields) {
    if (!compiled.names.has(name)) fail(`unexpected element <${name}> in <${raw.section}>`);
  }
  const row: Record<string, string | number | boolean | null> = {};
  for (const { name, type, mandatory } of compiled.fields) {
    const text = Object.hasOwn(raw.fields, name) ? raw.fields[name] : undefined;
    if (type === 'flag') {
      row[name] = text !== undefined; // dm+d writes true as "1" or "0001" and omits false
      continue;
    }
    if (type === 'text') {
      if (text === undefined) {
        if (mandatory) fail(`<${raw.section}> lacks mandatory <${name}>`);
        row[name] = null;
      } else row[name] = text;
      continue;
    }
    const value = text?.trim();
    if (value === undefined || (value === '' && type !== 'gtin')) {
      if (mandatory) fail(`<${raw.section}> lacks mandatory <${name}>`);
      row[name] = null;
      continue;
    }
    if (!PATTERNS[type].test(value)) fail(`<${name}> in <${raw.section}> is not a valid ${type}: "${value}"`);
    if (type === 'int') {
      const n = Number(value);
      if (!Number.isSafeInteger(n)) fail(`<${name}> in <${raw.section}> is too large: "${value}"`);
      row[name] = n;
    } else if (type === 'float') {
      row[name] = Number(value);
    } else {
      row[name] = value;
    }
  }
  return { kind, section: raw.section, file, line: raw.line, row } as DmdRecord;
}

interface CompiledSchema {
  names: ReadonlySet<string>;
  fields: readonly { name: string; type: Kind; mandatory: boolean }[];
}
const compiledSchemas = new WeakMap<Schema, CompiledSchema>();
/** Splits each spec once per schema, not once per row (a full release has ~1.5M rows). */
function compile(schema: Schema): CompiledSchema {
  let c = compiledSchemas.get(schema);
  if (!c) {
    const fields = Object.entries(schema).map(([name, spec]) => {
      const mandatory = spec.endsWith('!');
      return { name, type: (mandatory ? spec.slice(0, -1) : spec) as Kind, mandatory };
    });
    c = { names: new Set(Object.keys(schema)), fields };
    compiledSchemas.set(schema, c);
  }
  return c;
}
