import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applicationRestrictedAuth } from '@junction/client';
import { createLocalApp, startJunction } from '../commands/start.js';
import { type LoadResult, runLoad } from './load.js';

const NHS_NUMBER = '9000000009';
const REQUESTS = 2_000;
const WARMUP_REQUESTS = 300;
const CONCURRENCY = 16;
const ROUNDS = 3;

/**
 * Hub-proxied PDS read (API-key check, PDS call through the SDK, audit write) against a direct read
 * of the same patient from the sandbox, with the same token mode, in the same process and run.
 * Rounds alternate the two targets so that drift in the machine hits both alike.
 */
export async function benchPdsRead(log: (line: string) => void): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'junction-bench-'));
  const app = createLocalApp();
  const junction = await startJunction({}, { port: 0, dataDir, localApp: app, logLevel: 'warn' });
  try {
    const auth = applicationRestrictedAuth({
      tokenUrl: `${junction.sandboxUrl}/oauth2/token`,
      apiKey: app.apiKey,
      kid: app.kid,
      privateKey: app.privateKeyPem,
    });
    const token = await auth.getAccessToken();
    const direct = {
      url: `${junction.pdsBaseUrl}/Patient/${NHS_NUMBER}`,
      headers: () => ({ authorization: `Bearer ${token}`, 'x-request-id': randomUUID() }),
    };
    const viaHub = {
      url: `${junction.hubUrl}/fhir/R4/Patient/${NHS_NUMBER}`,
      headers: () => ({ authorization: `Bearer ${junction.demoApiKey}` }),
    };
    for (const target of [direct, viaHub]) {
      await runLoad({ ...target, requests: WARMUP_REQUESTS, concurrency: CONCURRENCY, expectStatus: 200 });
    }
    const results: Record<'direct' | 'hub', LoadResult[]> = { direct: [], hub: [] };
    for (let round = 0; round < ROUNDS; round++) {
      results.direct.push(
        await runLoad({ ...direct, requests: REQUESTS, concurrency: CONCURRENCY, expectStatus: 200 }),
      );
      results.hub.push(
        await runLoad({ ...viaHub, requests: REQUESTS, concurrency: CONCURRENCY, expectStatus: 200 }),
      );
    }
    const d = combine(results.direct);
    const h = combine(results.hub);
    log(
      `PDS read of ${NHS_NUMBER}: ${ROUNDS} rounds × ${REQUESTS} requests, ${CONCURRENCY} in flight, SQLite store`,
    );
    log(row('target', 'req/s', 'p50 ms', 'p99 ms', 'failures'));
    log(
      row(
        'sandbox direct',
        d.requestsPerSecond.toFixed(0),
        d.p50Ms.toFixed(2),
        d.p99Ms.toFixed(2),
        String(d.failures),
      ),
    );
    log(
      row(
        'via hub',
        h.requestsPerSecond.toFixed(0),
        h.p50Ms.toFixed(2),
        h.p99Ms.toFixed(2),
        String(h.failures),
      ),
    );
    log(
      `ratio hub/direct: throughput ${(h.requestsPerSecond / d.requestsPerSecond).toFixed(2)}×, p50 ${(h.p50Ms / d.p50Ms).toFixed(2)}×, p99 ${(h.p99Ms / d.p99Ms).toFixed(2)}×`,
    );
    if (d.failures + h.failures > 0)
      throw new Error('some benchmark requests failed: the figures are not comparable');
  } finally {
    await junction.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Medians of per-round figures: one slow round should not decide the result. */
function combine(rounds: LoadResult[]): LoadResult {
  const median = (pick: (r: LoadResult) => number) => {
    const values = rounds.map(pick).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)] ?? Number.NaN;
  };
  return {
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    seconds: rounds.reduce((n, r) => n + r.seconds, 0),
    requestsPerSecond: median((r) => r.requestsPerSecond),
    p50Ms: median((r) => r.p50Ms),
    p99Ms: median((r) => r.p99Ms),
  };
}

function row(...cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(16) : c.padStart(9))).join(' ');
}
