import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

/*
 * Vitest global setup of the console's end-to-end project (run only when one of its tests is
 * queued): the hub serves `packages/console/dist`, so the bundle must exist and be newer than the
 * console's sources. A missing or stale bundle is built once here (`npm run build -w
 * @junction/console`) on a clean clone and after any edit. A failed build never stops the rest of
 * the run: the result is handed to the tests (`inject('consoleBundle')`), which fail with it.
 */

export interface ConsoleBundleStatus {
  ok: boolean;
  /** What was done: 'fresh' (nothing to do) or 'built' (with the time it took). */
  detail: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    consoleBundle: ConsoleBundleStatus;
  }
}

const CONSOLE_DIR = fileURLToPath(new URL('../', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** What the bundle is built from (tests, results and the bundle itself aside). */
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json', 'tsconfig.json'];
/** A vite build of the console takes seconds; far more means something hangs. */
const BUILD_TIMEOUT_MS = 240_000;

const SCREENSHOTS = join(CONSOLE_DIR, 'test-results', 'screenshots');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('consoleBundle', await ensureConsoleBundle());
  // This run's screenshots and axe results only: none left from an earlier run to mislead a reviewer.
  await rm(join(CONSOLE_DIR, 'test-results'), { recursive: true, force: true });
  // After the run: where a reviewer finds the screenshots (laptop and tablet width of every page).
  return async () => {
    if (!existsSync(SCREENSHOTS)) return;
    const shots = (await readdir(SCREENSHOTS)).filter((f) => f.endsWith('.png'));
    process.stdout.write(`\nconsole screenshots (${shots.length}): ${SCREENSHOTS}\n`);
  };
}

export async function ensureConsoleBundle(): Promise<ConsoleBundleStatus> {
  const index = join(CONSOLE_DIR, 'dist', 'index.html');
  const built = existsSync(index) ? (await stat(index)).mtimeMs : 0;
  const newest = await newestMtime(SOURCES.map((s) => join(CONSOLE_DIR, s)));
  if (built > 0 && built >= newest) return { ok: true, detail: 'fresh' };
  const started = Date.now();
  const { code, output } = await run('npm', ['run', 'build', '--workspace', '@junction/console']);
  if (code !== 0) {
    return {
      ok: false,
      detail: `the console bundle is ${built ? 'older than its sources' : 'missing'} and \`npm run build -w @junction/console\` failed (exit ${code}):\n${output.split('\n').slice(-40).join('\n')}`,
    };
  }
  return { ok: true, detail: `built in ${((Date.now() - started) / 1000).toFixed(1)} s` };
}

async function newestMtime(paths: string[]): Promise<number> {
  let newest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const info = await stat(path);
    if (info.isDirectory()) {
      const entries = await readdir(path, { recursive: true, withFileTypes: true });
      for (const entry of entries) {
        if (!entry.isFile()) continue;
        newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
      }
    } else {
      newest = Math.max(newest, info.mtimeMs);
    }
  }
  return newest;
}

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // Vitest sets NODE_ENV=test, and Vite would then bundle React's development build (StrictMode
    // effects run twice, no minification): the bundle under test must be the one users get.
    const env = { ...process.env, NODE_ENV: 'production' };
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), BUILD_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, output: String(error) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}
