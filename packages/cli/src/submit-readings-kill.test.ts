import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshClient } from '@junction/client';
import { createApiKey, verifyAuditChain } from '@junction/hub';
import { createSandboxServer } from '@junction/sandbox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestStore, testStores } from '../../hub/src/testing/test-stores.js';

/*
 * Proves that killing the hub (`kill -9`) at random points of a submission, over many runs
 * in a test, never loses a submission and never delivers one twice to the practice's inbox.
 *
 * The sandbox (PDS: 9000000009 is registered at Y12345; MESH: the practice mailbox Y12345HC001 takes
 * GPFED_CONSULT_REPORT) runs in this process. The hub is a child process running the BUILT
 * `@junction/hub` (its HTTP API, job runner and MeshClient as mailbox X26ABC1), on SQLite and on
 * PostgreSQL. A product POSTs readings (POST /fhir/R4/Observation, each with its own
 * Idempotency-Key); the hub is SIGKILLed at one point per run, chosen with a seeded PRNG:
 * - during the POST, before its transaction (after the MESH endpoint lookup,
 *   mesh-api.yaml get_receiving_mailbox_ids);
 * - during the POST, after its commit, as the 202 is written (the product gets no answer);
 * - in the mesh.send job, before the POST to MESH (mesh-api.yaml send_message) and right after MESH
 *   accepted it (before the hub records the message id);
 * - after `sent` is recorded, before tracking (tracking_by_message_id); after tracking answered;
 * - after the message log says delivered, before the submission's durable status job;
 * - at a random time after the POSTs start (during the POST, after the 202, during the send…).
 * Each next process takes over the dead one's jobs once their lease runs out; a POST that got no
 * answer is repeated with the same Idempotency-Key, as a real product would. A last process runs
 * to quiescence. Then every submission exists once, is delivered (or later), the practice inbox
 * (list_messages, retrieve_message) holds exactly one message per submission (matched by
 * mex-LocalID = the submission id, and its readings in the ITK3 XML), and the audit chain verifies.
 *
 * The seed is printed; JUNCTION_KILL_SEED=<seed> replays the same kill plan.
 * Needs `npm run build` (CI: `npm run typecheck`) first.
 */

const HUB_DIST = join(__dirname, '../../hub/dist/index.js');
const PRACTICE_MAILBOX = 'Y12345HC001';
const NHS_NUMBER = '9000000009';
const SUBMISSIONS = 10;
/** Kill points the child process takes itself down at (the n-th time it passes one). */
const CHILD_POINTS = [
  'lookup',
  'reply-202',
  'mesh-send-before',
  'mesh-send-after',
  'sent',
  'track-after',
  'delivered-logged',
] as const;
/** Kills the test process makes after a random delay from the start of the POSTs. */
const TIMED_POINTS = { 'random-early': [0, 400], 'random-late': [300, 1_500] } as const;
type KillPoint = (typeof CHILD_POINTS)[number] | keyof typeof TIMED_POINTS;
/** When a child has not reached its kill point by then (nothing passed it), the test kills it. */
const FALLBACK_KILL_MS = 4_000;
const START_TIMEOUT_MS = 20_000;
const POST_TIMEOUT_MS = 10_000;
const SETTLE_TIMEOUT_MS = 30_000;

const SEED = Number(process.env.JUNCTION_KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded PRNG, so a kill plan can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const CHILD = `
import { createHub, loadConfig, meshClientFor } from '@junction/hub';
const env = process.env;
const killAt = env.KILL_AT ?? '';
const killNth = Number(env.KILL_NTH ?? '1');
const passed = new Map();
const log = (line) => process.stderr.write(line + '\\n');
/** Passing a kill point: SIGKILL on the chosen one's n-th pass (stderr is a pipe: written synchronously). */
function at(point, detail) {
  const n = (passed.get(point) ?? 0) + 1;
  passed.set(point, n);
  if (point === killAt && n === killNth) {
    log('kill ' + point + ' #' + n + ' ' + (detail ?? ''));
    process.kill(process.pid, 'SIGKILL');
  }
}
try {
  const config = loadConfig(env, { logLevel: 'silent', host: '127.0.0.1', port: 0 });
  const hub = await createHub(config, {
    jobRunner: { leaseMs: 400, renewEveryMs: 100, pollMs: 20, backoff: { baseMs: 1, maxMs: 20 } },
    meshPortFor: (m) => {
      const port = meshClientFor(m);
      const send = port.send.bind(port);
      port.send = async (req, ctx) => {
        at('mesh-send-before', req.localId);
        const result = await send(req, ctx);
        at('mesh-send-after', req.localId);
        return result;
      };
      const track = port.track.bind(port);
      port.track = async (id, ctx) => {
        const result = await track(id, ctx);
        at('track-after', id);
        return result;
      };
      return port;
    },
    meshLookupFor: (m) => {
      const client = meshClientFor(m);
      const lookup = client.endpointLookup.bind(client);
      client.endpointLookup = async (...args) => {
        const result = await lookup(...args);
        at('lookup', args[0]);
        return result;
      };
      return client;
    },
  });
  hub.mesh.events.on('message', (e) => {
    log('event ' + e.event + ' ' + (e.message.localId ?? e.message.id));
    if (e.event === 'sent' || e.event === 'found-by-local-id') at('sent');
    if (e.event === 'delivered') at('delivered-logged');
  });
  // The submission is committed (and audited) by the time its 202 is written.
  hub.app.server.on('request', (_req, res) => {
    const writeHead = res.writeHead.bind(res);
    res.writeHead = (...args) => {
      if (args[0] === 202) at('reply-202');
      return writeHead(...args);
    };
  });
  process.on('SIGTERM', () => {
    hub.close().then(
      () => process.exit(0),
      (error) => { log('close failed ' + error); process.exit(1); },
    );
  });
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  log('listening ' + hub.app.server.address().port);
} catch (error) {
  log('start failed ' + (error && error.stack ? error.stack : error));
  process.exit(2);
}
`;

interface HubChild {
  /** Undefined when it reached its kill point before listening (its job runner starts first). */
  port: number | undefined;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
  terminate(): void;
}

const children = new Set<ChildProcessWithoutNullStreams>();

/** Starts a hub process; resolves once it listens (its port), rejects if it dies or hangs first. */
function startHub(env: Record<string, string>): Promise<HubChild> {
  // The hub's config comes from JUNCTION_* only: none from the developer's shell.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JUNCTION_')));
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: join(__dirname, '..'),
    env: { ...base, ...env },
    stdio: ['pipe', 'ignore', 'pipe'],
  }) as unknown as ChildProcessWithoutNullStreams;
  children.add(child);
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hub process did not listen within ${START_TIMEOUT_MS} ms: ${lines.join(' | ')}`));
    }, START_TIMEOUT_MS);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        const m = /^listening (\d+)$/.exec(line);
        if (m && !started) {
          started = true;
          clearTimeout(timer);
          resolve({
            port: Number(m[1]),
            lines,
            exited,
            kill: () => child.kill('SIGKILL'),
            terminate: () => child.kill('SIGTERM'),
          });
        }
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then(({ code, signal }) => {
      if (started) return;
      clearTimeout(timer);
      if (signal === 'SIGKILL' && lines.some((l) => l.startsWith('kill '))) {
        // Killed at its point while taking over an earlier process's jobs, before it listened.
        resolve({ port: undefined, lines, exited, kill: () => {}, terminate: () => {} });
        return;
      }
      reject(new Error(`hub process exited (${signal ?? code}) before listening: ${lines.join(' | ')}`));
    });
  });
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** A blood pressure reading (vital-signs panel) for the sandbox patient; its values tell submissions apart. */
function reading(index: number): { body: string; values: string } {
  const systolic = 110 + index;
  const diastolic = 70 + index;
  const body = JSON.stringify({
    resourceType: 'Observation',
    status: 'final',
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' },
        ],
      },
    ],
    code: {
      coding: [
        { system: 'http://loinc.org', code: '85354-9' },
        { system: 'http://snomed.info/sct', code: '75367002' },
      ],
    },
    subject: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS_NUMBER } },
    effectiveDateTime: new Date(Date.now() - 60_000 * (index + 1)).toISOString().replace('Z', '+00:00'),
    component: [
      {
        code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
        valueQuantity: { value: systolic, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
      },
      {
        code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
        valueQuantity: {
          value: diastolic,
          unit: 'mmHg',
          system: 'http://unitsofmeasure.org',
          code: 'mm[Hg]',
        },
      },
    ],
  });
  return { body, values: `${systolic}/${diastolic}` };
}

interface Submission {
  index: number;
  idempotencyKey: string;
  body: string;
  values: string;
  /** Ids from every answered POST of this key (all must be the same). */
  answers: string[];
}

describe.each(await testStores())(
  'submitting readings under SIGKILL (built hub + sandbox MESH) on $dialect',
  (factory) => {
    let t: TestStore;
    let dataDir: string;
    let sandbox: FastifyInstance;
    let sandboxUrl: string;
    let apiKey: string;
    let apiKeyId: string;

    beforeAll(async () => {
      if (factory.skip) return;
      if (!existsSync(HUB_DIST)) {
        throw new Error(
          `${HUB_DIST} is missing: run \`npm run build\` (CI: \`npm run typecheck\`) before the tests`,
        );
      }
      t = await factory.create();
      dataDir = await mkdtemp(join(tmpdir(), 'junction-submit-kill-'));
      // One sandbox per database: the practice inbox then holds only this database's messages.
      sandbox = await createSandboxServer({ pds: { syntheticPatients: 0 }, mesh: { admin: true } });
      await sandbox.listen({ port: 0, host: '127.0.0.1' });
      sandboxUrl = `http://127.0.0.1:${(sandbox.server.address() as AddressInfo).port}`;
      const key = await createApiKey(t.store, {
        name: 'bp-app (kill test)',
        scopes: ['readings:submit', 'readings:read'],
      });
      apiKey = key.secret;
      apiKeyId = key.id;
    });
    afterAll(async () => {
      for (const child of children) child.kill('SIGKILL');
      await sandbox?.close();
      await t?.cleanup();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    const envFor = (kill?: { at: KillPoint; nth: number }): Record<string, string> => ({
      JUNCTION_NHS_ENVIRONMENT: 'sandbox',
      JUNCTION_PDS_BASE_URL: `${sandboxUrl}/personal-demographics/FHIR/R4`,
      JUNCTION_TOKEN_URL: `${sandboxUrl}/oauth2/token`,
      JUNCTION_DATA_DIR: dataDir,
      JUNCTION_DATABASE_URL: t.url,
      // As `junction start`: the hub's mailbox X26ABC1 on the sandbox (it collects the ITK3 responses).
      JUNCTION_MESH_MAILBOXES: JSON.stringify([
        {
          mailboxId: 'X26ABC1',
          password: 'password',
          sharedKey: 'TestKey',
          baseUrl: sandboxUrl,
          pollIntervalMs: 60_000,
        },
      ]),
      JUNCTION_MESH_TRACK_INTERVAL_MS: '100',
      ...(kill && { KILL_AT: kill.at, KILL_NTH: String(kill.nth) }),
    });

    /** POST /fhir/R4/Observation with the submission's key; the id answered, or undefined when no answer came. */
    async function post(port: number, s: Submission): Promise<string | undefined> {
      let res: Response;
      let text: string;
      try {
        res = await fetch(`http://127.0.0.1:${port}/fhir/R4/Observation`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': 'application/fhir+json',
            'idempotency-key': s.idempotencyKey,
          },
          body: s.body,
          signal: AbortSignal.timeout(POST_TIMEOUT_MS),
        });
        text = await res.text();
      } catch {
        return undefined; // the hub died before answering (or while answering): the product repeats
      }
      if (res.status !== 202 && res.status !== 200) {
        throw new Error(`seed ${SEED}: POST for submission ${s.index} answered ${res.status}: ${text}`);
      }
      const id = (JSON.parse(text) as { id: string }).id;
      s.answers.push(id);
      return id;
    }

    const answered = (s: Submission) => s.answers.length > 0;

    it('kill -9 at random points of many submissions: none lost, none twice in the practice inbox, audit chain intact', async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      const seed = SEED + (factory.dialect === 'postgres' ? 1 : 0);
      const random = prng(seed);
      console.log(
        `[submit-readings-kill ${factory.dialect}] seed ${seed} (replay: JUNCTION_KILL_SEED=${SEED})`,
      );
      const submissions: Submission[] = Array.from({ length: SUBMISSIONS }, (_, index) => ({
        index,
        idempotencyKey: `kill-${randomUUID()}`,
        ...reading(index),
        answers: [],
      }));
      // Every kill point once per database, in a seeded order; each run brings new submissions.
      const plan: KillPoint[] = [...CHILD_POINTS, ...(Object.keys(TIMED_POINTS) as KillPoint[])];
      for (let i = plan.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [plan[i], plan[j]] = [plan[j] as KillPoint, plan[i] as KillPoint];
      }
      const journal: string[] = [];
      let introduced = 0;

      for (const [run, point] of plan.entries()) {
        // Spread the submissions over the runs (the first runs take two).
        const fresh = Math.ceil((SUBMISSIONS - introduced) / (plan.length - run));
        const batch = [
          ...submissions.slice(0, introduced).filter((s) => !answered(s)),
          ...submissions.slice(introduced, introduced + fresh),
        ];
        introduced += fresh;
        // A repeated POST of a committed submission does no lookup: only the first is sure to come.
        const nth = point !== 'lookup' && batch.length > 1 && random() < 0.5 ? 2 : 1;
        const delay =
          point in TIMED_POINTS
            ? (() => {
                const [lo, hi] = TIMED_POINTS[point as keyof typeof TIMED_POINTS];
                return Math.floor(lo + random() * (hi - lo));
              })()
            : FALLBACK_KILL_MS;
        const child = await startHub(envFor(point in TIMED_POINTS ? undefined : { at: point, nth }));
        const killer = setTimeout(() => child.kill(), delay);
        const port = child.port;
        const posts = await Promise.all(batch.map((s) => (port === undefined ? undefined : post(port, s))));
        const exit = await child.exited;
        clearTimeout(killer);
        const selfKill = child.lines.find((l) => l.startsWith('kill '));
        const entry =
          `run ${run} ${point}${point in TIMED_POINTS ? ` after ${delay} ms` : ` #${nth}`}: ` +
          `${selfKill ? selfKill : point in TIMED_POINTS ? 'killed by the test' : `point not reached, killed after ${FALLBACK_KILL_MS} ms`}; ` +
          `POSTs ${batch.map((s, i) => `${s.index}:${posts[i] ? 'answered' : port === undefined ? 'not sent (died before listening)' : 'no answer'}`).join(',')}`;
        journal.push(entry);
        expect(exit.signal, `seed ${seed}: ${entry}; child: ${child.lines.join(' | ')}`).toBe('SIGKILL');
      }
      console.log(`[submit-readings-kill ${factory.dialect}] ${journal.join('\n  ')}`);
      const context = `seed ${seed}\n  ${journal.join('\n  ')}`;

      // The last process runs to quiescence: unanswered POSTs repeated, every submission delivered.
      const last = await startHub(envFor());
      let lastExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const lastPort = last.port as number;
      try {
        for (const s of submissions.filter((x) => !answered(x))) {
          expect(
            await post(lastPort, s),
            `${context}\nrepeat POST of submission ${s.index} got no answer`,
          ).toBeDefined();
        }
        const ids = submissions.map((s) => s.answers[0] as string);
        const deadline = Date.now() + SETTLE_TIMEOUT_MS;
        let pending: string[] = [];
        for (;;) {
          const rows = await t.store.db
            .selectFrom('submissions')
            .select(['id', 'status'])
            .where('api_key_id', '=', apiKeyId)
            .execute();
          const failed = rows.filter((r) => r.status === 'failed');
          expect(failed, `${context}\nfailed submissions`).toEqual([]);
          const jobs = await t.store.db
            .selectFrom('jobs')
            .select(['id', 'kind', 'status', 'last_error'])
            .where('kind', 'in', ['mesh.send', 'mesh.status'])
            .where('status', '!=', 'succeeded')
            .execute();
          expect(
            jobs.filter((j) => j.status === 'dead'),
            `${context}\ndead jobs`,
          ).toEqual([]);
          pending = [
            ...ids.filter(
              (id) => !rows.some((r) => r.id === id && ['delivered', 'acknowledged'].includes(r.status)),
            ),
            ...jobs.map((j) => `${j.kind} job ${j.id} ${j.status}`),
          ];
          if (pending.length === 0) break;
          if (Date.now() > deadline) {
            throw new Error(
              `${context}\nnot settled within ${SETTLE_TIMEOUT_MS} ms: ${pending.join(', ')}; statuses ${JSON.stringify(rows)}`,
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        // A clean stop (SIGTERM: hub.close()); SIGKILL if it does not come, so nothing is left running.
        last.terminate();
        let timer: NodeJS.Timeout | undefined;
        lastExit = await Promise.race([
          last.exited,
          new Promise<undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), 10_000);
          }),
        ]);
        clearTimeout(timer);
        if (!lastExit) last.kill();
      }
      expect(
        lastExit,
        `${context}\nthe last hub process did not stop on SIGTERM: ${last.lines.join(' | ')}`,
      ).toEqual({ code: 0, signal: null });

      // Every submission once: one id per Idempotency-Key, one row each, one MESH message each.
      for (const s of submissions) {
        expect(
          new Set(s.answers).size,
          `${context}\nsubmission ${s.index} answered with different ids: ${s.answers}`,
        ).toBe(1);
      }
      const ids = submissions.map((s) => s.answers[0] as string);
      const rows = await t.store.db
        .selectFrom('submissions')
        .select(['id', 'idempotency_key', 'status', 'mailbox_id'])
        .where('api_key_id', '=', apiKeyId)
        .execute();
      expect(rows.map((r) => r.id).sort(), context).toEqual([...ids].sort());
      for (const s of submissions) {
        const row = rows.find((r) => r.id === s.answers[0]);
        expect(row, `${context}\nsubmission ${s.index}`).toMatchObject({
          idempotency_key: s.idempotencyKey,
          mailbox_id: PRACTICE_MAILBOX,
        });
        expect(['delivered', 'acknowledged'], `${context}\nsubmission ${s.index}`).toContain(row?.status);
      }
      const logged = await t.store.db
        .selectFrom('mesh_messages')
        .select(['idempotency_key'])
        .where('direction', '=', 'outbound')
        .execute();
      expect(logged.map((m) => m.idempotency_key).sort(), `${context}\nMESH message log`).toEqual(
        [...ids].sort(),
      );

      // A kill right after MESH accepted the POST left the message log `sending`: the next process
      // found the message by its local id (mesh-api.yaml tracking_by_local_id) instead of sending again.
      if (journal.some((entry) => entry.includes('kill mesh-send-after'))) {
        const found = await t.store.db
          .selectFrom('mesh_message_events')
          .select('message_id')
          .where('event', '=', 'found-by-local-id')
          .execute();
        expect(found.length, `${context}\nfound-by-local-id events`).toBeGreaterThan(0);
      }

      // The practice's inbox (mesh-api.yaml list_messages, retrieve_message): one message per submission.
      const practice = new MeshClient({
        baseUrl: sandboxUrl,
        mailboxId: PRACTICE_MAILBOX,
        password: 'password',
        sharedKey: 'TestKey',
      });
      const copies = new Map<string, string[]>();
      try {
        for await (const messageId of practice.inbox({ workflowFilter: 'GPFED_CONSULT_REPORT' })) {
          const { metadata, body } = await practice.receive(messageId);
          const chunks: Buffer[] = [];
          for await (const c of body) chunks.push(Buffer.from(c));
          const key = metadata.localId ?? `(no mex-LocalID: ${messageId})`;
          copies.set(key, [...(copies.get(key) ?? []), Buffer.concat(chunks).toString('utf8')]);
        }
      } finally {
        await practice.close();
      }
      expect([...copies.keys()].sort(), `${context}\nmex-LocalIDs in ${PRACTICE_MAILBOX}`).toEqual(
        [...ids].sort(),
      );
      for (const s of submissions) {
        const xml = copies.get(s.answers[0] as string) ?? [];
        expect(xml.length, `${context}\ncopies of submission ${s.index} in ${PRACTICE_MAILBOX}`).toBe(1);
        expect(xml[0], `${context}\nsubmission ${s.index}'s readings`).toContain(s.values);
      }

      const audit = await verifyAuditChain(t.store);
      expect(audit, context).toMatchObject({ ok: true });
    }, 120_000);
  },
);
