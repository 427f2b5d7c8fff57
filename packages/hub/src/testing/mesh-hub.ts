import type { MeshMailboxConfig } from '../config/load-config.js';
import { HubJobs } from '../jobs/hub-jobs.js';
import { type MeshPort, MeshService, type MeshServiceOptions } from '../mesh/mesh-service.js';
import type { Store } from '../store/database.js';

/** Test helper: the hub's MESH mailbox in the MESH tests (NHS mesh-sandbox's X26ABC1 credentials). */
export const HUB = 'X26ABC1';
export const PRACTICE = 'A12345HC001';
export const MAILBOX: MeshMailboxConfig = {
  mailboxId: HUB,
  password: 'password',
  sharedKey: 'TestKey',
  baseUrl: 'http://127.0.0.1:1',
  pollIntervalMs: 60_000,
};

/**
 * A hub "process" for MESH tests: its MeshService and job runner on `store` (call again for a new process after
 * a crash). `drain` runs due jobs until none is left, calling `tick` once per round (the test moves its clock 1 s
 * so retries and tracking come due).
 */
export function meshHubInstance(options: {
  store: Store;
  dataDir: string;
  port: (mailboxId: string) => MeshPort;
  now: () => Date;
  tick: () => void;
  mailbox?: Partial<MeshMailboxConfig>;
  inlineBodyMax?: number;
  leaseMs?: number;
  drainRounds: number;
}) {
  const { store, dataDir, now } = options;
  const serviceOptions: MeshServiceOptions = {
    store,
    dataDir,
    mailboxes: [{ ...MAILBOX, ...options.mailbox }],
    portFor: (m) => options.port(m.mailboxId),
    trackIntervalMs: 1_000,
    now,
    ...(options.inlineBodyMax !== undefined && { inlineBodyMax: options.inlineBodyMax }),
  };
  const service = new MeshService(serviceOptions);
  const jobs = new HubJobs(store, {
    now,
    logger: { warn: () => {}, error: () => {} },
    random: () => 0,
    backoff: { baseMs: 1, maxMs: 1 },
    ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
  });
  for (const [kind, handler] of Object.entries(service.jobHandlers)) jobs.register(kind, handler);
  async function drain(rounds = options.drainRounds) {
    for (let i = 0; i < rounds; i++) {
      const { claimed } = await jobs.runner.runOnce();
      options.tick();
      if (claimed === 0) break;
    }
  }
  return { service, jobs, drain };
}
