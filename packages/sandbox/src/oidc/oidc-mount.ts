import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionDetails, KoaContextLike } from 'oidc-provider';
import type { PageFrame } from './html.js';
import { loadNhsukAssets, registerNhsukAssets } from './nhsuk-assets.js';

/** How a sandbox identity provider is put inside the Fastify server. */
export interface OidcMountOptions {
  /** Where it lives, e.g. `/nhs-login`; its issuer is `<origin><prefix>`. */
  prefix: string;
  /** The origin clients see (`https://sandbox.example`); default: each request's `proto://host`. */
  publicUrl?: string;
  /** The service name in its pages' header, e.g. `NHS login (sandbox)`. */
  service: string;
  /** Builds the provider for one issuer (called once per origin); `frame` is for the pages it renders itself. */
  makeProvider(issuer: string, frame: PageFrame): Provider;
  /** Adds the sign-in pages (`GET|POST <prefix>/interaction/:uid`); form bodies arrive as URLSearchParams. */
  interactions(scope: FastifyInstance, mount: OidcMount): void;
}

const MAX_PROVIDERS = 32;

export interface OidcMount {
  /** The provider for this request's origin. */
  providerFor(request: FastifyRequest): Provider;
  issuerFor(origin: string): string;
  /** The service and stylesheet of the pages for this request's origin. */
  frameFor(request: FastifyRequest): PageFrame;
}

/**
 * The issuer of a provider mounted at `prefix` for clients on `origin`, written as URLs write it
 * (default port and trailing slash dropped: `http://localhost:80` → `http://localhost/nhs-login`),
 * since oidc-provider builds its endpoint URLs that way and clients compare issuers as strings.
 */
export function issuerAt(origin: string, prefix: string): string {
  const url = new URL(origin);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}${prefix}`;
}

/**
 * Mounts oidc-provider (a Koa application) under `prefix`: Fastify hands the untouched Node request
 * and response to the provider, with the prefix moved from `req.url` to `req.originalUrl` (as
 * Express's `app.use(prefix, provider.callback())` does, which oidc-provider reads to build its
 * URLs) and the origin in `Host`/`X-Forwarded-Proto`. One provider per origin, made on first use.
 */
export async function mountOidc(app: FastifyInstance, options: OidcMountOptions): Promise<OidcMount> {
  const assets = await loadNhsukAssets();
  const frameOf = (issuer: string): PageFrame => ({
    service: options.service,
    basePath: new URL(issuer).pathname.replace(/\/$/, ''),
    stylesheet: assets.stylesheet,
  });
  const providers = new Map<string, Provider>();
  const publicUrl = options.publicUrl === undefined ? undefined : new URL(options.publicUrl);
  const originOf = (request: FastifyRequest) =>
    options.publicUrl !== undefined ? options.publicUrl : `${request.protocol}://${request.host}`;
  const issuerFor = (origin: string) => issuerAt(origin, options.prefix);
  const providerFor = (request: FastifyRequest) => {
    const issuer = issuerFor(originOf(request));
    let provider = providers.get(issuer);
    if (!provider) {
      // Origins come from Host headers: keep a bounded number of providers.
      if (providers.size >= MAX_PROVIDERS) providers.delete(providers.keys().next().value ?? '');
      provider = options.makeProvider(issuer, frameOf(issuer));
      providers.set(issuer, provider);
    }
    return provider;
  };
  const mount: OidcMount = {
    providerFor,
    issuerFor,
    frameFor: (request) => frameOf(providerFor(request).issuer),
  };

  const forward = (request: FastifyRequest, reply: FastifyReply) => {
    const provider = providerFor(request);
    const raw = request.raw as typeof request.raw & { originalUrl?: string };
    const url = raw.url ?? '/';
    const rest = url.slice(options.prefix.length);
    const below = rest.startsWith('/') ? rest : `/${rest}`;
    raw.originalUrl = `${new URL(provider.issuer).pathname.replace(/\/$/, '')}${below}`;
    raw.url = below;
    raw.headers.host = publicUrl ? publicUrl.host : request.host;
    raw.headers['x-forwarded-proto'] = publicUrl ? publicUrl.protocol.replace(/:$/, '') : request.protocol;
    delete raw.headers['x-forwarded-host'];
    reply.hijack();
    provider.callback()(raw, reply.raw);
  };

  await app.register(
    async (scope) => {
      // Leave bodies unread: oidc-provider parses them itself from the raw stream.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
      scope.all('/', forward);
      scope.all('/*', forward);
    },
    { prefix: options.prefix },
  );
  await app.register(
    async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: 16 * 1024 },
        (_request, body, done) => done(null, new URLSearchParams(body as string)),
      );
      registerNhsukAssets(scope, assets);
      options.interactions(scope, mount);
    },
    { prefix: options.prefix },
  );
  return mount;
}

/** Where a sign-in page's form posts: the interaction's own page, below the provider's base path. */
export function interactionPath(frame: PageFrame, details: InteractionDetails): string {
  return `${frame.basePath}/interaction/${encodeURIComponent(details.uid)}`;
}

/** The pending interaction of this browser, or undefined when its cookie is missing or stale. */
export async function interactionOf(
  provider: Provider,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<InteractionDetails | undefined> {
  try {
    const details = await provider.interactionDetails(request.raw, reply.raw);
    return details.uid === (request.params as { uid?: string }).uid ? details : undefined;
  } catch {
    return undefined;
  }
}

/** Completes an interaction and sends the browser back to the provider's resume endpoint. */
export async function finishInteraction(
  provider: Provider,
  request: FastifyRequest,
  reply: FastifyReply,
  result: Record<string, unknown>,
): Promise<FastifyReply> {
  const to = await provider.interactionResult(request.raw, reply.raw, result, {
    mergeWithLastSubmission: false,
  });
  return reply.redirect(to, 303);
}

/** Signs `accountId` in and grants every scope the client asked for (the sandbox has no consent screen). */
export async function signInResult(
  provider: Provider,
  details: InteractionDetails,
  accountId: string,
  login: Record<string, unknown> = {},
): Promise<{ result: Record<string, unknown>; grantId: string }> {
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id ?? '' });
  grant.addOIDCScope(details.params.scope ?? 'openid');
  const grantId = await grant.save();
  return { grantId, result: { login: { ...login, accountId, remember: false }, consent: { grantId } } };
}

/**
 * Where findAccount finds the grant the sign-in created: the token's, the one loaded for the
 * request, or (while the authorisation resumes after sign-in, before that grant is loaded) the
 * sign-in result's.
 */
export function grantIdOf(
  ctx: Pick<KoaContextLike, 'oidc'>,
  token?: { grantId?: string },
): string | undefined {
  return token?.grantId ?? ctx.oidc.entities.Grant?.jti ?? ctx.oidc.result?.consent?.grantId;
}
