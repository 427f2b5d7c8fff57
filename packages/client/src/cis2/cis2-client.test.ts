import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePkce, randomNonce, randomState } from '../oidc/pkce.js';
import { startTestOp, type TestOp } from '../testing/test-op.js';
import { Cis2Client, selectedRole } from './cis2-client.js';
import type { Cis2NrbacRole } from './types.js';

// CIS2 Authentication's developer guidance ("Sign in journey",
// https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/authorization-code-flow,
// and "Scopes and claims"): CIS2 at its real path, token endpoint `/access_token`, keys `/connect/jwk_uri`;
// acr AAL3_ANY, amr N3_SMARTCARD; `selectedrole` → `selected_roleid`; roles in UserInfo.
const MOUNT = '/openam/oauth2/realms/root/realms/oidc';
const CLIENT_ID = '999999999999.apps.national';
const REDIRECT_URI = 'http://127.0.0.1/auth/cis2/callback';
const KID = 'cis2-rp-1';
const ROLES: Cis2NrbacRole[] = [
  {
    person_orgid: '555254239107',
    person_roleid: '555254240100',
    org_code: 'A81001',
    role_name: '"Clinical":"Clinical Provision":"Clinical Practitioner Access Role"',
    role_code: 'S8000:G8000:R8000',
  },
  {
    person_orgid: '555254239108',
    person_roleid: '555254240101',
    org_code: 'RR8',
    role_name: '"Admin & Clerical":"Admin & Clerical":"Admin/Clinical Support Access Role"',
    role_code: 'S8001:G8005:R8008',
  },
];

let op: TestOp;
let cis2: Cis2Client;
const tokenCalls: string[] = [];

beforeAll(async () => {
  const pair = await generateKeyPair('RS512', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS512', use: 'sig' };
  op = await startTestOp({
    mountPath: MOUNT,
    routes: {
      authorization: '/authorize',
      token: '/access_token',
      jwks: '/connect/jwk_uri',
      userinfo: '/userinfo',
    },
    clients: [{ clientId: CLIENT_ID, redirectUri: REDIRECT_URI, jwks: { keys: [publicJwk] } }],
    accounts: {
      '555254242106': {
        name: 'Test Clinician',
        nhsid_useruid: '555254242106',
        nhsid_nrbac_roles: ROLES,
        selected_roleid: '555254240101',
        id_assurance_level: 3,
        authentication_assurance_level: 3,
      },
    },
    claims: {
      openid: ['sub', 'acr', 'amr', 'id_assurance_level', 'authentication_assurance_level'],
      profile: ['name', 'nhsid_useruid'],
      nationalrbacaccess: ['nhsid_nrbac_roles'],
      selectedrole: ['selected_roleid'],
    },
    login: { acr: 'AAL3_ANY', amr: ['N3_SMARTCARD'] },
  });
  cis2 = new Cis2Client({
    issuer: op.issuer,
    clientId: CLIENT_ID,
    privateKey: pair.privateKey,
    kid: KID,
    redirectUri: REDIRECT_URI,
    allowInsecureHttp: true,
    fetch: async (input, init) => {
      if (init?.method === 'POST') tokenCalls.push(new URL(String(input)).pathname);
      return fetch(input, init);
    },
  });
});

afterAll(async () => {
  await op?.close();
});

async function newRequest() {
  const { codeVerifier } = await generatePkce();
  return { state: randomState(), nonce: randomNonce(), codeVerifier };
}

describe('Cis2Client', () => {
  it('asks for role selection with the selectedrole scope and prompt=login', async () => {
    const url = await cis2.authorizationUrl({
      ...(await newRequest()),
      scope: 'openid profile',
      selectRole: true,
    });
    expect(url.pathname).toBe(`${MOUNT}/authorize`);
    expect(url.searchParams.get('scope')).toBe('openid profile selectedrole');
    expect(url.searchParams.get('prompt')).toBe('login');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  });

  it('sends no prompt when no role selection is asked for', async () => {
    const url = await cis2.authorizationUrl({ ...(await newRequest()), scope: ['openid', 'profile'] });
    expect(url.searchParams.has('prompt')).toBe(false);
    expect(url.searchParams.get('scope')).toBe('openid profile');
  });

  it('signs in a smartcard user: code redeemed at /access_token, claims acr/amr/selected_roleid, roles in userinfo', async () => {
    const request = await newRequest();
    const url = await cis2.authorizationUrl({
      ...request,
      scope: ['openid', 'profile', 'nationalrbacaccess'],
      selectRole: true,
    });
    const callbackUrl = await op.signIn(url, '555254242106');
    const tokens = await cis2.exchangeCode({ callbackUrl, ...request });

    expect(tokenCalls).toContain(`${MOUNT}/access_token`);
    expect(tokens.claims).toMatchObject({
      iss: op.issuer,
      sub: '555254242106',
      aud: CLIENT_ID,
      acr: 'AAL3_ANY',
      amr: ['N3_SMARTCARD'],
      selected_roleid: '555254240101',
    });

    const info = await cis2.userinfo(tokens.accessToken, tokens.claims.sub);
    expect(info.nhsid_nrbac_roles).toEqual(ROLES);
    expect(selectedRole(info, tokens.claims.selected_roleid)).toMatchObject({
      role_code: 'S8001:G8005:R8008',
      org_code: 'RR8',
    });
    expect(selectedRole(info, undefined)).toBeUndefined();
    expect(selectedRole(info, 'no-such-role')).toBeUndefined();
  });
});
