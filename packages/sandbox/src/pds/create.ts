import { OperationOutcomeError, SYSTEMS, spineOutcome } from '@junction/core';
import type { Address, ContactPoint, HumanName, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { PatientStore } from './patient-store.js';

/** Top-level fields of a create request (specification/components/schemas/PatientCreateRequest.yaml). */
const ALLOWED = new Set(['resourceType', 'name', 'gender', 'birthDate', 'address', 'telecom', 'extension']);
const GENDERS = new Set(['male', 'female', 'unknown']);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const missing = (field: string) =>
  OperationOutcomeError.spine('MISSING_VALUE', { diagnostics: `Missing value - '${field}'` });
const invalid = (value: unknown, field: string) =>
  OperationOutcomeError.spine('INVALID_VALUE', {
    diagnostics: `Invalid value - '${String(value)}' in field '${field}'`,
  });

export type CreateResult =
  | { kind: 'created'; patient: Patient }
  | { kind: 'matched'; outcome: OperationOutcome };

/**
 * POST /Patient: validates like NHS's sandbox (karate-tests/.../sandbox/post-patient.js
 * `postPatientRequestIsValid`), answers 200 SINGLE_MATCH / MULTIPLE_MATCHES when the demographics
 * already match a record (patient-create.yaml), else allocates an NHS number with `allocateNhsNumber`.
 */
export function createPatient(
  store: PatientStore,
  body: unknown,
  options: { newId: () => string; allocateNhsNumber: () => string },
): CreateResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw OperationOutcomeError.spine('INVALID_CREATE', {
      diagnostics: 'Invalid request with error - body must be a Patient',
    });
  }
  const request = body as Record<string, unknown>;
  const extra = Object.keys(request).filter((key) => !ALLOWED.has(key));
  if (extra.length > 0) {
    const list = extra.map((key) => `'${key}'`).join(', ');
    throw OperationOutcomeError.spine('ADDITIONAL_PROPERTIES', {
      diagnostics: `Invalid request with error - Additional properties are not allowed (${list} ${extra.length === 1 ? 'was' : 'were'} unexpected)`,
    });
  }
  if (request.resourceType !== undefined && request.resourceType !== 'Patient')
    throw invalid(request.resourceType, 'resourceType');
  if (!request.name) throw missing('name');
  if (!request.address) throw missing('address');
  if (!request.gender) throw missing('gender');
  if (!request.birthDate) throw missing('birthDate');
  if (!Array.isArray(request.name) || request.name.length === 0)
    throw invalid(JSON.stringify(request.name), 'name');
  if (!Array.isArray(request.address) || request.address.length === 0)
    throw invalid(JSON.stringify(request.address), 'address');
  const name = request.name[0] as HumanName;
  const address = request.address[0] as Address;
  if (typeof address !== 'object' || address === null || Array.isArray(address))
    throw invalid(JSON.stringify(address), 'address/0');
  if (!address.period) throw missing('address/0/period');
  if (typeof name !== 'object' || name === null || !Array.isArray(name.given))
    throw invalid(name?.given, 'name/0/given');
  if (typeof name.family !== 'string' || name.family.trim() === '') throw missing('name/0/family');
  if (typeof request.gender !== 'string' || !GENDERS.has(request.gender))
    throw invalid(request.gender, 'gender');
  if (typeof request.birthDate !== 'string' || !DATE.test(request.birthDate))
    throw invalid(request.birthDate, 'birthDate');

  const matches = findMatches(store, name, request.gender, request.birthDate, address.postalCode);
  if (matches.length === 1) {
    return {
      kind: 'matched',
      outcome: spineOutcome('SINGLE_MATCH', {
        diagnostics: `Unable to create new patient. NHS number ${matches[0]} found for supplied demographic data.`,
      }),
    };
  }
  if (matches.length > 1) {
    return {
      kind: 'matched',
      outcome: spineOutcome('MULTIPLE_MATCHES', {
        diagnostics: 'Unable to create new patient. Multiple matches found for supplied demographic data.',
      }),
    };
  }

  const nhsNumber = options.allocateNhsNumber();
  const patient: Patient = {
    resourceType: 'Patient',
    id: nhsNumber,
    identifier: [{ system: SYSTEMS.nhsNumber, value: nhsNumber }],
    meta: {
      versionId: '1',
      security: [{ system: SYSTEMS.confidentiality, code: 'U', display: 'unrestricted' }],
    },
    name: [{ ...name, id: options.newId() }],
    gender: request.gender as NonNullable<Patient['gender']>,
    birthDate: request.birthDate,
    // blank address lines are dropped in the answer (post-patient.js initializePatientData)
    address: [{ ...address, line: (address.line ?? []).filter((line) => line !== ''), id: options.newId() }],
  };
  if (Array.isArray(request.telecom)) {
    patient.telecom = (request.telecom as ContactPoint[]).map((telecom) => ({
      ...telecom,
      id: options.newId(),
    }));
  }
  if (Array.isArray(request.extension))
    patient.extension = request.extension as NonNullable<Patient['extension']>;
  return { kind: 'created', patient };
}

/** The demographic trace a create runs first: same names, birth date, gender and postcode. */
function findMatches(
  store: PatientStore,
  name: HumanName,
  gender: string,
  birthDate: string,
  postalCode: string | undefined,
): string[] {
  const fold = (text: string | undefined) => text?.replace(/\s/g, '').toLowerCase();
  const matches = new Set<string>();
  for (const record of store.bornBetween(birthDate, birthDate)) {
    const resolved = store.resolve(record.nhsNumber);
    if (resolved.kind !== 'found') continue;
    const patient = resolved.record.patient;
    if (patient.birthDate !== birthDate || patient.gender !== gender) continue;
    const sameName = (patient.name ?? []).some(
      (candidate) =>
        fold(candidate.family) === fold(name.family) && fold(candidate.given?.[0]) === fold(name.given?.[0]),
    );
    const samePostcode =
      postalCode === undefined ||
      (patient.address ?? []).some((address) => fold(address.postalCode) === fold(postalCode));
    if (sameName && samePostcode) matches.add(resolved.record.nhsNumber);
  }
  return [...matches];
}
