import type { ClinicianPrincipal, PatientPrincipal } from '../access/policy.js';
import {
  type GrantProxyDelegationInput,
  grantProxyDelegation,
  type ProxyDelegationInfo,
} from '../access/proxy-delegations.js';
import { createSession, revokeSession, type SessionPrincipal } from '../access/sessions.js';
import type { Store } from '../store/database.js';

/**
 * Test helper (not exported from the package): sign-in sessions made directly in the store, as
 * the NHS login / CIS2 callbacks would make them, so route tests need no identity provider.
 */

export const JANE_NHS = '9000000009';
export const JANET_NHS = '9000000025';
export const PARENT_NHS = '9000000017';

export const patient = (
  level: 'P0' | 'P5' | 'P9',
  extra: Partial<PatientPrincipal> = {},
): PatientPrincipal => ({
  kind: 'patient',
  sub: `49f470a1-0000-4000-8000-00000000${level === 'P9' ? '0009' : level === 'P5' ? '0005' : '0000'}`,
  identityProofingLevel: level,
  ...(level === 'P0' ? {} : { nhsNumber: JANE_NHS, vot: `${level}.Cp.Cd` }),
  delegations: [],
  ...extra,
});

/**
 * A P9 parent (own record PARENT_NHS). Their proxy access is not in the session: the hub reads it
 * from the store for every request, so tests record it with {@link grantParentProxy}.
 */
export const PROXY_PARENT = patient('P9', {
  sub: '7d3e5f2a-0000-4000-8000-000000000046',
  nhsNumber: PARENT_NHS,
});

/** Records PROXY_PARENT as a parent proxy of JANET_NHS (every kind of access unless `access`). */
export function grantParentProxy(
  store: Store,
  now: () => Date,
  extra: Partial<GrantProxyDelegationInput> = {},
): Promise<ProxyDelegationInfo> {
  return grantProxyDelegation(store, {
    proxyNhsNumber: PARENT_NHS,
    patientNhsNumber: JANET_NHS,
    relationship: 'parent',
    now,
    ...extra,
  });
}

export const clinician = (jobRole: string, extra: Partial<ClinicianPrincipal> = {}): ClinicianPrincipal => ({
  kind: 'clinician',
  uid: '555000000101',
  roleId: `5550001010${jobRole.slice(-2)}`,
  roleCode: `S8000:G8000:${jobRole}`,
  roleName: jobRole,
  organisationOds: 'A12345',
  ...extra,
});

/** A live session; returns its token (`jss_…`). */
export async function sessionFor(
  store: Store,
  principal: SessionPrincipal,
  now: () => Date,
  options: { ttlS?: number; idToken?: string } = {},
): Promise<string> {
  const input: Parameters<typeof createSession>[1] = { principal, ttlS: options.ttlS ?? 3600, now };
  if (options.idToken !== undefined) input.idToken = options.idToken;
  return (await createSession(store, input)).token;
}

/** A session that expired an hour before `now`. */
export async function expiredSessionFor(
  store: Store,
  principal: SessionPrincipal,
  now: () => Date,
): Promise<string> {
  const past = () => new Date(now().getTime() - 2 * 3600_000);
  // Created in the past: the expired-row clean-up in createSession runs at that past time too.
  return (await createSession(store, { principal, ttlS: 3600, now: past })).token;
}

/** A session that was logged out. */
export async function revokedSessionFor(
  store: Store,
  principal: SessionPrincipal,
  now: () => Date,
): Promise<string> {
  const token = await sessionFor(store, principal, now);
  await revokeSession(store, token, now);
  return token;
}
