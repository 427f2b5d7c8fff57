import { compactVerify, importJWK, type JWK } from 'jose';

/**
 * Whether one of `keys` verifies the compact JWS with its header's `alg`, which must be one of
 * `algorithms` (the caller checks that first, as Apigee's VerifyJWT `<Algorithm>` does).
 */
export async function signedByOneOf(jws: string, keys: readonly JWK[], algorithm: string): Promise<boolean> {
  for (const jwk of keys) {
    try {
      const key = await importJWK(publicPart(jwk), algorithm);
      await compactVerify(jws, key, { algorithms: [algorithm] });
      return true;
    } catch {
      // Wrong key type, short modulus, bad signature: all "signature verification failed".
    }
  }
  return false;
}

function publicPart(jwk: JWK): JWK {
  const { kty, n, e, crv, x, y } = jwk;
  return Object.fromEntries(
    Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined),
  ) as JWK;
}
