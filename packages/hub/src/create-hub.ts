import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { DelegationsFor } from './access/authenticate.js';
import { activeDelegationsFor } from './access/proxy-delegations.js';
import type { ActiveSession } from './access/sessions.js';
import type { Cis2Port, NhsLoginPort } from './api/auth-routes.js';
import { type BuildAppOptions, buildApp } from './api/build-app.js';
import { loadAuditCheckpointKey } from './audit/audit-checkpoint.js';
import { AUDIT_CHECKPOINT_JOB, AuditCheckpointSchedule } from './audit/audit-checkpoint-schedule.js';
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
import { buildNhsClients } from './nhs-clients.js';
import { createLogger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { UpstreamCalls } from './observability/upstream-calls.js';
import { upstreamServicesOf } from './observability/upstream-services.js';
import { BASE_URL_SETTINGS, type BaseUrlService, baseUrlOf, HubSettings } from './settings/hub-settings.js';
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
  /** How often the settings changed in the console are looked for (default 5 s), from any instance. */
  settingsRefreshMs?: number;
  /** The console's built bundle (`packages/console/dist`), served at /console/; without it, a page says how to build it. */
  consoleDir?: string;
}

export interface Hub {
  app: FastifyInstance;
  store: Store;
  /** The configuration the hub started with (the environment's); `settings.current` is the one in force. */
  config: HubConfig;
  /** The console's settings over the environment's configuration. */
  settings: HubSettings;
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
    // The environment's configuration with the console's settings over it (src/settings).
    const settings = new HubSettings({
      store,
      base: config,
      now,
      onProblem: (problem) => logger.warn(problem),
    });
    await settings.refresh();
    let clients = await buildNhsClients(settings.current, deps, calls);
    const auth: NonNullable<BuildAppOptions['auth']> = {
      publicUrl: config.publicUrl,
      returnUrls: config.auth.returnUrls,
      sessionTtlS: config.auth.sessionTtlS,
    };
    // Routes hold these for the hub's life; each call goes to the clients of the settings in force.
    if (clients.nhsLogin) {
      auth.nhsLogin = {
        authorizationUrl: (request) => current(clients.nhsLogin).authorizationUrl(request),
        exchangeCode: (request) => current(clients.nhsLogin).exchangeCode(request),
      };
    }
    if (clients.cis2) {
      auth.cis2 = {
        authorizationUrl: (request) => current(clients.cis2).authorizationUrl(request),
        exchangeCode: (request) => current(clients.cis2).exchangeCode(request),
        userinfo: (token, subject) => current(clients.cis2).userinfo(token, subject),
      };
    }
    auth.delegationsFor =
      deps.delegationsFor ??
      (async ({ nhsNumber }) => (nhsNumber === undefined ? [] : activeDelegationsFor(store, nhsNumber, now)));
    const dmd = deps.dmd ?? new DmdService(store);
    const jobs = new HubJobs(store, { now, logger, retention: config.jobs, ...deps.jobRunner });
    const mesh = new MeshService({
      store,
      dataDir: config.dataDir,
      mailboxes: settings.current.mesh.mailboxes,
      trackIntervalMs: config.mesh.trackIntervalMs,
      portFor: (mailbox) => recordedMeshPort((deps.meshPortFor ?? meshClientFor)(mailbox), calls),
      now,
      notify: () => jobs.notify(),
    });
    for (const [kind, handler] of Object.entries(mesh.jobHandlers)) jobs.register(kind, handler);
    jobs.register(DMD_IMPORT_JOB, dmdImportJobHandler({ store, now, ...deps.dmdImport }));
    const checkpoints =
      config.auditCheckpoints && config.auditCheckpointKeyPath !== undefined
        ? new AuditCheckpointSchedule({
            store,
            privateKey: (await loadAuditCheckpointKey(config.auditCheckpointKeyPath)).privateKey,
            dir: config.auditCheckpoints.dir,
            intervalMs: config.auditCheckpoints.intervalMs,
            now,
            notify: () => jobs.notify(),
          })
        : undefined;
    if (checkpoints) jobs.register(AUDIT_CHECKPOINT_JOB, checkpoints.jobHandler);
    const uses = {
      apiPlatformAuth: config.apiPlatform.apiKey !== undefined && config.apiPlatform.keyId !== undefined,
      nhsLogin: clients.nhsLogin !== undefined,
      cis2: clients.cis2 !== undefined,
    };
    const appOptions: BuildAppOptions = {
      store,
      pds: {
        getPatient: (...args) => clients.pds.getPatient(...args),
        searchPatients: (...args) => clients.pds.searchPatients(...args),
        updatePatient: (...args) => clients.pds.updatePatient(...args),
      },
      metrics,
      logger,
      now,
      auth,
      dmd,
      calls,
      settings,
      services: () => upstreamServicesOf(settings.current, uses),
    };
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
      lookupFor: (mailbox) =>
        recordedEndpointLookup(
          deps.meshLookupFor?.(mailbox) ?? (meshClientFor(mailbox) as unknown as EndpointLookup),
          calls,
        ),
      now,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    const submissionMesh = deps.submissionMesh;
    appOptions.submissions = {
      mesh: submissionMesh ? () => submissionMesh : submissions.port,
      onSubmitted: () => jobs.notify(),
    };
    if (clients.pdsForSession) appOptions.pdsForSession = (session) => clients.pdsForSession?.(session);
    // A change made in the console, here or on another instance: new clients when a base URL moved
    // (a new sign-in client fetches its provider's discovery again), mailboxes and polls as changed.
    let inForce = settings.current;
    settings.onChange(async (next) => {
      const moved = BASE_URL_SERVICES.filter((s) => baseUrlOf(inForce, s) !== baseUrlOf(next, s));
      if (moved.length > 0) clients = await buildNhsClients(next, deps, calls);
      await mesh.reconfigure(next.mesh.mailboxes);
      inForce = next;
      logger.info(
        { baseUrls: moved },
        'settings changed in the console: NHS clients and MESH mailboxes follow',
      );
    });
    const app = await buildApp(appOptions);
    await app.ready();
    calls.start();
    settings.start(deps.settingsRefreshMs);
    if (deps.startJobs !== false) {
      jobs.start();
      mesh.startPolling();
      checkpoints?.start();
    }
    let closing: Promise<void> | undefined;
    return {
      app,
      store,
      config,
      settings,
      dmd,
      jobs,
      mesh,
      close() {
        // Order matters: HTTP first (drains in-flight requests, which may still write audit records), then the store.
        closing ??= (async () => {
          settings.stop();
          mesh.stopPolling();
          checkpoints?.stop();
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

const BASE_URL_SERVICES = Object.keys(BASE_URL_SETTINGS) as BaseUrlService[];

/** A relying party that was configured at start; settings never remove one (client ids are the environment's). */
function current<T>(port: T | undefined): T {
  if (port === undefined) throw new Error('sign-in is no longer configured');
  return port;
}
