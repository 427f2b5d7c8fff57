import { decodeJwt, importJWK, SignJWT } from 'jose';
import Provider, { interactionPolicy, type KoaContextLike } from 'oidc-provider';
import { messagePage, type PageFrame, SIGN_IN_CSP } from './html.js';
import type { OidcClientRegistration } from './identity-provider.js';
import type { OidcAdapter } from './memory-adapter.js';
import type { SigningKey } from './signing-key.js';

/** What one sandbox identity provider (NHS login, CIS2) sets on top of the common rules. */
export interface OidcProviderSettings {
  issuer: string;
  /** The sign-in pages' service and stylesheet, for the error page the provider renders itself. */
  frame: PageFrame;
  signingKey: SigningKey;
  adapter: new (model: string) => OidcAdapter;
  cookieKeys: string[];
  clients: readonly OidcClientRegistration[];
  /** Endpoint paths below the issuer (the real service's names). */
  routes: { authorization: string; token: string; userinfo: string; jwks: string };
  /** Scope → claims it releases (oidc-provider `claims`). */
  claims: Record<string, string[]>;
  /** Every scope accepted, including those that release no claim. */
  scopes: string[];
  /** Lifetimes in seconds. */
  ttlS: { authorizationCode: number; idToken: number; accessToken: number; refreshToken: number };
  findAccount(ctx: KoaContextLike, sub: string, token?: { grantId?: string }): unknown;
  extraParams?: Record<string, (ctx: KoaContextLike, value: unknown) => void | Promise<void>>;
  /** Extra members of the discovery document. */
  discovery?: Record<string, unknown>;
  acrValues?: string[];
}

const INTERACTION_TTL_S = 3600;
const SESSION_TTL_S = 3600;
const GRANT_TTL_S = 30 * 24 * 3600;

/**
 * An oidc-provider instance with the rules both NHS identity providers share: authorisation code
 * with PKCE S256 only, `private_key_jwt` client authentication and RS512 everywhere, the sandbox's
 * sign-in page as the only interaction (asked on every authorisation, so each sign-in picks a test
 * user afresh), id tokens carrying the scope's claims (as NHS login's and CIS2's do).
 */
export function createOidcProvider(settings: OidcProviderSettings): Provider {
  const issuerPath = new URL(settings.issuer).pathname.replace(/\/$/, '');
  const policy = interactionPolicy.base();
  policy
    .get('login')
    ?.checks.push(
      new interactionPolicy.Check('sandbox_sign_in', 'every authorisation signs a test user in', (ctx) =>
        ctx.oidc.result?.login
          ? interactionPolicy.Check.NO_NEED_TO_PROMPT
          : interactionPolicy.Check.REQUEST_PROMPT,
      ),
    );

  const provider = new Provider(settings.issuer, {
    adapter: settings.adapter,
    clients: settings.clients.map(clientMetadata),
    jwks: { keys: [settings.signingKey.privateJwk] },
    cookies: {
      keys: settings.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: settings.findAccount,
    claims: settings.claims,
    scopes: settings.scopes,
    ...(settings.extraParams && { extraParams: settings.extraParams }),
    ...(settings.discovery && { discovery: settings.discovery }),
    ...(settings.acrValues && { acrValues: settings.acrValues }),
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    // S256 is the only PKCE method oidc-provider 9 supports (NHS login and CIS2 require it too).
    pkce: { required: () => true },
    clientAuthMethods: ['private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS512'],
      idTokenSigningAlgValues: ['RS512'],
      userinfoSigningAlgValues: ['RS512'],
      requestObjectSigningAlgValues: ['RS512'],
      authorizationSigningAlgValues: ['RS512'],
      introspectionSigningAlgValues: ['RS512'],
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      revocation: { enabled: true },
      // NHS login and CIS2 issue bearer tokens and advertise no DPoP; oidc-provider 9 enables it by default.
      dPoP: { enabled: false },
    },
    routes: settings.routes,
    interactions: {
      policy,
      url: (_ctx: unknown, interaction: { uid: string }) => `${issuerPath}/interaction/${interaction.uid}`,
    },
    ttl: {
      AuthorizationCode: settings.ttlS.authorizationCode,
      IdToken: settings.ttlS.idToken,
      AccessToken: settings.ttlS.accessToken,
      RefreshToken: settings.ttlS.refreshToken,
      Interaction: INTERACTION_TTL_S,
      Session: SESSION_TTL_S,
      Grant: GRANT_TTL_S,
    },
    // The error page in the sign-in pages' design (no request data beyond the error code and description).
    renderError: (
      ctx: { type: string; body: string; set(name: string, value: string): void },
      out: { error?: string; error_description?: string },
    ) => {
      ctx.type = 'html';
      ctx.set('content-security-policy', SIGN_IN_CSP);
      ctx.body = messagePage(settings.frame, 'Sign-in error', [
        `Error: ${out.error ?? 'server_error'}`,
        ...(out.error_description ? [out.error_description] : []),
      ]);
    },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
  });
  // The sandbox decides the origin (publicUrl or the request's own) and passes it in these headers.
  provider.proxy = true;
  // NHS login's and CIS2's id tokens carry `typ: JWT` in their header, which the API platform's token
  // exchange requires of a subject token (NHSDigital/identity-service-api,
  // validate-subject-token-claims.js); oidc-provider 9 leaves `typ` out, so the token endpoint's id
  // token is signed again with it: same claims, same key.
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: unknown } | undefined;
    if (ctx.oidc?.route === 'token' && typeof body?.id_token === 'string') {
      body.id_token = await withJwtTyp(body.id_token, settings.signingKey);
    }
  });
  return provider;
}

async function withJwtTyp(jwt: string, signingKey: SigningKey): Promise<string> {
  const { alg, kid } = signingKey.privateJwk;
  return new SignJWT(decodeJwt(jwt))
    .setProtectedHeader({ alg: String(alg), kid: String(kid), typ: 'JWT' })
    .sign(await importJWK(signingKey.privateJwk, String(alg)));
}

function clientMetadata(client: OidcClientRegistration): Record<string, unknown> {
  return {
    client_id: client.clientId,
    redirect_uris: client.redirectUris,
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS512',
    id_token_signed_response_alg: 'RS512',
    require_auth_time: true,
    jwks: client.jwks,
  };
}
