import { randomInt } from 'node:crypto';
import type { IdentityProviderHandle } from '../oidc/identity-provider.js';
import type { AccessGrant } from './access-token-store.js';
import { decodeClientAssertion } from './client-assertion.js';
import type { RegisteredApp } from './registered-app.js';
import { signedByOneOf } from './signature.js';
import { actorTokenOf, checkActorClaims, checkSubjectTokenClaims } from './subject-token.js';
import { TOKEN_ERRORS, type TokenError } from './token-errors.js';

/** `refresh_token_expires_in` of a CIS2 token exchange: 12 hours (test_token_exchange.py asserts "43199"). */
export const CIS2_REFRESH_TOKEN_TTL_S = 43_199;
/** `refresh_token_expires_in` for NHS login: 1 hour (test_authorization_code.py asserts "3599"). */
export const NHS_LOGIN_REFRESH_TOKEN_TTL_S = 3_599;

// Policies/VerifyJWT.SubjectToken.xml <Algorithm>RS256,RS512</Algorithm>
const SUBJECT_TOKEN_ALGORITHMS = new Set(['RS256', 'RS512']);
// Apigee refresh tokens are 32 alphanumeric characters.
const REFRESH_TOKEN_LENGTH = 32;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface ExchangeContext {
  /** The app the client assertion authenticated. */
  client: RegisteredApp;
  providers: readonly IdentityProviderHandle[];
  /** The sandbox's public origin (`proto://host`), from which each provider's issuer follows. */
  origin: string;
  nowMs: number;
}

export type ExchangeResult =
  | { grant: AccessGrant; provider: IdentityProviderHandle['kind'] }
  | { error: TokenError };

/**
 * The subject-token half of the platform's token exchange (RFC 8693), after the client assertion
 * has been accepted: Flow.PostTokenTokenExchange in NHSDigital/identity-service-api
 * proxies/live/apiproxy/proxies/default.xml from DecodeJWT.FromSubjectTokenFormParam on. The
 * first failing check is the answer. Returns the access the id_token grants: a CIS2 user is a
 * healthcare worker, an NHS login user a patient.
 */
export async function exchangeSubjectToken(
  subjectToken: string | null,
  ctx: ExchangeContext,
): Promise<ExchangeResult> {
  if (subjectToken === null || subjectToken === '') return { error: TOKEN_ERRORS.subjectTokenMissing };
  const decoded = decodeClientAssertion(subjectToken);
  if (decoded === undefined) return { error: TOKEN_ERRORS.subjectTokenMalformed };
  const claimError = checkSubjectTokenClaims(decoded, ctx.nowMs);
  if (claimError) return { error: claimError };
  const { header, payload } = decoded;

  // DecodeJWT.FromActToken + validate-actor-token-claims.js. A corrupt act.sub fails the decode
  // policy, which no fault rule names: the catch-all unknown_error.
  const actorJwt = actorTokenOf(payload);
  let actor: Record<string, unknown> | undefined;
  if (actorJwt !== undefined) {
    const decodedActor = decodeClientAssertion(actorJwt);
    if (decodedActor === undefined) return { error: TOKEN_ERRORS.unknown };
    const actorError = checkActorClaims(decodedActor);
    if (actorError) return { error: actorError };
    actor = decodedActor.payload;
  }

  // Javascript.SelectIdTokenIssuer: the issuer picks the provider (and so its JWKS).
  const provider = ctx.providers.find((p) => payload.iss === p.issuerFor(ctx.origin));
  if (provider === undefined) return { error: TOKEN_ERRORS.subjectIssNotMatching };
  const { aud } = payload;
  if (Array.isArray(aud) && aud.length === 1 && aud[0] === '') return { error: TOKEN_ERRORS.subjectAudEmpty };
  const clientId = provider.kind === 'nhs-login' ? ctx.client.nhsLoginClientId : ctx.client.cis2ClientId;
  if (clientId === undefined || !(aud === clientId || (Array.isArray(aud) && aud.includes(clientId)))) {
    return { error: TOKEN_ERRORS.subjectAudInvalid };
  }

  // LookupCache/ServiceCallout JWKS, validate-claim.js (kid), VerifyJWT.SubjectToken.
  const candidates = provider.publicJwks().keys.filter((key) => key.kid === header.kid);
  if (candidates.length === 0) return { error: TOKEN_ERRORS.subjectKidNoMatch };
  const alg = String(header.alg);
  // An alg VerifyJWT is not configured for is a fault no rule names: unknown_error.
  if (!SUBJECT_TOKEN_ALGORITHMS.has(alg)) return { error: TOKEN_ERRORS.unknown };
  if (!(await signedByOneOf(subjectToken, candidates, alg))) return { error: TOKEN_ERRORS.signature };
  // VerifyJWT refuses a token not yet valid (TokenNotYetValid), again through the catch-all.
  if (typeof payload.nbf === 'number' && ctx.nowMs < payload.nbf * 1000)
    return { error: TOKEN_ERRORS.unknown };

  const grant = provider.kind === 'cis2' ? healthcareWorkerGrant(payload) : patientGrant(payload, actor);
  return 'error' in grant ? grant : { grant, provider: provider.kind };
}

/**
 * JavaScript.FilterScopesTokenExchange keeps the app's scopes of the token's level
 * (`:aal<authentication_assurance_level>:`); a sandbox app holds scopes at aal1 to aal3, as the
 * platform's e2e test app does, so another level leaves none: RaiseFault.VerifyAccessLevel.
 */
function healthcareWorkerGrant(payload: Record<string, unknown>): AccessGrant | { error: TokenError } {
  const level = payload.authentication_assurance_level;
  if (!['1', '2', '3'].includes(String(level))) return { error: TOKEN_ERRORS.accessLevel };
  const roleProfileId = payload.selected_roleid;
  return {
    accessMode: 'healthcare-worker',
    userId: String(payload.sub ?? ''),
    ...(typeof roleProfileId === 'string' || typeof roleProfileId === 'number'
      ? { roleProfileId: String(roleProfileId) }
      : {}),
    authenticationAssuranceLevel: Number(level),
  };
}

/**
 * For NHS login the level is `identity_proofing_level` cut to two characters (`:P9:`); the sandbox
 * app holds P0, P5 and P9 scopes. A missing level makes the platform's script throw: unknown_error.
 * With an actor (`act.sub`), the signed-in person is the actor and the subject is the patient they
 * act for: `proxyFor`.
 */
function patientGrant(
  payload: Record<string, unknown>,
  actor: Record<string, unknown> | undefined,
): AccessGrant | { error: TokenError } {
  const proofing = payload.identity_proofing_level;
  if (typeof proofing !== 'string') return { error: TOKEN_ERRORS.unknown };
  const identityProofingLevel = proofing.slice(0, 2);
  if (identityProofingLevel !== 'P0' && identityProofingLevel !== 'P5' && identityProofingLevel !== 'P9') {
    return { error: TOKEN_ERRORS.accessLevel };
  }
  const subjectNhsNumber = payload.nhs_number ? String(payload.nhs_number) : '';
  const vot = typeof payload.vot === 'string' ? payload.vot : undefined;
  return {
    accessMode: 'patient',
    nhsNumber: actor ? String(actor.nhs_number ?? '') : subjectNhsNumber,
    identityProofingLevel,
    ...(vot !== undefined && { vot }),
    ...(actor && { proxyFor: subjectNhsNumber }),
  };
}

/**
 * An opaque refresh token, as the platform's token-exchange answer carries one. The sandbox does
 * not simulate `grant_type=refresh_token` (it needs the app's client secret, which sandbox apps do not have).
 */
export function newRefreshToken(): string {
  let token = '';
  for (let i = 0; i < REFRESH_TOKEN_LENGTH; i++) token += ALPHABET[randomInt(ALPHABET.length)];
  return token;
}
