import type { DecodedAssertion } from './client-assertion.js';
import { TOKEN_ERRORS, type TokenError } from './token-errors.js';

/**
 * The header and claim checks of the platform's `validate-subject-token-claims.js`
 * (NHSDigital/identity-service-api, proxies/live/apiproxy/resources/jsc), in that script's order.
 * Loose (truthiness) tests are kept on purpose: they decide which error a bad claim gets.
 */
export function checkSubjectTokenClaims(
  { header, payload }: DecodedAssertion,
  nowMs: number,
): TokenError | undefined {
  if (!header.kid) return TOKEN_ERRORS.subjectKidMissing;
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'jwt')
    return TOKEN_ERRORS.subjectTypInvalid;
  if (!header.alg) return TOKEN_ERRORS.subjectAlgMissing;
  if (!payload.exp) return TOKEN_ERRORS.subjectExpMissing;
  if (typeof payload.exp !== 'number') return TOKEN_ERRORS.subjectExpNotInteger;
  if (nowMs > payload.exp * 1000) return TOKEN_ERRORS.subjectExpExpired;
  if (!payload.iss) return TOKEN_ERRORS.subjectIssMissing;
  if (!payload.aud) return TOKEN_ERRORS.subjectAudMissing;
  return undefined;
}

/**
 * The nested actor JWT of delegated (proxy) NHS login access: `act.sub`, looked at only when the
 * subject token is an NHS login one, which the platform tells by its `nhs_number` claim.
 */
export function actorTokenOf(payload: Record<string, unknown>): string | undefined {
  const act = payload.act as { sub?: unknown } | null | undefined;
  if (!payload.nhs_number || !act || typeof act.sub !== 'string') return undefined;
  return act.sub;
}

/**
 * The checks of `validate-actor-token-claims.js` on the decoded `act.sub` JWT, in its order. The
 * platform neither checks its expiry nor verifies its signature; it only records the actor.
 */
export function checkActorClaims({ header, payload }: DecodedAssertion): TokenError | undefined {
  if (!header.kid) return TOKEN_ERRORS.actKidMissing;
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'jwt') return TOKEN_ERRORS.actTypInvalid;
  if (!header.alg) return TOKEN_ERRORS.actAlgMissing;
  if (!payload.exp) return TOKEN_ERRORS.actExpMissing;
  if (typeof payload.exp !== 'number') return TOKEN_ERRORS.actExpNotInteger;
  if (!payload.iss) return TOKEN_ERRORS.actIssMissing;
  if (!payload.aud) return TOKEN_ERRORS.actAudMissing;
  return undefined;
}
