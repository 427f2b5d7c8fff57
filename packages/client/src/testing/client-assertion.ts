// Test support only (excluded from the build): checks on the client assertion the API platform expects.
import { type CryptoKey, decodeProtectedHeader, jwtVerify } from 'jose';
import { expect } from 'vitest';

/**
 * Expects `assertion` to be a client assertion the platform accepts (CONTRACTS.md §2a, from
 * identity-service-api validate-client-assertion-claims.js): RS512 with `kid`, iss = sub = the API
 * key, aud = the token URL, a 5 minute lifetime from `now` and a UUID jti.
 */
export async function expectPlatformClientAssertion(
  assertion: string,
  publicKey: CryptoKey,
  expected: { apiKey: string; tokenUrl: string; kid: string; now: Date },
): Promise<void> {
  expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'RS512', kid: expected.kid, typ: 'JWT' });
  const { payload } = await jwtVerify(assertion, publicKey, {
    algorithms: ['RS512'],
    issuer: expected.apiKey,
    subject: expected.apiKey,
    audience: expected.tokenUrl,
    currentDate: expected.now,
  });
  expect(payload.exp).toBe(expected.now.getTime() / 1000 + 300);
  expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
}
