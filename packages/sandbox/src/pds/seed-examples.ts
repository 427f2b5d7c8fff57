import type { Coverage, Patient, RelatedPerson } from '@medplum/fhirtypes';
import historicEmailSearchset from './seed/historic_email_searchset.json' with { type: 'json' };
import knapKathyExactMatch from './seed/knap_kathy_exact_match.json' with { type: 'json' };
import minimalPatient from './seed/Minimal_Patient.json' with { type: 'json' };
import patient from './seed/Patient.json' with { type: 'json' };
import patientJayneSmyth from './seed/Patient-Jayne-Smyth.json' with { type: 'json' };
import patientCompoundName from './seed/PatientCompoundName.json' with { type: 'json' };
import patientWithCoverage9000000009 from './seed/patient_with_coverage_9000000009.json' with {
  type: 'json',
};
import relatedPerson9000000009 from './seed/related_person_9000000009.json' with { type: 'json' };
import relatedPerson9000000017 from './seed/related_person_9000000017.json' with { type: 'json' };
import restrictedSpineHeld from './seed/restricted-spine-held.json' with { type: 'json' };
import searchPatient9000000025 from './seed/search_patient_9000000025.json' with { type: 'json' };

/*
 * The PDS sandbox's own test patients: NHS's published (synthetic) examples, kept verbatim as JSON in
 * ./seed/ (each file is named after its source and holds its resource(s); seed/README.md lists the
 * sources). The few deliberate changes are applied here, in code, so the files stay diffable against
 * NHS's. They make an honest search engine give the sandbox's documented answers (patient-search.yaml
 * "Sandbox testing"; postman/patient-demographics-sandbox.postman_collection.json) and keep invented
 * data synthetic.
 * Published INT test patients that NHS's sandbox answers with (named by the Postman collection and
 * the karate mock) live here only and never in generated data; 5182663366 is the NHS number NHS's
 * sandbox allocates to every new patient (karate-tests/src/test/java/mocks/sandbox/post-patient.js
 * `initializePatientData`). Other scenarios the sandbox documents with INT-only numbers are seeded
 * with 999-range numbers (seed-patients.ts).
 */

/** NHS numbers of the published INT test patients above (all pass the modulus 11 check). */
export const INT_TEST_NHS_NUMBERS = {
  kathyKnapp: '9736363120',
  samSmithHistoric: '5900020584',
  sandboxAllocated: '5182663366',
} as const;

// The one place the JSON's inferred types meet FHIR's.
const asPatient = (json: unknown) => json as Patient;
const asRelatedPeople = (json: unknown) => json as RelatedPerson[];
const asCoverage = (json: unknown) => json as Coverage;

/** A copy of `record` with every telecom whose value is `from` given the value `to`. */
function withTelecomValue(record: Patient, from: string, to: string): Patient {
  return {
    ...record,
    ...(record.telecom && {
      telecom: record.telecom.map((contact) =>
        contact.value === from ? { ...contact, value: to } : contact,
      ),
    }),
  };
}

/** 9000000009, sandbox/mocks/Patient.json as published. */
export const JANE_SMITH: Patient = asPatient(patient);

/**
 * 9000000017, sandbox/mocks/Patient-Jayne-Smyth.json, except the phone (and textphone) number:
 * NHS's example copies Jane Smith's, yet the sandbox answers a `phone=01632960587` search with
 * Jane Smith alone.
 */
export const JAYNE_SMYTH: Patient = withTelecomValue(
  asPatient(patientJayneSmyth),
  '01632960587',
  '01632960588',
);

/**
 * 9000000025, karate-mock/stubs/searchResponses/search_patient_9000000025.json `entry[0].resource`
 * (so it has the search example's birth date, 2005-06-16), plus the address, telecom, contact and GP
 * a restricted record still holds inside Spine (invented, never released: restricted.ts).
 */
export const JANET_SMYTHE_RESTRICTED: Patient = asPatient({
  ...searchPatient9000000025,
  ...restrictedSpineHeld,
});

/** 9000000033, sandbox/mocks/Minimal_Patient.json as published. */
export const MINIMAL: Patient = asPatient(minimalPatient);

const compoundName = asPatient(patientCompoundName);
/**
 * John Paul James Smith, sandbox/mocks/PatientCompoundName.json `entry[0].resource`, except: its id
 * 9000000015 fails the modulus 11 check, so it has a 999 number; its given names are
 * ["John Paul", "James"] as in the `given=John Paul&given=James` scenario.
 */
export const JOHN_PAUL_SMITH: Patient = {
  ...compoundName,
  id: '9999900003',
  identifier: (compoundName.identifier ?? []).map((identifier) => ({ ...identifier, value: '9999900003' })),
  name: (compoundName.name ?? []).map((name) => ({ ...name, given: [...(name.given ?? []), 'James'] })),
};

/** karate-mock/stubs/relatedPersonResponses/related_person_9000000009.json, the entries' resources. */
export const JANE_SMITH_RELATED_PEOPLE: RelatedPerson[] = asRelatedPeople(relatedPerson9000000009);

/**
 * karate-mock/stubs/relatedPersonResponses/related_person_9000000017.json, the entries' resources,
 * except that they refer to a seed patient (Jane Smith) instead of the unpublished 5328023641.
 */
export const JAYNE_SMYTH_RELATED_PEOPLE: RelatedPerson[] = asRelatedPeople(relatedPerson9000000017).map(
  (person) => ({
    ...person,
    patient: { ...person.patient, identifier: { ...person.patient.identifier, value: '9000000009' } },
  }),
);

/** karate-mock/stubs/coverageResponses/patient_with_coverage_9000000009.json `entry[0].resource`. */
export const JANE_SMITH_COVERAGE: Coverage = asCoverage(patientWithCoverage9000000009);

/** 9736363120, karate-mock/stubs/searchResponses/knap_kathy_exact_match.json `entry[0].resource`. */
export const KATHY_KNAPP: Patient = asPatient(knapKathyExactMatch);

/**
 * 5900020584, karate-mock/stubs/searchResponses/historic_email_searchset.json `entry[0].resource`,
 * except that the invented phone number is an Ofcom drama number.
 */
export const SAM_SMITH_HISTORIC: Patient = withTelecomValue(
  asPatient(historicEmailSearchset),
  '0121000222',
  '01632960123',
);
