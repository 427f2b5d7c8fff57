import { OperationOutcomeError } from '@junction/core';
import type { FastifyRequest } from 'fastify';
import type { AccessGrant } from '../oauth/access-token-store.js';
import { header } from './request-context.js';

/** PDS's access modes (personal-demographics.yaml "Access modes"). */
export type AccessMode = AccessGrant['accessMode'];

/** What the caller may do, from the bearer token; `undefined` grant when PDS runs open like NHS's sandbox. */
export interface Caller {
  accessMode: AccessMode | undefined;
  grant: AccessGrant | undefined;
}

export type VerifyAccessToken = (token: string) => AccessGrant | undefined;

/** What a request does, for the access-mode rules. */
export type PdsAction =
  | { kind: 'search' }
  | { kind: 'read'; nhsNumber: string }
  | { kind: 'update'; nhsNumber: string }
  | { kind: 'create' }
  | { kind: 'coverage-read'; method: 'GET'; subscriber: string | undefined }
  | { kind: 'coverage-update'; method: 'POST' };

/**
 * Vectors of trust that give patient access (personal-demographics-service-api
 * proxies/live/apiproxy/resources/jsc/RestrictRequest.js `allowed_vots`).
 */
export const PATIENT_ACCESS_VOTS: readonly string[] = ['P9.Cp.Cd', 'P9.Cm', 'P9.Cp.Ck'];

/**
 * 401 ACCESS_DENIED for a missing or unknown bearer token, with the API platform's display
 * (proxies/live/apiproxy/policies/AssignMessage.Errors.OAuthPolicyResponse.xml) and the sandbox's
 * diagnostics (karate-tests/.../sandbox/supporting-functions.js `validateAuthHeader`).
 */
export function authenticate(request: FastifyRequest, verify: VerifyAccessToken | undefined): Caller {
  if (!verify) return { accessMode: undefined, grant: undefined };
  const authorization = header(request, 'authorization');
  const match = authorization === undefined ? null : /^Bearer (\S+)$/.exec(authorization);
  if (!match) throw accessDenied('Missing access token');
  const verified = verify(match[1] as string);
  if (!verified) throw accessDenied('Invalid Access Token');
  const grant = effectiveGrant(verified);
  return { accessMode: grant.accessMode, grant };
}

/**
 * PDS picks its mode from the token's scopes (targets/ig3.xml): healthcare-worker mode needs a
 * CIS2 `aal2`/`aal3` scope, so a CIS2 token at AAL1 is served as application-restricted.
 */
function effectiveGrant(grant: AccessGrant): AccessGrant {
  if (grant.accessMode === 'healthcare-worker') {
    const level = grant.authenticationAssuranceLevel;
    if (level !== undefined && level < 2) return { accessMode: 'application-restricted' };
  }
  return grant;
}

function accessDenied(diagnostics: string): OperationOutcomeError {
  return OperationOutcomeError.spine('ACCESS_DENIED', {
    status: 401,
    display: 'Access Denied - Unauthorised',
    diagnostics,
  });
}

/**
 * The access-mode rules of the PDS proxy (personal-demographics-service-api
 * proxies/live/apiproxy/targets/ig3.xml), in its order, for a caller already authenticated:
 * - healthcare worker: `NHSD-Session-URID` must be the user's role (UserRoleService); Coverage is refused;
 * - application-restricted: PATCH refused, Coverage refused, POST refused (`_max-results` is in search-params.ts);
 * - patient: P9 with an allowed `vot`, only the own record (or, by proxy, the delegated patient's),
 *   no search, no create; Coverage only for the own NHS number.
 */
export function authorise(caller: Caller, action: PdsAction, request: FastifyRequest): void {
  const grant = caller.grant;
  if (grant === undefined) return;
  if (grant.accessMode === 'healthcare-worker') {
    checkSessionUrid(grant, request);
    if (action.kind === 'coverage-read' || action.kind === 'coverage-update') {
      throw resourceRestricted(action.method, 'user-restricted');
    }
    return;
  }
  if (grant.accessMode === 'application-restricted') {
    if (action.kind === 'update') throw invalidMethod('update', 'application-restricted');
    if (action.kind === 'coverage-read' || action.kind === 'coverage-update') {
      throw resourceRestricted(action.method, 'application-restricted');
    }
    if (action.kind === 'create') throw invalidMethod('create', 'application-restricted');
    return;
  }
  // RaiseFault.InvalidUserNHSlogin on P0/P5 scopes, before anything else
  if (grant.identityProofingLevel !== 'P9') throw patientCannot();
  const own = grant.proxyFor ?? grant.nhsNumber;
  const restricted = isPatientRequestRestricted(grant, own, action);
  // RaiseFault.PostMethodNotAllowed, then RaiseFault.InvalidCoverageSearch, then the restriction
  if (action.kind === 'create') throw invalidMethod('create', 'patient-access');
  if (action.kind === 'coverage-read' && action.subscriber === undefined) {
    throw OperationOutcomeError.spine('INVALID_SEARCH_DATA', {
      display: 'Search data is invalid',
      diagnostics:
        "Invalid search data provided - 'Coverage search request must follow the format /Coverage?subscriber:identifier=NHS_NUMBER'",
    });
  }
  if (restricted) throw patientCannot();
}

/** RestrictRequest.js `is_request_restricted`: vot, then the NHS number in the path or Coverage query. */
function isPatientRequestRestricted(
  grant: Extract<AccessGrant, { accessMode: 'patient' }>,
  own: string,
  action: PdsAction,
): boolean {
  if (grant.vot === undefined || !PATIENT_ACCESS_VOTS.includes(grant.vot)) return true;
  switch (action.kind) {
    case 'coverage-update':
      return false;
    case 'coverage-read':
      return action.subscriber === undefined || action.subscriber !== own;
    case 'read':
    case 'update':
      return own === '' || action.nhsNumber !== own;
    default:
      return true; // search and create have no NHS number in the path
  }
}

/** The role in `NHSD-Session-URID` must be the logged-in user's (personal-demographics.yaml RoleId). */
function checkSessionUrid(
  grant: Extract<AccessGrant, { accessMode: 'healthcare-worker' }>,
  request: FastifyRequest,
): void {
  const urid = header(request, 'nhsd-session-urid');
  if (urid === undefined) return;
  if (/^[0-9]+$/.test(urid) && (grant.roleProfileId === undefined || urid === grant.roleProfileId)) return;
  // policies/AssignMessage.Errors.UserRoleSharedFlow.xml
  throw OperationOutcomeError.spine('INVALID_VALUE', {
    diagnostics: `Invalid value - '${urid}' in header 'NHSD-Session-URID'. Refer to the guidance for this header in our API Specification https://digital.nhs.uk/developer/api-catalogue/personal-demographics-service-fhir`,
  });
}

/** policies/RaiseFault.InvalidUserNHSlogin.xml (403 ACCESS_DENIED, patient-get.yaml "Patient cannot perform this action"). */
function patientCannot(): OperationOutcomeError {
  return OperationOutcomeError.spine('ACCESS_DENIED', {
    status: 403,
    display: 'Patient cannot perform this action',
    diagnostics:
      'Your access token has insufficient permissions. See documentation regarding Patient access restrictions https://digital.nhs.uk/developer/api-catalogue/personal-demographics-service-fhir',
  });
}

/** policies/RaiseFault.ResourceRestricted.xml: Coverage outside patient access. */
function resourceRestricted(method: string, mode: string): OperationOutcomeError {
  return OperationOutcomeError.spine('ACCESS_DENIED', {
    status: 403,
    display: `Cannot ${method} resource with ${mode} access token`,
    diagnostics: 'Your app has insufficient permissions to use this operation. Please contact support.',
  });
}

/** policies/RaiseFault.PatchMethodNotAllowedAppRestricted.xml and RaiseFault.PostMethodNotAllowed.xml. */
function invalidMethod(action: 'update' | 'create', mode: string): OperationOutcomeError {
  return OperationOutcomeError.spine('INVALID_METHOD', {
    display: `Cannot ${action} resource with ${mode} access token`,
    diagnostics: 'Your app has insufficient permissions to use this method. Please contact support.',
  });
}
