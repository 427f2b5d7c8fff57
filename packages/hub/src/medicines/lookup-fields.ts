import type { DmdLookupResolver } from './model.js';
import type { LookupList } from './records.js';

/**
 * The lookup list each coded element takes its description from (NHSBSA dm+d data model:
 * https://www.nhsbsa.nhs.uk/sites/default/files/2017-02/Technical_Specification_of_data_files_R2_v3.1_May_2015.pdf).
 */
export const DMD_LOOKUP_OF: Readonly<Record<string, LookupList>> = {
  BASISCD: 'BASIS_OF_NAME',
  BASIS_PREVCD: 'BASIS_OF_NAME',
  NMCHANGECD: 'NAMECHANGE_REASON',
  COMBPRODCD: 'COMBINATION_PROD_IND',
  PRES_STATCD: 'VIRTUAL_PRODUCT_PRES_STATUS',
  NON_AVAILCD: 'VIRTUAL_PRODUCT_NON_AVAIL',
  DF_INDCD: 'DF_INDICATOR',
  UDFS_UOMCD: 'UNIT_OF_MEASURE',
  UNIT_DOSE_UOMCD: 'UNIT_OF_MEASURE',
  STRNT_NMRTR_UOMCD: 'UNIT_OF_MEASURE',
  STRNT_DNMTR_UOMCD: 'UNIT_OF_MEASURE',
  UOMCD: 'UNIT_OF_MEASURE',
  QTY_UOMCD: 'UNIT_OF_MEASURE',
  DDD_UOMCD: 'UNIT_OF_MEASURE',
  BASIS_STRNTCD: 'BASIS_OF_STRNTH',
  FORMCD: 'FORM',
  ROUTECD: 'ROUTE',
  CATCD: 'CONTROL_DRUG_CATEGORY',
  CAT_PREVCD: 'CONTROL_DRUG_CATEGORY',
  SUPPCD: 'SUPPLIER',
  LIC_AUTHCD: 'LICENSING_AUTHORITY',
  LIC_AUTH_PREVCD: 'LICENSING_AUTHORITY',
  LIC_AUTHCHANGECD: 'LICENSING_AUTHORITY_CHANGE_REASON',
  FLAVOURCD: 'FLAVOUR',
  AVAIL_RESTRICTCD: 'AVAILABILITY_RESTRICTION',
  COLOURCD: 'COLOUR',
  COMBPACKCD: 'COMBINATION_PACK_IND',
  PAY_CATCD: 'DT_PAYMENT_CATEGORY',
  LEGAL_CATCD: 'LEGAL_CATEGORY',
  DISCCD: 'DISCONTINUED_IND',
  REIMB_STATCD: 'REIMBURSEMENT_STATUS',
  REIMB_STATPREVCD: 'REIMBURSEMENT_STATUS',
  PRICE_BASISCD: 'PRICE_BASIS',
  SPEC_CONTCD: 'SPEC_CONT',
  DND: 'DND',
};

/** A lookup-coded element of a row with its code and the release's description of it. */
export interface DmdCodedValue {
  /** The lookup list (f_lookup2 tag), e.g. "BASIS_OF_NAME". */
  list: LookupList;
  code: string;
  /** Null when the release's lookup file has no such code. */
  description: string | null;
}

/**
 * The lookup-coded elements of one dm+d row (those named in {@link DMD_LOOKUP_OF}) with their
 * descriptions, e.g. `{ BASISCD: { list: 'BASIS_OF_NAME', code: '0001', description: 'rINN - …' } }`.
 * Empty elements are left out.
 *
 * @example
 * const codes = dmdCodedValues(detail.vmp, await reader.lookup());
 * codes.PRES_STATCD?.description; // "Valid as a prescribable product"
 */
export function dmdCodedValues(
  row: Readonly<Record<string, unknown>>,
  lookup: DmdLookupResolver,
): Record<string, DmdCodedValue> {
  const out: Record<string, DmdCodedValue> = {};
  for (const [field, value] of Object.entries(row)) {
    const list = DMD_LOOKUP_OF[field];
    if (list === undefined || typeof value !== 'string' || value === '') continue;
    out[field] = { list, code: value, description: lookup(list, value) };
  }
  return out;
}
