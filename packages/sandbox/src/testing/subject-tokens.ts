import type { webcrypto } from 'node:crypto';
// Test helpers (not exported by the package): fake NHS login and CIS2 identity providers with
// RS512 keys generated per run, and id_tokens for token exchange built with jose, or by hand when
// a test needs a header jose refuses to write (no `alg`).
import { createPrivateKey } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { IdentityProviderHandle } from '../oidc/identity-provider.js';
import { signAssertion, type TestKey } from './oauth-test-keys.js';

export const NHS_LOGIN_PATH = '/nhs-login';
export const CIS2_PATH = '/openam/oauth2/realms/root/realms/oidc';
export const NHS_LOGIN_CLIENT_ID = 'junction-nhs-login-client';
export const CIS2_CLIENT_ID = '999999999999.apps.national';

export interface FakeProvider extends IdentityProviderHandle {
  key: TestKey;
  /** The jose key, for CompactSign. */
  signingKey: webcrypto.CryptoKey;
}

export async function fakeProvider(kind: IdentityProviderHandle['kind'], kid: string): Promise<FakeProvider> {
  const { publicKey, privateKey } = await generateKeyPair('RS512', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS512', use: 'sig' };
  const nodeKey = createPrivateKey({ key: (await exportJWK(privateKey)) as never, format: 'jwk' });
  const path = kind === 'nhs-login' ? NHS_LOGIN_PATH : CIS2_PATH;
  return {
    kind,
    issuerFor: (origin) => `${origin}${path}`,
    publicJwks: () => ({ keys: [publicJwk] }),
    key: { kid, publicJwk, privateKey: nodeKey },
    signingKey: privateKey,
  };
}

/** id_token claims of a CIS2 user (e2e/tests/conftest.py `cis2_subject_token_claims`). */
export function cis2Claims(issuer: string, nowS: number): Record<string, unknown> {
  return {
    sub: '555042709107',
    amr: ['N3_SMARTCARD'],
    iss: issuer,
    aud: CIS2_CLIENT_ID,
    acr: 'AAL3_ANY',
    id_assurance_level: 3,
    authentication_assurance_level: 3,
    azp: CIS2_CLIENT_ID,
    auth_time: nowS - 100,
    realm: '/NHSIdentity/Healthcare',
    selected_roleid: '555254240100',
    exp: nowS + 300,
    iat: nowS - 100,
  };
}

/** id_token claims of an NHS login P9 user (e2e/tests/conftest.py `nhs_login_id_token`). */
export function nhsLoginClaims(
  issuer: string,
  nowS: number,
  nhsNumber = '9000000009',
): Record<string, unknown> {
  return {
    sub: '49f470a1-cc52-49b7-beba-0f9cec937c46',
    aud: NHS_LOGIN_CLIENT_ID,
    id_status: 'verified',
    token_use: 'id',
    auth_time: nowS,
    iss: issuer,
    vot: 'P9.Cp.Cd',
    exp: nowS + 600,
    iat: nowS - 10,
    vtm: 'https://auth.sandpit.signin.nhs.uk/trustmark/auth.sandpit.signin.nhs.uk',
    jti: 'b68ddb28-e440-443d-8725-dfe0da330118',
    identity_proofing_level: 'P9',
    nhs_number: nhsNumber,
  };
}

export interface SubjectTokenOptions {
  provider: FakeProvider;
  claims: Record<string, unknown>;
  /** Header members to set (`undefined` removes one). */
  header?: Record<string, unknown>;
  /** Sign with this provider's key instead (a bad signature). */
  signWith?: FakeProvider;
}

/** A signed id_token: jose's CompactSign for RS256/RS512 headers, a hand-built JWS otherwise. */
export async function subjectToken(o: SubjectTokenOptions): Promise<string> {
  const header = withChanges({ alg: 'RS512', typ: 'JWT', kid: o.provider.key.kid }, o.header);
  const signer = o.signWith ?? o.provider;
  if (header.alg === 'RS512' || header.alg === 'RS256') {
    const bytes = new TextEncoder().encode(JSON.stringify(o.claims));
    return new CompactSign(bytes)
      .setProtectedHeader(header as { alg: string })
      .sign(header.alg === 'RS512' ? signer.signingKey : await rs256Key(signer));
  }
  return signAssertion(header, o.claims, signer.key.privateKey);
}

async function rs256Key(provider: FakeProvider): Promise<webcrypto.CryptoKey> {
  const jwk = await exportJWK(provider.signingKey);
  return (await importJWK({ ...jwk, alg: 'RS256' }, 'RS256')) as webcrypto.CryptoKey;
}

export function withChanges(base: Record<string, unknown>, changes: Record<string, unknown> = {}) {
  const out = { ...base, ...changes };
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete out[k];
  return out;
}
