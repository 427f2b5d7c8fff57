import { SYSTEMS } from '@junction/core';
import type { ContactPoint, Patient } from '@medplum/fhirtypes';

/** What the generator and the scenario seeds say about a patient; the PDS shape is built here once. */
export interface PatientFacts {
  nhsNumber: string;
  versionId?: number;
  restricted?: boolean;
  prefix?: string;
  given: string[];
  family: string;
  gender: 'male' | 'female' | 'other' | 'unknown';
  birthDate: string;
  deceasedDateTime?: string;
  address?: { lines: string[]; postalCode: string; since: string };
  phone?: string;
  mobile?: string;
  email?: string;
  gpOdsCode?: string;
}

const VERIFIED_EXTENSION = {
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
};

/** A Patient shaped like the records of sandbox/mocks/Patient.json (ids on list items, periods, security label). */
export function buildPatient(facts: PatientFacts): Patient {
  const id = (kind: string) => `${kind}${facts.nhsNumber.slice(-6)}`;
  const patient: Patient = {
    resourceType: 'Patient',
    id: facts.nhsNumber,
    identifier: [{ system: SYSTEMS.nhsNumber, value: facts.nhsNumber, extension: [VERIFIED_EXTENSION] }],
    meta: {
      versionId: String(facts.versionId ?? 1),
      security: [
        facts.restricted
          ? { system: SYSTEMS.confidentiality, code: 'R', display: 'restricted' }
          : { system: SYSTEMS.confidentiality, code: 'U', display: 'unrestricted' },
      ],
    },
    name: [
      {
        id: id('N'),
        use: 'usual',
        period: { start: facts.birthDate },
        given: facts.given,
        family: facts.family,
        ...(facts.prefix ? { prefix: [facts.prefix] } : {}),
      },
    ],
    gender: facts.gender,
    birthDate: facts.birthDate,
  };
  if (facts.deceasedDateTime) {
    patient.deceasedDateTime = facts.deceasedDateTime;
    patient.extension = [deathNotification(facts.deceasedDateTime)];
  }
  if (facts.address) {
    patient.address = [
      {
        id: id('A'),
        period: { start: facts.address.since },
        use: 'home',
        line: facts.address.lines,
        postalCode: facts.address.postalCode,
      },
    ];
  }
  const telecom: ContactPoint[] = [];
  if (facts.phone)
    telecom.push({
      id: id('TP'),
      period: { start: facts.birthDate },
      system: 'phone',
      value: facts.phone,
      use: 'home',
    });
  if (facts.mobile)
    telecom.push({
      id: id('TM'),
      period: { start: facts.birthDate },
      system: 'phone',
      value: facts.mobile,
      use: 'mobile',
    });
  if (facts.email)
    telecom.push({
      id: id('TE'),
      period: { start: facts.birthDate },
      system: 'email',
      value: facts.email,
      use: 'home',
    });
  if (telecom.length > 0) patient.telecom = telecom;
  if (facts.gpOdsCode) {
    patient.generalPractitioner = [
      {
        id: id('G'),
        type: 'Organization',
        identifier: { system: SYSTEMS.odsOrganisationCode, value: facts.gpOdsCode },
      },
    ];
  }
  return patient;
}

function deathNotification(deceasedDateTime: string) {
  return {
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
      { url: 'systemEffectiveDate', valueDateTime: deceasedDateTime },
    ],
  };
}
