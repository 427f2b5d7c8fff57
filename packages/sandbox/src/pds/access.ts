import { OperationOutcomeError } from '@junction/core';
import type { FastifyRequest } from 'fastify';
import { header } from './request-context.js';

export type AccessMode = 'application-restricted';

/** What the caller may do, from the bearer token; `undefined` access mode when PDS runs open like NHS's sandbox. */
export interface Caller {
  accessMode: AccessMode | undefined;
}

export type VerifyAccessToken = (token: string) => { accessMode: AccessMode } | undefined;

/**
 * 401 ACCESS_DENIED for a missing or unknown bearer token, with the API platform's display
 * (proxies/live/apiproxy/policies/AssignMessage.Errors.OAuthPolicyResponse.xml) and the sandbox's
 * diagnostics (karate-tests/.../sandbox/supporting-functions.js `validateAuthHeader`).
 */
export function authenticate(request: FastifyRequest, verify: VerifyAccessToken | undefined): Caller {
  if (!verify) return { accessMode: undefined };
  const authorization = header(request, 'authorization');
  const match = authorization === undefined ? null : /^Bearer (\S+)$/.exec(authorization);
  if (!match) throw accessDenied('Missing access token');
  const verified = verify(match[1] as string);
  if (!verified) throw accessDenied('Invalid Access Token');
  return { accessMode: verified.accessMode };
}

function accessDenied(diagnostics: string): OperationOutcomeError {
  return OperationOutcomeError.spine('ACCESS_DENIED', {
    status: 401,
    display: 'Access Denied - Unauthorised',
    diagnostics,
  });
}

/** Application-restricted apps may not update or create (RaiseFault.PatchMethodNotAllowedAppRestricted.xml, RaiseFault.PostMethodNotAllowed.xml). */
export function forbidWrites(caller: Caller, action: 'update' | 'create'): void {
  if (caller.accessMode !== 'application-restricted') return;
  throw OperationOutcomeError.spine('INVALID_METHOD', {
    display: `Cannot ${action} resource with application-restricted access token`,
    diagnostics: 'Your app has insufficient permissions to use this method. Please contact support.',
  });
}
