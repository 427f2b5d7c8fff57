import type { Coverage, Patient, RelatedPerson } from '@medplum/fhirtypes';

/*
 * The PDS sandbox's own test patients, transcribed from NHS's published (synthetic) examples in
 * NHSDigital/personal-demographics-service-api (copies under ../shared/specs/pds/):
 *   9000000009 Jane Smith       sandbox/mocks/Patient.json
 *   9000000017 Jayne Smyth      sandbox/mocks/Patient-Jayne-Smyth.json
 *   9000000025 Janet Smythe (R) karate-mock/stubs/searchResponses/search_patient_9000000025.json
 *   9000000033 minimal record   sandbox/mocks/Minimal_Patient.json
 *   John Paul James Smith       sandbox/mocks/PatientCompoundName.json
 *   related people              karate-mock/stubs/relatedPersonResponses/related_person_900000000{9,17}.json
 *   coverage                    karate-mock/stubs/coverageResponses/patient_with_coverage_9000000009.json
 * Deliberate changes, so that an honest search engine gives the sandbox's documented answers
 * (patient-search.yaml "Sandbox testing"; postman/patient-demographics-sandbox.postman_collection.json):
 *  - 9000000017's phone is 01632960588: NHS's example copies Jane Smith's, yet the sandbox answers a
 *    `phone=01632960587` search with Jane Smith alone.
 *  - 9000000025 has the birth date of the search example (2005-06-16), and carries the address,
 *    telecom, contact and GP a restricted record still holds inside Spine (never released: restricted.ts).
 *  - the compound-name example's id 9000000015 fails the modulus 11 check, so it has a 999 number; its
 *    given names are ["John Paul", "James"] as in the `given=John Paul&given=James` scenario.
 *  - related people refer to seed patients instead of unpublished numbers.
 * Published INT test patients that NHS's sandbox answers with (named by the Postman collection and
 * the karate mock), transcribed as published; they live here only and never in generated data:
 *   9736363120 Kathy Knapp     karate-mock/stubs/searchResponses/knap_kathy_exact_match.json
 *   5900020584 Sam Matt Smith  karate-mock/stubs/searchResponses/historic_email_searchset.json
 *   5182663366 the NHS number NHS's sandbox allocates to every new patient
 *              (karate-tests/src/test/java/mocks/sandbox/post-patient.js `initializePatientData`)
 * Other scenarios the sandbox documents with INT-only numbers are seeded with 999-range numbers
 * (seed-patients.ts).
 */

/** NHS numbers of the published INT test patients above (all pass the modulus 11 check). */
export const INT_TEST_NHS_NUMBERS = {
  kathyKnapp: '9736363120',
  samSmithHistoric: '5900020584',
  sandboxAllocated: '5182663366',
} as const;

export const JANE_SMITH: Patient = {
  resourceType: 'Patient',
  id: '9000000009',
  identifier: [
    {
      system: 'https://fhir.nhs.uk/Id/nhs-number',
      value: '9000000009',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
                version: '1.0.0',
                code: '01',
                display: 'Number present and verified',
              },
            ],
          },
        },
      ],
    },
  ],
  meta: {
    versionId: '2',
    security: [
      {
        system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
        code: 'U',
        display: 'unrestricted',
      },
    ],
  },
  name: [
    {
      id: '123',
      use: 'usual',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      given: ['Jane'],
      family: 'Smith',
      prefix: ['Mrs'],
      suffix: ['MBE'],
    },
  ],
  gender: 'female',
  birthDate: '2010-10-22',
  multipleBirthInteger: 1,
  deceasedDateTime: '2010-10-22T00:00:00+00:00',
  generalPractitioner: [
    {
      id: '254406A3',
      type: 'Organization',
      identifier: {
        system: 'https://fhir.nhs.uk/Id/ods-organization-code',
        value: 'Y12345',
        period: {
          start: '2024-01-01',
          end: '2025-12-31',
        },
      },
    },
  ],
  managingOrganization: {
    type: 'Organization',
    identifier: {
      system: 'https://fhir.nhs.uk/Id/ods-organization-code',
      value: 'Y12345',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
    },
  },
  extension: [
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NominatedPharmacy',
      valueReference: {
        identifier: {
          system: 'https://fhir.nhs.uk/Id/ods-organization-code',
          value: 'Y12345',
        },
      },
    },
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-PreferredDispenserOrganization',
      valueReference: {
        identifier: {
          system: 'https://fhir.nhs.uk/Id/ods-organization-code',
          value: 'Y23456',
        },
      },
    },
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicalApplianceSupplier',
      valueReference: {
        identifier: {
          system: 'https://fhir.nhs.uk/Id/ods-organization-code',
          value: 'Y34567',
        },
      },
    },
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus',
      extension: [
        {
          url: 'deathNotificationStatus',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus',
                version: '1.0.0',
                code: '2',
                display: 'Formal - death notice received from Registrar of Deaths',
              },
            ],
          },
        },
        {
          url: 'systemEffectiveDate',
          valueDateTime: '2010-10-22T00:00:00+00:00',
        },
      ],
    },
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSCommunication',
      extension: [
        {
          url: 'language',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-HumanLanguage',
                version: '1.0.0',
                code: 'fr',
                display: 'French',
              },
            ],
          },
        },
        {
          url: 'interpreterRequired',
          valueBoolean: true,
        },
      ],
    },
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference',
      extension: [
        {
          url: 'PreferredWrittenCommunicationFormat',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredWrittenCommunicationFormat',
                code: '12',
                display: 'Braille',
              },
            ],
          },
        },
        {
          url: 'PreferredContactMethod',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredContactMethod',
                code: '1',
                display: 'Letter',
              },
            ],
          },
        },
        {
          url: 'PreferredContactTimes',
          valueString: 'Not after 7pm',
        },
      ],
    },
    {
      url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
      valueAddress: {
        city: 'Manchester',
        district: 'Greater Manchester',
        country: 'GBR',
      },
    },
    {
      url: 'https://fhir.nhs.uk/StructureDefinition/Extension-PDS-RemovalFromRegistration',
      extension: [
        {
          url: 'removalFromRegistrationCode',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.nhs.uk/CodeSystem/PDS-RemovalReasonExitCode',
                code: 'SCT',
                display: 'Transferred to Scotland',
              },
            ],
          },
        },
        {
          url: 'effectiveTime',
          valuePeriod: {
            start: '2020-01-01T00:00:00+00:00',
            end: '2021-12-31T00:00:00+00:00',
          },
        },
      ],
    },
  ],
  telecom: [
    {
      id: '789',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      system: 'phone',
      value: '01632960587',
      use: 'home',
    },
    {
      id: '790',
      period: {
        start: '2019-01-01',
        end: '2022-12-31',
      },
      system: 'email',
      value: 'jane.smith@example.com',
      use: 'home',
    },
    {
      id: 'OC789',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      system: 'other',
      value: '01632960587',
      use: 'home',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-OtherContactSystem',
          valueCoding: {
            system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-OtherContactSystem',
            code: 'textphone',
            display: 'Minicom (Textphone)',
          },
        },
      ],
    },
  ],
  contact: [
    {
      id: 'C123',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      relationship: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/v2-0131',
              code: 'C',
              display: 'Emergency Contact',
            },
          ],
        },
      ],
      telecom: [
        {
          system: 'phone',
          value: '01632960587',
        },
      ],
    },
  ],
  address: [
    {
      id: '456',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      use: 'home',
      line: ['1 Trevelyan Square', 'Boar Lane', 'City Centre', 'Leeds', 'West Yorkshire'],
      postalCode: 'LS1 6AE',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          extension: [
            {
              url: 'type',
              valueCoding: {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                code: 'PAF',
              },
            },
            {
              url: 'value',
              valueString: '12345678',
            },
          ],
        },
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          extension: [
            {
              url: 'type',
              valueCoding: {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                code: 'UPRN',
              },
            },
            {
              url: 'value',
              valueString: '123456789012',
            },
          ],
        },
      ],
    },
    {
      id: 'T456',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      use: 'temp',
      text: 'Student Accommodation',
      line: ['1 Trevelyan Square', 'Boar Lane', 'City Centre', 'Leeds', 'West Yorkshire'],
      postalCode: 'LS1 6AE',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          extension: [
            {
              url: 'type',
              valueCoding: {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                code: 'PAF',
              },
            },
            {
              url: 'value',
              valueString: '12345678',
            },
          ],
        },
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          extension: [
            {
              url: 'type',
              valueCoding: {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                code: 'UPRN',
              },
            },
            {
              url: 'value',
              valueString: '123456789012',
            },
          ],
        },
      ],
    },
  ],
};

export const JAYNE_SMYTH: Patient = {
  resourceType: 'Patient',
  id: '9000000017',
  identifier: [
    {
      system: 'https://fhir.nhs.uk/Id/nhs-number',
      value: '9000000017',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
                version: '1.0.0',
                code: '01',
                display: 'Number present and verified',
              },
            ],
          },
        },
      ],
    },
  ],
  meta: {
    versionId: '2',
    security: [
      {
        system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
        code: 'U',
        display: 'unrestricted',
      },
    ],
  },
  name: [
    {
      id: '123',
      use: 'usual',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      given: ['Jayne'],
      family: 'Smyth',
      prefix: ['Mrs'],
      suffix: ['MBE'],
    },
  ],
  gender: 'female',
  birthDate: '2010-10-22',
  multipleBirthInteger: 1,
  deceasedDateTime: '2010-10-22T00:00:00+00:00',
  generalPractitioner: [
    {
      id: '254406A3',
      type: 'Organization',
      identifier: {
        system: 'https://fhir.nhs.uk/Id/ods-organization-code',
        value: 'Y12345',
        period: {
          start: '2024-01-01',
          end: '2025-12-31',
        },
      },
    },
  ],
  managingOrganization: {
    type: 'Organization',
    identifier: {
      system: 'https://fhir.nhs.uk/Id/ods-organization-code',
      value: 'Y12345',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
    },
  },
  extension: [
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NominatedPharmacy',
      valueReference: {
        identifier: {
          system: 'https://fhir.nhs.uk/Id/ods-organization-code',
          value: 'Y12345',
        },
      },
    },
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-PreferredDispenserOrganization',
      valueReference: {
        identifier: {
          system: 'https://fhir.nhs.uk/Id/ods-organization-code',
          value: 'Y23456',
        },
      },
    },
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicalApplianceSupplier',
      valueReference: {
        identifier: {
          system: 'https://fhir.nhs.uk/Id/ods-organization-code',
          value: 'Y34567',
        },
      },
    },
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus',
      extension: [
        {
          url: 'deathNotificationStatus',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus',
                version: '1.0.0',
                code: '2',
                display: 'Formal - death notice received from Registrar of Deaths',
              },
            ],
          },
        },
        {
          url: 'systemEffectiveDate',
          valueDateTime: '2010-10-22T00:00:00+00:00',
        },
      ],
    },
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSCommunication',
      extension: [
        {
          url: 'language',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-HumanLanguage',
                version: '1.0.0',
                code: 'fr',
                display: 'French',
              },
            ],
          },
        },
        {
          url: 'interpreterRequired',
          valueBoolean: true,
        },
      ],
    },
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference',
      extension: [
        {
          url: 'PreferredWrittenCommunicationFormat',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredWrittenCommunicationFormat',
                code: '12',
                display: 'Braille',
              },
            ],
          },
        },
        {
          url: 'PreferredContactMethod',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredContactMethod',
                code: '1',
                display: 'Letter',
              },
            ],
          },
        },
        {
          url: 'PreferredContactTimes',
          valueString: 'Not after 7pm',
        },
      ],
    },
    {
      url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
      valueAddress: {
        city: 'Manchester',
        district: 'Greater Manchester',
        country: 'GBR',
      },
    },
    {
      url: 'https://fhir.nhs.uk/StructureDefinition/Extension-PDS-RemovalFromRegistration',
      extension: [
        {
          url: 'removalFromRegistrationCode',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.nhs.uk/CodeSystem/PDS-RemovalReasonExitCode',
                code: 'SCT',
                display: 'Transferred to Scotland',
              },
            ],
          },
        },
        {
          url: 'effectiveTime',
          valuePeriod: {
            start: '2020-01-01T00:00:00+00:00',
            end: '2021-12-31T00:00:00+00:00',
          },
        },
      ],
    },
  ],
  telecom: [
    {
      id: '789',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      system: 'phone',
      value: '01632960588',
      use: 'home',
    },
    {
      id: '790',
      period: {
        start: '2019-01-01',
        end: '2022-12-31',
      },
      system: 'email',
      value: 'jayne.smyth@example.com',
      use: 'home',
    },
    {
      id: 'OC789',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      system: 'other',
      value: '01632960588',
      use: 'home',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-OtherContactSystem',
          valueCoding: {
            system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-OtherContactSystem',
            code: 'textphone',
            display: 'Minicom (Textphone)',
          },
        },
      ],
    },
  ],
  contact: [
    {
      id: 'C123',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      relationship: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/v2-0131',
              code: 'C',
              display: 'Emergency Contact',
            },
          ],
        },
      ],
      telecom: [
        {
          system: 'phone',
          value: '01632960587',
        },
      ],
    },
  ],
  address: [
    {
      id: '456',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      use: 'home',
      line: ['1 Trevelyan Square', 'Boar Lane', 'City Centre', 'Leeds', 'West Yorkshire'],
      postalCode: 'LS1 6AE',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          extension: [
            {
              url: 'type',
              valueCoding: {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                code: 'PAF',
              },
            },
            {
              url: 'value',
              valueString: '12345678',
            },
          ],
        },
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          extension: [
            {
              url: 'type',
              valueCoding: {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                code: 'UPRN',
              },
            },
            {
              url: 'value',
              valueString: '123456789012',
            },
          ],
        },
      ],
    },
    {
      id: 'T456',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      use: 'temp',
      text: 'Student Accommodation',
      line: ['1 Trevelyan Square', 'Boar Lane', 'City Centre', 'Leeds', 'West Yorkshire'],
      postalCode: 'LS1 6AE',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          extension: [
            {
              url: 'type',
              valueCoding: {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                code: 'PAF',
              },
            },
            {
              url: 'value',
              valueString: '12345678',
            },
          ],
        },
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          extension: [
            {
              url: 'type',
              valueCoding: {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                code: 'UPRN',
              },
            },
            {
              url: 'value',
              valueString: '123456789012',
            },
          ],
        },
      ],
    },
  ],
};

export const JANET_SMYTHE_RESTRICTED: Patient = {
  resourceType: 'Patient',
  id: '9000000025',
  identifier: [
    {
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
          valueCodeableConcept: {
            coding: [
              {
                code: '01',
                display: 'Number present and verified',
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
                version: '1.0.0',
              },
            ],
          },
        },
      ],
      system: 'https://fhir.nhs.uk/Id/nhs-number',
      value: '9000000025',
    },
  ],
  meta: {
    security: [
      {
        code: 'R',
        display: 'restricted',
        system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
      },
    ],
    versionId: '2',
  },
  name: [
    {
      family: 'Smythe',
      given: ['Janet'],
      id: '123',
      period: {
        end: '2021-12-31',
        start: '2020-01-01',
      },
      prefix: ['Mrs'],
      suffix: ['MBE'],
      use: 'usual',
    },
  ],
  gender: 'female',
  birthDate: '2005-06-16',
  multipleBirthInteger: 1,
  deceasedDateTime: '2005-06-16T00:00:00+00:00',
  address: [
    {
      id: 'R456',
      period: {
        start: '2020-01-01',
      },
      use: 'home',
      line: ['3 Harewood Avenue', 'Leeds', 'West Yorkshire'],
      postalCode: 'LS17 9LF',
    },
  ],
  telecom: [
    {
      id: 'R789',
      period: {
        start: '2020-01-01',
      },
      system: 'phone',
      value: '01632960587',
      use: 'home',
    },
    {
      id: 'R790',
      period: {
        start: '2020-01-01',
      },
      system: 'email',
      value: 'janet.smythe@example.com',
      use: 'home',
    },
  ],
  contact: [
    {
      id: 'C123',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      relationship: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/v2-0131',
              code: 'C',
              display: 'Emergency Contact',
            },
          ],
        },
      ],
      telecom: [
        {
          system: 'phone',
          value: '01632960587',
        },
      ],
    },
  ],
  generalPractitioner: [
    {
      id: 'R254406',
      type: 'Organization',
      identifier: {
        system: 'https://fhir.nhs.uk/Id/ods-organization-code',
        value: 'Y12345',
      },
    },
  ],
  extension: [
    {
      extension: [
        {
          url: 'deathNotificationStatus',
          valueCodeableConcept: {
            coding: [
              {
                code: '2',
                display: 'Formal - death notice received from Registrar of Deaths',
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus',
                version: '1.0.0',
              },
            ],
          },
        },
        {
          url: 'systemEffectiveDate',
          valueDateTime: '2005-06-16T00:00:00+00:00',
        },
      ],
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus',
    },
  ],
};

export const MINIMAL: Patient = {
  resourceType: 'Patient',
  id: '9000000033',
  identifier: [
    {
      system: 'https://fhir.nhs.uk/Id/nhs-number',
      value: '9000000033',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
                version: '1.0.0',
                code: '01',
                display: 'Number present and verified',
              },
            ],
          },
        },
      ],
    },
  ],
  meta: {
    versionId: '2',
    security: [
      {
        system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
        code: 'U',
        display: 'unrestricted',
      },
    ],
  },
};

export const JOHN_PAUL_SMITH: Patient = {
  resourceType: 'Patient',
  id: '9999900003',
  identifier: [
    {
      system: 'https://fhir.nhs.uk/Id/nhs-number',
      value: '9999900003',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
                version: '1.0.0',
                code: '01',
                display: 'Number present and verified',
              },
            ],
          },
        },
      ],
    },
  ],
  meta: {
    versionId: '2',
    security: [
      {
        system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
        code: 'U',
        display: 'unrestricted',
      },
    ],
  },
  name: [
    {
      id: '123',
      use: 'usual',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      given: ['John Paul', 'James'],
      family: 'Smith',
      prefix: ['Mr'],
      suffix: ['MBE'],
    },
  ],
  gender: 'male',
  birthDate: '2010-10-22',
  multipleBirthInteger: 1,
  deceasedDateTime: '2010-10-22T00:00:00+00:00',
  address: [
    {
      id: '456',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      use: 'home',
      line: ['1 Trevelyan Square', 'Boar Lane', 'City Centre', 'Leeds', 'West Yorkshire'],
      postalCode: 'LS1 6AE',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          extension: [
            {
              url: 'type',
              valueCoding: {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                code: 'PAF',
              },
            },
            {
              url: 'value',
              valueString: '12345678',
            },
          ],
        },
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          extension: [
            {
              url: 'type',
              valueCoding: {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                code: 'UPRN',
              },
            },
            {
              url: 'value',
              valueString: '123456789012',
            },
          ],
        },
      ],
    },
  ],
  telecom: [
    {
      id: '789',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      system: 'phone',
      value: '01632960587',
      use: 'home',
    },
    {
      id: '790',
      period: {
        start: '2019-01-01',
        end: '2022-12-31',
      },
      system: 'email',
      value: 'johnp.smith@example.com',
      use: 'home',
    },
    {
      id: 'OC789',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      system: 'other',
      value: '01632960587',
      use: 'home',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-OtherContactSystem',
          valueCoding: {
            system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-OtherContactSystem',
            code: 'textphone',
            display: 'Minicom (Textphone)',
          },
        },
      ],
    },
  ],
  contact: [
    {
      id: 'C123',
      period: {
        start: '2024-01-01',
        end: '2025-12-31',
      },
      relationship: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/v2-0131',
              code: 'C',
              display: 'Emergency Contact',
            },
          ],
        },
      ],
      telecom: [
        {
          system: 'phone',
          value: '01632960587',
        },
      ],
    },
  ],
  generalPractitioner: [
    {
      id: '254406A3',
      type: 'Organization',
      identifier: {
        system: 'https://fhir.nhs.uk/Id/ods-organization-code',
        value: 'Y12345',
        period: {
          start: '2024-01-01',
          end: '2025-12-31',
        },
      },
    },
  ],
  extension: [
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus',
      extension: [
        {
          url: 'deathNotificationStatus',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus',
                version: '1.0.0',
                code: '2',
                display: 'Formal - death notice received from Registrar of Deaths',
              },
            ],
          },
        },
        {
          url: 'systemEffectiveDate',
          valueDateTime: '2010-10-22T00:00:00+00:00',
        },
      ],
    },
  ],
};

export const JANE_SMITH_RELATED_PEOPLE: RelatedPerson[] = [
  {
    active: true,
    address: [
      {
        extension: [
          {
            extension: [
              {
                url: 'type',
                valueCoding: {
                  code: 'PAF',
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                },
              },
              {
                url: 'value',
                valueString: '12345678',
              },
            ],
            url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          },
          {
            extension: [
              {
                url: 'type',
                valueCoding: {
                  code: 'UPRN',
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                },
              },
              {
                url: 'value',
                valueString: '123456789012',
              },
            ],
            url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
          },
        ],
        line: ['1 Trevelyan Square', 'Boar Lane', 'City Centre', 'Leeds', 'West Yorkshire'],
        period: {
          end: '2021-12-31',
          start: '2020-01-01',
        },
        postalCode: 'LS1 6AE',
        use: 'home',
      },
    ],
    extension: [
      {
        url: 'https://fhir.nhs.uk/R4/StructureDefinition/Extension-UKCore-CopyCorrespondenceIndicator',
        valueBoolean: true,
      },
      {
        url: 'https://fhir.nhs.uk/R4/StructureDefinition/Extension-UKCore-ContactRank',
        valuePositiveInt: 1,
      },
      {
        extension: [
          {
            url: 'PreferredWrittenCommunicationFormat',
            valueCodeableConcept: {
              coding: [
                {
                  code: '12',
                  display: 'Braille',
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredWrittenCommunicationFormat',
                },
              ],
            },
          },
          {
            url: 'PreferredContactMethod',
            valueCodeableConcept: {
              coding: [
                {
                  code: '1',
                  display: 'Letter',
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredContactMethod',
                },
              ],
            },
          },
          {
            url: 'PreferredContactTimes',
            valueString: 'Not after 7pm',
          },
        ],
        url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference',
      },
      {
        extension: [
          {
            url: 'language',
            valueCodeableConcept: {
              coding: [
                {
                  code: 'fr',
                  display: 'French',
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-HumanLanguage',
                  version: '1.0.0',
                },
              ],
            },
          },
          {
            url: 'interpreterRequired',
            valueBoolean: true,
          },
        ],
        url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSCommunication',
      },
    ],
    id: '507B7621',
    name: [
      {
        family: 'Smith',
        given: ['Jane'],
        period: {
          end: '2021-12-31',
          start: '2020-01-01',
        },
        prefix: ['Mrs'],
        suffix: ['MBE'],
        use: 'usual',
      },
    ],
    patient: {
      identifier: {
        system: 'https://fhir.nhs.uk/Id/nhs-number',
        value: '9000000009',
      },
    },
    period: {
      end: '2021-12-31',
      start: '2020-01-01',
    },
    relationship: [
      {
        coding: [
          {
            code: 'Guardian',
            display: 'Guardian of patient',
            system: 'https://fhir.nhs.uk/R4/CodeSystem/UKCore-AdditionalRelatedPersonRole',
          },
        ],
      },
    ],
    resourceType: 'RelatedPerson',
    telecom: [
      {
        period: {
          end: '2021-12-31',
          start: '2020-01-01',
        },
        system: 'phone',
        use: 'home',
        value: '01632960587',
      },
    ],
  },
  {
    active: true,
    extension: [
      {
        url: 'https://fhir.nhs.uk/R4/StructureDefinition/Extension-UKCore-CopyCorrespondenceIndicator',
        valueBoolean: true,
      },
      {
        url: 'https://fhir.nhs.uk/R4/StructureDefinition/Extension-UKCore-ContactRank',
        valuePositiveInt: 1,
      },
      {
        extension: [
          {
            url: 'PreferredWrittenCommunicationFormat',
            valueCodeableConcept: {
              coding: [
                {
                  code: '12',
                  display: 'Braille',
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredWrittenCommunicationFormat',
                },
              ],
            },
          },
          {
            url: 'PreferredContactMethod',
            valueCodeableConcept: {
              coding: [
                {
                  code: '1',
                  display: 'Letter',
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredContactMethod',
                },
              ],
            },
          },
          {
            url: 'PreferredContactTimes',
            valueString: 'Not after 7pm',
          },
        ],
        url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference',
      },
      {
        extension: [
          {
            url: 'language',
            valueCodeableConcept: {
              coding: [
                {
                  code: 'fr',
                  display: 'French',
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-HumanLanguage',
                  version: '1.0.0',
                },
              ],
            },
          },
          {
            url: 'interpreterRequired',
            valueBoolean: true,
          },
        ],
        url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSCommunication',
      },
    ],
    id: 'B3380E98',
    patient: {
      identifier: {
        system: 'https://fhir.nhs.uk/Id/nhs-number',
        value: '9000000009',
      },
    },
    period: {
      end: '2021-12-31',
      start: '2020-01-01',
    },
    relationship: [
      {
        coding: [
          {
            code: 'Guardian',
            display: 'Guardian of patient',
            system: 'https://fhir.nhs.uk/R4/CodeSystem/UKCore-AdditionalRelatedPersonRole',
          },
        ],
      },
    ],
    resourceType: 'RelatedPerson',
  },
];

export const JAYNE_SMYTH_RELATED_PEOPLE: RelatedPerson[] = [
  {
    id: 'F4CF8B96',
    resourceType: 'RelatedPerson',
    patient: {
      identifier: {
        system: 'https://fhir.nhs.uk/Id/nhs-number',
        value: '9000000009',
      },
    },
    active: true,
    period: {
      start: '2020-01-01',
      end: '2021-12-31',
    },
    name: [
      {
        use: 'usual',
        period: {
          start: '2020-01-01',
          end: '2021-12-31',
        },
        given: ['Jane'],
        family: 'Smith',
        prefix: ['Mrs'],
        suffix: ['MBE'],
      },
    ],
    relationship: [
      {
        coding: [
          {
            system: 'https://fhir.nhs.uk/R4/CodeSystem/UKCore-AdditionalRelatedPersonRole',
            code: 'Guardian',
            display: 'Guardian of patient',
          },
        ],
      },
    ],
    extension: [
      {
        url: 'https://fhir.nhs.uk/R4/StructureDefinition/Extension-UKCore-CopyCorrespondenceIndicator',
        valueBoolean: true,
      },
      {
        url: 'https://fhir.nhs.uk/R4/StructureDefinition/Extension-UKCore-ContactRank',
        valuePositiveInt: 1,
      },
      {
        url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference',
        extension: [
          {
            url: 'PreferredWrittenCommunicationFormat',
            valueCodeableConcept: {
              coding: [
                {
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredWrittenCommunicationFormat',
                  code: '12',
                  display: 'Braille',
                },
              ],
            },
          },
          {
            url: 'PreferredContactMethod',
            valueCodeableConcept: {
              coding: [
                {
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredContactMethod',
                  code: '1',
                  display: 'Letter',
                },
              ],
            },
          },
          {
            url: 'PreferredContactTimes',
            valueString: 'Not after 7pm',
          },
        ],
      },
      {
        url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSCommunication',
        extension: [
          {
            url: 'language',
            valueCodeableConcept: {
              coding: [
                {
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-HumanLanguage',
                  version: '1.0.0',
                  code: 'fr',
                  display: 'French',
                },
              ],
            },
          },
          {
            url: 'interpreterRequired',
            valueBoolean: true,
          },
        ],
      },
    ],
    telecom: [
      {
        period: {
          start: '2020-01-01',
          end: '2021-12-31',
        },
        system: 'phone',
        value: '01632960587',
        use: 'home',
      },
    ],
    address: [
      {
        period: {
          start: '2020-01-01',
          end: '2021-12-31',
        },
        use: 'home',
        line: ['1 Trevelyan Square', 'Boar Lane', 'City Centre', 'Leeds', 'West Yorkshire'],
        postalCode: 'LS1 6AE',
        extension: [
          {
            url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
            extension: [
              {
                url: 'type',
                valueCoding: {
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                  code: 'PAF',
                },
              },
              {
                url: 'value',
                valueString: '12345678',
              },
            ],
          },
          {
            url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey',
            extension: [
              {
                url: 'type',
                valueCoding: {
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType',
                  code: 'UPRN',
                },
              },
              {
                url: 'value',
                valueString: '123456789012',
              },
            ],
          },
        ],
      },
    ],
  },
];

export const JANE_SMITH_COVERAGE: Coverage = {
  beneficiary: {
    identifier: {
      value: '5647382910',
    },
    type: 'Patient',
  },
  identifier: [
    {
      assigner: {
        display: 'France',
        identifier: {
          system: 'urn:iso:std:iso:3166',
          value: 'FRA',
        },
      },
      value: 'ES456789012345',
    },
  ],
  payor: [
    {
      identifier: {
        value: 'ES11223',
      },
    },
  ],
  period: {
    end: '2027-03-03',
  },
  resourceType: 'Coverage',
  status: 'active',
  subscriber: {
    identifier: {
      system: 'https://fhir.nhs.uk/Id/nhs-number',
      value: '9000000009',
    },
    type: 'Patient',
  },
};

const NUMBER_PRESENT_AND_VERIFIED = {
  url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
  valueCodeableConcept: {
    coding: [
      {
        code: '01',
        display: 'Number present and verified',
        system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
        version: '1.0.0',
      },
    ],
  },
};

/** karate-mock/stubs/searchResponses/knap_kathy_exact_match.json `entry[0].resource`. */
export const KATHY_KNAPP: Patient = {
  address: [
    {
      id: 'QiCes',
      line: ['44 NEWLAND AVENUE', 'SCUNTHORPE'],
      period: { start: '1990-02-05' },
      postalCode: 'DN15 7HQ',
      use: 'home',
    },
  ],
  birthDate: '1943-07-03',
  gender: 'female',
  generalPractitioner: [
    {
      id: 'XFbrV',
      identifier: {
        period: { start: '1971-04-06' },
        system: 'https://fhir.nhs.uk/Id/ods-organization-code',
        value: 'A20047',
      },
      type: 'Organization',
    },
  ],
  id: INT_TEST_NHS_NUMBERS.kathyKnapp,
  identifier: [
    {
      extension: [NUMBER_PRESENT_AND_VERIFIED],
      system: 'https://fhir.nhs.uk/Id/nhs-number',
      value: INT_TEST_NHS_NUMBERS.kathyKnapp,
    },
  ],
  meta: {
    security: [
      {
        code: 'U',
        display: 'unrestricted',
        system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
      },
    ],
    versionId: '1',
  },
  name: [
    {
      family: 'KNAPP',
      given: ['Kathy', 'Megan'],
      id: 'znQNN',
      period: { start: '2005-10-30' },
      prefix: ['MISS'],
      use: 'usual',
    },
  ],
  resourceType: 'Patient',
};

/** karate-mock/stubs/searchResponses/historic_email_searchset.json `entry[0].resource`. */
export const SAM_SMITH_HISTORIC: Patient = {
  address: [
    {
      id: '151D8EFA',
      line: ['street', 'town'],
      period: { start: '2022-08-24' },
      postalCode: 'DN17 4AA',
      use: 'home',
    },
  ],
  birthDate: '2000-05-05',
  gender: 'male',
  id: INT_TEST_NHS_NUMBERS.samSmithHistoric,
  identifier: [
    {
      extension: [NUMBER_PRESENT_AND_VERIFIED],
      system: 'https://fhir.nhs.uk/Id/nhs-number',
      value: INT_TEST_NHS_NUMBERS.samSmithHistoric,
    },
  ],
  meta: {
    security: [
      {
        code: 'U',
        display: 'unrestricted',
        system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
      },
    ],
    versionId: '4',
  },
  name: [
    {
      family: 'Smith',
      given: ['Sam', 'Matt'],
      id: '8DC3F6AC',
      period: { start: '2022-08-12' },
      use: 'usual',
    },
  ],
  resourceType: 'Patient',
  telecom: [
    { id: '17DACEA4', period: { start: '2022-08-11' }, system: 'phone', use: 'home', value: '01632960123' },
    { id: 'C2FDE019', period: { start: '2022-08-11' }, system: 'email', use: 'home', value: 'New@new.com' },
  ],
};
