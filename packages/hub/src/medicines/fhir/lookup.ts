import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { DMD_LOOKUP_OF as LOOKUP_OF } from '../lookup-fields.js';
import {
  type DmdConceptDetail,
  type DmdConceptRef,
  type DmdConceptType,
  type DmdLookupResolver,
  dmdConceptRefOf,
  dmdMainRow,
} from '../model.js';
import { DMD_SCHEMAS, type DmdFileKind, type LookupList } from '../records.js';
import { SNOMED_SYNONYM } from './systems.js';

/*
 * A dm+d concept's full detail as a FHIR `Parameters` shaped like the output of CodeSystem `$lookup`
 * (http://hl7.org/fhir/R4/codesystem-operation-lookup.html): `name`, `version`, `display`,
 * `designation` (language?, use?, value) and `property` (code, value[x], description?, subproperty*),
 * value[x] being one of code | Coding | string | integer | boolean | dateTime | decimal.
 *
 * Property codes. The NHS England Terminology Server (Ontoserver, CodeSystem `https://dmd.nhs.uk`)
 * names dm+d properties by the dm+d XML element (`CATCD`, `FORMCD`, `ROUTECD`, `INVALID`) and puts the
 * concept class in the standard `parent` property (`parent = VMP`, `parent = <VPID>` for AMPs of a VMP);
 * see NHSDigital/TerminologyServer `codesnippets/Content specific/dmd/ValueSet/Operations/expand/POST`
 * ("expand Querying controlled drug property…", "expand all AMPs and linking to a VMP code"). We follow
 * that, so every fact keeps the element name of the NHSBSA XSD (records.ts):
 * - `parent`: first the class (VTM/VMP/AMP/VMPP/AMPP), then each parent concept (VMP→VTM, AMP→VMP,
 *   VMPP→VMP, AMPP→AMP and VMPP); `child`: each child concept. Both are FHIR's own concept properties
 *   (http://hl7.org/fhir/R4/codesystem-concept-properties.html), with the name in `description` and
 *   sub-properties `parent` (the related concept's class) and `inactive`.
 * - `inactive` (FHIR concept property, always present): dm+d INVALID.
 * - every non-empty field of the concept's rows, by element name: ids (VTMIDPREV, VPIDPREV, VPID…) and
 *   lookup codes as `valueCode` with the lookup description (or the linked concept's name) in
 *   `description`; dates as `valueDateTime`; prices and counts as `valueInteger` (prices in pence, with
 *   "£x.xx" in `description`); floats as `valueDecimal`; text and GTINs as `valueString`; dm+d flags
 *   only when true (dm+d omits false flags), as `valueBoolean: true`. Codes keep dm+d's zero padding
 *   ("0002"; the Terminology Server's filters write "2").
 * - repeated rows become one property each with the row's other fields as sub-properties: `VPI` and
 *   `AP_ING` (value: ISID, description: ingredient name), `GTIN` (sub-properties STARTDT, ENDDT),
 *   `ROUTECD` (VMP DRUG_ROUTE), `ONT_FORMCD` (VMP ONT_DRUG_FORM FORMCD, renamed because DRUG_FORM's
 *   FORMCD is the VMP's `FORMCD`), `LIC_ROUTECD` (AMP LICENSED_ROUTE ROUTECD), and `CHLDVPPID` /
 *   `CHLDAPPID` (combination pack contents, COMB_CONTENT).
 * Designations: ABBREVNM and the AMP's DESC, with use SNOMED CT "Synonym".
 */

export interface DmdLookupInput {
  detail: DmdConceptDetail;
  /** The concepts above: VMP→VTM, AMP→VMP, VMPP→VMP, AMPP→AMP and VMPP. */
  parents: readonly DmdConceptRef[];
  /** The concepts below: VTM→VMPs, VMP→AMPs and VMPPs, AMP→AMPPs, VMPP→AMPPs. */
  children: readonly DmdConceptRef[];
  /** The release the detail comes from, reported as the code system `version`. */
  releaseId?: string | null;
}

const CLASS_NAMES: Record<DmdConceptType, string> = {
  VTM: 'Virtual Therapeutic Moiety',
  VMP: 'Virtual Medicinal Product',
  AMP: 'Actual Medicinal Product',
  VMPP: 'Virtual Medicinal Product Pack',
  AMPP: 'Actual Medicinal Product Pack',
};

/** Elements holding a price in pence. */
const PRICES = new Set(['PRICE', 'PREVPRICE', 'PRICE_PREV']);

type Value =
  | { valueCode: string }
  | { valueString: string }
  | { valueInteger: number }
  | { valueDecimal: number }
  | { valueBoolean: boolean }
  | { valueDateTime: string };

interface Property {
  code: string;
  value: Value;
  description?: string | null;
  sub?: Property[];
}

/**
 * Builds the `$lookup`-style view of one concept.
 *
 * @example
 * const p = toDmdLookupParameters({ detail, parents, children, releaseId: '201904.1.0' }, lookup);
 * p.parameter?.find((x) => x.name === 'display')?.valueString; // "Diclofenac 2.32% gel"
 */
export function toDmdLookupParameters(input: DmdLookupInput, lookup: DmdLookupResolver): Parameters {
  const { detail, parents, children } = input;
  const { id, name, invalid } = dmdConceptRefOf(detail);
  const names = new Map<string, string>();
  for (const r of [...parents, ...children]) names.set(r.id, r.name);
  const ctx: Ctx = { lookup, names, self: id };

  const props: Property[] = [
    { code: 'parent', value: { valueCode: detail.type }, description: CLASS_NAMES[detail.type] },
  ];
  for (const r of parents) props.push(refProperty('parent', r));
  for (const r of children) props.push(refProperty('child', r));
  props.push({ code: 'inactive', value: { valueBoolean: invalid } });
  props.push(...conceptFacts(detail, ctx));

  const parameter: ParametersParameter[] = [{ name: 'name', valueString: 'dm+d' }];
  if (input.releaseId) parameter.push({ name: 'version', valueString: input.releaseId });
  parameter.push({ name: 'display', valueString: name });
  const main: Row = dmdMainRow(detail);
  const synonyms = [main.ABBREVNM, detail.type === 'AMP' ? detail.amp.DESC : null];
  for (const value of synonyms) {
    if (typeof value === 'string' && value !== '' && value !== name) {
      parameter.push({
        name: 'designation',
        part: [
          { name: 'use', valueCoding: SNOMED_SYNONYM },
          { name: 'value', valueString: value },
        ],
      });
    }
  }
  for (const p of props) parameter.push(toParameter('property', p));
  return { resourceType: 'Parameters', parameter };
}

interface Ctx {
  lookup: DmdLookupResolver;
  /** Names of the linked concepts, for the description of VTMID, VPID… */
  names: ReadonlyMap<string, string>;
  /** The concept's own id: its key and the foreign keys of its sub-rows are not repeated. */
  self: string;
}

type Row = Readonly<Record<string, string | number | boolean | null>>;

function conceptFacts(detail: DmdConceptDetail, ctx: Ctx): Property[] {
  const out: Property[] = [];
  const flat = (kind: DmdFileKind, section: string, row: Row | null, skip: readonly string[] = []) => {
    if (row) out.push(...rowProperties(kind, section, row, ctx, skip));
  };
  switch (detail.type) {
    case 'VTM':
      flat('vtm', 'VTM', detail.vtm, ['NM']);
      break;
    case 'VMP':
      flat('vmp', 'VMPS/VMP', detail.vmp, ['NM']);
      flat('vmp', 'DRUG_FORM/DFORM', detail.form);
      flat('vmp', 'CONTROL_DRUG_INFO/CONTROL_INFO', detail.control);
      flat('bnf', 'VMPS/VMP', detail.bnf);
      for (const { vpi, ingredient } of detail.ingredients) {
        const sub = rowProperties('vmp', 'VIRTUAL_PRODUCT_INGREDIENT/VPI', vpi, ctx, ['ISID']);
        out.push({ code: 'VPI', value: { valueCode: vpi.ISID }, description: ingredient?.NM ?? null, sub });
      }
      for (const r of detail.routes) out.push(coded('ROUTECD', r.ROUTECD, 'ROUTE', ctx));
      for (const o of detail.ontForms) out.push(coded('ONT_FORMCD', o.FORMCD, 'ONT_FORM_ROUTE', ctx));
      break;
    case 'AMP':
      flat('amp', 'AMPS/AMP', detail.amp, ['NM']);
      flat('amp', 'AP_INFORMATION/AP_INFO', detail.info);
      flat('bnf', 'AMPS/AMP', detail.bnf);
      for (const { apIng, ingredient } of detail.ingredients) {
        const sub = rowProperties('amp', 'AP_INGREDIENT/AP_ING', apIng, ctx, ['ISID']);
        out.push({
          code: 'AP_ING',
          value: { valueCode: apIng.ISID },
          description: ingredient?.NM ?? null,
          sub,
        });
      }
      for (const r of detail.licensedRoutes) out.push(coded('LIC_ROUTECD', r.ROUTECD, 'ROUTE', ctx));
      break;
    case 'VMPP':
      flat('vmpp', 'VMPPS/VMPP', detail.vmpp, ['NM']);
      flat('vmpp', 'DRUG_TARIFF_INFO/DTINFO', detail.drugTariff);
      for (const c of detail.contents) {
        out.push({ code: 'CHLDVPPID', value: { valueCode: c.VPPID }, description: c.NM });
      }
      break;
    case 'AMPP':
      flat('ampp', 'AMPPS/AMPP', detail.ampp, ['NM']);
      flat('ampp', 'APPLIANCE_PACK_INFO/PACK_INFO', detail.packInfo);
      flat('ampp', 'DRUG_PRODUCT_PRESCRIB_INFO/PRESCRIB_INFO', detail.prescribingInfo);
      flat('ampp', 'MEDICINAL_PRODUCT_PRICE/PRICE_INFO', detail.priceInfo);
      flat('ampp', 'REIMBURSEMENT_INFO/REIMB_INFO', detail.reimbursementInfo);
      for (const g of detail.gtins) {
        const sub = rowProperties('gtin', 'AMPPS/AMPP/GTINDATA', g, ctx, ['GTIN']);
        out.push({ code: 'GTIN', value: { valueString: g.GTIN }, sub });
      }
      for (const c of detail.contents) {
        out.push({ code: 'CHLDAPPID', value: { valueCode: c.APPID }, description: c.NM });
      }
      break;
  }
  return out;
}

/** One property per non-empty element of a row, typed by its XSD kind (records.ts DMD_SCHEMAS). */
function rowProperties(kind: DmdFileKind, section: string, row: Row, ctx: Ctx, skip: readonly string[] = []) {
  const schema = (DMD_SCHEMAS[kind] as Readonly<Record<string, Readonly<Record<string, string>>>>)[section];
  if (!schema) throw new Error(`no dm+d schema for ${kind} ${section}`);
  const out: Property[] = [];
  for (const [field, spec] of Object.entries(schema)) {
    const v = row[field];
    if (v === null || v === undefined || v === false || skip.includes(field)) continue;
    const type = spec.replace('!', '');
    if (type === 'id' && v === ctx.self) continue; // the concept's own id, or a sub-row's key back to it
    out.push(fieldProperty(field, type, v, ctx));
  }
  return out;
}

function fieldProperty(field: string, type: string, v: string | number | true, ctx: Ctx): Property {
  switch (type) {
    case 'flag':
      return { code: field, value: { valueBoolean: true } };
    case 'date':
      return { code: field, value: { valueDateTime: String(v) } };
    case 'int':
      return {
        code: field,
        value: { valueInteger: Number(v) },
        description: PRICES.has(field) ? `£${(Number(v) / 100).toFixed(2)}` : null,
      };
    case 'float':
      return { code: field, value: { valueDecimal: Number(v) } };
    case 'id':
    case 'code': {
      const list = LOOKUP_OF[field];
      if (list) return coded(field, String(v), list, ctx);
      return { code: field, value: { valueCode: String(v) }, description: ctx.names.get(String(v)) ?? null };
    }
    default:
      return { code: field, value: { valueString: String(v) } };
  }
}

function coded(code: string, value: string, list: LookupList, ctx: Ctx): Property {
  return { code, value: { valueCode: value }, description: ctx.lookup(list, value) };
}

function refProperty(code: 'parent' | 'child', ref: DmdConceptRef): Property {
  return {
    code,
    value: { valueCode: ref.id },
    description: ref.name,
    sub: [
      { code: 'parent', value: { valueCode: ref.type }, description: CLASS_NAMES[ref.type] },
      { code: 'inactive', value: { valueBoolean: ref.invalid } },
    ],
  };
}

function toParameter(name: 'property' | 'subproperty', p: Property): ParametersParameter {
  const part: ParametersParameter[] = [
    { name: 'code', valueCode: p.code },
    { name: 'value', ...p.value },
  ];
  if (p.description) part.push({ name: 'description', valueString: p.description });
  for (const s of p.sub ?? []) part.push(toParameter('subproperty', s));
  return { name, part };
}
