import { API_KEY_SCOPES, type ApiKeyScope } from './api-keys.js';

/**
 * The hub's access policy: one pure function decides every request, for every kind of caller.
 * Routes never check scopes, roles or NHS numbers themselves; they ask {@link decide} and audit
 * what it answers. The tables below are the whole policy.
 */

/** A back-end product calling with an API key (`jct_…`). */
export interface ApiKeyPrincipal {
  kind: 'api-key';
  id: string;
  name: string;
  organisationOds: string | null;
  scopes: readonly ApiKeyScope[];
}

export type IdentityProofingLevel = 'P0' | 'P5' | 'P9';

/** A person signed in with NHS login (https://nhsconnect.github.io/nhslogin/). */
export interface PatientPrincipal {
  kind: 'patient';
  /** NHS login `sub`. */
  sub: string;
  /** From the `nhs_number` claim; absent at P0. */
  nhsNumber?: string;
  identityProofingLevel: IdentityProofingLevel;
  /** The `vot` claim, e.g. `P9.Cp.Cd`. */
  vot?: string;
  /**
   * Patients this person may act for as a proxy, and for what. Recorded by the GP practice and kept
   * in the hub's store (`proxy_delegations`); the hub reads them afresh for every request.
   */
  delegations: readonly ProxyDelegation[];
  /**
   * Set when the person signed in to use someone else's record (an NHS login id token about that
   * person, with this person's own id token in `act.sub`). The session is then for that record
   * only, and a matching active delegation is still needed for every request.
   */
  actingFor?: ActingFor;
}

/** The person a proxy signed in for: the subject of the id token whose `act` names the proxy. */
export interface ActingFor {
  nhsNumber: string;
  /** NHS login `sub` of the person acted for. */
  sub?: string;
}

/** One patient a proxy may act for, and the kinds of access delegated (see {@link PROXY_ACCESS}). */
export interface ProxyDelegation {
  nhsNumber: string;
  access: readonly ProxyAccess[];
}

/** A health or care worker signed in with CIS2, acting in the role they selected (CIS2 role selection). */
export interface ClinicianPrincipal {
  kind: 'clinician';
  /** CIS2 `sub` / `nhsid_useruid`. */
  uid: string;
  /** `selected_roleid` (person_roleid): what goes in `NHSD-Session-URID`. */
  roleId: string;
  /** National RBAC code of the selected role, `S…:G…:R…`. */
  roleCode: string;
  roleName?: string;
  /** ODS code of the organisation the selected role is held at. */
  organisationOds: string;
  /**
   * The person's name for display (e.g. `Dr Alex Carter`), from UserInfo or the id_token. Shown to
   * its owner (`GET /auth/session`) and, beside their `uid`, to audit readers (`clinician-names.ts`,
   * kept at sign-in); the policy never uses it, and it is neither logged nor written into the audit
   * records, which name the user by `uid`.
   */
  name?: string;
}

/**
 * A person who runs the hub, signed in with a hub admin account (username and password, issue
 * #6): every operational action, no patient data (see {@link ADMIN_ACTIONS}).
 */
export interface AdminPrincipal {
  kind: 'admin';
  /** The account's id (`admin_accounts.id`). */
  id: string;
  username: string;
}

export type Principal = ApiKeyPrincipal | PatientPrincipal | ClinicianPrincipal | AdminPrincipal;

/**
 * Everything a caller can ask the hub to do, today's routes and the journeys to come, so the
 * policy is complete before their routes exist.
 */
export const ACCESS_ACTIONS = [
  'patient.read', // PDS read: demographics
  'patient.search', // PDS search: trace
  'patient.update', // PDS PATCH
  'gp-record.read', // GP Connect Access Record (structured / HTML)
  'scr.read', // Summary Care Record
  'prescription.read', // EPS: prescriptions and their status
  'prescription.dispense', // EPS dispensing
  'appointment.read', // GP Connect / IM1 appointments
  'appointment.book',
  'document.send', // GP Connect Send Document / MESH
  'audit.read', // the hub's own audit trail
  'medicine.read', // dm+d lookups and search: reference data, no patient data
  'messages.read', // the MESH message log (metadata and history, never bodies)
  'jobs.read', // the durable job queue
  'jobs.retry', // manual retry of a failed or dead-lettered job
  'readings.submit', // submitting-data journey: a product posts readings for the patient's GP
  'readings.read', // the status of a product's own submissions
  'operations.read', // console: NHS API health, latency and traffic; environments and mailboxes (no secrets)
  'keys.manage', // console: list, create and revoke products' API keys
  'medicines.import', // console: start a dm+d release import
  'settings.manage', // console: change NHS API base URLs and MESH mailboxes (src/settings)
] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];

export interface AccessRequest {
  action: AccessAction;
  /** The patient the request is about, for per-patient actions. */
  nhsNumber?: string;
}

export interface Decision {
  allow: boolean;
  /** Plain words for the caller and the audit trail; never a secret or patient data other than the rule. */
  reason: string;
  /** Stable id of the rule that decided, e.g. `patient.own-record`, `clinician.role`; audited. */
  rule: string;
}

interface ActionRule {
  /** The API-key scope that grants the action. */
  scope: ApiKeyScope;
  /** Whether the action is about one patient (the request must name them for a patient caller). */
  perPatient: boolean;
  /**
   * Lowest NHS login identity proofing level at which a patient may do this for themselves (or as
   * a proxy), or null when patients may not do it at all.
   */
  patientMinLevel: IdentityProofingLevel | null;
}

/**
 * The action table. Patient levels (NHS login's P5 and P9): P5 (demographics matched to PDS) is enough to
 * see one's own demographics; P9 (photo ID) for anything clinical (GP record, prescriptions,
 * appointments) and for changing PDS, which only accepts patient-access tokens at P9
 * (personal-demographics.yaml "Patient access"). Patients cannot trace (PDS: "Search is not available"
 * in patient access).
 */
const ACTIONS: Record<AccessAction, ActionRule> = {
  'patient.read': { scope: 'patient:read', perPatient: true, patientMinLevel: 'P5' },
  'patient.search': { scope: 'patient:search', perPatient: false, patientMinLevel: null },
  'patient.update': { scope: 'patient:update', perPatient: true, patientMinLevel: 'P9' },
  'gp-record.read': { scope: 'gp-record:read', perPatient: true, patientMinLevel: 'P9' },
  'scr.read': { scope: 'scr:read', perPatient: true, patientMinLevel: null },
  'prescription.read': { scope: 'prescription:read', perPatient: true, patientMinLevel: 'P9' },
  'prescription.dispense': { scope: 'prescription:dispense', perPatient: true, patientMinLevel: null },
  'appointment.read': { scope: 'appointment:read', perPatient: true, patientMinLevel: 'P9' },
  'appointment.book': { scope: 'appointment:book', perPatient: true, patientMinLevel: 'P9' },
  'document.send': { scope: 'document:send', perPatient: true, patientMinLevel: null },
  'audit.read': { scope: 'audit:read', perPatient: false, patientMinLevel: null },
  // The dm+d is public reference data (NHSBSA publishes it openly): any signed-in person may look a
  // medicine up, whatever their proofing level, and it is about no patient.
  'medicine.read': { scope: 'medicines:read', perPatient: false, patientMinLevel: 'P0' },
  // Operations: the hub's own MESH log and job queue; staff and back-end tools, never patients.
  'messages.read': { scope: 'messages:read', perPatient: false, patientMinLevel: null },
  'jobs.read': { scope: 'jobs:read', perPatient: false, patientMinLevel: null },
  'jobs.retry': { scope: 'jobs:manage', perPatient: false, patientMinLevel: null },
  // Products (API keys) only: the patient is named in the body, and a product sees only its own submissions.
  'readings.submit': { scope: 'readings:submit', perPatient: false, patientMinLevel: null },
  'readings.read': { scope: 'readings:read', perPatient: false, patientMinLevel: null },
  // Running the hub (the console): staff and operators, never patients.
  'operations.read': { scope: 'operations:read', perPatient: false, patientMinLevel: null },
  'keys.manage': { scope: 'keys:manage', perPatient: false, patientMinLevel: null },
  'medicines.import': { scope: 'medicines:import', perPatient: false, patientMinLevel: null },
  'settings.manage': { scope: 'settings:manage', perPatient: false, patientMinLevel: null },
};

const DEMOGRAPHICS: AccessAction[] = ['patient.read', 'patient.search'];
const AMEND_DEMOGRAPHICS: AccessAction[] = [...DEMOGRAPHICS, 'patient.update'];
const APPOINTMENTS: AccessAction[] = ['appointment.read', 'appointment.book'];
const CLINICAL_RECORD: AccessAction[] = ['gp-record.read', 'scr.read', 'prescription.read'];
/** Reference data every role may read: the dm+d. */
const REFERENCE: AccessAction[] = ['medicine.read'];
/** The roles that send documents follow them: the MESH message log. */
const MESSAGES: AccessAction[] = ['messages.read'];
/**
 * Running the hub (its queue, NHS API health, the audit trail): the admin/clinical support role,
 * the national RBAC role of staff who support a service rather than treat patients. Creating API
 * keys, importing the dm+d and changing the hub's settings are left to hub admin accounts.
 */
const OPERATIONS: AccessAction[] = [
  'messages.read',
  'jobs.read',
  'jobs.retry',
  'operations.read',
  'audit.read',
];

/**
 * Hub admin accounts run the hub: its queue, MESH log, NHS API health, the audit trail, products'
 * API keys, dm+d imports and settings. They are not health and care workers (no smartcard, no RBAC role, no
 * legitimate relationship with a patient), so no patient-data action, whatever the route.
 */
export const ADMIN_ACTIONS: readonly AccessAction[] = [
  'operations.read',
  'audit.read',
  'keys.manage',
  'medicines.import',
  'settings.manage',
  'medicine.read',
  'messages.read',
  'jobs.read',
  'jobs.retry',
];

/**
 * The scopes of a hub admin account's own actions: what it may put on a product's key. An account
 * that may not read patient data must not mint a key that can (separation of duties).
 */
const ADMIN_GRANTABLE_SCOPES: ReadonlySet<ApiKeyScope> = new Set(ADMIN_ACTIONS.map((a) => ACTIONS[a].scope));

/** Scopes that read or write patient data: every scope no hub admin action carries. */
export const PATIENT_DATA_SCOPES: readonly ApiKeyScope[] = API_KEY_SCOPES.filter(
  (scope) => !ADMIN_GRANTABLE_SCOPES.has(scope),
);

/**
 * Of `scopes`, those the principal may not put on (or take off) a product's key: an API key only
 * gives what it holds; a hub admin account gives its own actions' scopes, and patient-data scopes
 * only where the deployment allows it; nobody else manages keys.
 */
export function scopesBeyondGrant(
  principal: Principal,
  scopes: readonly ApiKeyScope[],
  options: { adminMayGrantPatientData: boolean },
): ApiKeyScope[] {
  const may = (scope: ApiKeyScope): boolean => {
    switch (principal.kind) {
      case 'api-key':
        return principal.scopes.includes(scope);
      case 'admin':
        return options.adminMayGrantPatientData || ADMIN_GRANTABLE_SCOPES.has(scope);
      default:
        return false;
    }
  };
  return scopes.filter((scope) => !may(scope));
}

/**
 * What a proxy (a parent, a carer) may be given access to, by kind, as GP practices grant online
 * services to proxies: each kind is a group of the actions above. A proxy's actions are also bound
 * by the proxy's own identity proofing level, as for their own record.
 */
export const PROXY_ACCESS = {
  demographics: ['patient.read', 'patient.update'],
  'gp-record': ['gp-record.read'],
  prescriptions: ['prescription.read'],
  appointments: ['appointment.read', 'appointment.book'],
} as const satisfies Record<string, readonly AccessAction[]>;
export type ProxyAccess = keyof typeof PROXY_ACCESS;
export const PROXY_ACCESS_KINDS = Object.keys(PROXY_ACCESS) as ProxyAccess[];

/**
 * Job role (national RBAC "R" code) → what a worker acting in it may do. Modelled on the national
 * RBAC baseline policy (digital.nhs.uk "National RBAC for developers": job roles R…, activities
 * B…, e.g. R8000 performs B0825 Amend Patient Demographics, which includes B0820 View Patient
 * Demographics): clinical roles read the clinical record; administrative roles trace, view and amend
 * demographics and manage appointments but never read the clinical record. A role not listed here
 * gets nothing. Names are the RBAC display names.
 */
export const ROLE_ACTIONS: Readonly<Record<string, { name: string; actions: readonly AccessAction[] }>> = {
  R8000: {
    name: 'Clinical Practitioner Access Role',
    actions: [
      ...REFERENCE,
      ...AMEND_DEMOGRAPHICS,
      ...CLINICAL_RECORD,
      ...APPOINTMENTS,
      'document.send',
      ...MESSAGES,
    ],
  },
  R8001: {
    name: 'Nurse Access Role',
    actions: [
      ...REFERENCE,
      ...AMEND_DEMOGRAPHICS,
      ...CLINICAL_RECORD,
      ...APPOINTMENTS,
      'document.send',
      ...MESSAGES,
    ],
  },
  // Allied and other health professionals, pharmacists among them: dispensing, no demographics changes.
  R8003: {
    name: 'Health Professional Access Role',
    actions: [...REFERENCE, ...DEMOGRAPHICS, ...CLINICAL_RECORD, 'prescription.dispense'],
  },
  R8004: { name: 'Healthcare Student Access Role', actions: [...REFERENCE, ...DEMOGRAPHICS] },
  R8006: {
    name: 'Medical Secretary Access Role',
    actions: [...REFERENCE, ...AMEND_DEMOGRAPHICS, ...APPOINTMENTS, 'document.send', ...MESSAGES],
  },
  R8008: {
    name: 'Admin/Clinical Support Access Role',
    actions: [...REFERENCE, ...AMEND_DEMOGRAPHICS, ...APPOINTMENTS, ...OPERATIONS],
  },
  R8009: { name: 'Receptionist Access Role', actions: [...REFERENCE, ...DEMOGRAPHICS, ...APPOINTMENTS] },
  R8010: { name: 'Clerical Access Role', actions: [...REFERENCE, ...AMEND_DEMOGRAPHICS] },
};

/** The job role (`R….`) of a national RBAC code `S…:G…:R…`, or undefined if malformed. */
export function jobRoleOf(roleCode: string): string | undefined {
  return /^S\d+:G\d+:(R\d+)$/.exec(roleCode.trim())?.[1];
}

const LEVEL_RANK: Record<IdentityProofingLevel, number> = { P0: 0, P5: 5, P9: 9 };

const allow = (rule: string, reason: string): Decision => ({ allow: true, rule, reason });
const deny = (rule: string, reason: string): Decision => ({ allow: false, rule, reason });

/**
 * Decides one request. `principal` is undefined when the caller presented no valid credentials.
 * Pure: no I/O, no clock; the caller audits the decision and turns a denial into 401/403.
 * @example
 * decide({ kind: 'patient', sub: 'x', nhsNumber: '9000000009', identityProofingLevel: 'P9', delegations: [] },
 *   { action: 'gp-record.read', nhsNumber: '9000000009' }) // → { allow: true, rule: 'patient.own-record', … }
 */
export function decide(principal: Principal | undefined, request: AccessRequest): Decision {
  const rule = ACTIONS[request.action];
  if (!rule) return deny('unknown-action', 'Unknown action');
  if (!principal) return deny('unauthenticated', 'No valid credentials');
  switch (principal.kind) {
    case 'api-key':
      return principal.scopes.includes(rule.scope)
        ? allow('api-key.scope', `The API key has the '${rule.scope}' scope`)
        : deny('api-key.scope', `The API key does not have the '${rule.scope}' scope`);
    case 'clinician':
      return decideClinician(principal, request.action);
    case 'patient':
      return decidePatient(principal, request, rule);
    case 'admin':
      return ADMIN_ACTIONS.includes(request.action)
        ? allow('admin.operations', `Hub admin accounts may ${request.action}`)
        : deny(
            'admin.no-patient-data',
            `Hub admin accounts may not ${request.action}: it is not an operational action`,
          );
  }
}

function decideClinician(principal: ClinicianPrincipal, action: AccessAction): Decision {
  const jobRole = jobRoleOf(principal.roleCode);
  const role = jobRole === undefined ? undefined : ROLE_ACTIONS[jobRole];
  if (!role) return deny('clinician.unknown-role', 'The selected role is not one the hub grants access to');
  return role.actions.includes(action)
    ? allow('clinician.role', `${role.name} (${jobRole}) may ${action}`)
    : deny('clinician.role', `${role.name} (${jobRole}) may not ${action}`);
}

function decidePatient(principal: PatientPrincipal, request: AccessRequest, rule: ActionRule): Decision {
  const min = rule.patientMinLevel;
  if (min === null) return deny('patient.action', `Patients may not ${request.action}`);
  if (LEVEL_RANK[principal.identityProofingLevel] < LEVEL_RANK[min]) {
    return deny(
      'patient.proofing-level',
      `${request.action} needs identity proofing ${min}; this sign-in is ${principal.identityProofingLevel}`,
    );
  }
  if (!rule.perPatient) return allow('patient.action', `Patients may ${request.action}`);
  const target = request.nhsNumber;
  if (target === undefined) return deny('patient.other-record', 'The request names no patient');
  if (principal.actingFor !== undefined) {
    // Signed in for someone else: that record only (PDS would refuse any other with this token).
    if (target !== principal.actingFor.nhsNumber) {
      return deny(
        'patient.acting-for',
        "This sign-in is for another person's record only; sign in again to use a different one",
      );
    }
  } else if (principal.nhsNumber !== undefined && target === principal.nhsNumber) {
    return allow('patient.own-record', 'A patient may access their own record');
  }
  const delegation = principal.delegations.find((d) => d.nhsNumber === target);
  if (delegation) {
    const covered = delegation.access.some((kind) =>
      (PROXY_ACCESS[kind] as readonly AccessAction[] | undefined)?.includes(request.action),
    );
    return covered
      ? allow('patient.proxy', 'A proxy may access the record of a patient who delegated to them')
      : deny('patient.proxy-access', `The proxy's delegated access does not include ${request.action}`);
  }
  return deny(
    'patient.other-record',
    'A patient may access only their own record or one they are a proxy for',
  );
}

/**
 * What a principal may do, for a user interface to show or hide what it offers (the console's
 * pages): every action {@link decide} allows it. Per-patient actions count when the principal's
 * role or scopes grant them (clinicians, API keys), or, for a patient, when they may do them for
 * their own record, the record they signed in for, or a record delegated to them. Each request is
 * still decided on its own: this list grants nothing.
 * @example allowedActions(clinician) // → ['patient.read', 'patient.search', …, 'messages.read']
 */
export function allowedActions(principal: Principal): AccessAction[] {
  const patients: (string | undefined)[] =
    principal.kind === 'patient'
      ? [
          principal.actingFor?.nhsNumber ?? principal.nhsNumber,
          ...principal.delegations.map((d) => d.nhsNumber),
        ]
      : [undefined];
  return ACCESS_ACTIONS.filter((action) => {
    if (!ACTIONS[action].perPatient) return decide(principal, { action }).allow;
    return patients.some(
      (nhsNumber) =>
        (principal.kind !== 'patient' || nhsNumber !== undefined) &&
        decide(principal, nhsNumber === undefined ? { action } : { action, nhsNumber }).allow,
    );
  });
}
