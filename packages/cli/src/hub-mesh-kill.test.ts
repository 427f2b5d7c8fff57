import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshClient } from '@junction/client';
import { createSandboxServer } from '@junction/sandbox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestStore, testStores } from '../../hub/src/testing/test-stores.js';

/*
 * Never sent twice, with real SIGKILLs: a hub process (the built `@junction/hub`, its JobRunner and
 * MeshClient against the sandbox MESH) is killed with SIGKILL at chosen and at random moments of a
 * `mesh.send` job, again and again, each next process taking over the job once the dead one's lease
 * runs out. Whatever the moment, the recipient's inbox ends with exactly one copy of the message,
 * and the log names it. Needs `npm run build` (CI: `npm run typecheck`) first.
 */

const HUB_DIST = join(__dirname, '../../hub/dist/index.js');
const CHILD = `
import { createHub, loadConfig, meshClientFor } from '@junction/hub';
const env = process.env;
const config = loadConfig(env, { logLevel: 'silent' });
const killAfterPost = env.KILL_AFTER_POST === '1';
// Chunked runs: MESH_CHUNK_SIZE bytes per chunk, a body of BODY_LINES numbered lines.
const chunkSize = env.MESH_CHUNK_SIZE ? Number(env.MESH_CHUNK_SIZE) : undefined;
const body = env.BODY_LINES
  ? Array.from({ length: Number(env.BODY_LINES) }, (_, i) => 'synthetic reading ' + env.RUN + ' ' + i + '\\n').join('')
  : 'synthetic readings ' + env.RUN;
const hub = await createHub(config, {
  jobRunner: { leaseMs: 400, renewEveryMs: 100, pollMs: 20, backoff: { baseMs: 1, maxMs: 20 } },
  meshPortFor: (m) => {
    const port = meshClientFor(m, chunkSize === undefined ? {} : { chunkSize });
    const send = port.send.bind(port);
    port.send = async (req, ctx) => {
      const result = await send(req, ctx);
      // SIGKILL right after MESH accepted the POST, before the hub records the message id.
      if (killAfterPost) process.kill(process.pid, 'SIGKILL');
      return result;
    };
    return port;
  },
});
hub.mesh.events.on('message', (e) => {
  process.stderr.write(e.event + '\\n');
  if (e.event === 'delivered' || e.event === 'failed') hub.close().then(() => process.exit(0));
});
const { messageLogId } = await hub.mesh.send({
  mailboxId: 'X26ABC1', to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body,
  correlationId: 'kill-' + env.RUN, idempotencyKey: 'kill-' + env.RUN, localId: 'kill-' + env.RUN,
});
process.stderr.write('queued ' + messageLogId + '\\n');
const { getMeshMessage } = await import('@junction/hub');
const current = await getMeshMessage(hub.store, messageLogId);
if (current && ['delivered', 'acknowledged', 'failed'].includes(current.status)) {
  await hub.close();
  process.exit(0);
}
`;

let sandbox: FastifyInstance;
let baseUrl: string;

beforeAll(async () => {
  if (!existsSync(HUB_DIST)) {
    throw new Error(
      `${HUB_DIST} is missing: run \`npm run build\` (CI: \`npm run typecheck\`) before the tests`,
    );
  }
  sandbox = await createSandboxServer({ pds: { syntheticPatients: 0 }, mesh: { admin: true } });
  await sandbox.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(sandbox.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sandbox?.close();
});

/** Runs one hub process; SIGKILLs it `killDelayMs` after it logs `killOn` (never when undefined). */
function hubProcess(
  env: Record<string, string>,
  kill?: { on: string; delayMs: number },
): Promise<{ signal: NodeJS.Signals | null; code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: join(__dirname, '..'),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const lines: string[] = [];
    let buffer = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (kill && line.split(' ')[0] === kill.on) setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, lines: buffer ? [...lines, buffer] : lines });
    });
  });
}

async function copiesInInbox(localId: string): Promise<number> {
  const practice = new MeshClient({
    baseUrl,
    mailboxId: 'X26ABC2',
    password: 'password',
    sharedKey: 'TestKey',
  });
  let n = 0;
  try {
    for await (const id of practice.inbox({ workflowFilter: 'TEST_WORKFLOW' })) {
      if (!/^\d{20}_/.test(id)) continue;
      const { metadata, body } = await practice.receive(id);
      body.destroy();
      if (metadata.localId === localId) n++;
    }
  } finally {
    await practice.close();
  }
  return n;
}

/** The content of every copy of the message with this local id in X26ABC2's inbox. */
async function contentsInInbox(localId: string): Promise<string[]> {
  const practice = new MeshClient({
    baseUrl,
    mailboxId: 'X26ABC2',
    password: 'password',
    sharedKey: 'TestKey',
  });
  const out: string[] = [];
  try {
    for await (const id of practice.inbox({ workflowFilter: 'TEST_WORKFLOW' })) {
      if (!/^\d{20}_/.test(id)) continue;
      const { metadata, body } = await practice.receive(id);
      if (metadata.localId !== localId) {
        body.destroy();
        continue;
      }
      out.push(Buffer.concat(await body.toArray()).toString('utf8'));
    }
  } finally {
    await practice.close();
  }
  return out;
}

describe.each(await testStores())('mesh.send under SIGKILL on $dialect', (factory) => {
  let t: TestStore;
  let dataDir: string;

  beforeAll(async () => {
    if (factory.skip) return;
    t = await factory.create();
    dataDir = await mkdtemp(join(tmpdir(), 'junction-mesh-kill-'));
  });
  afterAll(async () => {
    await t?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  // Local ids are unique per sending mailbox in MESH: the runs of each database have their own.
  const envFor = (run: string, extra: Record<string, string> = {}) => ({
    RUN: `${factory.dialect}-${run}`,
    JUNCTION_DATA_DIR: dataDir,
    JUNCTION_DATABASE_URL: t.url,
    JUNCTION_MESH_MAILBOXES: JSON.stringify([
      { mailboxId: 'X26ABC1', password: 'password', sharedKey: 'TestKey', baseUrl, pollIntervalMs: 60_000 },
    ]),
    JUNCTION_MESH_TRACK_INTERVAL_MS: '100',
    ...extra,
  });

  /** Kills hub processes as told, then lets one run to the end; returns the message's history. */
  async function runToEnd(
    run: string,
    kills: Array<{ on: string; delayMs: number } | 'after-post'>,
    extra: Record<string, string> = {},
  ) {
    for (const kill of kills) {
      const result =
        kill === 'after-post'
          ? await hubProcess(envFor(run, { ...extra, KILL_AFTER_POST: '1' }))
          : await hubProcess(envFor(run, extra), kill);
      expect(result.signal === 'SIGKILL' || result.code === 0, result.lines.join('|')).toBe(true);
    }
    const last = await hubProcess(envFor(run, extra));
    expect(last.code, last.lines.join('|')).toBe(0);
    const row = await t.store.db
      .selectFrom('mesh_messages')
      .select(['id', 'status', 'mesh_message_id'])
      .where('idempotency_key', '=', `kill-${factory.dialect}-${run}`)
      .executeTakeFirstOrThrow();
    const events = await t.store.db
      .selectFrom('mesh_message_events')
      .select('event')
      .where('message_id', '=', row.id)
      .orderBy('id')
      .execute();
    const details = await t.store.db
      .selectFrom('mesh_message_events')
      .select('detail')
      .where('message_id', '=', row.id)
      .where('event', '=', 'chunk-sent')
      .orderBy('id')
      .execute();
    return {
      row,
      events: events.map((e) => e.event),
      chunkEvents: details.map((e) => (e.detail ?? '').split(',')[0] ?? ''),
    };
  }

  it('killed right after MESH accepted the POST: the next process finds it by mex-LocalID, one copy', async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    const { row, events } = await runToEnd('post', ['after-post', 'after-post']);
    expect(row.status).toBe('delivered');
    expect(events).toContain('found-by-local-id');
    expect(events.filter((e) => e === 'sent')).toEqual([]);
    expect(await copiesInInbox(`kill-${factory.dialect}-post`)).toBe(1);
  }, 60_000);

  it('killed at random moments around the send, many times: always exactly one copy', async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    for (let run = 0; run < 5; run++) {
      // Deterministic spread of moments: before, during and after the POST of each run.
      const kills = [0, 1].map((k) => ({
        on: k === 0 ? 'queued' : 'sending',
        delayMs: (run * 7 + k * 5) % 30,
      }));
      const { row } = await runToEnd(`random-${run}`, kills);
      expect(['delivered', 'acknowledged']).toContain(row.status);
      expect(await copiesInInbox(`kill-${factory.dialect}-random-${run}`), `run ${run}`).toBe(1);
    }
  }, 180_000);

  it('a chunked message (over 10 chunks of 1 KiB) killed mid-upload again and again: resumed, one complete copy, every chunk recorded once', async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    const lines = 400;
    const chunked = { MESH_CHUNK_SIZE: '1024', BODY_LINES: String(lines) };
    const resumptions: number[] = [];
    for (let run = 0; run < 3; run++) {
      const name = `chunked-${run}`;
      const expected = Array.from(
        { length: lines },
        (_, i) => `synthetic reading ${factory.dialect}-${name} ${i}\n`,
      ).join('');
      const chunks = Math.ceil(Buffer.byteLength(expected) / 1024);
      expect(chunks).toBeGreaterThan(10);
      // Killed while chunks are going up: at the first accepted chunk, then a few chunks into each resumption.
      const kills = [0, 1, 2].map((k) => ({
        on: k === 0 ? 'chunk-sent' : 'resuming',
        delayMs: (run * 11 + k * 7) % 25,
      }));
      const { row, events, chunkEvents } = await runToEnd(name, kills, chunked);
      expect(['delivered', 'acknowledged'], events.join(' ')).toContain(row.status);
      expect(chunkEvents, events.join(' ')).toEqual(
        Array.from({ length: chunks }, (_, i) => `chunk ${i + 1}/${chunks} sent`),
      );
      const copies = await contentsInInbox(`kill-${factory.dialect}-${name}`);
      expect(copies, `run ${run}: ${events.join(' ')}`).toHaveLength(1);
      expect(copies[0] === expected, `run ${run}: content differs`).toBe(true);
      resumptions.push(events.filter((e) => e === 'resuming').length);
    }
    // The kills landed mid-upload: uploads were resumed, not restarted (no second MESH message above).
    expect(
      resumptions.reduce((a, b) => a + b, 0),
      resumptions.join(','),
    ).toBeGreaterThan(0);
  }, 180_000);
});
