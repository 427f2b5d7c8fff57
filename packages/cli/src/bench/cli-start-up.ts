import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../bin.js');
const RUNS = 15;
const WARMUP_RUNS = 2;

/**
 * How long `junction` takes to start: whole processes (node's own start included), the median of
 * RUNS, against `node -e 0` measured in turn with them, so the ratio holds when the machine's speed
 * drifts. The client commands run against a port nothing listens on (MESH's first POST is never
 * retried), so what they time is start-up plus one refused connection.
 */
export async function benchCliStartUp(log: (line: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-bench-cli-'));
  try {
    const file = join(dir, 'small.txt');
    await writeFile(file, 'synthetic\n');
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const env = { ...process.env, JUNCTION_DATA_DIR: dir, JUNCTION_MESH_BASE_URL: closed };
    const commands: [string, string[]][] = [
      ['node -e 0 (baseline)', ['-e', '0']],
      ['junction --help', [BIN, '--help']],
      ['junction mesh send --help', [BIN, 'mesh', 'send', '--help']],
      ['junction pds get --help', [BIN, 'pds', 'get', '--help']],
      ['junction mesh send (refused)', [BIN, 'mesh', 'send', file, '--to', 'X26ABC2', '--workflow', 'TEST']],
    ];
    const times = new Map<string, number[]>(commands.map(([name]) => [name, []]));
    for (let run = 0; run < WARMUP_RUNS + RUNS; run++) {
      for (const [name, args] of commands) {
        const started = process.hrtime.bigint();
        spawnSync(process.execPath, args, { env, stdio: 'ignore' });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (run >= WARMUP_RUNS) times.get(name)?.push(ms);
      }
    }
    const baseline = median(times.get('node -e 0 (baseline)') ?? []);
    log(`CLI start-up: median of ${RUNS} whole processes each, in turn with the baseline`);
    log(`${'command'.padEnd(30)}${'ms'.padStart(8)}${'× node -e 0'.padStart(14)}`);
    for (const [name] of commands) {
      const ms = median(times.get(name) ?? []);
      log(`${name.padEnd(30)}${ms.toFixed(0).padStart(8)}${(ms / baseline).toFixed(1).padStart(14)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** A loopback port nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
