import { z } from 'zod';

/**
 * The hub's configuration: one typed, validated object. This module is the only place in the hub
 * that knows about environment variables (`JUNCTION_*`, documented in the package README).
 */

export const NHS_ENVIRONMENTS = ['sandbox', 'int', 'live'] as const;
export type NhsEnvironment = (typeof NHS_ENVIRONMENTS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HubConfig {
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
} as const;

const DEFAULT_PORT = 8080;
const DEFAULT_SANDBOX_PORT = 9000; // as the PDS Postman "local sandbox" environment
const PDS_PATH = '/personal-demographics/FHIR/R4';

/** Published API platform hosts (CONTRACTS.md §1 base URLs). */
const PLATFORM_HOSTS: Record<Exclude<NhsEnvironment, 'sandbox'>, string> = {
  int: 'https://int.api.service.nhs.uk',
  live: 'https://api.service.nhs.uk',
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid Junction hub configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const port = z.coerce.number().int().min(0).max(65535);
const httpUrl = z.url({ protocol: /^https?$/ });
const nonEmpty = z.string().trim().min(1);

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
      privateKeyPem: z
        .string()
        .refine(
          (v) => v.includes('-----BEGIN') && v.includes('PRIVATE KEY-----'),
          'expected a PEM private key',
        )
        .optional(),
      privateKeyPath: nonEmpty.optional(),
      keyId: nonEmpty.optional(),
    }),
    dataDir: nonEmpty.default('./data'),
    databaseUrl: z
      .string()
      .trim()
      .refine(
        (v) => /^(postgres(ql)?|sqlite|file):/.test(v) || !v.includes('://'),
        'expected postgres://… or a SQLite file path',
      )
      .optional(),
    logLevel: z.enum(LOG_LEVELS).default('info'),
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

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * Builds the hub configuration from environment variables, with `overrides` (e.g. CLI flags) on top.
 * Throws {@link ConfigError} listing every bad variable.
 * @example
 * const config = loadConfig(process.env, { port: 0 });
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: DeepPartial<HubConfig> = {}): HubConfig {
  const fromEnv: Record<string, Record<string, unknown> | unknown> = { pds: {}, apiPlatform: {} };
  for (const [name, field] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(fromEnv, field, value);
  }
  const raw = mergeDeep(fromEnv, overrides);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const field = issue.path.join('.');
        const variable = Object.entries(ENV_VARS).find(([, f]) => f === field)?.[0];
        return `${variable ? `${variable} (${field})` : field}: ${issue.message}`;
      }),
    );
  }
  const c = parsed.data;
  const platform =
    c.nhsEnvironment === 'sandbox' ? `http://127.0.0.1:${c.sandboxPort}` : PLATFORM_HOSTS[c.nhsEnvironment];
  const config: HubConfig = {
    port: c.port,
    host: c.host,
    nhsEnvironment: c.nhsEnvironment,
    sandboxPort: c.sandboxPort,
    pds: { baseUrl: stripSlash(c.pds.baseUrl ?? `${platform}${PDS_PATH}`) },
    apiPlatform: { tokenUrl: c.apiPlatform.tokenUrl ?? `${platform}/oauth2/token` },
    dataDir: c.dataDir,
    logLevel: c.logLevel,
  };
  const a = c.apiPlatform;
  if (a.apiKey !== undefined) config.apiPlatform.apiKey = a.apiKey;
  if (a.privateKeyPem !== undefined) config.apiPlatform.privateKeyPem = a.privateKeyPem;
  if (a.privateKeyPath !== undefined) config.apiPlatform.privateKeyPath = a.privateKeyPath;
  if (a.keyId !== undefined) config.apiPlatform.keyId = a.keyId;
  if (c.databaseUrl !== undefined && c.databaseUrl !== '') config.databaseUrl = c.databaseUrl;
  return config;
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
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
