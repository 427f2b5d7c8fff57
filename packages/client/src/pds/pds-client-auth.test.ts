import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { applicationRestrictedAuth } from '../auth/application-restricted-auth.js';
import { fakeFetch, type RecordedRequest } from '../testing/fake-fetch.js';
import { PdsClient } from './pds-client.js';

const TOKEN_URL = 'https://api.test/oauth2/token';
const PATIENT = { resourceType: 'Patient', id: '9000000009', meta: { versionId: '2' } };
const T0 = new Date('2026-01-01T12:00:00Z');

describe('PdsClient with applicationRestrictedAuth', () => {
  it('shares one token request across 10 concurrent calls, then refreshes once after a 401', async () => {
    const { privateKey } = await generateKeyPair('RS512');
    let issued = 0;
    const rejected = new Set<string>();
    const { fetch, calls } = fakeFetch((request: RecordedRequest) => {
      if (request.url.href === TOKEN_URL) {
        issued++;
        return { body: { access_token: `token-${issued}`, expires_in: '599', token_type: 'Bearer' } };
      }
      const token = request.headers.get('authorization')?.replace('Bearer ', '') ?? '';
      if (rejected.has(token)) return { status: 401, body: { resourceType: 'OperationOutcome', issue: [] } };
      return { body: PATIENT };
    });
    const auth = applicationRestrictedAuth({
      tokenUrl: TOKEN_URL,
      apiKey: 'key',
      privateKey,
      kid: 'k1',
      fetch,
      now: () => T0,
    });
    const pds = new PdsClient({
      baseUrl: 'https://api.test/personal-demographics/FHIR/R4',
      auth,
      fetch,
      now: () => T0,
    });

    await Promise.all(Array.from({ length: 10 }, () => pds.getPatient('9000000009')));
    const tokenCalls = () => calls.filter((c) => c.url.href === TOKEN_URL).length;
    expect(tokenCalls()).toBe(1);
    expect(calls.filter((c) => c.headers.get('authorization') === 'Bearer token-1')).toHaveLength(10);

    rejected.add('token-1'); // e.g. revoked early
    await pds.getPatient('9000000009');
    expect(tokenCalls()).toBe(2);
    expect(calls.at(-1)?.headers.get('authorization')).toBe('Bearer token-2');
  });
});
