import { readFile } from 'node:fs/promises';
import { applicationRestrictedAuth, PdsClient, type PdsClientOptions } from '@junction/client';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { buildApp } from './api/build-app.js';
import type { HubConfig } from './config/load-config.js';
import type { PdsPort } from './journeys/patient-lookup.js';
import { createLogger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import type { Store } from './store/database.js';
import { openStore } from './store/open-store.js';

export interface HubDeps {
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
}

export interface Hub {
  app: FastifyInstance;
  store: Store;
  config: HubConfig;
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
    const pds = deps.pds ?? (await defaultPdsClient(config, deps));
    const metrics = createMetrics();
    const app = await buildApp({ store, pds, metrics, logger, now });
    await app.ready();
    let closing: Promise<void> | undefined;
    return {
      app,
      store,
      config,
      close() {
        // Order matters: HTTP first (drains in-flight requests, which may still write audit records), then the store.
        closing ??= (async () => {
          await app.close();
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

async function defaultPdsClient(config: HubConfig, deps: HubDeps): Promise<PdsClient> {
  const options: PdsClientOptions = { baseUrl: config.pds.baseUrl };
  if (deps.fetch) options.fetch = deps.fetch;
  if (deps.now) options.now = deps.now;
  const a = config.apiPlatform;
  if (a.apiKey !== undefined && a.keyId !== undefined) {
    let privateKey = a.privateKeyPem;
    if (privateKey === undefined && a.privateKeyPath !== undefined) {
      try {
        privateKey = await readFile(a.privateKeyPath, 'utf8');
      } catch (error) {
        throw new Error(
          `cannot read JUNCTION_NHS_PRIVATE_KEY_PATH (${a.privateKeyPath}): ${(error as Error).message}`,
        );
      }
    }
    if (privateKey !== undefined) {
      const authOptions: Parameters<typeof applicationRestrictedAuth>[0] = {
        tokenUrl: a.tokenUrl,
        apiKey: a.apiKey,
        privateKey,
        kid: a.keyId,
      };
      if (deps.fetch) authOptions.fetch = deps.fetch;
      if (deps.now) authOptions.now = deps.now;
      options.auth = applicationRestrictedAuth(authOptions);
    }
  }
  return new PdsClient(options);
}
