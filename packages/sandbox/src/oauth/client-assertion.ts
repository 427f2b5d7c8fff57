import { TOKEN_ERRORS, type TokenError } from './token-errors.js';

/** A client assertion JWT split into its parts, not yet verified. */
export interface DecodedAssertion {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** The platform allows `exp` up to 5 minutes ahead, plus 10 s of slack (`seconds_remaining > 310` fails). */
export const MAX_EXP_AHEAD_S = 310;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Splits a compact JWS into header and payload, or `undefined` when Apigee's DecodeJWT would
 * fail (answered as "Malformed JWT in client_assertion"). The signature is not checked here.
 */
export function decodeClientAssertion(jwt: string): DecodedAssertion | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  const header = jsonObject(parts[0]!);
  const payload = jsonObject(parts[1]!);
  if (header === undefined || payload === undefined || !BASE64URL.test(parts[2]!)) return undefined;
  return { header, payload };
}

function jsonObject(part: string): Record<string, unknown> | undefined {
  if (part === '' || !BASE64URL.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The header and claim checks of the platform's `validate-client-assertion-claims.js`
 * (NHSDigital/identity-service-api), in that script's order: when several things are wrong the
 * first failing check is the answer. `isReplay` tells whether this client already used the `jti`.
 * Loose (`!=`, truthiness) tests are kept on purpose: they decide which error a bad claim gets.
 */
export function checkAssertionClaims(
  { header, payload }: DecodedAssertion,
  nowMs: number,
  isReplay: (sub: unknown, jti: string) => boolean,
): TokenError | undefined {
  const { alg, kid, typ } = header;
  const { exp, iss, sub, jti } = payload;
  if (alg !== 'RS512') return TOKEN_ERRORS.algInvalid;
  // `new Date() > new Date(exp * 1000)`: JS coercion, so a numeric string can count as expired.
  if (nowMs > Number(exp) * 1000) return TOKEN_ERRORS.expExpired;
  if (!kid) return TOKEN_ERRORS.kidMissing;
  if (typeof typ !== 'string' || typ.toLowerCase() !== 'jwt') return TOKEN_ERRORS.typInvalid;
  if (!exp) return TOKEN_ERRORS.expMissing;
  if (typeof exp !== 'number') return TOKEN_ERRORS.expNotInteger;
  // biome-ignore lint/suspicious/noDoubleEquals: the platform compares iss and sub with `!=`.
  if (!iss || !sub || iss != sub) return TOKEN_ERRORS.issSubMismatch;
  if (!jti) return TOKEN_ERRORS.jtiMissing;
  if (typeof jti !== 'string') return TOKEN_ERRORS.jtiInvalid;
  if (isReplay(sub, jti)) return TOKEN_ERRORS.jtiReused;
  // Apigee's DecodeJWT `seconds_remaining`: whole seconds until exp.
  if (Math.floor((exp * 1000 - nowMs) / 1000) > MAX_EXP_AHEAD_S) return TOKEN_ERRORS.expTooFar;
  return undefined;
}
