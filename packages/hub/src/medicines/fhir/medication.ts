import type { CodeableConcept, Medication, MedicationIngredient, Quantity, Ratio } from '@medplum/fhirtypes';
import {
  type DmdConceptDetail,
  type DmdLookupResolver,
  dmdConceptRefOf,
  type VmpDetail,
  type VmpRow,
} from '../model.js';
import { DMD_SYSTEM, SNOMED_SYSTEM, UK_CORE_MEDICATION_PROFILE } from './systems.js';

/*
 * dm+d concept → FHIR R4 Medication conforming to UK Core Medication
 * (https://fhir.hl7.org.uk/StructureDefinition/UKCore-Medication, v2.3.0).
 *
 * The profile constrains little: `code` 1..1 (must support, preferred binding UKCore-MedicationCode:
 * dm+d VTM/VMP/AMP/VMPP/AMPP codes), `form` (preferred binding UKCore-MedicationForm: SNOMED CT dm+d
 * dose forms) and one extension, MedicationTradeFamily. Decisions:
 * - `id` is the dm+d id; `status` is `inactive` when dm+d marks the concept INVALID, else `active`
 *   (`entered-in-error` has no dm+d counterpart).
 * - `code` carries the same concept twice: dm+d (`https://dmd.nhs.uk`, what the profile's guidance asks)
 *   and SNOMED CT (dm+d ids are UK drug extension concepts), both displaying dm+d NM. The VTM of a VMP is
 *   NOT added as a coding: codings of one CodeableConcept must mean the same concept, and a VTM is
 *   broader than its VMPs.
 * - A VTM is not a product: it becomes a Medication with `code` and `status` only, as in UK Core's
 *   own VTM example (UKCore-Medication-TimololVTM-Example, whose `form` is a prescriber's choice that
 *   dm+d does not hold for a VTM).
 * - `form`, active ingredients and strengths are facts of the VMP (DRUG_FORM, VIRTUAL_PRODUCT_INGREDIENT);
 *   AMPs and packs inherit them when the caller passes the VMP's detail (`options.vmp`), which the
 *   AMP/VMPP/AMPP details of model.ts do not carry.
 * - AMP AP_INGREDIENT rows are excipients (dm+d data model "Actual Product Excipient"): ingredients with
 *   `isActive: false`.
 * - `amount` (packs) is QTYVAL QTY_UOMCD per 1 pack.
 * - `manufacturer` (AMP, AMPP) is a display-only reference to the SUPPLIER name: dm+d supplier codes
 *   are SNOMED concepts, not ODS codes, so no Organization identifier is invented.
 * - No UK Core extension carries controlled-drug, prescribing or price facts: the profile's only
 *   extension is MedicationTradeFamily, whose trade-family concept is not in the dm+d release files.
 *   Those facts are in the `$lookup`-style view (lookup.ts). `batch` is for an instance, not a catalogue.
 */

export interface ToFhirMedicationOptions {
  /**
   * The detail of the VMP an AMP, VMPP or AMPP belongs to, for the facts dm+d keeps on the VMP only
   * (form, active ingredients and their strengths). Ignored for a VTM or VMP.
   */
  vmp?: VmpDetail | null;
  /** Add the SNOMED CT coding beside the dm+d one in `code` (default true). */
  snomedCoding?: boolean;
}

/**
 * Maps one dm+d concept to a UK Core Medication.
 *
 * @example
 * const med = toFhirMedication(ampDetail, lookup, { vmp: vmpDetail });
 * med.code?.coding?.[0]; // { system: 'https://dmd.nhs.uk', code: '22479611000001102', display: 'Voltarol …' }
 */
export function toFhirMedication(
  detail: DmdConceptDetail,
  lookup: DmdLookupResolver,
  options: ToFhirMedicationOptions = {},
): Medication {
  const { id, name, invalid } = dmdConceptRefOf(detail);
  const med: Medication = {
    resourceType: 'Medication',
    id,
    meta: { profile: [UK_CORE_MEDICATION_PROFILE] },
    code: conceptCode(id, name, options.snomedCoding ?? true),
    status: invalid ? 'inactive' : 'active',
  };
  if (detail.type === 'VTM') return med;

  const vmp = detail.type === 'VMP' ? detail : inheritedVmp(detail, options.vmp);
  const form = vmp?.form ? snomedConcept(vmp.form.FORMCD, lookup('FORM', vmp.form.FORMCD)) : null;
  if (form) med.form = form;

  const ingredients: MedicationIngredient[] = vmp ? activeIngredients(vmp, lookup) : [];
  if (detail.type === 'AMP') {
    for (const { apIng, ingredient } of detail.ingredients) {
      const item: MedicationIngredient = {
        itemCodeableConcept: snomedConcept(apIng.ISID, ingredient?.NM ?? null),
        isActive: false,
      };
      if (apIng.STRNTH !== null) {
        item.strength = { numerator: quantity(apIng.STRNTH, apIng.UOMCD, lookup), denominator: { value: 1 } };
      }
      ingredients.push(item);
    }
  }
  // A combination pack's components are packs in their own right: content items coded by dm+d id.
  const contents =
    detail.type === 'VMPP'
      ? detail.contents.map((c) => ({ id: c.VPPID, name: c.NM }))
      : detail.type === 'AMPP'
        ? detail.contents.map((c) => ({ id: c.APPID, name: c.NM }))
        : [];
  for (const c of contents) ingredients.push({ itemCodeableConcept: conceptCode(c.id, c.name, false) });
  if (ingredients.length > 0) med.ingredient = ingredients;

  const pack = detail.type === 'VMPP' ? detail.vmpp : detail.type === 'AMPP' ? detail.vmpp : null;
  if (pack)
    med.amount = { numerator: quantity(pack.QTYVAL, pack.QTY_UOMCD, lookup), denominator: { value: 1 } };

  const suppcd =
    detail.type === 'AMP' ? detail.amp.SUPPCD : detail.type === 'AMPP' ? detail.amp.SUPPCD : null;
  const supplier = suppcd ? lookup('SUPPLIER', suppcd) : null;
  if (supplier) med.manufacturer = { display: supplier };
  return med;
}

function inheritedVmp(
  detail: Exclude<DmdConceptDetail, { type: 'VTM' | 'VMP' }>,
  vmp: VmpDetail | null | undefined,
): VmpDetail | null {
  if (!vmp) return null;
  const vpid = detail.type === 'AMP' ? detail.amp.VPID : detail.vmpp.VPID;
  if (vmp.vmp.VPID !== vpid) {
    throw new Error(`VMP ${vmp.vmp.VPID} passed for ${detail.type} of VMP ${vpid}`);
  }
  return vmp;
}

/** A dm+d concept as a CodeableConcept: dm+d coding first (UK Core guidance), then SNOMED CT. */
function conceptCode(id: string, name: string, withSnomed: boolean): CodeableConcept {
  const coding = [{ system: DMD_SYSTEM, code: id, display: name }];
  if (withSnomed) coding.push({ system: SNOMED_SYSTEM, code: id, display: name });
  return { coding };
}

function snomedConcept(code: string, display: string | null): CodeableConcept {
  return {
    coding: [display === null ? { system: SNOMED_SYSTEM, code } : { system: SNOMED_SYSTEM, code, display }],
  };
}

/** A dm+d value with a UNIT_OF_MEASURE code (a SNOMED CT concept) as a coded Quantity. */
function quantity(value: number, uomcd: string | null, lookup: DmdLookupResolver): Quantity {
  if (!uomcd) return { value };
  const unit = lookup('UNIT_OF_MEASURE', uomcd);
  return unit === null
    ? { value, system: SNOMED_SYSTEM, code: uomcd }
    : { value, unit, system: SNOMED_SYSTEM, code: uomcd };
}

/**
 * VPI rows as active ingredients. Strength is STRNT_NMRTR per STRNT_DNMTR; with no denominator
 * dm+d gives the strength per unit dose (e.g. 500 mg per tablet), so the denominator is 1 of the
 * VMP's UNIT_DOSE_UOMCD when it has one, else a bare 1. A Ratio needs both or neither (R4 rat-1).
 */
function activeIngredients(vmp: VmpDetail, lookup: DmdLookupResolver): MedicationIngredient[] {
  return vmp.ingredients.map(({ vpi, ingredient }) => {
    const item: MedicationIngredient = {
      itemCodeableConcept: snomedConcept(vpi.ISID, ingredient?.NM ?? null),
      isActive: true,
    };
    if (vpi.STRNT_NMRTR_VAL !== null) {
      const strength: Ratio = {
        numerator: quantity(vpi.STRNT_NMRTR_VAL, vpi.STRNT_NMRTR_UOMCD, lookup),
        denominator:
          vpi.STRNT_DNMTR_VAL !== null
            ? quantity(vpi.STRNT_DNMTR_VAL, vpi.STRNT_DNMTR_UOMCD, lookup)
            : perUnitDose(vmp.vmp, lookup),
      };
      item.strength = strength;
    }
    return item;
  });
}

function perUnitDose(vmp: VmpRow, lookup: DmdLookupResolver): Quantity {
  return quantity(1, vmp.UNIT_DOSE_UOMCD, lookup);
}
