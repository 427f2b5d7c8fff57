import { readFileSync } from 'node:fs';
import { MESH_MAX_REQUEST_BYTES } from '@junction/client';
import { z } from 'zod';
import { DEFAULT_DATA_DIR } from './data-dir.js';

/**
 * The hub's configuration: one typed, validated object. This module is the only place in the hub
 * that knows about environment variables (`JUNCTION_*`, documented in the package README).
 */

export const NHS_ENVIRONMENTS = ['sandbox', 'int', 'live'] as const;
export type NhsEnvironment = (typeof NHS_ENVIRONMENTS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HubConfig {
  /**
   * What this configuration was resolved from: the environment's values with the overrides (CLI
   * flags) on top, unparsed. Kept so that settings changed in the console (`src/settings`) can be
   * laid over it and validated by the same rules ({@link overlayConfig}).
   */
  readonly input: ConfigInput;
  port: number;
  host: string;
  nhsEnvironment: NhsEnvironment;
  /** Port of the local sandbox; only used to derive sandbox default URLs. */
  sandboxPort: number;
  pds: { baseUrl: string };
  /** NHS API platform, application-restricted (signed JWT) auth. Key material optional in sandbox. */
  apiPlatform: {
    tokenUrl: string;
    apiKey?: string;
    /** PEM text of the private key (RS512). One of privateKeyPem / privateKeyPath. */
    privateKeyPem?: string;
    privateKeyPath?: string;
    keyId?: string;
  };
  dataDir: string;
  /** `postgres://…` selects PostgreSQL; otherwise SQLite at `<dataDir>/junction.db`. */
  databaseUrl?: string;
  logLevel: LogLevel;
  /**
   * The hub's own public origin (no trailing slash): redirect URIs are `<publicUrl>/auth/<provider>/callback`,
   * and the session cookie is `Secure` unless this is plain http on a loopback host.
   */
  publicUrl: string;
  /** NHS login relying party (patients). Sign-in is on once clientId and key material are set. */
  nhsLogin: OidcProviderConfig;
  /** CIS2 Authentication relying party (health and care workers). */
  cis2: OidcProviderConfig;
  auth: {
    /** Where sign-in may send the browser or app afterwards (`?return_to=`), exact origin + path. */
    returnUrls: string[];
    /** Session lifetime; a session also ends when its id_token expires. */
    sessionTtlS: number;
    /**
     * Whether hub admin accounts (who see no patient data) may give products' keys scopes that
     * read or write patient data over HTTP. Off by default: an operator with the database grants
     * them (`junction keys create`), so no single console account both runs the hub and reaches patients.
     */
    adminMayGrantPatientDataScopes: boolean;
  };
  /** MESH mailboxes the hub sends from and polls (`src/mesh`); none by default. */
  mesh: {
    mailboxes: MeshMailboxConfig[];
    /** Between two tracking looks at a sent message until it is acknowledged or fails (default 60 s). */
    trackIntervalMs: number;
  };
  /**
   * 32 bytes (base64) that encrypt the secrets of settings stored by the console (MESH mailbox
   * passwords and shared keys) in the database. Without it those settings cannot be changed there.
   */
  secretsKey?: string;
  /**
   * PEM private key file (Ed25519 or P-256) that signs audit checkpoints (`src/audit/audit-checkpoint.ts`).
   * Keep it outside the store: someone who can rewrite the database must not be able to sign.
   */
  auditCheckpointKeyPath?: string;
  /** With the key: the hub writes a checkpoint into this folder every `intervalMs` (default hourly). */
  auditCheckpoints?: { dir: string; intervalMs: number };
  /** The durable job queue (`src/jobs`). */
  jobs: {
    /**
     * Succeeded jobs (and dead runs of periodic kinds such as `mesh.poll`) are deleted, with their
     * history, this many days after they finished; 0 keeps every job forever (default 7).
     */
    retentionDays: number;
  };
}

/**
 * One MESH mailbox of the hub (`JUNCTION_MESH_MAILBOXES`, a JSON array, or `JUNCTION_MESH_MAILBOXES_FILE`, a
 * JSON file holding one). As NHSDigital/mesh-api-specification mesh-api.yaml asks: the mailbox id and
 * password, the environment's shared key, the MESH host (INT `https://msg.intspineservices.nhs.uk`, LIVE
 * `https://mesh-sync.spineservices.nhs.uk`, or the sandbox) and, for the real service, the mutual TLS files.
 */
export interface MeshMailboxConfig {
  mailboxId: string;
  password: string;
  sharedKey: string;
  /** Without `/messageexchange`. */
  baseUrl: string;
  tls?: MeshTlsFiles;
  /** How often the inbox is polled. */
  pollIntervalMs: number;
  /** Only these workflows are collected from the inbox (one `workflow_filter` each); all when absent. */
  workflows?: string[];
  /** `max_results` per inbox page (10..5000, MESH default 500). */
  inboxPageSize?: number;
  /** Uncompressed bytes per chunk of a sent message (1..100 MB; the client's 75 MiB when absent). */
  chunkSize?: number;
}

/** PEM files for MESH's mutual TLS (mesh-api.yaml "Get a TLS certificate"). */
export interface MeshTlsFiles {
  certPath: string;
  keyPath: string;
  caPath?: string;
  passphrase?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
}

/** One OpenID provider the hub signs people in with (NHS login or CIS2 Authentication). */
export interface OidcProviderConfig {
  issuer: string;
  clientId?: string;
  /** PEM text of the RS512 key for `private_key_jwt`; or privateKeyPath. */
  privateKeyPem?: string;
  privateKeyPath?: string;
  keyId?: string;
}

/** Environment variable → the config field it sets (also used to name variables in errors). */
export const ENV_VARS = {
  JUNCTION_PORT: 'port',
  JUNCTION_HOST: 'host',
  JUNCTION_NHS_ENVIRONMENT: 'nhsEnvironment',
  JUNCTION_SANDBOX_PORT: 'sandboxPort',
  JUNCTION_PDS_BASE_URL: 'pds.baseUrl',
  JUNCTION_TOKEN_URL: 'apiPlatform.tokenUrl',
  JUNCTION_NHS_API_KEY: 'apiPlatform.apiKey',
  JUNCTION_NHS_PRIVATE_KEY: 'apiPlatform.privateKeyPem',
  JUNCTION_NHS_PRIVATE_KEY_PATH: 'apiPlatform.privateKeyPath',
  JUNCTION_NHS_KEY_ID: 'apiPlatform.keyId',
  JUNCTION_DATA_DIR: 'dataDir',
  JUNCTION_DATABASE_URL: 'databaseUrl',
  JUNCTION_LOG_LEVEL: 'logLevel',
  JUNCTION_PUBLIC_URL: 'publicUrl',
  JUNCTION_NHS_LOGIN_ISSUER: 'nhsLogin.issuer',
  JUNCTION_NHS_LOGIN_CLIENT_ID: 'nhsLogin.clientId',
  JUNCTION_NHS_LOGIN_PRIVATE_KEY: 'nhsLogin.privateKeyPem',
  JUNCTION_NHS_LOGIN_PRIVATE_KEY_PATH: 'nhsLogin.privateKeyPath',
  JUNCTION_NHS_LOGIN_KEY_ID: 'nhsLogin.keyId',
  JUNCTION_CIS2_ISSUER: 'cis2.issuer',
  JUNCTION_CIS2_CLIENT_ID: 'cis2.clientId',
  JUNCTION_CIS2_PRIVATE_KEY: 'cis2.privateKeyPem',
  JUNCTION_CIS2_PRIVATE_KEY_PATH: 'cis2.privateKeyPath',
  JUNCTION_CIS2_KEY_ID: 'cis2.keyId',
  JUNCTION_AUTH_RETURN_URLS: 'auth.returnUrls',
  JUNCTION_SESSION_TTL_S: 'auth.sessionTtlS',
  JUNCTION_ADMIN_MAY_GRANT_PATIENT_DATA_SCOPES: 'auth.adminMayGrantPatientDataScopes',
  JUNCTION_MESH_MAILBOXES: 'mesh.mailboxes',
  JUNCTION_MESH_TRACK_INTERVAL_MS: 'mesh.trackIntervalMs',
  JUNCTION_JOBS_RETENTION_DAYS: 'jobs.retentionDays',
  JUNCTION_SECRETS_KEY: 'secretsKey',
  JUNCTION_AUDIT_CHECKPOINT_KEY: 'auditCheckpointKeyPath',
  JUNCTION_AUDIT_CHECKPOINT_DIR: 'auditCheckpoints.dir',
  JUNCTION_AUDIT_CHECKPOINT_INTERVAL_MS: 'auditCheckpoints.intervalMs',
} as const;

/** The environment's values and the overrides (CLI flags, `junction start`), unparsed (see HubConfig.input). */
export interface ConfigInput {
  readonly environment: Readonly<Record<string, unknown>>;
  readonly overrides: Readonly<Record<string, unknown>>;
}

/** Where a field's value came from: a variable, an override given at start, or the default. */
export type ConfigSource = 'environment' | 'startup' | 'default';

/** One problem with one field (its dotted path in HubConfig). */
export interface ConfigIssue {
  field: string;
  message: string;
}

const DEFAULT_PORT = 8080;
const DEFAULT_SANDBOX_PORT = 9000; // as the PDS Postman "local sandbox" environment
const PDS_PATH = '/personal-demographics/FHIR/R4';

/** Published API platform hosts (the base URLs under personal-demographics.yaml `servers`). */
const PLATFORM_HOSTS: Record<Exclude<NhsEnvironment, 'sandbox'>, string> = {
  int: 'https://int.api.service.nhs.uk',
  live: 'https://api.service.nhs.uk',
};

/** Sandbox mount points of the two OpenID providers (NHS login's is our choice; CIS2's is its real path). */
const NHS_LOGIN_SANDBOX_PATH = '/nhs-login';
const CIS2_SANDBOX_PATH = '/openam/oauth2/realms/root/realms/oidc';
/**
 * NHS login hosts: its sandpit for integration, auth.login.nhs.uk for live
 * (https://nhsconnect.github.io/nhslogin/compare-environments).
 */
const NHS_LOGIN_ISSUERS: Record<Exclude<NhsEnvironment, 'sandbox'>, string> = {
  int: 'https://auth.sandpit.signin.nhs.uk',
  live: 'https://auth.login.nhs.uk',
};
/** CIS2 Authentication realms (PTL integration and live). */
const CIS2_ISSUERS: Record<Exclude<NhsEnvironment, 'sandbox'>, string> = {
  int: 'https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare',
  live: 'https://am.nhsidentity.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare',
};
/** A week of finished jobs: enough to look into last week's problems; ~120k mesh.poll rows at a 5 s poll. */
const DEFAULT_JOBS_RETENTION_DAYS = 7;
/** The NHS login id_token's lifetime (NHS login Interface Specification – Federation). */
const DEFAULT_SESSION_TTL_S = 3600;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: string[],
    /** The same problems by field, where they are about one (not about reading a file). */
    readonly issues: ConfigIssue[] = [],
  ) {
    super(`Invalid Junction hub configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const port = z.coerce.number().int().min(0).max(65535);
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });
const nonEmpty = z.string().trim().min(1);
const pem = z
  .string()
  .refine((v) => v.includes('-----BEGIN') && v.includes('PRIVATE KEY-----'), 'expected a PEM private key');
const oidcProvider = z.object({
  issuer: httpUrl.optional(),
  clientId: nonEmpty.optional(),
  privateKeyPem: pem.optional(),
  privateKeyPath: nonEmpty.optional(),
  keyId: nonEmpty.optional(),
});
const urlList = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : v,
  z.array(z.url()),
);

const meshMailbox = z.object({
  mailboxId: nonEmpty.regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - or _').transform((v) => v.toUpperCase()),
  password: z.string().min(1),
  sharedKey: z.string().min(1),
  baseUrl: httpUrl.transform((v) => v.replace(/\/+$/, '')),
  tls: z
    .object({
      certPath: nonEmpty,
      keyPath: nonEmpty,
      caPath: nonEmpty.optional(),
      passphrase: z.string().optional(),
      rejectUnauthorized: z.boolean().optional(),
      servername: nonEmpty.optional(),
    })
    .optional(),
  pollIntervalMs: z.coerce.number().int().min(100, 'at least 100 ms').default(60_000),
  workflows: z.array(nonEmpty).min(1).optional(),
  inboxPageSize: z.coerce.number().int().min(10).max(5000).optional(),
  chunkSize: z.coerce.number().int().min(1).max(MESH_MAX_REQUEST_BYTES).optional(),
});
const meshMailboxes = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}, z.array(meshMailbox));

const schema = z
  .object({
    port: port.default(DEFAULT_PORT),
    host: nonEmpty.default('127.0.0.1'),
    nhsEnvironment: z.enum(NHS_ENVIRONMENTS).default('sandbox'),
    sandboxPort: port.default(DEFAULT_SANDBOX_PORT),
    pds: z.object({ baseUrl: httpUrl.optional() }),
    apiPlatform: z.object({
      tokenUrl: httpUrl.optional(),
      apiKey: nonEmpty.optional(),
      privateKeyPem: pem.optional(),
      privateKeyPath: nonEmpty.optional(),
      keyId: nonEmpty.optional(),
    }),
    dataDir: nonEmpty.default(DEFAULT_DATA_DIR),
    databaseUrl: z
      .string()
      .trim()
      .refine(
        (v) => /^(postgres(ql)?|sqlite|file):/.test(v) || !v.includes('://'),
        'expected postgres://… or a SQLite file path',
      )
      .optional(),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    publicUrl: httpUrl.optional(),
    nhsLogin: oidcProvider,
    cis2: oidcProvider,
    auth: z.object({
      returnUrls: urlList.default([]),
      sessionTtlS: z.coerce.number().int().min(60).max(86_400).default(DEFAULT_SESSION_TTL_S),
      adminMayGrantPatientDataScopes: z
        .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
        .default(false),
    }),
    mesh: z.object({
      mailboxes: meshMailboxes.default([]),
      trackIntervalMs: z.coerce.number().int().min(100).default(60_000),
    }),
    jobs: z.object({
      retentionDays: z.coerce.number().int().min(0).max(36_500).default(DEFAULT_JOBS_RETENTION_DAYS),
    }),
    secretsKey: z
      .string()
      .trim()
      .refine(
        (v) => /^[A-Za-z0-9+/_-]+=*$/.test(v) && Buffer.from(v, 'base64').length === 32,
        'expected 32 random bytes in base64 (openssl rand -base64 32)',
      )
      .optional(),
    auditCheckpointKeyPath: z.string().trim().min(1).optional(),
    auditCheckpoints: z
      .object({
        dir: z.string().trim().min(1).optional(),
        intervalMs: z.coerce.number().int().min(1_000).default(3_600_000),
      })
      .default({ intervalMs: 3_600_000 }),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.mesh.mailboxes.forEach((m, i) => {
      if (seen.has(m.mailboxId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['mesh', 'mailboxes', i, 'mailboxId'],
          message: 'listed twice',
        });
      }
      seen.add(m.mailboxId);
    });
  })
  .superRefine((c, ctx) => {
    if (c.auditCheckpoints.dir !== undefined && c.auditCheckpointKeyPath === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['auditCheckpoints', 'dir'],
        message: 'set JUNCTION_AUDIT_CHECKPOINT_KEY too: the key that signs the checkpoints',
      });
    }
    for (const [name, p] of [
      ['nhsLogin', c.nhsLogin],
      ['cis2', c.cis2],
    ] as const) {
      if (p.privateKeyPem !== undefined && p.privateKeyPath !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [name, 'privateKeyPem'],
          message: 'set the key as PEM or path, not both',
        });
      }
      const parts: [unknown, string, string][] = [
        [p.clientId, 'clientId', 'the client_id'],
        [p.privateKeyPem ?? p.privateKeyPath, 'privateKeyPath', 'the private key (PEM or path)'],
        [p.keyId, 'keyId', 'the key id (kid)'],
      ];
      if (parts.some(([v]) => v !== undefined)) {
        for (const [value, field, what] of parts) {
          if (value === undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [name, field],
              message: `required once sign-in is configured: ${what}`,
            });
          }
        }
      }
    }
  })
  .superRefine((c, ctx) => {
    const a = c.apiPlatform;
    const keyMaterial = [a.apiKey, a.privateKeyPem ?? a.privateKeyPath, a.keyId];
    const given = keyMaterial.filter((v) => v !== undefined).length;
    if (a.privateKeyPem !== undefined && a.privateKeyPath !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['apiPlatform', 'privateKeyPem'],
        message: 'set either JUNCTION_NHS_PRIVATE_KEY or JUNCTION_NHS_PRIVATE_KEY_PATH, not both',
      });
    }
    // Outside the sandbox every PDS call needs a token, so key material is required up front.
    const required = c.nhsEnvironment !== 'sandbox' || given > 0;
    if (!required) return;
    const missing: [unknown, string[], string][] = [
      [a.apiKey, ['apiPlatform', 'apiKey'], 'the API platform application key'],
      [
        a.privateKeyPem ?? a.privateKeyPath,
        ['apiPlatform', 'privateKeyPath'],
        'the private key (PEM or path)',
      ],
      [a.keyId, ['apiPlatform', 'keyId'], 'the key id (kid) registered in the JWKS'],
    ];
    for (const [value, path, what] of missing) {
      if (value === undefined) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `required ${c.nhsEnvironment === 'sandbox' ? 'once any key material is set' : `for '${c.nhsEnvironment}'`}: ${what}`,
        });
      }
    }
  });

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * Builds the hub configuration from environment variables, with `overrides` (e.g. CLI flags) on top.
 * Throws {@link ConfigError} listing every bad variable.
 * @example
 * const config = loadConfig(process.env, { port: 0 });
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: DeepPartial<HubConfig> = {}): HubConfig {
  const fromEnv: Record<string, Record<string, unknown> | unknown> = {
    pds: {},
    apiPlatform: {},
    nhsLogin: {},
    cis2: {},
    auth: {},
    mesh: {},
    jobs: {},
  };
  for (const [name, field] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(fromEnv, field, value);
  }
  const mailboxesFile = env.JUNCTION_MESH_MAILBOXES_FILE;
  if (mailboxesFile !== undefined && mailboxesFile !== '') {
    if (env.JUNCTION_MESH_MAILBOXES) {
      throw new ConfigError(['JUNCTION_MESH_MAILBOXES_FILE: set it or JUNCTION_MESH_MAILBOXES, not both']);
    }
    try {
      setPath(fromEnv, 'mesh.mailboxes', readFileSync(mailboxesFile, 'utf8'));
    } catch (error) {
      throw new ConfigError([
        `JUNCTION_MESH_MAILBOXES_FILE: cannot read ${mailboxesFile}: ${(error as Error).message}`,
      ]);
    }
  }
  return resolveConfig({ environment: fromEnv, overrides: overrides as Record<string, unknown> });
}

/**
 * The configuration `base` was loaded from with `overlay` laid over it (arrays replaced whole),
 * checked by the same rules: what the console's stored settings do (`src/settings`).
 * Throws {@link ConfigError}.
 */
export function overlayConfig(base: HubConfig, overlay: DeepPartial<HubConfig>): HubConfig {
  return resolveConfig(base.input, overlay);
}

/** Where `field` (a dotted path) of a configuration came from; overrides win over the environment. */
export function sourceOf(input: ConfigInput, field: string): ConfigSource {
  if (getPath(input.overrides, field) !== undefined) return 'startup';
  return getPath(input.environment, field) !== undefined ? 'environment' : 'default';
}

function resolveConfig(input: ConfigInput, overlay: object = {}): HubConfig {
  const parsed = schema.safeParse(mergeDeep(mergeDeep(input.environment, input.overrides), overlay));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      field: issue.path.join('.'),
      message: issue.message,
    }));
    throw new ConfigError(
      issues.map(({ field, message }) => {
        const variable = Object.entries(ENV_VARS).find(
          ([, f]) => f === field || field.startsWith(`${f}.`),
        )?.[0];
        return `${variable ? `${variable} (${field})` : field}: ${message}`;
      }),
      issues,
    );
  }
  const c = parsed.data;
  const published = publishedBaseUrls(c.nhsEnvironment, c.sandboxPort);
  const config: HubConfig = {
    input,
    port: c.port,
    host: c.host,
    nhsEnvironment: c.nhsEnvironment,
    sandboxPort: c.sandboxPort,
    pds: { baseUrl: stripSlash(c.pds.baseUrl ?? published.pds.baseUrl) },
    apiPlatform: { tokenUrl: c.apiPlatform.tokenUrl ?? published.apiPlatform.tokenUrl },
    dataDir: c.dataDir,
    logLevel: c.logLevel,
    publicUrl: stripSlash(c.publicUrl ?? `http://${loopbackHost(c.host)}:${c.port}`),
    nhsLogin: providerConfig(c.nhsLogin, published.nhsLogin.issuer),
    cis2: providerConfig(c.cis2, published.cis2.issuer),
    auth: {
      returnUrls: c.auth.returnUrls,
      sessionTtlS: c.auth.sessionTtlS,
      adminMayGrantPatientDataScopes: c.auth.adminMayGrantPatientDataScopes,
    },
    mesh: { mailboxes: c.mesh.mailboxes.map(meshMailboxConfig), trackIntervalMs: c.mesh.trackIntervalMs },
    jobs: { retentionDays: c.jobs.retentionDays },
  };
  const a = c.apiPlatform;
  if (a.apiKey !== undefined) config.apiPlatform.apiKey = a.apiKey;
  if (a.privateKeyPem !== undefined) config.apiPlatform.privateKeyPem = a.privateKeyPem;
  if (a.privateKeyPath !== undefined) config.apiPlatform.privateKeyPath = a.privateKeyPath;
  if (a.keyId !== undefined) config.apiPlatform.keyId = a.keyId;
  if (c.databaseUrl !== undefined && c.databaseUrl !== '') config.databaseUrl = c.databaseUrl;
  if (c.secretsKey !== undefined) config.secretsKey = c.secretsKey;
  if (c.auditCheckpointKeyPath !== undefined) config.auditCheckpointKeyPath = c.auditCheckpointKeyPath;
  if (c.auditCheckpoints.dir !== undefined)
    config.auditCheckpoints = { dir: c.auditCheckpoints.dir, intervalMs: c.auditCheckpoints.intervalMs };
  return config;
}

/**
 * The base URLs of the NHS APIs in one environment: the published hosts for INT and live, the
 * local sandbox (on `sandboxPort`) for `sandbox`; the defaults when no variable sets them.
 */
export function publishedBaseUrls(
  environment: NhsEnvironment,
  sandboxPort: number,
): {
  pds: { baseUrl: string };
  apiPlatform: { tokenUrl: string };
  nhsLogin: { issuer: string };
  cis2: { issuer: string };
} {
  const platform =
    environment === 'sandbox' ? `http://127.0.0.1:${sandboxPort}` : PLATFORM_HOSTS[environment];
  return {
    pds: { baseUrl: `${platform}${PDS_PATH}` },
    apiPlatform: { tokenUrl: `${platform}/oauth2/token` },
    nhsLogin: {
      issuer:
        environment === 'sandbox' ? `${platform}${NHS_LOGIN_SANDBOX_PATH}` : NHS_LOGIN_ISSUERS[environment],
    },
    cis2: {
      issuer: environment === 'sandbox' ? `${platform}${CIS2_SANDBOX_PATH}` : CIS2_ISSUERS[environment],
    },
  };
}

function providerConfig(p: z.infer<typeof oidcProvider>, defaultIssuer: string): OidcProviderConfig {
  const out: OidcProviderConfig = { issuer: stripSlash(p.issuer ?? defaultIssuer) };
  if (p.clientId !== undefined) out.clientId = p.clientId;
  if (p.privateKeyPem !== undefined) out.privateKeyPem = p.privateKeyPem;
  if (p.privateKeyPath !== undefined) out.privateKeyPath = p.privateKeyPath;
  if (p.keyId !== undefined) out.keyId = p.keyId;
  return out;
}

function meshMailboxConfig(m: z.infer<typeof meshMailbox>): MeshMailboxConfig {
  const out: MeshMailboxConfig = {
    mailboxId: m.mailboxId,
    password: m.password,
    sharedKey: m.sharedKey,
    baseUrl: m.baseUrl,
    pollIntervalMs: m.pollIntervalMs,
  };
  if (m.workflows !== undefined) out.workflows = m.workflows;
  if (m.inboxPageSize !== undefined) out.inboxPageSize = m.inboxPageSize;
  if (m.chunkSize !== undefined) out.chunkSize = m.chunkSize;
  if (m.tls !== undefined) {
    const tls: MeshTlsFiles = { certPath: m.tls.certPath, keyPath: m.tls.keyPath };
    if (m.tls.caPath !== undefined) tls.caPath = m.tls.caPath;
    if (m.tls.passphrase !== undefined) tls.passphrase = m.tls.passphrase;
    if (m.tls.rejectUnauthorized !== undefined) tls.rejectUnauthorized = m.tls.rejectUnauthorized;
    if (m.tls.servername !== undefined) tls.servername = m.tls.servername;
    out.tls = tls;
  }
  return out;
}

/** A host the hub's own URL can name: a wildcard listen address is reached on loopback. */
function loopbackHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The value at `path` (dotted) in a nested object; undefined where the path stops. */
export function getPath(source: object, path: string): unknown {
  let node: unknown = source;
  for (const key of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Sets `path` (dotted) in a nested object, making the objects on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

function mergeDeep(base: Record<string, unknown>, top: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) {
    if (value === undefined) continue;
    const existing = out[key];
    out[key] =
      isPlainObject(value) && isPlainObject(existing) ? mergeDeep(existing, value) : (value as unknown);
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
