import type { Cis2IdTokenClaims, Cis2UserInfo, NhsLoginIdTokenClaims } from '@junction/client';
import { AuthError } from '@junction/client';
import type { Cis2Port, NhsLoginPort } from '../api/auth-routes.js';

/**
 * Test helper (not exported from the package): NHS login and CIS2 relying parties that answer
 * without a provider. They check what the hub sends (state, nonce and verifier round-trip) and
 * record it; `next` decides what the code exchange yields.
 */
export const FAKE_ID_TOKEN = 'eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJmYWtlIn0.ZmFrZS1pZC10b2tlbi1zaWduYXR1cmU';
export const FAKE_ACCESS_TOKEN = 'fake-idp-access-token-7f3a9c';

interface Recorded {
  authorizations: { params: Record<string, unknown> }[];
  exchanges: { callbackUrl: string; state: string; nonce: string; codeVerifier: string }[];
}

export interface FakeNhsLogin extends NhsLoginPort, Recorded {
  next: { claims: Partial<NhsLoginIdTokenClaims> } | { error: AuthError };
}
export interface FakeCis2 extends Cis2Port, Recorded {
  next: { claims: Partial<Cis2IdTokenClaims>; userinfo: Partial<Cis2UserInfo> } | { error: AuthError };
}

const issued = new Map<string, string>(); // state → nonce, as a provider would bind them

function authorizationUrl(
  base: string,
  request: { state: string; nonce: string; codeVerifier: string },
  extra: object,
) {
  issued.set(request.state, request.nonce);
  const url = new URL(base);
  url.searchParams.set('state', request.state);
  url.searchParams.set('nonce', request.nonce);
  url.searchParams.set('code_challenge_method', 'S256');
  for (const [k, v] of Object.entries(extra))
    url.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  return url;
}

function checkExchange(request: { callbackUrl: string | URL; state: string; nonce: string }) {
  const url = new URL(request.callbackUrl);
  if (url.searchParams.get('state') !== request.state) throw new AuthError('state_mismatch');
  if (issued.get(request.state) !== request.nonce) throw new AuthError('id_token_nonce_mismatch');
}

const NOW_S = () => Math.floor(Date.parse('2025-05-06T07:08:09.000Z') / 1000);

export function fakeNhsLogin(): FakeNhsLogin {
  const fake: FakeNhsLogin = {
    authorizations: [],
    exchanges: [],
    next: { claims: {} },
    async authorizationUrl(request) {
      fake.authorizations.push({ params: { scope: request.scope, vtr: request.vtr } });
      return authorizationUrl('https://nhs-login.example/authorize', request, { vtr: request.vtr ?? [] });
    },
    async exchangeCode(request) {
      fake.exchanges.push({ ...request, callbackUrl: String(request.callbackUrl) });
      if ('error' in fake.next) throw fake.next.error;
      checkExchange(request);
      return {
        idToken: FAKE_ID_TOKEN,
        accessToken: FAKE_ACCESS_TOKEN,
        claims: {
          iss: 'https://nhs-login.example',
          aud: 'hub',
          iat: NOW_S(),
          exp: NOW_S() + 3600,
          sub: 'x',
          ...fake.next.claims,
        },
      };
    },
  };
  return fake;
}

export function fakeCis2(): FakeCis2 {
  const fake: FakeCis2 = {
    authorizations: [],
    exchanges: [],
    next: { claims: {}, userinfo: {} },
    async authorizationUrl(request) {
      fake.authorizations.push({ params: { scope: request.scope, selectRole: request.selectRole } });
      return authorizationUrl('https://cis2.example/authorize', request, {
        scope: [request.scope].flat().join(' '),
      });
    },
    async exchangeCode(request) {
      fake.exchanges.push({ ...request, callbackUrl: String(request.callbackUrl) });
      if ('error' in fake.next) throw fake.next.error;
      checkExchange(request);
      return {
        idToken: FAKE_ID_TOKEN,
        accessToken: FAKE_ACCESS_TOKEN,
        claims: {
          iss: 'https://cis2.example',
          aud: 'hub',
          iat: NOW_S(),
          exp: NOW_S() + 3600,
          sub: 'x',
          ...fake.next.claims,
        },
      };
    },
    async userinfo(accessToken, expectedSubject) {
      if ('error' in fake.next) throw fake.next.error;
      if (accessToken !== FAKE_ACCESS_TOKEN) throw new AuthError('invalid_token');
      return { sub: expectedSubject ?? 'x', ...fake.next.userinfo };
    },
  };
  return fake;
}
