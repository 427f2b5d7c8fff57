import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { type FakePds, fakePds } from './fake-pds.js';
import type { TestStore, TestStoreFactory } from './test-stores.js';

/** A hub under test with the parts tests look into. */
export interface TestHub {
  t: TestStore;
  hub: Hub;
  pds: FakePds;
  /** Every log line, at debug level, so tests can check that no patient data is logged. */
  logs: string[];
}

/**
 * Test helper (not exported from the package): a hub on a fresh store from `factory`, with a fake
 * PDS and a fixed clock. The caller closes `hub` and cleans up `t`.
 */
export async function startTestHub(factory: TestStoreFactory, now: Date): Promise<TestHub> {
  const t = await factory.create();
  const pds = fakePds();
  const logs: string[] = [];
  try {
    const hub = await createHub(loadConfig({}, { logLevel: 'debug' }), {
      store: t.store,
      pds,
      now: () => now,
      logDestination: { write: (line: string) => void logs.push(line) },
    });
    return { t, hub, pds, logs };
  } catch (error) {
    await t.cleanup();
    throw error;
  }
}
