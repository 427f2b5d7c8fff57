// Test support only (excluded from the build): a real OpenID provider (oidc-provider) on a loopback
// port, configured like NHS login or CIS2 (private_key_jwt, RS512, PKCE S256), with an interaction
// handler that signs in the account the test names, so no browser is needed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

// oidc-provider ships no types (the sandbox keeps its own ambient declaration); this file needs
// only a handful of members, typed here so the client's tests depend on nothing of the sandbox's.
interface InteractionDetails {
  params: Record<string, unknown>;
}
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  Grant: new (init: {
    accountId: string;
    clientId: string;
  }) => {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  };
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
const OIDC_PROVIDER_MODULE: string = 'oidc-provider';

export interface TestOpClient {
  clientId: string;
  redirectUri: string;
  /** Public keys the client signs its private_key_jwt assertions with. */
  jwks: { keys: JWK[] };
}

export interface TestOpOptions {
  /** Where the provider is mounted, e.g. '/nhs-login' (the issuer is origin + mountPath). */
  mountPath: string;
  clients: TestOpClient[];
  /** Claims by account id (`sub`). */
  accounts: Record<string, Record<string, unknown>>;
  /** Claims released per scope. */
  claims: Record<string, string[]>;
  routes?: Record<string, string>;
  /** What the sign-in asserts (CIS2: acr AAL3_ANY, amr N3_SMARTCARD). */
  login?: { acr?: string; amr?: string[] };
  extraParams?: string[];
}

export interface TestOp {
  issuer: string;
  /** The provider's public signing keys. */
  jwks: { keys: JWK[] };
  /** Authorization requests the provider received (their query parameters), in order. */
  authorizationRequests: URLSearchParams[];
  /**
   * Walks the authorization URL like a browser, signing in `accountId`; returns where the provider
   * redirected back to (the callback URL with `code`, `state`, `iss`, or an `error`).
   */
  signIn(authorizationUrl: URL, accountId: string): Promise<URL>;
  close(): Promise<void>;
}

export async function startTestOp(options: TestOpOptions): Promise<TestOp> {
  const { privateKey } = await generateKeyPair('RS512', { extractable: true });
  const signingJwk = { ...(await exportJWK(privateKey)), kid: 'test-op-1', alg: 'RS512', use: 'sig' };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = signingJwk;

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${origin}${options.mountPath}`;

  const { default: Provider } = (await import(OIDC_PROVIDER_MODULE)) as { default: ProviderConstructor };
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      redirect_uris: [c.redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS512',
      id_token_signed_response_alg: 'RS512',
      jwks: c.jwks,
    })),
    jwks: { keys: [signingJwk] },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS512'],
      clientAuthSigningAlgValues: ['RS512'],
      userinfoSigningAlgValues: ['RS512'],
    },
    pkce: { required: () => true }, // S256 only: the one method oidc-provider 9 supports
    claims: options.claims,
    conformIdTokenClaims: false,
    extraParams: options.extraParams ?? [],
    // Bearer tokens only, as NHS login and CIS2 issue (oidc-provider 9 enables DPoP by default).
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true }, dPoP: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['test-op-cookie-key'] },
    // NHS login's lifetimes (NHS login Interface Specification – Federation); also keeps oidc-provider
    // from warning about defaults.
    ttl: {
      AuthorizationCode: 600,
      IdToken: 3600,
      AccessToken: 300,
      RefreshToken: 2_592_000,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    ...(options.routes ? { routes: options.routes } : {}),
    findAccount: async (_ctx: unknown, sub: string) => {
      const claims = options.accounts[sub];
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...claims }) };
    },
  });
  const handle = provider.callback();
  const authorizationRequests: URLSearchParams[] = [];

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname.startsWith('/interaction/')) {
      void finishInteraction(req, res, url.searchParams.get('account') ?? '').catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    if (!url.pathname.startsWith(options.mountPath)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    if (url.pathname === `${options.mountPath}${options.routes?.authorization ?? '/auth'}`) {
      authorizationRequests.push(url.searchParams);
    }
    // Mounted under a path: oidc-provider works out its mount point from originalUrl vs url.
    Object.assign(req, {
      originalUrl: req.url,
      url: (req.url ?? '/').slice(options.mountPath.length) || '/',
    });
    handle(req, res);
  });

  async function finishInteraction(
    req: IncomingMessage,
    res: ServerResponse,
    accountId: string,
  ): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const clientId = String(details.params.client_id);
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId, ...options.login }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  return {
    issuer,
    jwks: { keys: [publicJwk] },
    authorizationRequests,
    async signIn(authorizationUrl, accountId) {
      const cookies = new Map<string, string>();
      let next = new URL(authorizationUrl);
      for (let hop = 0; hop < 6; hop++) {
        if (next.pathname.startsWith('/interaction/')) next.searchParams.set('account', accountId);
        const response = await fetch(next, {
          redirect: 'manual',
          headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
        });
        for (const line of response.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const at = pair?.indexOf('=') ?? -1;
          if (pair && at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
        }
        const location = response.headers.get('location');
        if (!location)
          throw new Error(
            `test OP: no redirect from ${next.pathname} (${response.status}): ${await response.text()}`,
          );
        next = new URL(location, next);
        if (next.origin !== origin) return next; // back at the client
        await response.arrayBuffer();
      }
      throw new Error('test OP: too many redirects');
    },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
