import { inspect } from 'node:util';
import {
  type CryptoKey,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { NhsLoginClient } from '../nhs-login/nhs-login-client.js';
import { fakeFetch } from '../testing/fake-fetch.js';

// id_token validation (RS512-signed per NHS login's Interface Specification – Federation; OIDC Core
// §3.1.3.7): each way a token can be wrong, made precisely by a scripted provider (discovery, JWKS and
// token endpoint through the injected fetch) that signs what the test says, on a fixed clock.
const ISSUER = 'https://auth.test/nhs-login';
const CLIENT_ID = 'junction-test-rp';
const REDIRECT_URI = 'https://app.test/callback';
const T0 = new Date('2026-01-01T12:00:00Z');
const T0_S = T0.getTime() / 1000;
const STATE = 'state-1';
const NONCE = 'nonce-1';
const VERIFIER = 'v'.repeat(43);

let opKey: CryptoKey;
let opJwk: JWK;
let rpKey: CryptoKey;
let otherKey: CryptoKey;
let rs256Key: CryptoKey;

beforeAll(async () => {
  const op = await generateKeyPair('RS512', { extractable: true });
  opKey = op.privateKey;
  opJwk = { ...(await exportJWK(op.publicKey)), kid: 'op-1', alg: 'RS512', use: 'sig' };
  rpKey = (await generateKeyPair('RS512')).privateKey;
  otherKey = (await generateKeyPair('RS512')).privateKey;
  rs256Key = (await generateKeyPair('RS256')).privateKey;
});

interface IdTokenSpec {
  claims?: JWTPayload;
  omit?: string[];
  key?: CryptoKey;
  alg?: string;
  kid?: string;
}

async function idToken(spec: IdTokenSpec = {}): Promise<string> {
  const claims: JWTPayload = {
    iss: ISSUER,
    sub: 'user-1',
    aud: CLIENT_ID,
    iat: T0_S,
    exp: T0_S + 3600,
    nonce: NONCE,
    vot: 'P9.Cp.Cd',
    nhs_number: '9000000009',
    identity_proofing_level: 'P9',
    ...spec.claims,
  };
  for (const name of spec.omit ?? []) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: spec.alg ?? 'RS512', kid: spec.kid ?? 'op-1', typ: 'JWT' })
    .sign(spec.key ?? opKey);
}

function scriptedProvider(tokenBody: () => Promise<Record<string, unknown>>) {
  let pending: Record<string, unknown> | undefined;
  const { fetch, calls } = fakeFetch((request) => {
    const path = request.url.pathname;
    if (path === '/nhs-login/.well-known/openid-configuration') {
      return {
        headers: { 'content-type': 'application/json' },
        body: {
          issuer: ISSUER,
          authorization_endpoint: `${ISSUER}/authorize`,
          token_endpoint: `${ISSUER}/token`,
          userinfo_endpoint: `${ISSUER}/userinfo`,
          jwks_uri: `${ISSUER}/.well-known/jwks.json`,
          id_token_signing_alg_values_supported: ['RS512'],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
        },
      };
    }
    if (path === '/nhs-login/.well-known/jwks.json') {
      return { headers: { 'content-type': 'application/json' }, body: { keys: [opJwk] } };
    }
    if (path === '/nhs-login/token')
      return { headers: { 'content-type': 'application/json' }, body: pending };
    return { status: 404 };
  });
  return {
    calls,
    client: (now: () => Date = () => T0) =>
      new NhsLoginClient({
        issuer: ISSUER,
        clientId: CLIENT_ID,
        privateKey: rpKey,
        kid: 'rp-1',
        redirectUri: REDIRECT_URI,
        fetch,
        now,
      }),
    // The token endpoint's body is made before each exchange (signing is async).
    exchange: async (client: NhsLoginClient) => {
      pending = await tokenBody();
      return client.exchangeCode({
        callbackUrl: `${REDIRECT_URI}?code=code-1&state=${STATE}`,
        state: STATE,
        nonce: NONCE,
        codeVerifier: VERIFIER,
      });
    },
  };
}

function tokensWith(spec: IdTokenSpec) {
  return async () => ({
    access_token: 'at-1',
    token_type: 'Bearer',
    expires_in: 300,
    id_token: await idToken(spec),
  });
}

describe('id_token validation', () => {
  it('accepts a well-formed RS512 id_token and returns its claims (the control case)', async () => {
    const provider = scriptedProvider(tokensWith({}));
    const tokens = await provider.exchange(provider.client());
    expect(tokens.claims).toMatchObject({ sub: 'user-1', nhs_number: '9000000009', vot: 'P9.Cp.Cd' });
    expect(tokens.accessToken).toBe('at-1');
    expect(tokens.expiresInS).toBe(300);
  });

  // Specs are functions: the keys they use are made in beforeAll.
  it.each<[string, () => IdTokenSpec, string]>([
    ['another nonce', () => ({ claims: { nonce: 'replayed-nonce' } }), 'id_token_nonce_mismatch'],
    ['no nonce', () => ({ omit: ['nonce'] }), 'id_token_nonce_mismatch'],
    ['another audience', () => ({ claims: { aud: 'some-other-client' } }), 'id_token_audience_mismatch'],
    ['no audience', () => ({ omit: ['aud'] }), 'id_token_audience_mismatch'],
    [
      'another issuer',
      () => ({ claims: { iss: 'https://evil.test/nhs-login' } }),
      'id_token_issuer_mismatch',
    ],
    [
      'a signature by another key under the provider kid',
      () => ({ key: otherKey }),
      'id_token_signature_invalid',
    ],
    ['a kid the provider does not publish', () => ({ kid: 'unknown-kid' }), 'id_token_signature_invalid'],
    ['RS256 instead of RS512', () => ({ alg: 'RS256', key: rs256Key }), 'id_token_signature_invalid'],
    ['an exp in the past', () => ({ claims: { iat: T0_S - 7200, exp: T0_S - 3600 } }), 'id_token_expired'],
  ])('refuses an id_token with %s as AuthError %s', async (_name, spec, code) => {
    const provider = scriptedProvider(tokensWith(spec()));
    const error = await provider.exchange(provider.client()).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AuthError', code });
    // Safe to log: neither the token nor the patient's claims anywhere in the error or its causes.
    const logged = inspect(error, { depth: 10 });
    expect(logged).not.toMatch(/eyJ|9000000009|P9\.Cp\.Cd/);
  });

  it('refuses a token endpoint answer without an id_token (id_token_missing)', async () => {
    const provider = scriptedProvider(async () => ({
      access_token: 'at-1',
      token_type: 'Bearer',
      expires_in: 300,
    }));
    await expect(provider.exchange(provider.client())).rejects.toMatchObject({ code: 'id_token_missing' });
  });

  it('validates exp against the injected clock, not the machine clock', async () => {
    let now = T0;
    const provider = scriptedProvider(tokensWith({}));
    const client = provider.client(() => now);
    await expect(provider.exchange(client)).resolves.toBeDefined();
    now = new Date(T0.getTime() + 2 * 3600_000); // the same token, two hours later
    await expect(provider.exchange(client)).rejects.toMatchObject({ code: 'id_token_expired' });
  });

  it('signs its private_key_jwt on the injected clock, with aud = the token endpoint', async () => {
    const provider = scriptedProvider(tokensWith({}));
    await provider.exchange(provider.client());
    const tokenCall = provider.calls.find((c) => c.url.pathname === '/nhs-login/token');
    const assertion = new URLSearchParams(tokenCall?.body ?? '').get('client_assertion') ?? '';
    const claims = decodeJwt(assertion);
    expect(Math.abs((claims.iat ?? 0) - T0_S)).toBeLessThanOrEqual(2); // T0 plus the test's own run time
    expect(claims.exp).toBe((claims.iat ?? 0) + 300);
    expect(claims).toMatchObject({ iss: CLIENT_ID, sub: CLIENT_ID, aud: `${ISSUER}/token` });
  });

  it('fetches discovery and the provider keys once for several exchanges', async () => {
    const provider = scriptedProvider(tokensWith({}));
    const client = provider.client();
    await provider.exchange(client);
    await provider.exchange(client);
    const paths = provider.calls.map((c) => c.url.pathname);
    expect(paths.filter((p) => p.endsWith('openid-configuration'))).toHaveLength(1);
    expect(paths.filter((p) => p.endsWith('jwks.json'))).toHaveLength(1);
    expect(paths.filter((p) => p.endsWith('/token'))).toHaveLength(2);
  });
});
