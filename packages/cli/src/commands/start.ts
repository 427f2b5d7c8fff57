import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  API_KEY_SCOPES,
  createApiKey,
  createHub,
  ENV_VARS,
  type HubConfig,
  listApiKeys,
  loadConfig,
  revokeApiKey,
} from '@junction/hub';
import { createSandboxServer, type RegisteredApp, registeredAppFromJwks } from '@junction/sandbox';
import type { FastifyInstance } from 'fastify';
import { type StoreFlags, storeOverrides } from '../store-flags.js';

/** The name given to the API key `junction start` makes, so the next start can retire it. */
export const DEMO_KEY_NAME = 'demo (junction start)';
/** The API platform app the hub acts as against the local sandbox. */
const DEMO_APP_KEY = 'junction-local-hub';

/** An API platform app made for one run: its key pair, and its registration with the sandbox. */
export interface LocalApp {
  apiKey: string;
  kid: string;
  privateKeyPem: string;
  registered: RegisteredApp;
}

/** Makes a fresh RS512 key pair and registers its public half as a sandbox API platform app. */
export function createLocalApp(apiKey = DEMO_APP_KEY): LocalApp {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `junction-${randomUUID()}`;
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS512', use: 'sig' };
  return {
    apiKey,
    kid,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    registered: registeredAppFromJwks(apiKey, { keys: [publicJwk] }),
  };
}

export interface StartOptions extends StoreFlags {
  /** Hub port; 0 picks a free one. The sandbox listens on `sandboxPort` (default: hub port + 1). */
  port?: number;
  sandboxPort?: number;
  host?: string;
  stateless?: boolean;
  /**
   * Default true: PDS wants API platform tokens and the hub signs in as an application-restricted
   * app (so PDS refuses PATCH with 403 INVALID_METHOD, as the real one does). False runs the sandbox
   * open, like NHS's public sandbox: no tokens, and the hub gets no key material.
   */
  sandboxAuth?: boolean;
  logLevel?: HubConfig['logLevel'];
  /** The app the hub signs in as; a new one each run unless given (the benchmark shares it). */
  localApp?: LocalApp;
}

export interface RunningJunction {
  hubUrl: string;
  sandboxUrl: string;
  pdsBaseUrl: string;
  demoApiKey: string;
  /** Whether the sandbox requires API platform tokens (see `StartOptions.sandboxAuth`). */
  sandboxAuth: boolean;
  close(): Promise<void>;
}

/**
 * Runs the hub and the sandbox together on the embedded store, wired as they would be against the
 * NHS: the hub authenticates to the sandbox's API platform with a signed JWT (a key pair made for
 * this run and registered as an app), then calls PDS with the token it gets. With
 * `sandboxAuth: false` both run open instead, as against NHS's public sandbox.
 */
export async function startJunction(
  env: NodeJS.ProcessEnv,
  options: StartOptions = {},
): Promise<RunningJunction> {
  const host = options.host ?? '127.0.0.1';
  const sandboxAuth = options.sandboxAuth ?? true;
  const app = sandboxAuth ? (options.localApp ?? createLocalApp()) : undefined;
  const sandbox = await createSandboxServer({
    pds: { mode: options.stateless ? 'stateless' : 'stateful' },
    ...(app && { auth: { apps: [app.registered] } }),
  });
  const requestedHubPort = options.port ?? 8080;
  const sandboxPort = options.sandboxPort ?? (requestedHubPort === 0 ? 0 : requestedHubPort + 1);
  const sandboxUrl = await listen(sandbox, host, sandboxPort);

  try {
    const tokenUrl = `${sandboxUrl}/oauth2/token`;
    const config = loadConfig(app ? env : withoutKeyMaterial(env), {
      port: requestedHubPort,
      host,
      nhsEnvironment: 'sandbox',
      pds: { baseUrl: `${sandboxUrl}/personal-demographics/FHIR/R4` },
      apiPlatform: app
        ? { tokenUrl, apiKey: app.apiKey, privateKeyPem: app.privateKeyPem, keyId: app.kid }
        : { tokenUrl },
      ...storeOverrides(options),
      ...(options.logLevel !== undefined && { logLevel: options.logLevel }),
    });
    const hub = await createHub(config);
    const demoApiKey = await renewDemoKey(hub.store);
    const hubUrl = await listen(hub.app, host, config.port);
    return {
      hubUrl,
      sandboxUrl,
      pdsBaseUrl: `${sandboxUrl}/personal-demographics/FHIR/R4`,
      demoApiKey,
      sandboxAuth,
      close: async () => {
        await hub.close();
        await sandbox.close();
      },
    };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

/**
 * The environment without API platform key material: against an open sandbox the hub's PdsClient
 * must send no token (the sandbox has no apps to issue one), whatever the shell has set.
 */
function withoutKeyMaterial(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keyVariables = Object.entries(ENV_VARS)
    .filter(([, field]) => field.startsWith('apiPlatform.') && field !== 'apiPlatform.tokenUrl')
    .map(([name]) => name);
  return Object.fromEntries(Object.entries(env).filter(([name]) => !keyVariables.includes(name)));
}

/** One demo key at a time: earlier ones made by `start` are revoked, their secrets were shown once. */
async function renewDemoKey(store: Parameters<typeof createApiKey>[0]): Promise<string> {
  for (const key of await listApiKeys(store)) {
    if (key.name === DEMO_KEY_NAME && !key.revokedAt) await revokeApiKey(store, key.id);
  }
  const created = await createApiKey(store, { name: DEMO_KEY_NAME, scopes: [...API_KEY_SCOPES] });
  return created.secret;
}

async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address() as AddressInfo;
  return `http://${host}:${address.port}`;
}
