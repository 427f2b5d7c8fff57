/*
 * The FHIR canonical URLs the dm+d mapping uses, each with where it is defined.
 */

/**
 * UK Core Medication profile, STU3 sequence (StructureDefinition version 2.3.0): HL7 UK,
 * NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN `structuredefinitions/UKCore-Medication.xml`.
 */
export const UK_CORE_MEDICATION_PROFILE = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Medication';

/**
 * dm+d as a FHIR code system. UK Core Medication guidance for `code` ("the
 * `Medication.code.coding.system` SHOULD be `https://dmd.nhs.uk`": FHIR-R4-UKCORE-STAGING-MAIN
 * `guides/.../UKCore-Medication/code.page.md`), the UK Core MedicationCode value set
 * (`valuesets/ValueSet-UKCore-MedicationCode.xml`, `include.system`) and the NHS England
 * Terminology Server, whose dm+d CodeSystem has this url (NHSDigital/TerminologyServer
 * `codesnippets/Content specific/dmd/CodeSystem/Operations/lookup`).
 */
export const DMD_SYSTEM = 'https://dmd.nhs.uk';

/**
 * SNOMED CT (FHIR R4 terminologies-systems: http://hl7.org/fhir/R4/snomedct.html). dm+d
 * identifiers of products, ingredients, units, forms, routes and suppliers are SNOMED CT
 * concept ids of the UK drug extension (namespace 1000001; SNOMED CT Release File Specification §6.5),
 * so each may also be coded here.
 */
export const SNOMED_SYSTEM = 'http://snomed.info/sct';

/**
 * SNOMED CT description type "Synonym" (900000000000013009), the `use` of dm+d's other names
 * in `$lookup` designations (R4 CodeSystem.concept.designation.use is bound to SNOMED CT
 * description types: http://hl7.org/fhir/R4/valueset-designation-use.html).
 */
export const SNOMED_SYNONYM = { system: SNOMED_SYSTEM, code: '900000000000013009', display: 'Synonym' };
