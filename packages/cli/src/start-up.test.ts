import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The CLI loads a command's code only when that command runs: printing help, and the PDS and MESH
 * client commands, load neither the hub nor the sandbox nor any server or database library (they
 * took 1.5–2 s to load, before anything was printed). Runs the built CLI (`npm run build`, or CI's
 * `npm run typecheck`, first) with a module hook that records every module the process loads, ESM
 * and CommonJS alike (`module.registerHooks`, Node ≥ 22.15), and checks the list at exit.
 */

const BUILT = join(__dirname, '../dist/bin.js');

/** Loaded, these mean the command pulled in more than it needs: the hub, the sandbox, a server or store library. */
const HEAVY = [
  '/packages/hub/',
  '/packages/sandbox/',
  '/node_modules/fastify/',
  '/node_modules/better-sqlite3/',
  '/node_modules/kysely/',
  '/node_modules/pg/',
  '/node_modules/oidc-provider/',
  '/node_modules/pdfkit/',
  '/node_modules/zod/',
  // Sign-in libraries: a MESH command, or PDS without a token, needs neither.
  '/node_modules/jose/',
  '/node_modules/openid-client/',
];
/** The one hub module the help may load: the lists it shows, and what it loads. */
const ALLOWED = [
  '/packages/hub/dist/vocabulary.js',
  '/packages/hub/dist/access/api-keys.js',
  '/packages/hub/dist/access/policy.js',
  '/packages/hub/dist/access/proxy-relationships.js',
  '/packages/hub/dist/config/data-dir.js',
  '/packages/hub/dist/jobs/job-status.js',
];

/** Records every module URL the process loads, written to RECORD_MODULES_TO as it exits. */
const RECORDER = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const loaded = new Set();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => writeFileSync(process.env.RECORD_MODULES_TO, JSON.stringify([...loaded])));
`;

let dir: string;
let run = 0;

/** Runs `node dist/bin.js …args` and returns its exit code, output and the modules it loaded. */
async function modulesLoadedBy(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string; err: string; modules: string[] }> {
  const file = join(dir, `modules-${++run}.json`);
  const child = spawn(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(RECORDER)}`, BUILT, ...args],
    { env: { ...process.env, ...env, RECORD_MODULES_TO: file }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const modules = JSON.parse(await readFile(file, 'utf8')) as string[];
  return { code, out, err, modules };
}

/** A loopback port nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function heavyIn(modules: string[]): string[] {
  return modules.filter(
    (url) => HEAVY.some((part) => url.includes(part)) && !ALLOWED.some((part) => url.endsWith(part)),
  );
}

beforeAll(async () => {
  if (!existsSync(BUILT)) {
    throw new Error(
      `${BUILT} is missing: run \`npm run build\` (CI: \`npm run typecheck\`) before the tests`,
    );
  }
  dir = await mkdtemp(join(tmpdir(), 'junction-start-up-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('junction loads a command only to run it', () => {
  it.each([
    [['--help']],
    [['mesh', 'send', '--help']],
    [['mesh', 'inbox', '--help']],
    [['pds', 'get', '--help']],
    [['keys', 'list', '--help']],
    [['jobs', 'list', '--help']],
    [['start', '--help']],
  ])('junction %j prints help without loading the hub or the sandbox', async (args) => {
    const { code, out, modules } = await modulesLoadedBy(args);
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: junction/);
    // The recorder saw the CLI itself load: an empty list would prove nothing.
    expect(modules.some((url) => url.endsWith('/packages/cli/dist/program.js'))).toBe(true);
    expect(heavyIn(modules)).toEqual([]);
  });

  it('runs a PDS and a MESH client command without them (here against a data folder with no start)', async () => {
    const env = { JUNCTION_DATA_DIR: dir };
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const pds = await modulesLoadedBy(['pds', 'get', '9000000009', '--base-url', `${closed}/pds`], env);
    expect(pds.code).toBe(1);
    expect(pds.err).toBe(`junction: cannot reach PDS at ${closed}/pds (connection refused)\n`);
    expect(pds.modules.some((url) => url.includes('/packages/client/'))).toBe(true);
    expect(heavyIn(pds.modules)).toEqual([]);

    const mesh = await modulesLoadedBy(['mesh', 'inbox', '--mailbox', 'X26ABC2'], {
      ...env,
      JUNCTION_MESH_BASE_URL: closed,
    });
    expect(mesh.code).toBe(1);
    expect(mesh.err).toBe(`junction: cannot reach MESH at ${closed} (connection refused)\n`);
    expect(heavyIn(mesh.modules)).toEqual([]);
  });

  it('does load the hub for a command that needs it (so the check above can see it)', async () => {
    const { code, modules } = await modulesLoadedBy(['keys', 'list', '--data-dir', dir]);
    expect(code).toBe(0);
    expect(heavyIn(modules)).toContainEqual(expect.stringContaining('/packages/hub/dist/index.js'));
  });
});
