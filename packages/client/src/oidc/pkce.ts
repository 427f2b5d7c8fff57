import {
  calculatePKCECodeChallenge,
  randomNonce as oidcRandomNonce,
  randomState as oidcRandomState,
  randomPKCECodeVerifier,
} from 'openid-client';

/** A PKCE pair: keep `codeVerifier` server-side for the exchange; `codeChallenge` is what the URL carries. */
export interface Pkce {
  codeVerifier: string;
  /** S256 challenge of the verifier (the clients compute it themselves; here for logging-free checks). */
  codeChallenge: string;
}

/**
 * A fresh PKCE verifier (32 random bytes, base64url) and its S256 challenge.
 *
 * @example
 * const { codeVerifier } = await generatePkce();
 * session.codeVerifier = codeVerifier; // needed again by exchangeCode
 */
export async function generatePkce(): Promise<Pkce> {
  const codeVerifier = randomPKCECodeVerifier();
  return { codeVerifier, codeChallenge: await calculatePKCECodeChallenge(codeVerifier) };
}

/**
 * An unguessable `state` value (32 random bytes, base64url).
 *
 * @example
 * const state = randomState();
 */
export function randomState(): string {
  return oidcRandomState();
}

/**
 * An unguessable `nonce` value (32 random bytes, base64url); the id_token must echo it.
 *
 * @example
 * const nonce = randomNonce();
 */
export function randomNonce(): string {
  return oidcRandomNonce();
}
