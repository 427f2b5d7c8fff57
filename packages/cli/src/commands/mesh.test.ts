import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { createSandboxServer } from '@junction/sandbox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../program.js';
import { type TestRuntime, testRuntime } from '../test-runtime.js';

// `junction mesh …` in-process against a real sandbox MESH (its default seed is NHS's mesh-sandbox data:
// X26ABC1..3, password `password`, shared key `TestKey`, TEST_WORKFLOW X26ABC1 → X26ABC2). Real HTTP over
// loopback; the base URL comes from JUNCTION_MESH_BASE_URL with the spec's `/messageexchange` path, as a user
// would copy it, and the credentials from the loopback defaults unless a test says otherwise.
let sandbox: FastifyInstance;
let meshUrl: string;
let dir: string;

beforeAll(async () => {
  sandbox = await createSandboxServer({ pds: { syntheticPatients: 0 }, mesh: { admin: true } });
  await sandbox.listen({ port: 0, host: '127.0.0.1' });
  meshUrl = `http://127.0.0.1:${(sandbox.server.address() as AddressInfo).port}/messageexchange`;
  dir = await mkdtemp(join(tmpdir(), 'junction-mesh-cli-'));
});

afterAll(async () => {
  await sandbox?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  // mesh-sandbox `DELETE /admin/reset`: back to the seed.
  expect((await fetch(`${meshUrl}/admin/reset`, { method: 'DELETE' })).ok).toBe(true);
});

interface Run extends TestRuntime {
  code: number;
  bytes: () => Buffer;
}

/** Runs one command line; `stdin` feeds `send -`, and bytes written for `get` are captured. */
async function cli(
  args: string[],
  options: { stdin?: Readable; env?: NodeJS.ProcessEnv; stdoutBytes?: Writable } = {},
): Promise<Run> {
  const pieces: Buffer[] = [];
  const rt = testRuntime({ JUNCTION_MESH_BASE_URL: meshUrl, ...options.env });
  const stdoutBytes = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pieces.push(Buffer.from(chunk));
      callback();
    },
  });
  const code = await runCli(args, {
    ...rt,
    ...(options.stdin && { stdin: options.stdin }),
    stdoutBytes: options.stdoutBytes ?? stdoutBytes,
  });
  return Object.assign(rt, { code, bytes: () => Buffer.concat(pieces) });
}

/** Synthetic bytes that gzip poorly, so chunks are chunks on the wire too. */
function content(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 2654435761) >>> 24;
  return b;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** `mesh send <source>` X26ABC1 → X26ABC2 on the seed's TEST_WORKFLOW, then `extra`. */
const sendArgs = (source: string, ...extra: string[]) => [
  'mesh',
  'send',
  source,
  '--to',
  'X26ABC2',
  '--workflow',
  'TEST_WORKFLOW',
  ...extra,
];

describe('junction mesh against the sandbox MESH', () => {
  it('sends a 5-chunk file X26ABC1 → X26ABC2, lists it, downloads it to --out, tracks, acknowledges', async () => {
    const data = content(5 * 64 * 1024 - 1000);
    const file = join(dir, 'readings.csv');
    await writeFile(file, data);

    const sent = await cli(
      sendArgs(file, '--subject', 'synthetic readings', '--local-id', 'cli-test-1', '--chunk-size', '64K'),
    );
    expect(sent.code, sent.err()).toBe(0);
    const messageId = sent.out().trim();
    // stdout is the message id alone (scripts read it); the rest is on stderr.
    expect(messageId).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sent.err()).toContain(`sending ${file} (319.0 KiB) from X26ABC1 to X26ABC2 on TEST_WORKFLOW`);
    expect(sent.err()).toMatch(
      new RegExp(`sent ${messageId}: 319\\.0 KiB in 5 chunk\\(s\\), .* checksum ${md5(data)}`),
    );
    // Not a terminal: a line per chunk as MESH accepts it (mesh-api.yaml send_message, then send_chunk 2..5).
    expect(sent.err().match(/^chunk .*$/gm)).toEqual([
      'chunk 1/5 sent: 64.0 KiB of 319.0 KiB (20%)',
      'chunk 2/5 sent: 128.0 KiB of 319.0 KiB (40%)',
      'chunk 3/5 sent: 192.0 KiB of 319.0 KiB (60%)',
      'chunk 4/5 sent: 256.0 KiB of 319.0 KiB (80%)',
      'chunk 5/5 sent: 319.0 KiB of 319.0 KiB (100%)',
    ]);

    // mesh-api.yaml list_messages: the recipient sees it (its seed's canned message too).
    const inbox = await cli(['mesh', 'inbox', '--mailbox', 'X26ABC2']);
    expect(inbox.code, inbox.err()).toBe(0);
    expect(inbox.out().trim().split('\n')).toContain(messageId);
    expect(inbox.err()).toMatch(/^\d+ message\(s\) in X26ABC2's inbox\n$/);
    const json = await cli([
      'mesh',
      'inbox',
      '--mailbox',
      'X26ABC2',
      '--workflow',
      'TEST_WORKFLOW',
      '--json',
    ]);
    expect(JSON.parse(json.out())).toMatchObject({ mailboxId: 'X26ABC2', workflowFilter: 'TEST_WORKFLOW' });
    expect(JSON.parse(json.out()).messages).toContain(messageId);
    const none = await cli(['mesh', 'inbox', '--mailbox', 'X26ABC2', '--workflow', 'NO_SUCH_WORKFLOW']);
    expect(none.out()).toBe('');
    expect(none.err()).toBe("0 message(s) in X26ABC2's inbox matching NO_SUCH_WORKFLOW\n");

    // mesh-api.yaml tracking_by_message_id before the download: accepted, not yet acknowledged.
    const accepted = await cli(['mesh', 'track', messageId, '--json']);
    expect(accepted.code, accepted.err()).toBe(0);
    expect(JSON.parse(accepted.out())).toMatchObject({ message_id: messageId, local_id: 'cli-test-1' });
    expect(JSON.parse(accepted.out()).status.toLowerCase()).toBe('accepted');

    // retrieve_message + retrieve_chunk 2..5: the whole content, through FILE.part, metadata on stderr.
    const out = join(dir, 'received.csv');
    const got = await cli([
      'mesh',
      'get',
      messageId,
      '--mailbox',
      'X26ABC2',
      '--out',
      out,
      '--verify-checksum',
    ]);
    expect(got.code, got.err()).toBe(0);
    expect((await readFile(out)).equals(data)).toBe(true);
    expect(existsSync(`${out}.part`)).toBe(false);
    expect(got.out()).toBe('');
    expect(got.err()).toMatch(/^from: +X26ABC1$/m);
    expect(got.err()).toMatch(/^to: +X26ABC2$/m);
    expect(got.err()).toMatch(/^workflow: +TEST_WORKFLOW$/m);
    expect(got.err()).toMatch(/^subject: +synthetic readings$/m);
    expect(got.err()).toMatch(/^local id: +cli-test-1$/m);
    expect(got.err()).toMatch(/^file name: +readings\.csv$/m);
    expect(got.err()).toMatch(/^chunks: +5$/m);
    expect(got.err().match(/^chunk \d\/5 received: .*$/gm)).toEqual([
      'chunk 1/5 received: 64.0 KiB (20%)',
      'chunk 2/5 received: 128.0 KiB (40%)',
      'chunk 3/5 received: 192.0 KiB (60%)',
      'chunk 4/5 received: 256.0 KiB (80%)',
      'chunk 5/5 received: 319.0 KiB (100%)',
    ]);
    expect(got.err()).toContain(
      `received 319.0 KiB into ${out}; not acknowledged (junction mesh ack ${messageId})`,
    );

    // acknowledge_message removes it; tracking then says acknowledged.
    const ack = await cli(['mesh', 'ack', messageId, '--mailbox', 'X26ABC2']);
    expect(ack.code, ack.err()).toBe(0);
    expect(ack.out()).toBe(`acknowledged ${messageId}\n`);
    expect((await cli(['mesh', 'inbox', '--mailbox', 'X26ABC2'])).out()).not.toContain(messageId);
    const tracked = await cli(['mesh', 'track', messageId]);
    expect(tracked.code, tracked.err()).toBe(0);
    expect(tracked.out()).toMatch(new RegExp(`^message: +${messageId}$`, 'm'));
    expect(tracked.out()).toMatch(/^status: +acknowledged$/im);
    expect(tracked.out()).toMatch(/^recipient: +X26ABC2$/m);
  });

  it('sends stdin of several chunks and gets the message back on stdout, bytes intact', async () => {
    const data = content(3 * 32 * 1024 + 7);
    const pieces = Array.from({ length: 13 }, (_, i) =>
      data.subarray(Math.floor((i * data.length) / 13), Math.floor(((i + 1) * data.length) / 13)),
    );
    const sent = await cli(sendArgs('-', '--chunk-size', '32768'), { stdin: Readable.from(pieces) });
    expect(sent.code, sent.err()).toBe(0);
    const messageId = sent.out().trim();
    expect(sent.err()).toContain('sending stdin from X26ABC1 to X26ABC2 on TEST_WORKFLOW');
    // The counted total of stdin, then the send: 4 chunks of at most 32 KiB.
    expect(sent.err()).toContain('96.0 KiB read from stdin\n');
    expect(sent.err()).toContain(`sent ${messageId}: 96.0 KiB in 4 chunk(s)`);

    const got = await cli(['mesh', 'get', messageId, '--mailbox', 'X26ABC2']);
    expect(got.code, got.err()).toBe(0);
    expect(got.bytes().equals(data)).toBe(true);
    expect(got.err()).toMatch(/^chunks: +4$/m);
  });

  it('on a terminal, send progress is one line redrawn per chunk (bar, percent, bytes) ended by a newline; a one-chunk send draws none', async () => {
    const file = join(dir, 'tty.bin');
    await writeFile(file, content(3 * 1024));
    const rt = testRuntime({ JUNCTION_MESH_BASE_URL: meshUrl });
    const code = await runCli(sendArgs(file, '--chunk-size', '1K'), {
      ...rt,
      stderrIsTTY: true,
      columns: 100,
    });
    expect(code, rt.err()).toBe(0);
    // ESC[K (erase to the end of the line) shown as ⟨K⟩.
    const err = rt.err().replaceAll('\x1b[K', '⟨K⟩');
    const redraws = err.split('\r').slice(1);
    expect(redraws).toHaveLength(3);
    expect(redraws[0]).toMatch(/^chunk 1\/3 █{10}░{20} {2}33% {2}1\.0 KiB of 3\.0 KiB.*⟨K⟩$/);
    expect(redraws[2]).toMatch(
      /^chunk 3\/3 █{30} 100% {2}3\.0 KiB of 3\.0 KiB.*⟨K⟩\nsent \S+: 3\.0 KiB in 3 chunk\(s\)/,
    );
    expect(redraws.every((line) => (line.split('⟨K⟩')[0] ?? '').length < 100)).toBe(true);

    const small = testRuntime({ JUNCTION_MESH_BASE_URL: meshUrl });
    await runCli(sendArgs(file), {
      ...small,
      stderrIsTTY: true,
    });
    expect(small.err()).not.toContain('\r');
    expect(small.err()).not.toMatch(/^chunk/m);
  });

  it('a send stopped by Ctrl-C after chunk 2 of 5 says how to finish it; --resume posts the rest to the same message, delivered once, bytes intact', async () => {
    const data = content(5 * 16 * 1024 - 99);
    const file = join(dir, 'resume.bin');
    await writeFile(file, data);
    const args = sendArgs(file, '--chunk-size', '16K');
    const rt = testRuntime({ JUNCTION_MESH_BASE_URL: meshUrl });
    const stderr = rt.stderr;
    const code = await runCli(args, {
      ...rt,
      stderr: (text) => {
        stderr(text);
        // Ctrl-C as soon as MESH has accepted chunk 2.
        if (text.startsWith('chunk 2/5 sent')) rt.stop();
      },
    });
    expect(code).toBe(130);
    const last = rt.err().trimEnd().split('\n').at(-1) ?? '';
    const hint =
      /^junction: interrupted; message (\S+) is incomplete at MESH, not delivered: finish it with --resume \1 --from-chunk ([34]) and the same data and --chunk-size$/.exec(
        last,
      );
    expect(hint, rt.err()).not.toBeNull();
    const [, messageId, fromChunk] = hint as unknown as [string, string, string];
    // mesh-api.yaml: a chunked message is delivered only once all its chunks are in.
    expect((await cli(['mesh', 'inbox', '--mailbox', 'X26ABC2'])).out()).not.toContain(messageId);

    const resumed = await cli([...args, '--resume', messageId, '--from-chunk', fromChunk]);
    expect(resumed.code, resumed.err()).toBe(0);
    expect(resumed.out().trim()).toBe(messageId);
    expect(resumed.err()).toContain(`resuming ${messageId} from chunk ${fromChunk} with ${file}`);
    expect(resumed.err()).toContain(`sent ${messageId}: 79.9 KiB in chunks ${fromChunk}..5 of 5, `);
    // Chunk 3 may have been accepted too before the stop took effect (then the hint says 4).
    expect(resumed.err().match(/^chunk \d\/5 sent/gm)).toEqual(
      ['chunk 3/5 sent', 'chunk 4/5 sent', 'chunk 5/5 sent'].slice(Number(fromChunk) - 3),
    );
    const inbox = (await cli(['mesh', 'inbox', '--mailbox', 'X26ABC2'])).out().trim().split('\n');
    expect(inbox.filter((id) => id === messageId)).toHaveLength(1);
    const got = await cli(['mesh', 'get', messageId, '--mailbox', 'X26ABC2', '--verify-checksum']);
    expect(got.code, got.err()).toBe(0);
    expect(got.bytes().equals(data)).toBe(true);

    const refused = await cli([
      'mesh',
      'send',
      file,
      '--to',
      'X26ABC2',
      '--workflow',
      'W',
      '--from-chunk',
      '3',
    ]);
    expect(refused.err().trim()).toBe('junction: --from-chunk goes with --resume <messageId>');
    const bad = await cli([...args, '--resume', messageId, '--from-chunk', '1']);
    expect(bad.code).not.toBe(0);
    expect(bad.err()).toContain('a chunk number of 2 or more');
  });

  it('stops plainly when stdout is closed part-way (`get ID | head`), leaving the message in the inbox', async () => {
    const sent = await cli(sendArgs('-'), {
      stdin: Readable.from([content(200_000)]),
    });
    const messageId = sent.out().trim();
    let written = 0;
    const closedPipe = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (written > 0) {
          callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
          return;
        }
        written += chunk.byteLength;
        callback();
      },
    });
    const run = await cli(['mesh', 'get', messageId, '--mailbox', 'X26ABC2'], { stdoutBytes: closedPipe });
    expect(run.code).toBe(1);
    expect(run.err().trimEnd().split('\n').at(-1)).toMatch(
      /^junction: standard output was closed after \d+(\.\d)? (B|KiB); the message is still in the inbox$/,
    );
    expect((await cli(['mesh', 'inbox', '--mailbox', 'X26ABC2'])).out()).toContain(messageId);
  });

  it('says a wrong password in one plain line (403, mesh-api.yaml "Authorisation")', async () => {
    const file = join(dir, 'small.txt');
    await writeFile(file, 'synthetic');
    const run = await cli(sendArgs(file, '--password', 'wrong'));
    expect(run.code).toBe(1);
    expect(run.out()).toBe('');
    const lines = run.err().trimEnd().split('\n');
    expect(lines.at(-1)).toBe(
      'junction: MESH send message failed: HTTP 403, Invalid Authentication Token (mailbox X26ABC1: check the mailbox id, password and shared key, and the clock)',
    );
    expect(run.err()).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(run.err()).not.toContain('OperationOutcome');

    const inbox = await cli(['mesh', 'inbox', '--shared-key', 'BackBone']);
    expect(inbox.code).toBe(1);
    expect(inbox.err()).toBe(
      'junction: MESH list inbox failed: HTTP 403, Invalid Authentication Token (mailbox X26ABC1: check the mailbox id, password and shared key, and the clock)\n',
    );
  });

  it('names the DTS event and code: unknown recipient is SEND 12, unregistered workflow SEND 17 (417)', async () => {
    const file = join(dir, 'small.txt');
    await writeFile(file, 'synthetic');
    const unknown = await cli(['mesh', 'send', file, '--to', 'NOBODY1', '--workflow', 'TEST_WORKFLOW']);
    expect(unknown.code).toBe(1);
    expect(unknown.out()).toBe('');
    expect(unknown.err().trimEnd().split('\n').at(-1)).toMatch(
      /^junction: MESH send message failed: HTTP 417, SEND 12 \S.*$/,
    );
    const workflow = await cli(['mesh', 'send', file, '--to', 'X26ABC2', '--workflow', 'NOT_A_WORKFLOW']);
    expect(workflow.code).toBe(1);
    expect(workflow.err().trimEnd().split('\n').at(-1)).toMatch(
      /^junction: MESH send message failed: HTTP 417, SEND 17 \S.*$/,
    );
  });

  it('fails a download of an unknown message plainly and leaves no --out file', async () => {
    const out = join(dir, 'never.bin');
    const run = await cli(['mesh', 'get', 'NO_SUCH_MESSAGE', '--mailbox', 'X26ABC2', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.err()).toMatch(/^junction: MESH download message failed: HTTP 404/);
    expect(run.err().trimEnd().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.part`)).toBe(false);
  });

  it('says plainly when no MESH answers at the base URL (and where it looked)', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const file = join(dir, 'small.txt');
    await writeFile(file, 'synthetic');
    // The first POST of a message is never retried (client MeshRetryMode 'never'), so this fails at once.
    const run = await cli(sendArgs(file), {
      env: { JUNCTION_MESH_BASE_URL: `http://127.0.0.1:${port}` },
    });
    expect(run.code).toBe(1);
    expect(run.err().trimEnd().split('\n').at(-1)).toBe(
      `junction: cannot reach MESH at http://127.0.0.1:${port} (connection refused)`,
    );
  });

  it('refuses plainly before any request: a missing file, missing --to, a remote MESH without credentials, half mutual TLS', async () => {
    const missing = await cli([
      'mesh',
      'send',
      join(dir, 'absent.txt'),
      '--to',
      'X26ABC2',
      '--workflow',
      'W',
    ]);
    expect(missing.err()).toBe(`junction: cannot read ${join(dir, 'absent.txt')}: ENOENT\n`);
    const noTo = await cli(['mesh', 'send', '-', '--workflow', 'TEST_WORKFLOW']);
    expect(noTo.err()).toBe('junction: --to is required: the recipient mailbox id\n');
    // Not loopback: the sandbox credentials are never assumed (no request is made to this host).
    const remote = await cli(['mesh', 'inbox', '--base-url', 'https://msg.intspineservices.nhs.uk']);
    expect(remote.code).toBe(1);
    expect(remote.err()).toBe(
      'junction: --mailbox (or JUNCTION_MESH_MAILBOX) is required for a MESH that is not on this machine (msg.intspineservices.nhs.uk)\n',
    );
    const noKey = await cli(['mesh', 'inbox'], {
      env: {
        JUNCTION_MESH_BASE_URL: 'https://msg.intspineservices.nhs.uk',
        JUNCTION_MESH_MAILBOX: 'X26ABC1',
        JUNCTION_MESH_PASSWORD: 'secret',
      },
    });
    expect(noKey.err()).toBe(
      'junction: --shared-key (or JUNCTION_MESH_SHARED_KEY) is required for a MESH that is not on this machine (msg.intspineservices.nhs.uk)\n',
    );
    const halfTls = await cli(['mesh', 'inbox', '--cert', join(dir, 'client.pem')]);
    expect(halfTls.err()).toMatch(/^junction: mutual TLS needs both --cert and --key/);
    const badChunk = await cli(['mesh', 'send', '-', '--to', 'X', '--workflow', 'W', '--chunk-size', 'big']);
    expect(badChunk.code).toBe(1);
    expect(badChunk.err()).toContain("argument 'big' is invalid. a number of bytes, e.g. 1048576 or 20M");
  });
});
