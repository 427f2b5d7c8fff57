import { Agent, request } from 'node:http';

export interface LoadResult {
  requests: number;
  failures: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadOptions {
  url: string;
  /** Headers for each request; a function so ids can be fresh per request. */
  headers: () => Record<string, string>;
  requests: number;
  concurrency: number;
  expectStatus: number;
}

/**
 * Sends `requests` GETs with `concurrency` in flight over keep-alive connections and measures each.
 * Plain `node:http` rather than fetch: the load generator's own cost should be small and equal for
 * every target, so that the ratio between targets is about the servers.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latenciesMs: number[] = [];
  let failures = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < options.requests) {
      next++;
      const t0 = process.hrtime.bigint();
      const status = await get(options.url, options.headers(), agent);
      latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (status !== options.expectStatus) failures++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latenciesMs.sort((a, b) => a - b);
  return {
    requests: latenciesMs.length,
    failures,
    seconds,
    requestsPerSecond: latenciesMs.length / seconds,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
  };
}

function get(url: string, headers: Record<string, string>, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}
