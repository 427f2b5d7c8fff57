import type { DmdRow, LookupList } from './records.js';

/*
 * What the rest of the hub sees of the dm+d once a release is in the store: concepts with their
 * detail (the typed rows of records.ts, so every field keeps its XSD name), and the flat entries
 * the search index is built from. The store (medicines/store) produces these; search, FHIR and
 * the routes consume them.
 */

/** The five dm+d concept classes (NHSBSA data model §2). */
export const DMD_CONCEPT_TYPES = ['VTM', 'VMP', 'AMP', 'VMPP', 'AMPP'] as const;
export type DmdConceptType = (typeof DMD_CONCEPT_TYPES)[number];

export type VtmRow = DmdRow<'vtm', 'VTM'>;
export type VmpRow = DmdRow<'vmp', 'VMPS/VMP'>;
export type AmpRow = DmdRow<'amp', 'AMPS/AMP'>;
export type VmppRow = DmdRow<'vmpp', 'VMPPS/VMPP'>;
export type AmppRow = DmdRow<'ampp', 'AMPPS/AMPP'>;
export type IngredientRow = DmdRow<'ingredient', 'ING'>;
export type GtinRow = DmdRow<'gtin', 'AMPPS/AMPP/GTINDATA'>;

/** A concept's name and id, for links up and down the hierarchy. */
export interface DmdConceptRef {
  type: DmdConceptType;
  id: string;
  name: string;
  invalid: boolean;
  /**
   * AMP and AMPP: the supplier's name (AMP `SUPPCD` → SUPPLIER lookup), which tells apart the AMPs of
   * one VMP (all named like it). Absent for the other classes, or when the lookup has no such code.
   */
  supplier?: string;
}

export interface VtmDetail {
  type: 'VTM';
  vtm: VtmRow;
}

export interface VmpDetail {
  type: 'VMP';
  vmp: VmpRow;
  vtm: VtmRow | null;
  /** VIRTUAL_PRODUCT_INGREDIENT rows with their ingredient substance (null if not in the release). */
  ingredients: { vpi: DmdRow<'vmp', 'VIRTUAL_PRODUCT_INGREDIENT/VPI'>; ingredient: IngredientRow | null }[];
  ontForms: DmdRow<'vmp', 'ONT_DRUG_FORM/ONT'>[];
  /** DRUG_FORM: at most one per VMP. */
  form: DmdRow<'vmp', 'DRUG_FORM/DFORM'> | null;
  routes: DmdRow<'vmp', 'DRUG_ROUTE/DROUTE'>[];
  /** CONTROL_DRUG_INFO: at most one per VMP. */
  control: DmdRow<'vmp', 'CONTROL_DRUG_INFO/CONTROL_INFO'> | null;
  /** Supplementary BNF file, when the release had one. */
  bnf: DmdRow<'bnf', 'VMPS/VMP'> | null;
}

export interface AmpDetail {
  type: 'AMP';
  amp: AmpRow;
  vmp: VmpRow;
  ingredients: { apIng: DmdRow<'amp', 'AP_INGREDIENT/AP_ING'>; ingredient: IngredientRow | null }[];
  licensedRoutes: DmdRow<'amp', 'LICENSED_ROUTE/LIC_ROUTE'>[];
  info: DmdRow<'amp', 'AP_INFORMATION/AP_INFO'> | null;
  bnf: DmdRow<'bnf', 'AMPS/AMP'> | null;
}

export interface VmppDetail {
  type: 'VMPP';
  vmpp: VmppRow;
  vmp: VmpRow;
  drugTariff: DmdRow<'vmpp', 'DRUG_TARIFF_INFO/DTINFO'> | null;
  /** For a combination pack (COMBPACKCD 0001): the packs it contains (COMB_CONTENT children). */
  contents: VmppRow[];
}

export interface AmppDetail {
  type: 'AMPP';
  ampp: AmppRow;
  amp: AmpRow;
  vmpp: VmppRow;
  packInfo: DmdRow<'ampp', 'APPLIANCE_PACK_INFO/PACK_INFO'> | null;
  prescribingInfo: DmdRow<'ampp', 'DRUG_PRODUCT_PRESCRIB_INFO/PRESCRIB_INFO'> | null;
  priceInfo: DmdRow<'ampp', 'MEDICINAL_PRODUCT_PRICE/PRICE_INFO'> | null;
  reimbursementInfo: DmdRow<'ampp', 'REIMBURSEMENT_INFO/REIMB_INFO'> | null;
  /** Every GTIN of the pack, current (no ENDDT) and historic. */
  gtins: GtinRow[];
  contents: AmppRow[];
}

export type DmdConceptDetail = VtmDetail | VmpDetail | AmpDetail | VmppDetail | AmppDetail;

/** Resolves a lookup code to its description (`f_lookup2`), e.g. `('FORM', '385055001')` → "Tablet". */
export type DmdLookupResolver = (list: LookupList, code: string | null | undefined) => string | null;

/** Whether a product is a medicine or a device/appliance (see medicines/store for the rule). */
export type DmdProductKind = 'medicine' | 'device';

/**
 * One concept as the search index sees it: names and the facts the filters need, computed once per
 * release by the store so that a search never touches the database.
 */
export interface DmdSearchEntry {
  type: DmdConceptType;
  id: string;
  name: string;
  abbreviatedName: string | null;
  /** AMP `DESC` (the brand's fuller description), for brand search. */
  description: string | null;
  /** AMP and AMPP: the supplier's name (AMP `SUPPCD` → SUPPLIER lookup); null otherwise. */
  supplier?: string | null;
  invalid: boolean;
  kind: DmdProductKind;
  /** NHS primary care prescribing allows it (see medicines/store for the rule per class). */
  prescribable: boolean;
  /** Actual products can still be obtained (not "not available", not discontinued). */
  available: boolean;
  /** CONTROL_DRUG_CATEGORY code of the VMP (inherited down), null or "0000" when none. */
  controlledDrugCategory: string | null;
  /** DRUG_FORM FORMCD of the VMP (inherited down), e.g. "428673006" (tablet). */
  formCode: string | null;
  /** DRUG_ROUTE ROUTECDs of the VMP (inherited down). */
  routeCodes: string[];
  /** The VMP this concept is or belongs to (null for a VTM). */
  vmpId: string | null;
  vtmId: string | null;
  /** How many available, valid packs (AMPPs) sit below: a proxy for how common a product is. */
  packCount: number;
}

/**
 * A concept's class, id, name and validity, whichever class it is; with `lookup`, an AMP's or AMPP's
 * supplier name too.
 *
 * @example
 * dmdConceptRefOf(detail, lookup); // { type: 'AMP', id: '…', name: 'Amoxicillin 500mg capsules', invalid: false, supplier: 'Kent Pharma' }
 */
export function dmdConceptRefOf(detail: DmdConceptDetail, lookup?: DmdLookupResolver): DmdConceptRef {
  switch (detail.type) {
    case 'VTM':
      return { type: 'VTM', id: detail.vtm.VTMID, name: detail.vtm.NM, invalid: detail.vtm.INVALID };
    case 'VMP':
      return { type: 'VMP', id: detail.vmp.VPID, name: detail.vmp.NM, invalid: detail.vmp.INVALID };
    case 'AMP':
      return withSupplier(
        { type: 'AMP', id: detail.amp.APID, name: detail.amp.NM, invalid: detail.amp.INVALID },
        lookup?.('SUPPLIER', detail.amp.SUPPCD),
      );
    case 'VMPP':
      return { type: 'VMPP', id: detail.vmpp.VPPID, name: detail.vmpp.NM, invalid: detail.vmpp.INVALID };
    case 'AMPP':
      return withSupplier(
        { type: 'AMPP', id: detail.ampp.APPID, name: detail.ampp.NM, invalid: detail.ampp.INVALID },
        lookup?.('SUPPLIER', detail.amp.SUPPCD),
      );
  }
}

/** The ref with `supplier` set when there is a name (exactOptionalPropertyTypes: never `undefined`). */
export function withSupplier(ref: DmdConceptRef, supplier: string | null | undefined): DmdConceptRef {
  return supplier ? { ...ref, supplier } : ref;
}

/** The concept's own row (VTM, VMP, AMP, VMPP or AMPP record), whichever class it is. */
export function dmdMainRow(detail: DmdConceptDetail): VtmRow | VmpRow | AmpRow | VmppRow | AmppRow {
  switch (detail.type) {
    case 'VTM':
      return detail.vtm;
    case 'VMP':
      return detail.vmp;
    case 'AMP':
      return detail.amp;
    case 'VMPP':
      return detail.vmpp;
    case 'AMPP':
      return detail.ampp;
  }
}
