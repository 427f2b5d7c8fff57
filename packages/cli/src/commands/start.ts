import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  activeDmdRelease,
  createApiKey,
  createDataDir,
  createHub,
  DEFAULT_API_KEY_SCOPES,
  type DmdReleaseInfo,
  ENV_VARS,
  generateDmdRelease,
  grantProxyDelegation,
  type HubConfig,
  importDmdRelease,
  listApiKeys,
  listDmdReleases,
  listProxyDelegations,
  loadConfig,
  PROXY_RELATIONSHIPS,
  type ProxyRelationship,
  randomAdminPassword,
  resetAdminAccount,
  revokeApiKey,
  type Store,
} from '@junction/hub';
import {
  createSandboxServer,
  NHS_LOGIN_TEST_USERS,
  type OidcClientRegistration,
  type RegisteredApp,
  registeredAppFromJwks,
} from '@junction/sandbox';
import type { FastifyInstance } from 'fastify';
import {
  DEFAULT_HUB_PORT,
  PDS_PATH,
  removeStartRecord,
  START_RECORD_FILE,
  type StartRecord,
  writeStartRecord,
} from '../start-record.js';
import { type StoreFlags, storeOverrides } from '../store-flags.js';

/** The name given to the API key `junction start` makes, so the next start can retire it. */
export const DEMO_KEY_NAME = 'demo (junction start)';
/** The API platform app the hub acts as against the local sandbox. */
const DEMO_APP_KEY = 'junction-local-hub';
/**
 * The app `junction pds` signs in as against this sandbox (its own, so the hub's key never leaves
 * the hub's process): its key is in the start record, readable by the owner only.
 */
const LOCAL_CLI_APP_KEY = 'junction-local-cli';
/** The hub's client_id at the sandbox NHS login and CIS2 (the `aud` of the id_tokens it gets). */
export const LOCAL_HUB_CLIENT_ID = 'junction-local-hub';

/** An API platform app made for one run: its key pair, and its registration with the sandbox. */
export interface LocalApp {
  apiKey: string;
  kid: string;
  privateKeyPem: string;
  registered: RegisteredApp;
}

/** Makes a fresh RS512 key pair and registers its public half as a sandbox API platform app. */
export function createLocalApp(apiKey = DEMO_APP_KEY): LocalApp {
  const key = rs512KeyPair();
  return {
    apiKey,
    kid: key.kid,
    privateKeyPem: key.privateKeyPem,
    registered: registeredAppFromJwks(apiKey, key.publicJwks),
  };
}

/**
 * The hub as a relying party of the sandbox's NHS login and CIS2, made for one run: one RS512 key
 * pair for its `private_key_jwt` assertions, registered with both providers under the hub's
 * callback URLs (which is why the hub's URL must be known before the sandbox is built).
 */
export interface LocalRelyingParty {
  clientId: string;
  kid: string;
  privateKeyPem: string;
  nhsLogin: OidcClientRegistration;
  cis2: OidcClientRegistration;
}

export function createLocalRelyingParty(hubUrl: string, clientId = LOCAL_HUB_CLIENT_ID): LocalRelyingParty {
  const key = rs512KeyPair();
  const registration = (provider: 'nhs-login' | 'cis2'): OidcClientRegistration => ({
    clientId,
    redirectUris: [`${hubUrl}/auth/${provider}/callback`],
    jwks: key.publicJwks,
  });
  return {
    clientId,
    kid: key.kid,
    privateKeyPem: key.privateKeyPem,
    nhsLogin: registration('nhs-login'),
    cis2: registration('cis2'),
  };
}

function rs512KeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `junction-${randomUUID()}`;
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS512', use: 'sig' };
  return {
    kid,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicJwks: { keys: [publicJwk] },
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
  /**
   * The console's hub admin account (`admin`), its password new on every start (earlier sessions
   * end). Printed once by `junction start`, never logged.
   */
  admin: { username: string; password: string };
  /** Whether the sandbox requires API platform tokens (see `StartOptions.sandboxAuth`). */
  sandboxAuth: boolean;
  /** Where a browser starts signing in: `<hubUrl>/auth/nhs-login/login` and `<hubUrl>/auth/cis2/login`. */
  signInUrls: { nhsLogin: string; cis2: string };
  /** The web console, `<hubUrl>/console/`, and whether its bundle is built (`npm run build`). */
  console: { url: string; built: boolean };
  /** The dm+d release the hub serves (the synthetic demo one on a first start), or null. */
  dmdRelease: DmdReleaseInfo | null;
  /** Where the other `junction` commands find this run (`<dataDir>/junction-start.json`) until it stops. */
  startRecordFile: string;
  close(): Promise<void>;
}

/**
 * Runs the hub and the sandbox together on the embedded store, wired as they would be against the
 * NHS: the hub authenticates to the sandbox's API platform with a signed JWT (a key pair made for
 * this run and registered as an app), then calls PDS with the token it gets. With
 * `sandboxAuth: false` both run open instead, as against NHS's public sandbox.
 *
 * The hub is also registered as a relying party of the sandbox's NHS login and CIS2, and the app
 * as their client for token exchange, so people can sign in at the hub and reach PDS as themselves.
 */
export async function startJunction(
  env: NodeJS.ProcessEnv,
  options: StartOptions = {},
): Promise<RunningJunction> {
  const host = options.host ?? '127.0.0.1';
  const sandboxAuth = options.sandboxAuth ?? true;
  const hubEnv = withoutLocalCredentials(env);
  const requestedHubPort = options.port ?? DEFAULT_HUB_PORT;
  // The providers need the hub's callback URLs before the sandbox is built, so the hub's port is
  // settled first: a free port is held until the hub takes it, so the sandbox cannot get it.
  const reservation = await reservePort(host, requestedHubPort);
  let sandbox: FastifyInstance | undefined;
  try {
    const hubPort = reservation.port;
    const early = loadConfig(hubEnv, {
      port: hubPort,
      host,
      nhsEnvironment: 'sandbox',
      ...storeOverrides(options),
    });
    const hubUrl = early.publicUrl;
    const rp = createLocalRelyingParty(hubUrl);
    const localApp = sandboxAuth ? (options.localApp ?? createLocalApp()) : undefined;
    const cliApp = sandboxAuth ? createLocalApp(LOCAL_CLI_APP_KEY) : undefined;
    const app: RegisteredApp | undefined = localApp && {
      ...localApp.registered,
      nhsLoginClientId: rp.clientId,
      cis2ClientId: rp.clientId,
    };
    sandbox = await createSandboxServer({
      pds: { mode: options.stateless ? 'stateless' : 'stateful' },
      ...(app && cliApp && { auth: { apps: [app, cliApp.registered] } }),
      nhsLogin: { clients: [rp.nhsLogin] },
      cis2: { clients: [rp.cis2] },
      // Messages kept beside the hub's data, so they outlive a restart; admin routes for developers.
      mesh: { admin: true, dataDir: join(early.dataDir, 'sandbox', 'mesh') },
    });
    const sandboxPort = options.sandboxPort ?? (requestedHubPort === 0 ? 0 : requestedHubPort + 1);
    const sandboxUrl = await listen(sandbox, host, sandboxPort);

    const tokenUrl = `${sandboxUrl}/oauth2/token`;
    const relyingParty = { clientId: rp.clientId, privateKeyPem: rp.privateKeyPem, keyId: rp.kid };
    const config = loadConfig(hubEnv, {
      port: hubPort,
      host,
      nhsEnvironment: 'sandbox',
      // The port the sandbox got, so the hub knows its own sandbox (the console tags it "sandbox").
      sandboxPort: Number(new URL(sandboxUrl).port),
      pds: { baseUrl: `${sandboxUrl}${PDS_PATH}` },
      // Mailboxes added in the console's Settings are sealed with this key; kept beside the data.
      ...(!hubEnv.JUNCTION_SECRETS_KEY && { secretsKey: await localSecretsKey(early.dataDir) }),
      apiPlatform: localApp
        ? { tokenUrl, apiKey: localApp.apiKey, privateKeyPem: localApp.privateKeyPem, keyId: localApp.kid }
        : { tokenUrl },
      nhsLogin: { issuer: `${sandboxUrl}${NHS_LOGIN_PATH}`, ...relyingParty },
      cis2: { issuer: `${sandboxUrl}${CIS2_PATH}`, ...relyingParty },
      ...storeOverrides(options),
      ...(options.logLevel !== undefined && { logLevel: options.logLevel }),
      // The hub's own MESH mailbox on this sandbox (its default seed: X26ABC1 / password / TestKey).
      mesh: {
        mailboxes: [
          {
            mailboxId: SANDBOX_HUB_MAILBOX,
            password: 'password',
            sharedKey: 'TestKey',
            baseUrl: sandboxUrl,
            pollIntervalMs: 5_000,
          },
        ],
        trackIntervalMs: 5_000,
      },
    });
    const consoleDir = consoleBundleDir();
    const hub = await createHub(config, consoleDir === undefined ? {} : { consoleDir });
    let demoApiKey: string;
    const admin = { username: ADMIN_USERNAME, password: randomAdminPassword() };
    try {
      demoApiKey = await renewDemoKey(hub.store);
      await resetAdminAccount(hub.store, { ...admin, by: 'junction start' });
      await recordSandboxProxies(hub.store);
      await seedDemoDmdRelease(hub.store);
      await reservation.release();
      await listen(hub.app, host, hubPort);
    } catch (error) {
      await hub.close();
      throw error;
    }
    const running = sandbox;
    const pdsBaseUrl = `${sandboxUrl}${PDS_PATH}`;
    // The other `junction` commands find this run's ports (and PDS sign-in) here, in the data folder.
    const record: StartRecord = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      hubUrl,
      sandboxUrl,
      pdsBaseUrl,
      meshBaseUrl: sandboxUrl,
      ...(cliApp && {
        sandboxApp: { tokenUrl, apiKey: cliApp.apiKey, kid: cliApp.kid, privateKeyPem: cliApp.privateKeyPem },
      }),
    };
    try {
      createDataDir(config.dataDir);
      await writeStartRecord(config.dataDir, record);
    } catch (error) {
      await hub.close();
      throw error;
    }
    const dmdRelease = await activeDmdRelease(hub.store);
    // Build the search index now rather than on the first search; a failure shows on that search.
    if (dmdRelease) void hub.dmd.current().catch(() => {});
    return {
      dmdRelease,
      startRecordFile: join(config.dataDir, START_RECORD_FILE),
      hubUrl,
      sandboxUrl,
      pdsBaseUrl,
      demoApiKey,
      admin,
      sandboxAuth,
      signInUrls: { nhsLogin: `${hubUrl}/auth/nhs-login/login`, cis2: `${hubUrl}/auth/cis2/login` },
      console: {
        url: `${hubUrl}/console/`,
        built: consoleDir !== undefined && existsSync(join(consoleDir, 'index.html')),
      },
      close: async () => {
        await removeStartRecord(config.dataDir, record.pid);
        await hub.close();
        await running.close();
      },
    };
  } catch (error) {
    await reservation.release();
    await sandbox?.close();
    throw error;
  }
}

/**
 * The console's built bundle: `dist` of the `@junction/console` package (`npm run build` makes it),
 * found through the package so it works from any checkout; undefined without the package.
 */
export function consoleBundleDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@junction/console/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

/** The MESH mailbox `start` gives the hub: the first of the sandbox's default seed (as NHS's mesh-sandbox). */
export const SANDBOX_HUB_MAILBOX = 'X26ABC1';

/** Where the sandbox mounts its identity providers (the hub's issuers must name the same paths). */
const NHS_LOGIN_PATH = '/nhs-login';
const CIS2_PATH = '/openam/oauth2/realms/root/realms/oidc';

/**
 * The environment without credentials `start` makes itself: the hub must use this run's keys and
 * client registrations, whatever the shell has set (a stray key path would stop the hub starting;
 * against an open sandbox the hub must send no token at all, there being no app to issue one to).
 */
function withoutLocalCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const ours = (field: string) =>
    (field.startsWith('apiPlatform.') && field !== 'apiPlatform.tokenUrl') ||
    field.startsWith('nhsLogin.') ||
    field.startsWith('cis2.');
  const names = Object.entries(ENV_VARS)
    .filter(([, field]) => ours(field))
    .map(([name]) => name);
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
}

/** A port held open until released: the requested one, or a free one when 0 is asked for. */
async function reservePort(host: string, port: number): Promise<{ port: number; release(): Promise<void> }> {
  if (port !== 0) return { port, release: async () => {} };
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, resolve);
  });
  const reserved = (server.address() as AddressInfo).port;
  let released: Promise<void> | undefined;
  return {
    port: reserved,
    release: () => {
      released ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}

/**
 * `<dataDir>/secrets.key`, made on the first start (32 random bytes, base64, readable by the owner
 * only), so a laptop's hub can keep MESH mailboxes set in the console across restarts. Several
 * instances set JUNCTION_SECRETS_KEY instead, the same on each.
 */
async function localSecretsKey(dataDir: string): Promise<string> {
  const path = join(dataDir, 'secrets.key');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  createDataDir(dataDir);
  const key = randomBytes(32).toString('base64');
  // `wx`: two starts at once never overwrite each other's key.
  await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' }).catch(
    async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    },
  );
  return (await readFile(path, 'utf8')).trim();
}

/** The console admin account `junction start` creates or resets. */
export const ADMIN_USERNAME = 'admin';

/**
 * One demo key at a time: earlier ones made by `start` are revoked, their secrets were shown once.
 * It holds the default scopes only, like any key made without naming scopes: a secret printed to a
 * terminal must not also manage keys, write to PDS or read audit. Stronger keys are asked for by name
 * (`junction keys create --scope …`).
 */
async function renewDemoKey(store: Parameters<typeof createApiKey>[0]): Promise<string> {
  for (const key of await listApiKeys(store)) {
    if (key.name === DEMO_KEY_NAME && !key.revokedAt) await revokeApiKey(store, key.id);
  }
  const created = await createApiKey(store, { name: DEMO_KEY_NAME, scopes: DEFAULT_API_KEY_SCOPES });
  return created.secret;
}

/** Size of the demo dm+d (1 = the real release's counts): ~2.5k records, imported in well under a second. */
const DEMO_DMD_SCALE = 0.002;
/** Seed and date of the demo release, so every first start serves the same products. */
const DEMO_DMD_SEED = 20251110;
const DEMO_DMD_DATE = '2025-11-10';
/** The demo release's folder name, as recorded in its `source` (how `start` tells it apart). */
export const DEMO_DMD_FOLDER = 'synthetic-demo-dmd';

/**
 * A store that has never imported a dm+d release gets a small synthetic one (made by the same
 * generator as the benchmark's full-size release), so medicines search works on day one. Never
 * on a store that has seen any import: a real release, or even a failed attempt, is the operator's.
 */
async function seedDemoDmdRelease(store: Store): Promise<void> {
  if ((await listDmdReleases(store, 1)).length > 0) return;
  const dir = await mkdtemp(join(tmpdir(), 'junction-demo-dmd-'));
  try {
    const folder = join(dir, DEMO_DMD_FOLDER);
    await generateDmdRelease({
      seed: DEMO_DMD_SEED,
      scale: DEMO_DMD_SCALE,
      outDir: folder,
      releaseDate: DEMO_DMD_DATE,
    });
    await importDmdRelease(store, folder, { retainPreviousMs: 0 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Who records the sandbox's proxy delegations in the store (`created_by`). */
export const SANDBOX_PROXY_RECORDER = 'junction-start';

/**
 * The sandbox NHS login's parent is a proxy for a child; in the NHS the GP practice records that,
 * so `start` records it in the hub's store as the practice would, on the first start only: once
 * the store holds any delegation between the two (live, expired or revoked by an operator), it is
 * left as it is.
 */
async function recordSandboxProxies(store: Store): Promise<void> {
  for (const user of NHS_LOGIN_TEST_USERS) {
    if (user.nhsNumber === undefined || !user.proxyFor) continue;
    const recorded = await listProxyDelegations(store, { proxyNhsNumber: user.nhsNumber });
    for (const { nhsNumber, relationship } of user.proxyFor) {
      const named = relationship.toLowerCase();
      if (!(PROXY_RELATIONSHIPS as readonly string[]).includes(named)) continue;
      if (recorded.some((d) => d.patientNhsNumber === nhsNumber)) continue;
      await grantProxyDelegation(store, {
        proxyNhsNumber: user.nhsNumber,
        patientNhsNumber: nhsNumber,
        relationship: named as ProxyRelationship,
        createdBy: SANDBOX_PROXY_RECORDER,
      });
    }
  }
}

async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address() as AddressInfo;
  return `http://${host}:${address.port}`;
}
