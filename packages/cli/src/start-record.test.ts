import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { START_RECORD_FILE, type StartRecord } from './start-record.js';
import { testRuntime } from './test-runtime.js';

/*
 * The client commands find the `junction start` that is running (the ports it chose, recorded in its
 * data folder) instead of assuming 8080/8081: `junction pds get 9000000009` and `junction mesh inbox
 * --mailbox X26ABC2` work with no other flag than the data folder (./data when run from the checkout,
 * as a new user does), flags and JUNCTION_* variables still win, and a record left by a dead start is
 * ignored, saying so.
 */

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const rt = testRuntime(env);
  const code = await runCli(args, rt);
  return { code, out: rt.out(), err: rt.err() };
}

/** A loopback port nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The pid of a process that has exited (so no process has it, barring reuse within the test). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

describe('commands find the running junction start through its data folder', () => {
  let dataDir: string;
  let hubUrl: string;
  let sandboxUrl: string;
  let startOut: string;
  const start = testRuntime();
  let exited: Promise<number>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-start-record-'));
    exited = runCli(['start', '--port', '0', '--data-dir', dataDir], start);
    const out = await Promise.race([
      start.printed('Press Ctrl+C'),
      exited.then((code) => `exited ${code}: ${start.err()}`),
    ]);
    startOut = out;
    hubUrl = /hub:\s+(\S+)/.exec(out)?.[1] ?? '';
    sandboxUrl = /sandbox:\s+(\S+)/.exec(out)?.[1] ?? '';
    expect(sandboxUrl, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  }, 120_000);

  afterAll(async () => {
    start.stop();
    expect(await exited).toBe(0);
    // Stopped: the record is gone, so no command follows it to ports that are closed now.
    expect(existsSync(join(dataDir, START_RECORD_FILE))).toBe(false);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('records the ports it chose, readable by its owner only (it holds the sandbox app key)', async () => {
    const path = join(dataDir, START_RECORD_FILE);
    expect(startOut).toContain(`The junction pds, mesh and login commands find this run in ${path}.`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const record = JSON.parse(await readFile(path, 'utf8')) as StartRecord;
    expect(record).toMatchObject({
      pid: process.pid,
      hubUrl,
      sandboxUrl,
      pdsBaseUrl: `${sandboxUrl}/personal-demographics/FHIR/R4`,
      meshBaseUrl: sandboxUrl,
      sandboxApp: { tokenUrl: `${sandboxUrl}/oauth2/token`, apiKey: 'junction-local-cli' },
    });
    expect(record.sandboxApp?.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('pds get 9000000009 reads the sandbox PDS, signed in as the recorded app (the PDS wants a token)', async () => {
    const run = await cli(['pds', 'get', '9000000009', '--data-dir', dataDir]);
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ resourceType: 'Patient', id: '9000000009' });
    // The same folder named by JUNCTION_DATA_DIR, as the hub reads it.
    const byEnv = await cli(
      ['pds', 'search', '--family', 'Smith', '--gender', 'female', '--birthdate', 'eq2010-10-22'],
      { JUNCTION_DATA_DIR: dataDir },
    );
    expect(byEnv.code, byEnv.err).toBe(0);
    expect(JSON.parse(byEnv.out)).toMatchObject({ resourceType: 'Bundle' });
  });

  it('mesh inbox --mailbox X26ABC2 lists the inbox of the sandbox MESH', async () => {
    const run = await cli(['mesh', 'inbox', '--mailbox', 'X26ABC2', '--json', '--data-dir', dataDir]);
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ mailboxId: 'X26ABC2', messages: expect.any(Array) });
  });

  it('login signs in at the recorded hub', async () => {
    const run = await cli([
      'login',
      '--provider',
      'nhs-login',
      '--user',
      '9000000009',
      '--data-dir',
      dataDir,
    ]);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/identity:\s+patient, NHS number 9000000009/);
  });

  it('an explicit --base-url or JUNCTION_MESH_BASE_URL wins over the record, and errors name the URL tried', async () => {
    const port = await closedPort();
    const pds = await cli([
      'pds',
      'get',
      '9000000009',
      '--base-url',
      `http://127.0.0.1:${port}/pds`,
      '--data-dir',
      dataDir,
    ]);
    expect(pds.code).toBe(1);
    expect(pds.err).toBe(`junction: cannot reach PDS at http://127.0.0.1:${port}/pds (connection refused)\n`);
    const mesh = await cli(['mesh', 'inbox', '--mailbox', 'X26ABC2', '--data-dir', dataDir], {
      JUNCTION_MESH_BASE_URL: `http://127.0.0.1:${port}`,
    });
    expect(mesh.code).toBe(1);
    expect(mesh.err).toBe(`junction: cannot reach MESH at http://127.0.0.1:${port} (connection refused)\n`);
  });
});

describe('a record that does not lead to a running junction start', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-start-record-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const record = (pid: number, sandboxUrl: string): StartRecord => ({
    pid,
    startedAt: new Date().toISOString(),
    hubUrl: sandboxUrl,
    sandboxUrl,
    pdsBaseUrl: `${sandboxUrl}/personal-demographics/FHIR/R4`,
    meshBaseUrl: sandboxUrl,
  });

  it('names the URL it tried and the record it followed', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const path = join(dataDir, START_RECORD_FILE);
    await writeFile(path, JSON.stringify(record(process.pid, url)));
    const pds = await cli(['pds', 'get', '9000000009', '--data-dir', dataDir]);
    expect(pds.code).toBe(1);
    expect(pds.err).toBe(
      `junction: cannot reach the sandbox's PDS at ${url}/personal-demographics/FHIR/R4 (connection refused) — ` +
        `is junction start running? (as recorded in ${path} by junction start, pid ${process.pid})\n`,
    );
    const mesh = await cli(['mesh', 'inbox', '--mailbox', 'X26ABC2', '--data-dir', dataDir]);
    expect(mesh.code).toBe(1);
    expect(mesh.err).toContain(`junction: cannot reach the sandbox's MESH at ${url} (connection refused)`);
  });

  it("ignores a record whose process has died, and says so; start's default port is tried then", async () => {
    const pid = await deadPid();
    const path = join(dataDir, START_RECORD_FILE);
    await writeFile(path, JSON.stringify(record(pid, `http://127.0.0.1:${await closedPort()}`)));
    // Whatever listens on 8081 here (another start, or nothing), the stale record is not followed.
    const mesh = await cli(['mesh', 'track', 'X', '--mailbox', 'X26ABC2', '--data-dir', dataDir]);
    expect(mesh.err).toContain(
      `junction: ignoring ${path}: the junction start that wrote it (pid ${pid}) is no longer running\n`,
    );
    expect(mesh.err).not.toContain('as recorded in');
  });
});
