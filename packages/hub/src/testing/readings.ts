/*
 * Test helper: readings a product posts to the submitting-data journey (a FHIR R4 Observation, UK
 * Core vital signs), synthetic, for the tests that need a valid one.
 */

const VITAL_SIGNS = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
];

/** A UCUM quantity. */
export const qty = (value: number, code: string, unit = code) => ({
  value,
  unit,
  system: 'http://unitsofmeasure.org',
  code,
});

/** A heart rate (LOINC 8867-4, SNOMED 364075005) for `nhs` (default the PDS sandbox's 9000000009). */
export const heartRate = (nhs = '9000000009', value = 72) => ({
  resourceType: 'Observation',
  status: 'final',
  category: VITAL_SIGNS,
  code: {
    coding: [
      { system: 'http://loinc.org', code: '8867-4' },
      { system: 'http://snomed.info/sct', code: '364075005' },
    ],
  },
  subject: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhs } },
  effectiveDateTime: '2025-03-01T08:30:00+00:00',
  valueQuantity: qty(value, '/min', 'beats/minute'),
});
