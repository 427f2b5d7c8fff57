import { createHash } from 'node:crypto';
import type { Patient } from '@medplum/fhirtypes';
import { SEED_NHS_NUMBERS, seedPatientRecords } from '../pds/seed-patients.js';

/** NHS login identity proofing levels (nhsconnect/nhslogin src/vectors-of-trust.md). */
export type IdentityProofingLevel = 'P0' | 'P5' | 'P9';

/** A synthetic NHS login account of the sandbox's sign-in page. */
export interface NhsLoginTestUser {
  /** NHS login's subject (a UUID). */
  sub: string;
  /** What the sign-in page shows. */
  label: string;
  identityProofingLevel: IdentityProofingLevel;
  /** Authentication components the account signs in with (Cp password, Cd registered device). */
  credentials: readonly ('Cp' | 'Cd' | 'Ck' | 'Cm')[];
  email: string;
  /** The mobile used for 2FA (Ofcom drama range, E.164). */
  phoneNumber: string;
  /** Demographics traced in PDS (P5 and P9 only), taken from the sandbox PDS seed patient. */
  nhsNumber?: string;
  familyName?: string;
  givenName?: string;
  birthdate?: string;
  gpOdsCode?: string;
  /** IM1 linkage credentials (`gp_integration_credentials`, P9 only). */
  gpIntegration?: { linkageKey: string; accountId: string };
  /** Patients this account may act for as a delegated proxy (NHS login "linked profiles"). */
  proxyFor?: readonly { nhsNumber: string; relationship: string }[];
}

const patients = new Map(seedPatientRecords().map((r) => [r.nhsNumber, r.patient]));

/** The account's demographics as the sandbox PDS holds them (read-only). */
function fromPds(nhsNumber: string) {
  const patient: Patient | undefined = patients.get(nhsNumber);
  if (!patient) throw new Error(`NHS login test user refers to ${nhsNumber}, absent from the PDS seed`);
  const name = patient.name?.find((n) => n.use === 'usual') ?? patient.name?.[0];
  const gp = patient.generalPractitioner?.[0]?.identifier?.value;
  return {
    nhsNumber,
    ...(name?.family !== undefined && { familyName: name.family }),
    ...(name?.given?.[0] !== undefined && { givenName: name.given[0] }),
    ...(patient.birthDate !== undefined && { birthdate: patient.birthDate }),
    ...(gp !== undefined && { gpOdsCode: gp }),
  };
}

/**
 * The sandbox NHS login's test accounts, one or more at each proofing level, each traced to a
 * sandbox PDS seed patient (except P0, which NHS login does not trace).
 */
export const NHS_LOGIN_TEST_USERS: readonly NhsLoginTestUser[] = [
  {
    sub: '49f470a1-cc52-49b7-beba-0f9cec937c46',
    label: 'Jane Smith',
    identityProofingLevel: 'P9',
    credentials: ['Cp', 'Cd'],
    email: 'jane.smith@example.com',
    phoneNumber: '+447700900001',
    ...fromPds(SEED_NHS_NUMBERS.janeSmith),
    gpIntegration: { linkageKey: 'SBXLK9000000009', accountId: '5550000009' },
  },
  {
    sub: '5b1c6a6e-2b7d-4f0e-9b57-3c2a8d1e0f17',
    label: 'Jayne Smyth',
    identityProofingLevel: 'P5',
    credentials: ['Cp', 'Cd'],
    email: 'jayne.smyth@example.com',
    phoneNumber: '+447700900017',
    ...fromPds(SEED_NHS_NUMBERS.jayneSmyth),
  },
  {
    sub: '0f7c9a4e-8d2b-4c1a-a6e3-5b9d2f4e6a00',
    label: 'Alex Low (not yet verified)',
    identityProofingLevel: 'P0',
    credentials: ['Cp'],
    email: 'alex.low@example.com',
    phoneNumber: '+447700900000',
  },
  {
    sub: '7d3e5f2a-1c4b-4e8d-9a6f-0b2c4d6e8f46',
    label: 'Jane McMatch-Single (parent, proxy for John Paul Smith)',
    identityProofingLevel: 'P9',
    credentials: ['Cp', 'Cd'],
    email: 'jane.mcmatch-single@example.com',
    phoneNumber: '+447700900046',
    ...fromPds(SEED_NHS_NUMBERS.mcMatchSingle),
    proxyFor: [{ nhsNumber: SEED_NHS_NUMBERS.johnPaulSmith, relationship: 'Parent' }],
  },
];

/** A person a test account acts for, as NHS login would describe them in an id token. */
export interface RepresentedPerson {
  /** A stable synthetic subject for the person (a UUID derived from the NHS number). */
  sub: string;
  /** What the "Whose record" page shows, e.g. `John Paul Smith`. */
  label: string;
  nhsNumber: string;
  familyName?: string;
  givenName?: string;
  birthdate?: string;
  gpOdsCode?: string;
}

/**
 * The person behind a `proxyFor` NHS number, with their demographics from the sandbox PDS seed.
 * They have no NHS login account of their own in the sandbox, so their `sub` is derived from the
 * NHS number: the same person always gets the same `sub`.
 */
export function representedPerson(nhsNumber: string): RepresentedPerson {
  const demographics = fromPds(nhsNumber);
  const hex = createHash('sha256').update(`sandbox-nhs-login-subject:${nhsNumber}`).digest('hex');
  const sub = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  const official = patients.get(nhsNumber)?.name?.find((n) => n.use === 'usual');
  const name = [...(official?.given ?? []), official?.family].filter((n) => n !== undefined).join(' ');
  return { sub, label: name === '' ? `NHS number ${nhsNumber}` : name, ...demographics };
}
