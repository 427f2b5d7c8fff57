import type { PdsSearchParams, RequestContext } from '@junction/client';
import { OperationOutcomeError, SYSTEMS } from '@junction/core';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import type { PdsPort } from '../journeys/patient-lookup.js';

/**
 * Test helper (not exported from the package): a fake PDS port for hub route tests.
 */
// Synthetic patients; NHS numbers fixed by the PDS spec sandbox (patient-get.yaml "Sandbox test scenarios").
export const JANE: Patient = {
  resourceType: 'Patient',
  id: '9000000009',
  meta: { versionId: '2' },
  identifier: [{ system: SYSTEMS.nhsNumber, value: '9000000009' }],
  name: [{ use: 'usual', family: 'Smith', given: ['Jane'] }],
  gender: 'female',
  birthDate: '2010-10-22',
  address: [{ use: 'home', line: ['1 Trevelyan Square'], city: 'Leeds', postalCode: 'LS1 6AE' }],
  telecom: [{ system: 'phone', value: '01632960587' }],
  generalPractitioner: [
    { type: 'Organization', identifier: { system: SYSTEMS.odsOrganisationCode, value: 'Y12345' } },
  ],
};
// Upstream "forgot" to strip the restricted patient's location: the hub must not pass it on.
export const JANET: Patient = {
  resourceType: 'Patient',
  id: '9000000025',
  meta: { versionId: '2', security: [{ system: SYSTEMS.confidentiality, code: 'R', display: 'restricted' }] },
  name: [{ use: 'usual', family: 'Smythe', given: ['Janet'] }],
  gender: 'female',
  birthDate: '2005-06-16',
  address: [{ use: 'home', line: ['2 Secret Lane'], postalCode: 'ZZ9 9ZZ' }],
  telecom: [{ system: 'phone', value: '07700900002' }],
  generalPractitioner: [{ type: 'Organization', identifier: { value: 'Y54321' } }],
  contact: [{ telecom: [{ system: 'phone', value: '07700900003' }] }],
};
export const PATIENTS: Record<string, Patient> = { '9000000009': JANE, '9000000025': JANET };

export interface FakePds extends PdsPort {
  calls: { op: 'read' | 'search' | 'update'; arg: unknown; ctx: RequestContext | undefined }[];
  /** Thrown by every call while set. */
  failWith?: unknown;
}

/** A PDS that answers from {@link PATIENTS} and records its calls. */
export function fakePds(): FakePds {
  const fake: FakePds = {
    calls: [],
    async getPatient(nhsNumber: string, ctx?: RequestContext) {
      fake.calls.push({ op: 'read', arg: nhsNumber, ctx });
      if (fake.failWith) throw fake.failWith;
      const patient = PATIENTS[nhsNumber];
      if (!patient) throw OperationOutcomeError.spine('RESOURCE_NOT_FOUND');
      return { patient: structuredClone(patient), versionId: '2', etag: 'W/"2"' };
    },
    async searchPatients(params: PdsSearchParams, ctx?: RequestContext) {
      fake.calls.push({ op: 'search', arg: params, ctx });
      if (fake.failWith) throw fake.failWith;
      const empty: Bundle<Patient> = { resourceType: 'Bundle', type: 'searchset', total: 0 };
      if (params.family === 'Many') return { bundle: empty, patients: [], tooManyMatches: true };
      const patients = Object.values(PATIENTS)
        .filter((p) =>
          p.name?.[0]?.family?.toLowerCase().startsWith((params.family ?? '').replace('*', '').toLowerCase()),
        )
        .map((p) => structuredClone(p));
      const bundle: Bundle<Patient> = {
        resourceType: 'Bundle',
        type: 'searchset',
        total: patients.length,
        link: [{ relation: 'self', url: 'https://pds.example/Patient?family=Sm*' }],
        entry: patients.map((p) => ({
          fullUrl: `https://pds.example/personal-demographics/FHIR/R4/Patient/${p.id}`,
          search: { score: 1 },
          resource: p,
        })),
      };
      return { bundle, patients, tooManyMatches: false };
    },
    // Checks the version as PDS does and bumps it; the patches themselves are PDS's business.
    async updatePatient(nhsNumber, patches, options, ctx) {
      fake.calls.push({ op: 'update', arg: { nhsNumber, patches, versionId: options.versionId }, ctx });
      if (fake.failWith) throw fake.failWith;
      const patient = PATIENTS[nhsNumber];
      if (!patient) throw OperationOutcomeError.spine('RESOURCE_NOT_FOUND');
      const current = patient.meta?.versionId ?? '1';
      if (options.versionId !== current) throw OperationOutcomeError.spine('RESOURCE_VERSION_MISMATCH');
      const next = String(Number(current) + 1);
      const updated: Patient = { ...structuredClone(patient), meta: { ...patient.meta, versionId: next } };
      return { patient: updated, versionId: next, etag: `W/"${next}"` };
    },
  };
  return fake;
}
