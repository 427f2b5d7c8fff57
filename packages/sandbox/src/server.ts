import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { mountCis2 } from './cis2/cis2.js';
import { MESH_BASE_PATH, type MeshPluginOptions, meshPlugin } from './mesh/index.js';
import { mountNhsLogin } from './nhs-login/nhs-login.js';
import { AccessTokenStore } from './oauth/access-token-store.js';
import { oauthPlugin } from './oauth/oauth-plugin.js';
import type { RegisteredApp } from './oauth/registered-app.js';
import type { IdentityProviderHandle, OidcClientRegistration } from './oidc/identity-provider.js';
import { type PdsPluginOptions, pdsPlugin } from './pds/index.js';
import { seedPatientRecords } from './pds/seed-patients.js';
import { syntheticPatients } from './pds/synthetic-patients.js';

/** Options of the whole sandbox (every simulated NHS API in one Fastify instance). */
export interface SandboxOptions {
  pds?: { mode?: 'stateful' | 'stateless'; syntheticPatients?: number; seed?: number };
  /** When set, PDS requires a bearer token issued by /oauth2/token to one of these apps. */
  auth?: {
    apps: RegisteredApp[];
    /** The `aud` the platform expects; default: derived from each request (`proto://host/oauth2/token`). */
    tokenUrl?: string;
  };
  /** Fastify logger option; request URLs are logged without query strings or NHS numbers. */
  logger?: boolean | object;
  /** Clock, for tests. */
  now?: () => Date;
  /** Relying parties registered with the sandbox NHS login (`/nhs-login`). */
  nhsLogin?: { clients: OidcClientRegistration[] };
  /** Relying parties registered with the sandbox CIS2 (`/openam/oauth2/realms/root/realms/oidc`). */
  cis2?: { clients: OidcClientRegistration[] };
  /**
   * The origin clients reach the sandbox at (`https://sandbox.example`), used in the identity
   * providers' issuers; default: each request's own `proto://host`.
   */
  publicUrl?: string;
  /**
   * MESH v2 at `/messageexchange`: seed (default NHS's MESH sandbox seed), shared key, data dir
   * (default a temp dir per server), message expiry, test-only admin routes (`/admin/...` and
   * `/messageexchange/admin/...`), NHS's sandbox's any-workflow sending. The PDS patients' GP
   * practices always get mailboxes registered for GPFED_CONSULT_REPORT.
   */
  mesh?: Omit<MeshPluginOptions, 'now' | 'gpPractices'>;
  /**
   * Serve HTTPS with this certificate and key (PEM), as the real MESH and API platform are HTTPS only.
   * With `clientCa`, mutual TLS as the real MESH requires it (mesh-api.yaml "Get a TLS certificate"):
   * a client must present a certificate issued by that CA, or the TLS handshake fails and no request
   * is read (for every API the sandbox serves on that port).
   */
  tls?: { cert: string | Buffer; key: string | Buffer; clientCa?: string | Buffer };
}

/** Base paths of the real services, which the sandbox keeps. */
export const PDS_BASE_PATH = '/personal-demographics/FHIR/R4';
export const OAUTH_BASE_PATH = '/oauth2';
export { MESH_BASE_PATH };

/**
 * Builds the sandbox server (not listening yet): PDS FHIR R4 at `/personal-demographics/FHIR/R4`,
 * the API platform's OAuth 2.0 at `/oauth2`, and a `GET /_status` health check.
 *
 * @example
 * const sandbox = await createSandboxServer({ auth: { apps: [registeredAppFromJwks(apiKey, jwks)] } });
 * await sandbox.listen({ port: 9000 });
 */
export async function createSandboxServer(options: SandboxOptions = {}): Promise<FastifyInstance> {
  const now = options.now ?? (() => new Date());
  const app = Fastify({
    logger: loggerOption(options.logger),
    ...(options.tls && { https: httpsOptions(options.tls) }),
  }) as unknown as FastifyInstance;
  const apps = options.auth?.apps ?? [];
  const tokens = new AccessTokenStore({ now });

  // The identity providers are always there (discovery works with no client registered).
  const publicUrl = options.publicUrl !== undefined ? { publicUrl: options.publicUrl } : {};
  const identityProviders: IdentityProviderHandle[] = [
    await mountNhsLogin(app, { clients: options.nhsLogin?.clients ?? [], ...publicUrl }),
    await mountCis2(app, { clients: options.cis2?.clients ?? [], ...publicUrl }),
  ];

  app.get('/_status', async () => ({ status: 'pass', auth: options.auth ? 'required' : 'off' }));

  // The token endpoint is always there (as on the platform); only with `auth` does PDS need its tokens.
  await app.register(oauthPlugin, {
    prefix: OAUTH_BASE_PATH,
    apps,
    tokens,
    now,
    identityProviders,
    ...publicUrl,
    ...(options.auth?.tokenUrl !== undefined && { tokenUrl: options.auth.tokenUrl }),
  });
  const pdsOptions: PdsPluginOptions = { ...options.pds, now };
  if (options.auth) pdsOptions.verifyAccessToken = (token) => tokens.verify(token);
  await app.register(pdsPlugin, { prefix: PDS_BASE_PATH, ...pdsOptions });
  await app.register(meshPlugin, {
    ...options.mesh,
    gpPractices: gpPracticeCodes(options.pds, now),
    now,
  });
  return app;
}

/** The ODS codes of the PDS sandbox patients' GP practices (seed and synthetic, same options as PDS). */
function gpPracticeCodes(pds: SandboxOptions['pds'], now: () => Date): Set<string> {
  const records = [
    ...seedPatientRecords(),
    ...syntheticPatients({
      count: pds?.syntheticPatients ?? 2000,
      ...(pds?.seed !== undefined ? { seed: pds.seed } : {}),
      today: now(),
    }),
  ];
  const codes = new Set<string>();
  for (const record of records) {
    for (const gp of record.patient.generalPractitioner ?? []) {
      if (gp.identifier?.value) codes.add(gp.identifier.value);
    }
  }
  return codes;
}

function httpsOptions(tls: NonNullable<SandboxOptions['tls']>) {
  const { cert, key, clientCa } = tls;
  if (clientCa === undefined) return { cert, key };
  return { cert, key, ca: clientCa, requestCert: true, rejectUnauthorized: true };
}

function loggerOption(logger: SandboxOptions['logger']): NonNullable<FastifyServerOptions['logger']> {
  if (!logger) return false;
  const base = typeof logger === 'object' ? (logger as Record<string, unknown>) : {};
  // Patient data never in logs: search parameters live in the query, NHS numbers in paths.
  return {
    ...base,
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: redactUrl(req.url) }),
      ...(base.serializers as object | undefined),
    },
  };
}

/** A request URL fit for logs: no query string, no 10-digit numbers (NHS numbers). */
export function redactUrl(url: string): string {
  return (url.split('?', 1)[0] ?? '').replace(/\d{10}/g, '**********');
}
