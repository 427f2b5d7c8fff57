import { createHash } from 'node:crypto';
import { type CryptoKey, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../auth/auth-error.js';
import { generatePkce, randomNonce, randomState } from '../oidc/pkce.js';
import { startTestOp, type TestOp } from '../testing/test-op.js';
import { NhsLoginClient } from './nhs-login-client.js';

// NHS login (https://nhsconnect.github.io/nhslogin/scopes-and-claims/,
// https://nhsconnect.github.io/nhslogin/vectors-of-trust/), against a real OpenID
// provider (oidc-provider) configured like NHS login: private_key_jwt, RS512, PKCE S256.
const CLIENT_ID = 'junction-test-rp';
const REDIRECT_URI = 'http://127.0.0.1/auth/nhs-login/callback';
const KID = 'rp-key-1';
const P9_USER = {
  vot: 'P9.Cp.Cd',
  vtm: 'https://auth.sandpit.signin.nhs.uk/trustmark/auth.sandpit.signin.nhs.uk',
  nhs_number: '9000000009',
  family_name: 'Smith',
  birthdate: '2010-10-22',
  identity_proofing_level: 'P9',
  email: 'jane.smith@example.com',
  email_verified: true,
};

let op: TestOp;
let privateKey: CryptoKey;
let publicJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('RS512', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS512', use: 'sig' };
  op = await startTestOp({
    mountPath: '/nhs-login',
    clients: [{ clientId: CLIENT_ID, redirectUri: REDIRECT_URI, jwks: { keys: [publicJwk] } }],
    accounts: { 'nhs-login-p9-user': P9_USER },
    claims: {
      openid: ['sub', 'vot', 'vtm'],
      profile: ['nhs_number', 'family_name', 'birthdate', 'identity_proofing_level'],
      email: ['email', 'email_verified'],
    },
    extraParams: ['vtr'],
  });
});

afterAll(async () => {
  await op?.close();
});

interface Sent {
  url: string;
  body: URLSearchParams | undefined;
}

function client(overrides: { privateKey?: CryptoKey; kid?: string; allowInsecureHttp?: boolean } = {}) {
  const sent: Sent[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const body = init?.body;
    sent.push({
      url: String(input),
      body:
        body instanceof URLSearchParams
          ? new URLSearchParams(body)
          : typeof body === 'string'
            ? new URLSearchParams(body)
            : undefined,
    });
    return fetch(input, init);
  };
  const nhsLogin = new NhsLoginClient({
    issuer: op.issuer,
    clientId: CLIENT_ID,
    privateKey: overrides.privateKey ?? privateKey,
    kid: overrides.kid ?? KID,
    redirectUri: REDIRECT_URI,
    fetch: recordingFetch,
    allowInsecureHttp: overrides.allowInsecureHttp ?? true,
  });
  return { nhsLogin, sent };
}

async function newRequest() {
  const { codeVerifier } = await generatePkce();
  return { state: randomState(), nonce: randomNonce(), codeVerifier };
}

describe('PKCE, state and nonce helpers', () => {
  it('makes a fresh verifier with its S256 challenge, and fresh state and nonce values', async () => {
    const a = await generatePkce();
    const b = await generatePkce();
    expect(a.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(a.codeChallenge).toBe(createHash('sha256').update(a.codeVerifier).digest('base64url'));
    expect(a.codeVerifier).not.toBe(b.codeVerifier);
    expect(randomState()).not.toBe(randomState());
    expect(randomNonce()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('NhsLoginClient.authorizationUrl', () => {
  it('points at the discovered /authorize with PKCE S256, state, nonce, scope and vtr as a JSON array', async () => {
    const { nhsLogin } = client();
    const request = await newRequest();
    const url = await nhsLogin.authorizationUrl({
      ...request,
      scope: ['profile', 'email'],
      vtr: ['P9.Cp.Cd', 'P9.Cm'],
      prompt: 'login',
      uiLocales: 'cy',
    });
    expect(`${url.origin}${url.pathname}`).toBe(`${op.issuer}/auth`);
    const q = url.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(CLIENT_ID);
    expect(q.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(q.get('scope')).toBe('openid profile email');
    expect(q.get('state')).toBe(request.state);
    expect(q.get('nonce')).toBe(request.nonce);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toBe(
      createHash('sha256').update(request.codeVerifier).digest('base64url'),
    );
    expect(JSON.parse(q.get('vtr') ?? '')).toEqual(['P9.Cp.Cd', 'P9.Cm']);
    expect(q.get('prompt')).toBe('login');
    expect(q.get('ui_locales')).toBe('cy');
  });

  it('leaves vtr out when not asked (NHS login then applies its default P9 vectors)', async () => {
    const { nhsLogin } = client();
    const url = await nhsLogin.authorizationUrl({ ...(await newRequest()), scope: 'openid profile' });
    expect(url.searchParams.has('vtr')).toBe(false);
  });

  it('rejects profile with basic_demographics (mutually exclusive) before any request', async () => {
    const { nhsLogin, sent } = client();
    const error = await nhsLogin
      .authorizationUrl({ ...(await newRequest()), scope: ['openid', 'profile', 'basic_demographics'] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'invalid_scope' });
    expect((error as AuthError).message).toMatch(/'profile' and 'basic_demographics' are mutually exclusive/);
    expect(sent).toHaveLength(0);
  });

  it.each([
    ['an empty vtr', { vtr: [] }],
    ['a vtr that is no vector of trust', { vtr: ['P7.Cp'] }],
    ['an empty nonce', { nonce: '' }],
    ['an empty state', { state: '' }],
  ])('rejects %s with invalid_request', async (_name, override) => {
    const { nhsLogin } = client();
    await expect(
      nhsLogin.authorizationUrl({ ...(await newRequest()), scope: 'openid', ...(override as object) }),
    ).rejects.toMatchObject({ name: 'AuthError', code: 'invalid_request' });
  });

  it('refuses a plain-http issuer unless allowInsecureHttp is set (sandbox only)', async () => {
    const { nhsLogin } = client({ allowInsecureHttp: false });
    await expect(
      nhsLogin.authorizationUrl({ ...(await newRequest()), scope: 'openid' }),
    ).rejects.toMatchObject({
      code: 'insecure_http_forbidden',
    });
  });
});

describe('NhsLoginClient sign-in against a real OpenID provider', () => {
  it('exchanges the code with a private_key_jwt the provider accepts, and returns validated P9 claims', async () => {
    const { nhsLogin, sent } = client();
    const request = await newRequest();
    const url = await nhsLogin.authorizationUrl({
      ...request,
      scope: ['openid', 'profile', 'email'],
      vtr: ['P9.Cp.Cd'],
    });
    const callbackUrl = await op.signIn(url, 'nhs-login-p9-user');
    expect(callbackUrl.searchParams.get('state')).toBe(request.state);
    expect(op.authorizationRequests.at(-1)?.get('vtr')).toBe('["P9.Cp.Cd"]');

    const tokens = await nhsLogin.exchangeCode({ callbackUrl, ...request });
    expect(tokens.claims).toMatchObject({
      iss: op.issuer,
      sub: 'nhs-login-p9-user',
      aud: CLIENT_ID,
      nonce: request.nonce,
      vot: 'P9.Cp.Cd',
      nhs_number: '9000000009',
      identity_proofing_level: 'P9',
    });
    expect(decodeProtectedHeader(tokens.idToken).alg).toBe('RS512');
    expect(tokens.accessToken).toEqual(expect.any(String));

    // What went to /token: the code, the PKCE verifier, and a client assertion as NHS login specifies.
    const tokenCall = sent.find((s) => s.body?.get('grant_type') === 'authorization_code');
    expect(tokenCall?.url).toBe(`${op.issuer}/token`);
    const form = tokenCall?.body as URLSearchParams;
    expect(form.get('code_verifier')).toBe(request.codeVerifier);
    expect(form.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const assertion = form.get('client_assertion') ?? '';
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'RS512', kid: KID, typ: 'JWT' });
    const { payload } = await jwtVerify(assertion, publicJwk, {
      algorithms: ['RS512'],
      issuer: CLIENT_ID,
      subject: CLIENT_ID,
      audience: `${op.issuer}/token`,
    });
    expect(payload.jti).toEqual(expect.any(String));
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);
  });

  it('reads userinfo with the access token, checking the subject when given', async () => {
    const { nhsLogin } = client();
    const request = await newRequest();
    const url = await nhsLogin.authorizationUrl({ ...request, scope: 'openid profile email' });
    const redirected = await op.signIn(url, 'nhs-login-p9-user');
    // As a server sees it: the path and query only.
    const callbackUrl = `${redirected.pathname}${redirected.search}`;
    const tokens = await nhsLogin.exchangeCode({ callbackUrl, ...request });

    const info = await nhsLogin.userinfo(tokens.accessToken, tokens.claims.sub);
    expect(info).toMatchObject({
      sub: 'nhs-login-p9-user',
      nhs_number: '9000000009',
      family_name: 'Smith',
      email: 'jane.smith@example.com',
      email_verified: true,
    });
    await expect(nhsLogin.userinfo(tokens.accessToken, 'someone-else')).rejects.toMatchObject({
      code: 'userinfo_subject_mismatch',
    });
    await expect(nhsLogin.userinfo('not-a-token')).rejects.toMatchObject({
      name: 'AuthError',
      code: 'invalid_token',
    });
  });

  it('refuses an id_token whose nonce is not the one sent (id_token_nonce_mismatch)', async () => {
    const { nhsLogin } = client();
    const request = await newRequest();
    const url = await nhsLogin.authorizationUrl({ ...request, scope: 'openid' });
    const callbackUrl = await op.signIn(url, 'nhs-login-p9-user');
    await expect(
      nhsLogin.exchangeCode({ callbackUrl, ...request, nonce: randomNonce() }),
    ).rejects.toMatchObject({
      name: 'AuthError',
      code: 'id_token_nonce_mismatch',
    });
  });

  it('refuses a callback whose state is not the one sent (state_mismatch) before redeeming the code', async () => {
    const { nhsLogin, sent } = client();
    const request = await newRequest();
    const url = await nhsLogin.authorizationUrl({ ...request, scope: 'openid' });
    const callbackUrl = await op.signIn(url, 'nhs-login-p9-user');
    await expect(
      nhsLogin.exchangeCode({ callbackUrl, ...request, state: randomState() }),
    ).rejects.toMatchObject({
      code: 'state_mismatch',
    });
    expect(sent.some((s) => s.body?.get('grant_type') === 'authorization_code')).toBe(false);
  });

  it("maps the provider's refusal of an unregistered signing key to invalid_client", async () => {
    const other = await generateKeyPair('RS512', { extractable: true });
    const { nhsLogin } = client({ privateKey: other.privateKey, kid: 'not-registered' });
    const request = await newRequest();
    const url = await nhsLogin.authorizationUrl({ ...request, scope: 'openid' });
    const error = await nhsLogin
      .exchangeCode({ callbackUrl: await op.signIn(url, 'nhs-login-p9-user'), ...request })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AuthError', code: 'invalid_client', status: 401 });
  });

  it('maps an error redirect (the user cancelled) to its OAuth code', async () => {
    const { nhsLogin } = client();
    const request = await newRequest();
    const callbackUrl = new URL(REDIRECT_URI);
    callbackUrl.search = new URLSearchParams({
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
      state: request.state,
      iss: op.issuer,
    }).toString();
    await expect(nhsLogin.exchangeCode({ callbackUrl, ...request })).rejects.toMatchObject({
      code: 'access_denied',
      description: 'End-User aborted interaction',
    });
  });

  it('rejects a PKCS#8 RSA key made for another hash with invalid_private_key', async () => {
    const rs256 = await generateKeyPair('RS256', { extractable: true });
    const { nhsLogin } = client({ privateKey: rs256.privateKey });
    await expect(
      nhsLogin.authorizationUrl({ ...(await newRequest()), scope: 'openid' }),
    ).rejects.toMatchObject({
      code: 'invalid_private_key',
    });
  });

  it('proves PKCE: the provider refuses the code with another verifier (invalid_grant)', async () => {
    const { nhsLogin } = client();
    const request = await newRequest();
    const url = await nhsLogin.authorizationUrl({ ...request, scope: 'openid' });
    const callbackUrl = await op.signIn(url, 'nhs-login-p9-user');
    const { codeVerifier: otherVerifier } = await generatePkce();
    await expect(
      nhsLogin.exchangeCode({ callbackUrl, ...request, codeVerifier: otherVerifier }),
    ).rejects.toMatchObject({
      code: 'invalid_grant',
    });
  });

  it('redeems a code once: a replayed callback is refused with invalid_grant', async () => {
    const { nhsLogin } = client();
    const request = await newRequest();
    const url = await nhsLogin.authorizationUrl({ ...request, scope: 'openid' });
    const callbackUrl = await op.signIn(url, 'nhs-login-p9-user');
    await nhsLogin.exchangeCode({ callbackUrl, ...request });
    await expect(nhsLogin.exchangeCode({ callbackUrl, ...request })).rejects.toMatchObject({
      code: 'invalid_grant',
    });
  });
});
