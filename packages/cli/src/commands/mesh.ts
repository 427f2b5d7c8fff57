import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { type Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RequestContext } from '@junction/client';
import {
  MESH_DEFAULT_CHUNK_SIZE,
  type MeshBody,
  MeshClient,
  MeshError,
  type MeshMessageMetadata,
  type MeshTlsOptions,
  type MeshTracking,
} from '@junction/client/mesh';
import { formatBytes } from '../format.js';
import { CliError, type CliIo, printJson } from '../io.js';
import { percent, progressBar, TtyLine } from '../progress.js';
import {
  cannotReach,
  DEFAULT_SANDBOX_URL,
  type FoundStart,
  findStart,
  networkFailure,
} from '../start-record.js';

/*
 * `junction mesh …`: talk to any MESH v2 base URL (the local sandbox, INT, live) as one mailbox, through the
 * client's MeshClient (specs/mesh/mesh-api.yaml). Nothing here touches the hub's store: `get` and `ack` act on
 * the mailbox itself, so do not point them at a mailbox a running hub polls.
 */

/**
 * The credentials of NHS's MESH sandbox seed (mesh-sandbox data/mailboxes.jsonl: X26ABC1, password `password`;
 * shared key `TestKey`), which ours serves too: used only when the base URL is loopback.
 */
export const SANDBOX_MESH_DEFAULTS = { mailbox: 'X26ABC1', password: 'password', sharedKey: 'TestKey' };

/** Environment variables read for each flag a command line leaves out. */
export const MESH_ENV = {
  baseUrl: 'JUNCTION_MESH_BASE_URL',
  mailbox: 'JUNCTION_MESH_MAILBOX',
  password: 'JUNCTION_MESH_PASSWORD',
  sharedKey: 'JUNCTION_MESH_SHARED_KEY',
  cert: 'JUNCTION_MESH_CERT',
  key: 'JUNCTION_MESH_KEY',
  ca: 'JUNCTION_MESH_CA',
} as const;

export interface MeshConnectionFlags {
  baseUrl?: string;
  mailbox?: string;
  password?: string;
  sharedKey?: string;
  /** PEM files for mutual TLS (the real service). */
  cert?: string;
  key?: string;
  ca?: string;
  /** Uncompressed bytes per chunk (default the client's 75 MiB). */
  chunkSize?: number;
  /** The data folder where `junction start` recorded its ports (default ./data). */
  dataDir?: string;
}

/** What the mesh commands need beyond text output: raw stdin and stdout, and Ctrl-C. */
export interface MeshRuntime extends CliIo {
  /** Bytes of `junction mesh send -`. */
  stdin?: Readable | undefined;
  /** Where `junction mesh get` without `--out` writes the content (never ended). */
  stdoutBytes?: Writable | undefined;
  /** stderr is a terminal: progress is one redrawn line. */
  stderrIsTTY?: boolean;
  /** Terminal width for that line (default 80). */
  columns?: number;
  /** Resolves on SIGINT/SIGTERM: the transfer under way is abandoned. */
  untilStopped?: () => Promise<void>;
}

/** Exit code of a transfer stopped by Ctrl-C (128 + SIGINT). */
const INTERRUPTED_EXIT_CODE = 130;

/**
 * The connection a command uses: flags, then `JUNCTION_MESH_*`, then the sandbox MESH of the running
 * `junction start` recorded in the data folder (or start's default port), with the sandbox's
 * credentials on loopback.
 */
export async function meshClientFrom(
  io: CliIo,
  flags: MeshConnectionFlags,
): Promise<{ mesh: MeshClient; baseUrl: string; found?: FoundStart }> {
  const env = (name: keyof typeof MESH_ENV) => {
    const v = io.env[MESH_ENV[name]];
    return v === undefined || v === '' ? undefined : v;
  };
  const pick = (name: keyof typeof MESH_ENV) => flags[name] ?? env(name);
  const given = pick('baseUrl');
  let found: FoundStart | undefined;
  if (given === undefined) {
    found = await findStart(flags.dataDir, io.env);
    if (found.stale) io.stderr(`junction: ${found.stale}\n`);
  }
  const baseUrl = normaliseBaseUrl(given ?? found?.record?.meshBaseUrl ?? DEFAULT_SANDBOX_URL);
  const local = isLoopback(baseUrl);
  const required = (name: 'mailbox' | 'password' | 'sharedKey'): string => {
    const v = pick(name) ?? (local ? SANDBOX_MESH_DEFAULTS[name] : undefined);
    if (v !== undefined) return v;
    const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new CliError(
      `${flag} (or ${MESH_ENV[name]}) is required for a MESH that is not on this machine (${new URL(baseUrl).host})`,
    );
  };
  const mailboxId = required('mailbox');
  const password = required('password');
  const sharedKey = required('sharedKey');
  const tls = await tlsFrom(pick('cert'), pick('key'), pick('ca'), baseUrl);
  try {
    const mesh = new MeshClient({
      baseUrl,
      mailboxId,
      password,
      sharedKey,
      ...(tls && { tls }),
      ...(flags.chunkSize !== undefined && { chunkSize: flags.chunkSize }),
    });
    return { mesh, baseUrl, ...(found && { found }) };
  } catch (error) {
    // The client's argument checks (mailbox id characters, chunk size range).
    if (error instanceof RangeError) throw new CliError(error.message.replace(/^MeshClient: /, ''));
    throw error;
  }
}

/** The host alone: a base URL given with the spec's `/messageexchange` path (as the sandbox prints it) works too. */
function normaliseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--base-url must be an http(s) URL, not '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`--base-url must be an http(s) URL, not '${value}'`);
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/messageexchange$/, '');
  return `${url.origin}${path}`;
}

function isLoopback(baseUrl: string): boolean {
  const host = new URL(baseUrl).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

async function tlsFrom(
  cert: string | undefined,
  key: string | undefined,
  ca: string | undefined,
  baseUrl: string,
): Promise<MeshTlsOptions | undefined> {
  if (cert === undefined && key === undefined && ca === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new CliError(
      'mutual TLS needs both --cert and --key (the PEM client certificate NHS issued for the mailbox and its key)',
    );
  }
  if (!baseUrl.startsWith('https:')) throw new CliError('--cert/--key need an https: --base-url');
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new CliError(
        `cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
  };
  return {
    cert: await read(cert, 'client certificate'),
    key: await read(key, 'client key'),
    ...(ca !== undefined && { ca: await read(ca, 'CA bundle') }),
  };
}

/**
 * Runs one MESH call with the client closed afterwards, an abort on Ctrl-C, and any `MeshError` turned into one
 * plain line: what failed, the HTTP status, and the DTS event and code when MESH gave them (mesh-api.yaml
 * "Error codes", e.g. `SEND 12`).
 */
async function withMesh<T>(
  rt: MeshRuntime,
  flags: MeshConnectionFlags,
  run: (mesh: MeshClient, ctx: RequestContext) => Promise<T>,
): Promise<T> {
  const { mesh, baseUrl, found } = await meshClientFrom(rt, flags);
  const controller = new AbortController();
  let finished = false;
  void rt.untilStopped?.().then(() => {
    if (!finished) controller.abort(new CliError('interrupted', INTERRUPTED_EXIT_CODE));
  });
  try {
    return await run(mesh, { signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) throw new CliError('interrupted', INTERRUPTED_EXIT_CODE);
    throw plainMeshError(error, mesh.mailboxId, baseUrl, found);
  } finally {
    finished = true;
    await mesh.close();
  }
}

/**
 * A MeshError as one line: `<operation> failed: HTTP 417, SEND 12 Unregistered to address`, with a hint for a 403
 * (authorisation: mesh-api.yaml "Authorisation"); a MESH that did not answer at all is named with the URL tried
 * (and, when the URL was not given, where `junction start` was looked for).
 */
export function plainMeshError(
  error: unknown,
  mailboxId: string,
  baseUrl: string,
  found?: FoundStart,
): unknown {
  if (!(error instanceof MeshError)) return error;
  const unanswered = error.status === 502 || error.status === 504 ? networkFailure(error) : undefined;
  if (unanswered !== undefined) {
    return new CliError(cannotReach(found ? "the sandbox's MESH" : 'MESH', baseUrl, unanswered, found));
  }
  const diagnostics = error.outcome.issue?.[0]?.diagnostics ?? error.message;
  // The client's diagnostics: "<operation> failed with HTTP <status>[: <event> <code> <text>]" for an answer,
  // "<operation> failed (<cause>)" / "<operation> timed out" for none, "<operation>: <what>" for a local failure.
  const answered = /^(.*?) failed with HTTP (\d+)/.exec(diagnostics);
  let line = diagnostics;
  if (answered) {
    const dts = [error.dts?.event, error.dts?.code, error.dts?.message]
      .filter((part) => part !== undefined && part.trim() !== '')
      .join(' ');
    line = `${answered[1]} failed: HTTP ${answered[2]}${dts ? `, ${dts}` : ''}`;
    if (error.status === 403) {
      line += ` (mailbox ${mailboxId}: check the mailbox id, password and shared key, and the clock)`;
    }
  } else if (error.status === 502 || error.status === 504) {
    line += ` at ${baseUrl}`;
  }
  return new CliError(line);
}

export interface MeshSendFlags extends MeshConnectionFlags {
  to?: string;
  workflow?: string;
  subject?: string;
  localId?: string;
  fileName?: string;
  contentType?: string;
  /** Commander's `--no-gzip`: false sends the chunks as they are. */
  gzip?: boolean;
  /** Finish this incomplete message (mesh-api.yaml send_chunk) instead of sending a new one. */
  resume?: string;
  /** With `resume`: the first chunk to post (default 2; chunks MESH already has are replaced). */
  fromChunk?: number;
}

/**
 * `junction mesh send --to MAILBOX --workflow WORKFLOW <file|->`: streams a file (read in place, one range per
 * chunk) or stdin (spooled to disk by the client while counted) of any size; prints the message id on stdout.
 */
export async function meshSend(rt: MeshRuntime, source: string, flags: MeshSendFlags): Promise<void> {
  if (!flags.to) throw new CliError('--to is required: the recipient mailbox id');
  if (!flags.workflow) throw new CliError('--workflow is required: the MESH workflow id, e.g. TEST_WORKFLOW');
  if (flags.fromChunk !== undefined && flags.resume === undefined) {
    throw new CliError('--from-chunk goes with --resume <messageId>');
  }
  let body: MeshBody;
  let describe: string;
  let fileName = flags.fileName;
  let counter: ByteCounter | undefined;
  if (source === '-') {
    if (!rt.stdin) throw new CliError('no standard input to read');
    counter = new ByteCounter(rt, 'read from stdin');
    body = rt.stdin.pipe(counter);
    rt.stdin.once('error', (error) => counter?.destroy(error));
    describe = 'stdin';
  } else {
    const info = await stat(source).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read ${source}: ${error.code ?? error.message}`);
    });
    if (!info.isFile()) throw new CliError(`${source} is not a file (use - for stdin)`);
    body = { path: source };
    fileName ??= basename(source);
    describe = `${source} (${formatBytes(info.size)})`;
  }
  const started = Date.now();
  const progress = new ChunkProgress(rt, 'sent');
  const resume =
    flags.resume === undefined ? undefined : { messageId: flags.resume, fromChunk: flags.fromChunk ?? 2 };
  /** The last chunk MESH accepted, to say how to finish an upload cut short. */
  let accepted: { messageId: string; chunk: number; chunks: number } | undefined;
  const sending = withMesh(rt, flags, async (mesh, ctx) => {
    rt.stderr(
      resume
        ? `resuming ${resume.messageId} from chunk ${resume.fromChunk} with ${describe}…\n`
        : `sending ${describe} from ${mesh.mailboxId} to ${flags.to} on ${flags.workflow}…\n`,
    );
    try {
      return await mesh.send(
        {
          to: flags.to!,
          workflowId: flags.workflow!,
          body,
          ...(flags.subject !== undefined && { subject: flags.subject }),
          ...(flags.localId !== undefined && { localId: flags.localId }),
          ...(fileName !== undefined && { fileName }),
          ...(flags.contentType !== undefined && { contentType: flags.contentType }),
          ...(flags.gzip === false && { compress: false }),
          ...(resume && { resume }),
          onProgress: (p) => {
            accepted = { messageId: p.messageId, chunk: p.chunk, chunks: p.chunks };
            progress.update(p.chunk, p.chunks, p.bytesSent, p.bytesTotal);
          },
        },
        ctx,
      );
    } finally {
      progress.end();
      if (counter && !counter.writableFinished) {
        rt.stdin?.unpipe(counter);
        counter.destroy();
      }
    }
  });
  let sent: Awaited<typeof sending>;
  try {
    sent = await sending;
  } catch (error) {
    // Cut short after MESH took chunk 1: the message is incomplete there (never delivered so); say how to finish it.
    const id = accepted?.messageId ?? resume?.messageId;
    const next = accepted
      ? accepted.chunk < accepted.chunks
        ? accepted.chunk + 1
        : undefined
      : resume?.fromChunk;
    if (error instanceof CliError && id !== undefined && next !== undefined) {
      throw new CliError(
        `${error.message}; message ${id} is incomplete at MESH, not delivered: finish it with ` +
          `--resume ${id} --from-chunk ${next} and the same data and --chunk-size`,
        error.exitCode,
      );
    }
    throw error;
  }
  const seconds = (Date.now() - started) / 1000;
  // A resumed send moved only chunks fromChunk..n this time: the rate counts those.
  const before = resume
    ? Math.min(sent.bytes, (resume.fromChunk - 1) * (flags.chunkSize ?? MESH_DEFAULT_CHUNK_SIZE))
    : 0;
  const what = resume
    ? `chunks ${resume.fromChunk}..${sent.chunks} of ${sent.chunks}`
    : `${sent.chunks} chunk(s)`;
  rt.stderr(
    `sent ${sent.messageId}: ${formatBytes(sent.bytes)} in ${what}, ${seconds.toFixed(1)} s` +
      `${seconds > 0 ? ` (${formatBytes((sent.bytes - before) / seconds)}/s)` : ''}` +
      `${sent.checksum ? `, checksum ${sent.checksum}` : ''}\n`,
  );
  rt.stdout(`${sent.messageId}\n`);
}

/**
 * Per-chunk progress of a chunked transfer on stderr (nothing for a one-chunk message, whose summary line says
 * it all): on a terminal one redrawn line (chunk k/n, bar, percent, rate), otherwise a line per chunk.
 */
class ChunkProgress {
  private readonly line: TtyLine | undefined;
  private readonly started = Date.now();

  constructor(
    private readonly rt: MeshRuntime,
    private readonly verb: 'sent' | 'received',
  ) {
    this.line = rt.stderrIsTTY ? new TtyLine(rt, rt.columns ?? 80) : undefined;
  }

  update(chunk: number, chunks: number, bytes: number, bytesTotal?: number): void {
    if (chunks < 2) return;
    const of = bytesTotal === undefined ? '' : ` of ${formatBytes(bytesTotal)}`;
    const share = bytesTotal === undefined ? percent(chunk, chunks) : percent(bytes, bytesTotal);
    if (!this.line) {
      this.rt.stderr(`chunk ${chunk}/${chunks} ${this.verb}: ${formatBytes(bytes)}${of} (${share})\n`);
      return;
    }
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? `  ${formatBytes(bytes / seconds)}/s` : '';
    const fraction = bytesTotal ? bytes / bytesTotal : chunk / chunks;
    this.line.draw(
      `chunk ${chunk}/${chunks} ${progressBar(fraction, 30)} ${share.padStart(4)}  ${formatBytes(bytes)}${of}${rate}`,
    );
  }

  end(): void {
    this.line?.end();
  }
}

/** Counts bytes passing through and reports them on stderr (redrawn in a terminal, every 64 MiB otherwise). */
class ByteCounter extends Transform {
  private bytes = 0;
  private lastReported = 0;
  private static readonly EVERY = 64 * 1024 * 1024;

  constructor(
    private readonly rt: MeshRuntime,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.byteLength;
    if (this.rt.stderrIsTTY) {
      if (this.bytes - this.lastReported >= 1024 * 1024) {
        this.rt.stderr(`\r${formatBytes(this.bytes)} ${this.what}\x1b[K`);
        this.lastReported = this.bytes;
      }
    } else if (this.bytes - this.lastReported >= ByteCounter.EVERY) {
      this.rt.stderr(`${formatBytes(this.bytes)} ${this.what}\n`);
      this.lastReported = this.bytes;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.rt.stderr(
      `${this.rt.stderrIsTTY ? '\r' : ''}${formatBytes(this.bytes)} ${this.what}${this.rt.stderrIsTTY ? '\x1b[K' : ''}\n`,
    );
    callback();
  }
}

export interface MeshInboxFlags extends MeshConnectionFlags {
  /** `workflow_filter` (mesh-api.yaml `list_messages`): `WORKFLOW1`, `!WORKFLOW1`, `WORKFL*`, `!*_ACK*`. */
  workflow?: string;
  json?: boolean;
}

/** `junction mesh inbox`: every message id waiting in the mailbox, following `links.next` page after page. */
export async function meshInbox(rt: MeshRuntime, flags: MeshInboxFlags): Promise<void> {
  const { mailboxId, messages } = await withMesh(rt, flags, async (mesh, ctx) => {
    const ids: string[] = [];
    for await (const id of mesh.inbox(
      flags.workflow !== undefined ? { workflowFilter: flags.workflow } : {},
      ctx,
    )) {
      ids.push(id);
    }
    return { mailboxId: mesh.mailboxId, messages: ids };
  });
  if (flags.json) {
    printJson(rt, {
      mailboxId,
      ...(flags.workflow !== undefined && { workflowFilter: flags.workflow }),
      messages,
    });
    return;
  }
  rt.stderr(
    `${messages.length} message(s) in ${mailboxId}'s inbox${flags.workflow !== undefined ? ` matching ${flags.workflow}` : ''}\n`,
  );
  if (messages.length > 0) rt.stdout(`${messages.join('\n')}\n`);
}

export interface MeshGetFlags extends MeshConnectionFlags {
  /** Write the content here (through `FILE.part`, renamed when complete) instead of stdout. */
  out?: string;
  /** Check the content against an MD5 `mex-Content-Checksum`. */
  verifyChecksum?: boolean;
  /** Print the metadata as JSON on stderr. */
  json?: boolean;
}

/**
 * `junction mesh get <id>`: downloads a message (all chunks, mesh-api.yaml `retrieve_message` / `retrieve_chunk`)
 * to `--out` or stdout, metadata on stderr. It does not acknowledge: `junction mesh ack <id>` once it is safe.
 */
export async function meshGet(rt: MeshRuntime, messageId: string, flags: MeshGetFlags): Promise<void> {
  const destination = flags.out;
  if (destination === undefined && !rt.stdoutBytes) throw new CliError('no standard output to write to');
  const progress = new ChunkProgress(rt, 'received');
  await withMesh(rt, flags, async (mesh, ctx) => {
    const { metadata, body } = await mesh.receive(messageId, ctx, {
      ...(flags.verifyChecksum && { verifyChecksum: true }),
      onProgress: (p) => progress.update(p.chunk, p.chunks, p.bytesReceived),
    });
    if (flags.json) rt.stderr(`${JSON.stringify(metadata, null, 2)}\n`);
    else rt.stderr(formatMetadata(metadata));
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.byteLength;
        callback(null, chunk);
      },
    });
    const download = async () => {
      if (destination === undefined) {
        try {
          await pipeline(body, count, rt.stdoutBytes!, { end: false });
        } catch (error) {
          // `junction mesh get ID | head`: the reader left; say so rather than "write EPIPE".
          if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
            throw new CliError(
              `standard output was closed after ${formatBytes(bytes)}; the message is still in the inbox`,
            );
          }
          throw error;
        }
      } else {
        const part = `${destination}.part`;
        try {
          await pipeline(body, count, createWriteStream(part));
          await rename(part, destination);
        } catch (error) {
          await rm(part, { force: true });
          throw error;
        }
      }
    };
    try {
      await download();
    } finally {
      progress.end();
    }
    rt.stderr(
      `received ${formatBytes(bytes)}${destination === undefined ? '' : ` into ${destination}`}; ` +
        `not acknowledged (junction mesh ack ${metadata.messageId})\n`,
    );
  });
}

function formatMetadata(m: MeshMessageMetadata): string {
  const fields: Array<[string, string | undefined]> = [
    ['message', m.messageId],
    ['type', m.messageType],
    ['from', m.from],
    ['to', m.to],
    ['workflow', m.workflowId],
    ['subject', m.subject],
    ['local id', m.localId],
    ['file name', m.fileName],
    ['content type', m.contentType],
    ['chunks', String(m.totalChunks)],
    ['checksum', m.checksum],
    ['linked message', m.linkedMessageId],
    [
      'status',
      m.statusEvent || m.statusCode
        ? [m.statusSuccess, m.statusEvent, m.statusCode, m.statusDescription].filter(Boolean).join(' ')
        : undefined,
    ],
  ];
  return fields
    .filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '')
    .map(([k, v]) => `${`${k}:`.padEnd(16)}${v}\n`)
    .join('');
}

/** `junction mesh ack <id…>`: acknowledges (mesh-api.yaml `acknowledge_message`), removing each from the inbox. */
export async function meshAck(
  rt: MeshRuntime,
  messageIds: string[],
  flags: MeshConnectionFlags,
): Promise<void> {
  await withMesh(rt, flags, async (mesh, ctx) => {
    for (const id of messageIds) {
      await mesh.acknowledge(id, ctx);
      rt.stdout(`acknowledged ${id}\n`);
    }
  });
}

/** `junction mesh track <id>`: the status of a sent message (mesh-api.yaml `tracking_by_message_id`, v2). */
export async function meshTrack(
  rt: MeshRuntime,
  messageId: string,
  flags: MeshConnectionFlags & { json?: boolean },
): Promise<void> {
  const tracking = await withMesh(rt, flags, (mesh, ctx) => mesh.track(messageId, ctx));
  if (flags.json) printJson(rt, tracking);
  else rt.stdout(formatTracking(tracking));
}

const TRACKING_FIELDS: Array<[keyof MeshTracking, string]> = [
  ['message_id', 'message'],
  ['status', 'status'],
  ['status_success', 'success'],
  ['status_event', 'event'],
  ['status_code', 'code'],
  ['status_description', 'description'],
  ['status_timestamp', 'status time'],
  ['recipient', 'recipient'],
  ['recipient_name', 'recipient name'],
  ['workflow_id', 'workflow'],
  ['local_id', 'local id'],
  ['filename', 'file name'],
  ['upload_timestamp', 'uploaded'],
  ['expiry_time', 'expires'],
];

function formatTracking(t: MeshTracking): string {
  return TRACKING_FIELDS.filter(([k]) => t[k] !== undefined && t[k] !== null && t[k] !== '')
    .map(([k, label]) => `${`${label}:`.padEnd(16)}${String(t[k])}\n`)
    .join('');
}
