import { describe, expect, it } from 'vitest';
import {
  ACCESS_ACTIONS,
  type AccessAction,
  allowedActions,
  type ClinicianPrincipal,
  decide,
  jobRoleOf,
  type PatientPrincipal,
  PROXY_ACCESS_KINDS,
  type Principal,
  ROLE_ACTIONS,
} from './policy.js';

const JANE = '9000000009'; // P9 patient
const CHILD = '9000000017';
const OTHER = '9000000025';

const patient = (level: 'P0' | 'P5' | 'P9', extra: Partial<PatientPrincipal> = {}): PatientPrincipal => ({
  kind: 'patient',
  sub: `sub-${level}`,
  identityProofingLevel: level,
  delegations: [],
  ...(level === 'P0' ? {} : { nhsNumber: JANE }),
  ...extra,
});
const clinician = (roleCode: string): ClinicianPrincipal => ({
  kind: 'clinician',
  uid: '555000000001',
  roleId: '555000000001-1',
  roleCode,
  organisationOds: 'A12345',
});
const key = (...scopes: string[]): Principal => ({
  kind: 'api-key',
  id: 'k',
  name: 'k',
  organisationOds: null,
  scopes: scopes as never,
});

const p9 = patient('P9');
const p5 = patient('P5');
const p0 = patient('P0');
const proxy = patient('P9', { delegations: [{ nhsNumber: CHILD, access: PROXY_ACCESS_KINDS }] });
const p5Proxy = patient('P5', { delegations: [{ nhsNumber: CHILD, access: PROXY_ACCESS_KINDS }] });
const demographicsProxy = patient('P9', { delegations: [{ nhsNumber: CHILD, access: ['demographics'] }] });
// Signed in for the child (NHS login id token about the child, the parent's in act.sub).
const actingForChild = patient('P9', {
  delegations: [{ nhsNumber: CHILD, access: PROXY_ACCESS_KINDS }],
  actingFor: { nhsNumber: CHILD },
});
const actingUndelegated = patient('P9', { delegations: [], actingFor: { nhsNumber: CHILD } });
const gp = clinician('S8000:G8000:R8000');
const nurse = clinician('S8000:G8000:R8001');
const pharmacist = clinician('S8000:G8000:R8003');
const admin = clinician('S8001:G8002:R8008');
const receptionist = clinician('S8001:G8002:R8009');
const unknownRole = clinician('S9999:G9999:R9999');
const malformedRole = clinician('R8000');
const hubAdmin: Principal = {
  kind: 'admin',
  id: '00000000-0000-4000-8000-00000000ad01',
  username: 'ops.lead',
};

type Row = [string, Principal | undefined, AccessAction, string | undefined, boolean, string];
const rows: Row[] = [
  ['nobody', undefined, 'patient.read', JANE, false, 'unauthenticated'],
  // patients: own record, levels, search, proxy
  ['P9 own demographics', p9, 'patient.read', JANE, true, 'patient.own-record'],
  ['P9 own GP record', p9, 'gp-record.read', JANE, true, 'patient.own-record'],
  ['P9 own prescriptions', p9, 'prescription.read', JANE, true, 'patient.own-record'],
  ['P9 own update', p9, 'patient.update', JANE, true, 'patient.own-record'],
  ['P9 own appointments', p9, 'appointment.book', JANE, true, 'patient.own-record'],
  ['P9 other patient', p9, 'patient.read', OTHER, false, 'patient.other-record'],
  ['P9 no NHS number named', p9, 'patient.read', undefined, false, 'patient.other-record'],
  ['P9 search', p9, 'patient.search', undefined, false, 'patient.action'],
  ['P9 SCR', p9, 'scr.read', JANE, false, 'patient.action'],
  ['P9 dispense', p9, 'prescription.dispense', JANE, false, 'patient.action'],
  ['P9 audit', p9, 'audit.read', undefined, false, 'patient.action'],
  ['P5 own demographics', p5, 'patient.read', JANE, true, 'patient.own-record'],
  ['P5 own GP record', p5, 'gp-record.read', JANE, false, 'patient.proofing-level'],
  ['P5 own prescriptions', p5, 'prescription.read', JANE, false, 'patient.proofing-level'],
  ['P5 own update', p5, 'patient.update', JANE, false, 'patient.proofing-level'],
  ['P0 demographics', p0, 'patient.read', JANE, false, 'patient.proofing-level'],
  ['proxy on delegated child', proxy, 'gp-record.read', CHILD, true, 'patient.proxy'],
  [
    'demographics-only proxy reads demographics',
    demographicsProxy,
    'patient.read',
    CHILD,
    true,
    'patient.proxy',
  ],
  [
    'demographics-only proxy on GP record',
    demographicsProxy,
    'gp-record.read',
    CHILD,
    false,
    'patient.proxy-access',
  ],
  [
    'demographics-only proxy on prescriptions',
    demographicsProxy,
    'prescription.read',
    CHILD,
    false,
    'patient.proxy-access',
  ],
  ['proxy on own record', proxy, 'patient.read', JANE, true, 'patient.own-record'],
  ['proxy on non-delegated patient', proxy, 'patient.read', OTHER, false, 'patient.other-record'],
  [
    'P5 proxy on delegated child GP record',
    p5Proxy,
    'gp-record.read',
    CHILD,
    false,
    'patient.proofing-level',
  ],
  ['acting for delegated child', actingForChild, 'gp-record.read', CHILD, true, 'patient.proxy'],
  ['acting for child, own record', actingForChild, 'patient.read', JANE, false, 'patient.acting-for'],
  ['acting for child, another', actingForChild, 'patient.read', OTHER, false, 'patient.acting-for'],
  [
    'acting for child without delegation',
    actingUndelegated,
    'patient.read',
    CHILD,
    false,
    'patient.other-record',
  ],
  // clinicians: the selected role decides
  ['GP reads GP record', gp, 'gp-record.read', JANE, true, 'clinician.role'],
  ['GP traces', gp, 'patient.search', undefined, true, 'clinician.role'],
  ['GP updates', gp, 'patient.update', JANE, true, 'clinician.role'],
  ['GP dispenses', gp, 'prescription.dispense', JANE, false, 'clinician.role'],
  ['nurse reads GP record', nurse, 'gp-record.read', JANE, true, 'clinician.role'],
  ['pharmacist reads prescriptions', pharmacist, 'prescription.read', JANE, true, 'clinician.role'],
  ['pharmacist dispenses', pharmacist, 'prescription.dispense', JANE, true, 'clinician.role'],
  ['pharmacist updates demographics', pharmacist, 'patient.update', JANE, false, 'clinician.role'],
  ['admin traces', admin, 'patient.search', undefined, true, 'clinician.role'],
  ['admin reads demographics', admin, 'patient.read', JANE, true, 'clinician.role'],
  ['admin reads GP record', admin, 'gp-record.read', JANE, false, 'clinician.role'],
  ['admin reads prescriptions', admin, 'prescription.read', JANE, false, 'clinician.role'],
  ['receptionist updates', receptionist, 'patient.update', JANE, false, 'clinician.role'],
  ['unknown role', unknownRole, 'patient.read', JANE, false, 'clinician.unknown-role'],
  ['malformed role code', malformedRole, 'patient.read', JANE, false, 'clinician.unknown-role'],
  ['clinician audit', gp, 'audit.read', undefined, false, 'clinician.role'],
  // API keys: only what the scopes name
  ['key with patient:read reads', key('patient:read'), 'patient.read', JANE, true, 'api-key.scope'],
  [
    'key with patient:read searches',
    key('patient:read'),
    'patient.search',
    undefined,
    false,
    'api-key.scope',
  ],
  ['key with patient:read updates', key('patient:read'), 'patient.update', JANE, false, 'api-key.scope'],
  ['key with gp-record:read', key('gp-record:read'), 'gp-record.read', JANE, true, 'api-key.scope'],
  ['key without scopes', key(), 'patient.read', JANE, false, 'api-key.scope'],
  // dm+d reference data: every patient level and every listed role, no patient named
  ['P0 patient looks up a medicine', p0, 'medicine.read', undefined, true, 'patient.action'],
  ['P9 patient looks up a medicine', p9, 'medicine.read', undefined, true, 'patient.action'],
  ['receptionist looks up a medicine', receptionist, 'medicine.read', undefined, true, 'clinician.role'],
  [
    'unknown role looks up a medicine',
    unknownRole,
    'medicine.read',
    undefined,
    false,
    'clinician.unknown-role',
  ],
  ['key with medicines:read', key('medicines:read'), 'medicine.read', undefined, true, 'api-key.scope'],
  [
    'key with patient:read looks up a medicine',
    key('patient:read'),
    'medicine.read',
    undefined,
    false,
    'api-key.scope',
  ],
  ['nobody looks up a medicine', undefined, 'medicine.read', undefined, false, 'unauthenticated'],
  // hub admin accounts (the console): every operational action, no patient data
  ['hub admin reads the job queue', hubAdmin, 'jobs.read', undefined, true, 'admin.operations'],
  ['hub admin retries a job', hubAdmin, 'jobs.retry', undefined, true, 'admin.operations'],
  ['hub admin manages API keys', hubAdmin, 'keys.manage', undefined, true, 'admin.operations'],
  ['hub admin imports the dm+d', hubAdmin, 'medicines.import', undefined, true, 'admin.operations'],
  ['hub admin reads the audit trail', hubAdmin, 'audit.read', undefined, true, 'admin.operations'],
  ['hub admin reads a patient', hubAdmin, 'patient.read', JANE, false, 'admin.no-patient-data'],
  ['hub admin traces', hubAdmin, 'patient.search', undefined, false, 'admin.no-patient-data'],
  ['hub admin reads a GP record', hubAdmin, 'gp-record.read', JANE, false, 'admin.no-patient-data'],
  ['hub admin submits readings', hubAdmin, 'readings.submit', undefined, false, 'admin.no-patient-data'],
];

describe('access policy (decide)', () => {
  it.each(rows)('%s → allow=%4$s', (_name, principal, action, nhsNumber, allowed, rule) => {
    const decision = decide(principal, nhsNumber === undefined ? { action } : { action, nhsNumber });
    expect(decision).toMatchObject({ allow: allowed, rule });
    expect(decision.reason).not.toBe('');
  });

  it('grants every action to an API key holding its scope, and nothing to a key without', () => {
    for (const action of ACCESS_ACTIONS) {
      // Scopes are the action with ':' (the dm+d's is plural, `medicines:read`, as the CLI and docs name it).
      // `jobs.retry` is granted by `jobs:manage`, the scope to manage the job queue.
      const scope =
        action === 'medicine.read'
          ? 'medicines:read'
          : action === 'jobs.retry'
            ? 'jobs:manage'
            : action.replace('.', ':');
      expect(decide(key(scope), { action, nhsNumber: JANE }).allow, action).toBe(true);
      expect(decide(key(), { action, nhsNumber: JANE }).allow, action).toBe(false);
    }
  });

  it('never lets an administrative role read the clinical record', () => {
    for (const code of ['R8004', 'R8006', 'R8008', 'R8009', 'R8010']) {
      const c = clinician(`S1:G1:${code}`);
      for (const action of ['gp-record.read', 'scr.read', 'prescription.read'] as const) {
        expect(decide(c, { action, nhsNumber: JANE }).allow, `${code} ${action}`).toBe(false);
      }
    }
    expect(Object.keys(ROLE_ACTIONS).every((r) => /^R\d{4}$/.test(r))).toBe(true);
  });

  it('lets every role in the table read the dm+d', () => {
    for (const code of Object.keys(ROLE_ACTIONS)) {
      expect(decide(clinician(`S1:G1:${code}`), { action: 'medicine.read' }).allow, code).toBe(true);
    }
  });

  it('gives a hub admin exactly the operational actions, whatever the patient', () => {
    const allowed = ACCESS_ACTIONS.filter((action) => decide(hubAdmin, { action, nhsNumber: JANE }).allow);
    expect(allowed).toEqual([
      'audit.read',
      'medicine.read',
      'messages.read',
      'jobs.read',
      'jobs.retry',
      'operations.read',
      'keys.manage',
      'medicines.import',
      'settings.manage',
    ]);
    expect(allowedActions(hubAdmin)).toEqual(allowed);
  });

  it('reads the job role from S…:G…:R… codes only', () => {
    expect(jobRoleOf('S8001:G8002:R8008')).toBe('R8008');
    expect(jobRoleOf(' S8000:G8000:R8000 ')).toBe('R8000');
    expect(jobRoleOf('R8000')).toBeUndefined();
    expect(jobRoleOf('S1:G1:X1')).toBeUndefined();
  });
});
