import { readFile } from 'node:fs/promises';
import {
  applicationRestrictedAuth,
  Cis2Client,
  NhsLoginClient,
  type NhsLoginClientOptions,
  PdsClient,
  type PdsClientOptions,
  tokenExchangeAuth,
} from '@junction/client';
import { OperationOutcomeError } from '@junction/core';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { DelegationsFor } from './access/authenticate.js';
import { activeDelegationsFor } from './access/proxy-delegations.js';
import type { ActiveSession } from './access/sessions.js';
import type { Cis2Port, NhsLoginPort } from './api/auth-routes.js';
import { type BuildAppOptions, buildApp } from './api/build-app.js';
import type { HubConfig, MeshMailboxConfig } from './config/load-config.js';
import { HubJobs } from './jobs/hub-jobs.js';
import type { JobRunnerOptions } from './jobs/runner.js';
import type { PdsPort } from './journeys/patient-lookup.js';
import type { SubmissionMeshPort } from './journeys/submit-readings/mesh-port.js';
import { type EndpointLookup, wireSubmissions } from './journeys/submit-readings/wire.js';
import { DMD_IMPORT_JOB, dmdImportJobHandler } from './medicines/imports.js';
import { DmdService } from './medicines/service.js';
import { meshClientFor } from './mesh/mesh-client-port.js';
import { type MeshPort, MeshService } from './mesh/mesh-service.js';
import { recordedEndpointLookup, recordedMeshPort } from './mesh/recorded-mesh-port.js';
import { createLogger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { recordedRelyingParty, recordedTokenFetch } from './observability/recorded-ports.js';
import { UpstreamCalls } from './observability/upstream-calls.js';
import { upstreamServicesOf } from './observability/upstream-services.js';
import type { Store } from './store/database.js';
import { openStore } from './store/open-store.js';

export interface HubDeps {
  /** dm+d imports over HTTP: upload size limit (default 2 GiB); importer settings (tests). */
  dmdImport?: {
    maxUploadBytes?: number;
    retainPreviousMs?: number;
    batchRows?: number;
    progressEveryMs?: number;
  };
  /** A PdsClient (or anything with its `getPatient` / `searchPatients`); default: built from config. */
  pds?: PdsPort;
  /** An open store to use instead of opening one from config; the hub then does not close it. */
  store?: Store;
  /** Clock for audit timestamps and health reports. */
  now?: () => Date;
  /** Where log lines go (default stdout). Tests capture them here. */
  logDestination?: DestinationStream;
  /** A ready logger instead (build it with `createLogger` so credentials stay redacted). */
  logger?: Logger;
  /** fetch for the default PdsClient and token requests. */
  fetch?: typeof fetch;
  /** NHS login relying party; default: an `NhsLoginClient` from config, when configured. */
  nhsLogin?: NhsLoginPort;
  /** CIS2 relying party; default: a `Cis2Client` from config, when configured. */
  cis2?: Cis2Port;
  /**
   * Patients a signed-in NHS login user may act for as a proxy, and for what, asked on every
   * request. Default: the active delegations in the store's `proxy_delegations` table (recorded with
   * `junction proxies grant`). For tests and integrations with another source of proxy records.
   */
  delegationsFor?: DelegationsFor;
  /**
   * PDS for a signed-in person (user-restricted). Default: with API platform key material, a
   * PdsClient whose tokens come from exchanging the session's id_token (`tokenExchangeAuth`);
   * without it (open sandbox), the same PDS as API keys.
   */
  pdsForSession?: (session: ActiveSession) => PdsPort | undefined;
  /** The dm+d as served; default: a `DmdService` on the store (its active release). */
  dmd?: DmdService;
  /** MESH for a configured mailbox; default: a `MeshClient` from its config. */
  meshPortFor?: (mailbox: MeshMailboxConfig) => MeshPort;
  /** Start the job runner and the MESH poll schedule (default true; tests drive `hub.jobs.runner.runOnce()`). */
  startJobs?: boolean;
  /** Job runner settings (lease, poll interval, concurrency, backoff…). */
  jobRunner?: Omit<JobRunnerOptions, 'handlers'>;
  /** MESH for the submitting-data journey; default: from the first mailbox that collects ITK3 responses. */
  submissionMesh?: SubmissionMeshPort;
  /** MESH endpoint lookup as a configured mailbox; default: a `MeshClient` from its config. */
  meshLookupFor?: (mailbox: MeshMailboxConfig) => EndpointLookup;
  /** The console's built bundle (`packages/console/dist`), served at /console/; without it, a page says how to build it. */
  consoleDir?: string;
}

export interface Hub {
  app: FastifyInstance;
  store: Store;
  config: HubConfig;
  /** The dm+d the routes serve (its snapshot of the active release). */
  dmd: DmdService;
  /** The durable job queue's runner and its handlers (`mesh.*`, journeys'). */
  jobs: HubJobs;
  /** The MESH mailboxes: send, inbound/status handlers, `events` of the message log. */
  mesh: MeshService;
  /** Stops taking requests, lets in-flight ones finish, then closes the store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Wires the hub: store (migrated), PDS client, metrics, logger and HTTP app. Does not listen:
 * call `hub.app.listen({ port: config.port, host: config.host })`.
 * @example
 * const hub = await createHub(loadConfig(process.env));
 * await hub.app.listen({ port: hub.config.port, host: hub.config.host });
 * process.on('SIGTERM', () => void hub.close());
 */
export async function createHub(config: HubConfig, deps: HubDeps = {}): Promise<Hub> {
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger ?? createLogger(config.logLevel, deps.logDestination);
  const ownsStore = deps.store === undefined;
  const store =
    deps.store ??
    (await openStore(
      config.databaseUrl === undefined
        ? { dataDir: config.dataDir }
        : { databaseUrl: config.databaseUrl, dataDir: config.dataDir },
    ));
  try {
    const metrics = createMetrics();
    // The one recorder of NHS API calls (and of the hub's requests), flushed to the store every 10 s.
    const calls = new UpstreamCalls({
      store,
      metrics,
      now,
      onError: (error, what) =>
        logger.warn({ error: (error as Error).message }, `operations stats ${what} failed`),
    });
    const pds = deps.pds ?? (await defaultPdsClient(config, deps, calls));
    const auth: NonNullable<BuildAppOptions['auth']> = {
      publicUrl: config.publicUrl,
      returnUrls: config.auth.returnUrls,
      sessionTtlS: config.auth.sessionTtlS,
    };
    const nhsLogin = deps.nhsLogin ?? (await relyingParty(config, 'nhs-login', deps));
    const cis2 = deps.cis2 ?? (await relyingParty(config, 'cis2', deps));
    if (nhsLogin) auth.nhsLogin = recordedRelyingParty(nhsLogin, 'nhs-login', calls);
    if (cis2) auth.cis2 = recordedRelyingParty(cis2, 'cis2', calls);
    auth.delegationsFor =
      deps.delegationsFor ??
      (async ({ nhsNumber }) => (nhsNumber === undefined ? [] : activeDelegationsFor(store, nhsNumber, now)));
    const dmd = deps.dmd ?? new DmdService(store);
    const jobs = new HubJobs(store, { now, logger, retention: config.jobs, ...deps.jobRunner });
    const mesh = new MeshService({
      store,
      dataDir: config.dataDir,
      mailboxes: config.mesh.mailboxes,
      trackIntervalMs: config.mesh.trackIntervalMs,
      portFor: (mailbox) => recordedMeshPort((deps.meshPortFor ?? meshClientFor)(mailbox), calls),
      now,
      notify: () => jobs.notify(),
    });
    for (const [kind, handler] of Object.entries(mesh.jobHandlers)) jobs.register(kind, handler);
    jobs.register(DMD_IMPORT_JOB, dmdImportJobHandler({ store, now, ...deps.dmdImport }));
    const services = upstreamServicesOf(config, {
      apiPlatformAuth: config.apiPlatform.apiKey !== undefined && config.apiPlatform.keyId !== undefined,
      nhsLogin: nhsLogin !== undefined,
      cis2: cis2 !== undefined,
    });
    const appOptions: BuildAppOptions = { store, pds, metrics, logger, now, auth, dmd, calls, services };
    appOptions.config = config;
    appOptions.operations = { notifyJobs: () => jobs.notify() };
    appOptions.medicineImports = {
      dataDir: config.dataDir,
      notifyJobs: () => jobs.notify(),
      ...(deps.dmdImport?.maxUploadBytes !== undefined && { maxUploadBytes: deps.dmdImport.maxUploadBytes }),
    };
    if (deps.consoleDir !== undefined) appOptions.consoleDir = deps.consoleDir;
    const submissions = wireSubmissions({
      store,
      jobs,
      mesh,
      mailboxes: config.mesh.mailboxes,
      lookupFor: (mailbox) =>
        recordedEndpointLookup(
          deps.meshLookupFor?.(mailbox) ?? (meshClientFor(mailbox) as unknown as EndpointLookup),
          calls,
        ),
      now,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    const submissionMesh = deps.submissionMesh ?? submissions.port;
    if (submissionMesh) {
      appOptions.submissions = { mesh: submissionMesh, onSubmitted: () => jobs.notify() };
    }
    const pdsForSession = deps.pdsForSession ?? (await userRestrictedPds(config, deps, calls));
    if (pdsForSession) appOptions.pdsForSession = pdsForSession;
    const app = await buildApp(appOptions);
    await app.ready();
    calls.start();
    if (deps.startJobs !== false) {
      jobs.start();
      mesh.startPolling();
    }
    let closing: Promise<void> | undefined;
    return {
      app,
      store,
      config,
      dmd,
      jobs,
      mesh,
      close() {
        // Order matters: HTTP first (drains in-flight requests, which may still write audit records), then the store.
        closing ??= (async () => {
          mesh.stopPolling();
          await app.close();
          // Running jobs finish (or are released) before the store closes.
          await jobs.stop();
          await mesh.close();
          await submissions.close();
          // The last seconds of call statistics, before the store goes.
          await calls.close();
          if (ownsStore) await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
}

async function readKey(
  pem: string | undefined,
  path: string | undefined,
  variable: string,
): Promise<string | undefined> {
  if (pem !== undefined || path === undefined) return pem;
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${variable} (${path}): ${(error as Error).message}`);
  }
}

/** An NHS login or CIS2 client from config, or undefined when that sign-in is not configured. */
async function relyingParty(
  config: HubConfig,
  provider: 'nhs-login' | 'cis2',
  deps: HubDeps,
): Promise<NhsLoginClient | Cis2Client | undefined> {
  const p = provider === 'nhs-login' ? config.nhsLogin : config.cis2;
  const prefix = provider === 'nhs-login' ? 'JUNCTION_NHS_LOGIN' : 'JUNCTION_CIS2';
  const privateKey = await readKey(p.privateKeyPem, p.privateKeyPath, `${prefix}_PRIVATE_KEY_PATH`);
  if (p.clientId === undefined || p.keyId === undefined || privateKey === undefined) return undefined;
  const options: NhsLoginClientOptions = {
    issuer: p.issuer,
    clientId: p.clientId,
    privateKey,
    kid: p.keyId,
    redirectUri: `${config.publicUrl}/auth/${provider}/callback`,
  };
  // Plain http only for the local sandbox (a loopback issuer); NHS login and CIS2 are https.
  const issuer = new URL(p.issuer);
  if (issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname)) {
    options.allowInsecureHttp = true;
  }
  if (deps.fetch) options.fetch = deps.fetch;
  if (deps.now) options.now = deps.now;
  return provider === 'nhs-login' ? new NhsLoginClient(options) : new Cis2Client(options);
}

const SESSION_PDS_CACHE_MAX = 1_000;

/**
 * User-restricted PDS for signed-in people: each session's id_token is exchanged at the API
 * platform (CONTRACTS.md §2b). One client per session (its token is cached by the client), in a
 * bounded map keyed by the id_token, which never leaves the process.
 */
async function userRestrictedPds(
  config: HubConfig,
  deps: HubDeps,
  calls: UpstreamCalls,
): Promise<((session: ActiveSession) => PdsPort | undefined) | undefined> {
  const a = config.apiPlatform;
  const privateKey = await readKey(a.privateKeyPem, a.privateKeyPath, 'JUNCTION_NHS_PRIVATE_KEY_PATH');
  if (a.apiKey === undefined || a.keyId === undefined || privateKey === undefined) return undefined;
  const { apiKey, keyId } = a;
  const clients = new Map<string, PdsClient>();
  return (session) => {
    const idToken = session.idToken;
    // Never fall back to the hub's application-restricted access for a signed-in person.
    if (idToken === undefined) {
      throw OperationOutcomeError.spine('ACCESS_DENIED', {
        status: 401,
        diagnostics: 'The session holds no identity token for the NHS API platform: sign in again',
      });
    }
    let client = clients.get(idToken);
    if (!client) {
      const authOptions: Parameters<typeof tokenExchangeAuth>[0] = {
        tokenUrl: a.tokenUrl,
        apiKey,
        privateKey,
        kid: keyId,
        subjectToken: () => idToken,
        fetch: recordedTokenFetch(deps.fetch ?? globalThis.fetch.bind(globalThis), 'token-exchange', calls),
      };
      if (deps.now) authOptions.now = deps.now;
      const options: PdsClientOptions = { baseUrl: config.pds.baseUrl, auth: tokenExchangeAuth(authOptions) };
      if (deps.fetch) options.fetch = deps.fetch;
      if (deps.now) options.now = deps.now;
      client = new PdsClient(options);
      if (clients.size >= SESSION_PDS_CACHE_MAX) clients.delete(clients.keys().next().value as string);
      clients.set(idToken, client);
    }
    return client;
  };
}

async function defaultPdsClient(config: HubConfig, deps: HubDeps, calls: UpstreamCalls): Promise<PdsClient> {
  const options: PdsClientOptions = { baseUrl: config.pds.baseUrl };
  if (deps.fetch) options.fetch = deps.fetch;
  if (deps.now) options.now = deps.now;
  const a = config.apiPlatform;
  const privateKey = await readKey(a.privateKeyPem, a.privateKeyPath, 'JUNCTION_NHS_PRIVATE_KEY_PATH');
  if (a.apiKey !== undefined && a.keyId !== undefined && privateKey !== undefined) {
    const authOptions: Parameters<typeof applicationRestrictedAuth>[0] = {
      tokenUrl: a.tokenUrl,
      apiKey: a.apiKey,
      privateKey,
      kid: a.keyId,
      fetch: recordedTokenFetch(deps.fetch ?? globalThis.fetch.bind(globalThis), 'client-credentials', calls),
    };
    if (deps.now) authOptions.now = deps.now;
    options.auth = applicationRestrictedAuth(authOptions);
  }
  return new PdsClient(options);
}
