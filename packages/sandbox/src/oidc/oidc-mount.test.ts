// The oidc-provider mount: prefix moved to originalUrl, origin from publicUrl or the request,
// bodies left for oidc-provider, nothing secret in the sandbox's logs.
import { Writable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NHS_LOGIN_TEST_USERS } from '../nhs-login/test-users.js';
import { createSandboxServer } from '../server.js';
import {
  clientAssertion,
  formOf,
  InjectBrowser,
  pkce,
  rpKey,
  type TestRpKey,
} from '../testing/oidc-test-client.js';
import { issuerAt } from './oidc-mount.js';

let key: TestRpKey;
let close: (() => Promise<void>) | undefined;
beforeAll(async () => {
  key = await rpKey('mount-rp');
});
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('issuerAt', () => {
  it('writes the origin as URLs do and keeps a base path', () => {
    expect(issuerAt('http://localhost:80', '/nhs-login')).toBe('http://localhost/nhs-login');
    expect(issuerAt('http://127.0.0.1:9000/', '/nhs-login')).toBe('http://127.0.0.1:9000/nhs-login');
    expect(issuerAt('https://example.org/sandbox/', '/nhs-login')).toBe(
      'https://example.org/sandbox/nhs-login',
    );
  });
});

describe('mountOidc', () => {
  it('serves a publicUrl with a base path (behind a proxy that strips it) with URLs under that path', async () => {
    const app = await createSandboxServer({
      pds: { syntheticPatients: 0 },
      publicUrl: 'https://example.org/sandbox',
    });
    close = () => app.close();
    const doc = (
      await app.inject({
        method: 'GET',
        url: '/openam/oauth2/realms/root/realms/oidc/.well-known/openid-configuration',
      })
    ).json();
    expect(doc.issuer).toBe('https://example.org/sandbox/openam/oauth2/realms/root/realms/oidc');
    expect(doc.token_endpoint).toBe(
      'https://example.org/sandbox/openam/oauth2/realms/root/realms/oidc/access_token',
    );
  });

  it('answers unknown paths under the prefix with 404 and leaves other routes alone', async () => {
    const app = await createSandboxServer({ pds: { syntheticPatients: 0 } });
    close = () => app.close();
    expect((await app.inject({ method: 'GET', url: '/nhs-login/nothing-here' })).statusCode).toBe(404);
    expect(
      (await app.inject({ method: 'GET', url: '/nhs-loginx/.well-known/openid-configuration' })).statusCode,
    ).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/_status' })).statusCode).toBe(200);
  });

  it('works over a real socket with fetch, and logs no code, token, assertion or cookie', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const redirectUri = 'http://127.0.0.1/cb';
    const app = await createSandboxServer({
      pds: { syntheticPatients: 0 },
      logger: { level: 'trace', stream },
      nhsLogin: {
        clients: [{ clientId: 'log-rp', redirectUris: [redirectUri], jwks: { keys: [key.publicJwk] } }],
      },
    });
    close = () => app.close();
    const origin = await app.listen({ host: '127.0.0.1', port: 0 });
    const issuer = `${origin}/nhs-login`;
    const user = NHS_LOGIN_TEST_USERS[0];
    if (!user) throw new Error('no test user');

    // The browser part through inject (it keeps cookies); the token call over the socket with fetch.
    const { verifier, challenge } = pkce();
    const browser = new InjectBrowser(app);
    const host = new URL(origin).host;
    const get = async (url: string, form?: Record<string, string>) => {
      const r = await browser.request(form ? 'POST' : 'GET', url, form, { host });
      return r;
    };
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'log-rp',
      redirect_uri: redirectUri,
      scope: 'openid profile',
      nonce: 'secret-nonce',
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const start = await get(`/nhs-login/authorize?${query}`);
    const signInPage = await get(String(start.headers.location));
    const chosen = await get(formOf(signInPage.body, 'user').action, { user: user.sub });
    const resumed = await get(String(chosen.headers.location));
    const code = new URL(String(resumed.headers.location)).searchParams.get('code') ?? '';
    const assertion = await clientAssertion(key, 'log-rp', `${issuer}/token`);
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    });
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as Record<string, string>;
    const userinfo = await fetch(`${issuer}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(userinfo.status).toBe(200);

    const log = lines.join('');
    expect(log).toContain('/nhs-login/token'); // the logger did capture these requests
    const secrets = [
      code,
      verifier,
      assertion,
      tokens.access_token,
      tokens.id_token,
      tokens.refresh_token,
      'secret-nonce',
    ];
    for (const secret of secrets) {
      expect(secret).toBeTruthy();
      expect(log).not.toContain(secret);
    }
    expect(log).not.toMatch(/_session|_interaction|cookie/i);
    expect(log).not.toContain(user.nhsNumber ?? 'no nhs number');
  });
});
