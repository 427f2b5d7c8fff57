import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateDmdRelease } from '@junction/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestStore, testStores } from '../../../hub/src/testing/test-stores.js';
import { runCli } from '../program.js';
import { testRuntime } from '../test-runtime.js';

/*
 * A dm+d import killed mid-way: the built `junction` command is killed with SIGKILL
 * part-way through importing a second release; the first release must stay active and answer
 * exactly as before, and a later import must succeed. Runs the real binary (no signal handler,
 * no cleanup can run), so it needs `npm run build` first (CI runs `npm run typecheck`, which builds).
 */

const BIN = join(__dirname, '../../bin/junction.js');
const BUILT = join(__dirname, '../../dist/bin.js');

/** Moments to kill at: the progress line (one per file, printed once the file is part-stored). */
const KILL_POINTS = [
  { at: 'amp file', line: /\[5\/8\] f_amp2_/ },
  { at: 'vmpp file', line: /\[6\/8\] f_vmpp2_/ },
  { at: 'ampp file', line: /\[7\/8\] f_ampp2_/ },
] as const;

/** Typeahead prefixes whose molecules the synthetic vocabulary always has. */
const QUERIES = ['para', 'amox', 'metformin', 'insulin'];

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const rt = testRuntime();
  const code = await runCli(args, rt);
  return { code, out: rt.out(), err: rt.err() };
}

/** Everything a user sees of the active release: search results and a few concepts in full. */
async function observe(store: string[]): Promise<string[]> {
  const seen: string[] = [];
  const ids = new Set<string>();
  for (const q of QUERIES) {
    for (const type of ['VTM,VMP,AMP', 'AMPP']) {
      const r = await cli(['dmd', 'search', q, '--type', type, '--json', ...store]);
      expect(r.code, r.err).toBe(0);
      seen.push(r.out);
      for (const hit of JSON.parse(r.out).hits.slice(0, 2)) ids.add(hit.id);
    }
  }
  expect(ids.size).toBeGreaterThanOrEqual(8);
  for (const id of ids) {
    const r = await cli(['dmd', 'show', id, '--json', ...store]);
    expect(r.code, r.err).toBe(0);
    seen.push(r.out);
  }
  return seen;
}

/** Runs the built CLI and SIGKILLs it once its stderr matches `line`. */
function importAndKill(
  args: string[],
  line: RegExp,
): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (line.test(stderr)) child.kill('SIGKILL');
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

interface ReleaseRow {
  id: number;
  status: string;
  releaseDate: string | null;
}

async function releases(store: string[]): Promise<ReleaseRow[]> {
  const r = await cli(['dmd', 'releases', '--json', ...store]);
  return (JSON.parse(r.out) as ReleaseRow[]).map(({ id, status, releaseDate }) => ({
    id,
    status,
    releaseDate,
  }));
}

describe.each(await testStores())('kill -9 during `junction dmd import` ($dialect)', (factory) => {
  let t: TestStore;
  let store: string[];
  let first: string;
  let second: string;
  const temp: string[] = [];

  beforeAll(async () => {
    if (factory.skip) return;
    if (!existsSync(BUILT))
      throw new Error(
        `${BUILT} is missing: run \`npm run build\` (CI: \`npm run typecheck\`) before the tests`,
      );
    t = await factory.create();
    store = factory.dialect === 'sqlite' ? ['--data-dir', dirname(t.url)] : ['--database-url', t.url];
    first = await mkdtemp(join(tmpdir(), 'junction-dmd-first-'));
    second = await mkdtemp(join(tmpdir(), 'junction-dmd-second-'));
    temp.push(first, second);
    // A small first release; a second one large enough (~2 s to import) to be killed part-way.
    await generateDmdRelease({ seed: 1, scale: 0.005, outDir: first, releaseDate: '2025-11-03' });
    await generateDmdRelease({ seed: 2, scale: 0.08, outDir: second, releaseDate: '2025-11-10' });
  }, 120_000);
  afterAll(async () => {
    await t?.cleanup();
    for (const d of temp) await rm(d, { recursive: true, force: true });
  });
  const itDb = factory.skip ? it.skip : it;

  itDb(
    'keeps the first release active and unchanged through kills at three moments; a later import succeeds',
    async () => {
      // A pattern that never matches: this import runs to its end.
      const done = await importAndKill(['dmd', 'import', first, ...store], /(?!)/);
      expect([done.code, done.signal], done.stderr).toEqual([0, null]);
      const before = await observe(store);
      expect(await releases(store)).toEqual([{ id: 1, status: 'active', releaseDate: '2025-11-03' }]);

      for (const [i, point] of KILL_POINTS.entries()) {
        // After the first kill the dead import is still marked running: take over from it.
        const args = ['dmd', 'import', second, ...store, ...(i > 0 ? ['--take-over'] : [])];
        const killed = await importAndKill(args, point.line);
        expect([point.at, killed.signal], killed.stderr).toEqual([point.at, 'SIGKILL']);
        expect(await observe(store)).toEqual(before);
        const history = await releases(store);
        expect(history[0]).toEqual({ id: i + 2, status: 'importing', releaseDate: '2025-11-10' });
        expect(history.at(-1)).toEqual({ id: 1, status: 'active', releaseDate: '2025-11-03' });
        // Each take-over marked the previous dead import failed.
        expect(history.slice(1, -1).map((r) => r.status)).toEqual(history.slice(1, -1).map(() => 'failed'));
      }

      // Without --take-over the killed import still looks alive (its heartbeat is recent); the
      // refusal records nothing.
      const refused = await cli(['dmd', 'import', second, ...store]);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(
        /another import is in progress .* \(if that process was killed, run again with --take-over\); the active release \(1, 2025-11-03\) is unchanged\n$/,
      );
      expect(await observe(store)).toEqual(before);

      const next = await cli(['dmd', 'import', second, '--take-over', ...store]);
      expect(next.code, next.err).toBe(0);
      expect(next.out).toMatch(/^dm\+d release 5 \(2025-11-10\) is now active, replacing release 1;/);
      expect(await releases(store)).toEqual([
        { id: 5, status: 'active', releaseDate: '2025-11-10' },
        { id: 4, status: 'failed', releaseDate: '2025-11-10' },
        { id: 3, status: 'failed', releaseDate: '2025-11-10' },
        { id: 2, status: 'failed', releaseDate: '2025-11-10' },
        { id: 1, status: 'superseded', releaseDate: '2025-11-03' },
      ]);
      const now = await cli(['dmd', 'search', 'para', '--json', ...store]);
      expect(JSON.parse(now.out).release).toEqual({ id: 5, releaseDate: '2025-11-10' });
    },
    180_000,
  );
});
