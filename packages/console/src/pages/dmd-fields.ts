import type { DmdConcept } from '../api';
import { formatDate } from '../components/format';

/*
 * Readable names for the elements of a dm+d concept's own record (VTM, VMP, AMP, VMPP, AMPP), the
 * hub's JSON keeping the NHSBSA XSD element names. The names follow the field descriptions of the
 * NHSBSA "Technical specification of data files for release 2 of the dm+d" (the XSDs' source; NOTES
 * §1.3), shortened to what a person reading the console needs; the element name stays beside each.
 */
export const DMD_FIELD_LABELS: Readonly<Record<string, string>> = {
  // Identity, all classes
  VTMID: 'VTM identifier',
  VTMIDPREV: 'Previous VTM identifier',
  VTMIDDT: 'VTM identifier date',
  VPID: 'VMP identifier',
  VPIDPREV: 'Previous VMP identifier',
  VPIDDT: 'VMP identifier date',
  APID: 'AMP identifier',
  VPPID: 'VMPP identifier',
  APPID: 'AMPP identifier',
  INVALID: 'Invalid',
  // Names
  NM: 'Name',
  ABBREVNM: 'Abbreviated name',
  DESC: 'Description',
  BASISCD: 'Basis of name',
  NMDT: 'Date of name applicability',
  NMPREV: 'Previous name',
  NM_PREV: 'Previous name',
  BASIS_PREVCD: 'Basis of previous name',
  NMCHANGECD: 'Reason for name change',
  // VMP
  COMBPRODCD: 'Combination product indicator',
  PRES_STATCD: 'Prescribing status',
  SUG_F: 'Sugar free',
  GLU_F: 'Gluten free',
  PRES_F: 'Preservative free',
  CFC_F: 'CFC free',
  NON_AVAILCD: 'Non-availability indicator',
  NON_AVAILDT: 'Non-availability status date',
  DF_INDCD: 'Dose form indicator',
  UDFS: 'Unit dose form size',
  UDFS_UOMCD: 'Unit dose form units',
  UNIT_DOSE_UOMCD: 'Unit dose unit of measure',
  // AMP
  SUPPCD: 'Supplier',
  LIC_AUTHCD: 'Current licensing authority',
  LIC_AUTH_PREVCD: 'Previous licensing authority',
  LIC_AUTHCHANGECD: 'Reason for change of licensing authority',
  LIC_AUTHCHANGEDT: 'Date of change of licensing authority',
  FLAVOURCD: 'Flavour',
  EMA: 'EMA additional monitoring',
  PARALLEL_IMPORT: 'Parallel import',
  AVAIL_RESTRICTCD: 'Restrictions on availability',
  // VMPP and AMPP
  QTYVAL: 'Quantity value',
  QTY_UOMCD: 'Quantity unit of measure',
  COMBPACKCD: 'Combination pack indicator',
  LEGAL_CATCD: 'Legal category',
  SUBP: 'Sub-pack information',
  DISCCD: 'Discontinued indicator',
  DISCDT: 'Discontinued date',
};

/** Elements holding a date (YYYY-MM-DD). */
const DATES = new Set(['VTMIDDT', 'VPIDDT', 'NMDT', 'NON_AVAILDT', 'LIC_AUTHCHANGEDT', 'DISCDT']);

/** One row of the "Details" list. */
export interface DmdFact {
  /** The XSD element name, e.g. "BASISCD": shown small, for engineers. */
  element: string;
  /** "Basis of name"; the element name itself for an element this table does not know. */
  label: string;
  /** What a person reads: a lookup code's description, a date, "Yes"/"No", the text. */
  text: string;
  /** The lookup code when `text` is its description, e.g. "0001". */
  code?: string;
  /** The concept an id element points to, when it is one of the concept's parents. */
  link?: { id: string; name: string };
}

/**
 * The concept's own record as readable facts, in the hub's (XSD) order: labels from
 * {@link DMD_FIELD_LABELS}, lookup codes decoded with the hub's `codes`, ids of parents named.
 *
 * @example
 * dmdFacts(concept).find((f) => f.element === 'BASISCD');
 * // { element: 'BASISCD', label: 'Basis of name', text: 'rINN - Recommended International Non-proprietary', code: '0001' }
 */
export function dmdFacts(concept: DmdConcept): DmdFact[] {
  const row = concept.detail[concept.type.toLowerCase()];
  if (!row || typeof row !== 'object') return [];
  const parents = new Map(concept.parents.map((p) => [p.id, p.name]));
  const facts: DmdFact[] = [];
  for (const [element, value] of Object.entries(row as Record<string, unknown>)) {
    if (value === null || value === undefined || value === '' || typeof value === 'object') continue;
    const fact: DmdFact = { element, label: DMD_FIELD_LABELS[element] ?? element, text: String(value) };
    const coded = concept.codes?.[element];
    if (typeof value === 'boolean') fact.text = value ? 'Yes' : 'No';
    else if (coded) {
      // A code the release's lookup file lacks is shown as the code itself.
      if (coded.description?.trim()) {
        fact.text = coded.description;
        fact.code = coded.code;
      }
    } else if (DATES.has(element)) fact.text = formatDate(String(value));
    else if (typeof value === 'string' && parents.has(value)) {
      fact.link = { id: value, name: parents.get(value) ?? value };
    }
    facts.push(fact);
  }
  return facts;
}
