// Test support only (excluded from the build): checks on the token requests the API platform expects.
import { type CryptoKey, decodeProtectedHeader, jwtVerify } from 'jose';
import { expect } from 'vitest';
import type { RecordedRequest } from './fake-fetch.js';

/**
 * Expects `request` to be a form POST to the token URL carrying a client assertion the platform
 * accepts (signed JWT authentication,
 * https://digital.nhs.uk/developer/guides-and-documentation/security-and-authorisation/application-restricted-restful-apis-signed-jwt-authentication;
 * NHSDigital/identity-service-api validate-client-assertion-claims.js): RS512
 * with `kid`, iss = sub = the API key, aud = the token URL, a 5 minute lifetime from `now` and a
 * UUID jti. Returns the form, for the checks of the grant itself.
 */
export async function expectClientAssertionRequest(
  request: RecordedRequest | undefined,
  publicKey: CryptoKey,
  expected: { apiKey: string; tokenUrl: string; kid: string; now: Date },
): Promise<URLSearchParams> {
  expect(request?.method).toBe('POST');
  expect(request?.url.href).toBe(expected.tokenUrl);
  expect(request?.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
  const body = new URLSearchParams(request?.body ?? '');
  expect(body.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');

  const assertion = body.get('client_assertion') ?? '';
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
  return body;
}
