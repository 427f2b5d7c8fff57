import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type {
  MeshError,
  MeshInboxOptions,
  MeshReceived,
  MeshSendProgress,
  MeshSendRequest,
  MeshSendResult,
  MeshTracking,
  RequestContext,
} from '@junction/client';
import type { Kysely } from 'kysely';
import type { MeshMailboxConfig } from '../config/load-config.js';
import { enqueueJob } from '../jobs/queue.js';
import { type JobContext, type JobHandler, PermanentJobError } from '../jobs/runner.js';
import type { Database, Store } from '../store/database.js';
import {
  addEvent,
  inTransaction,
  type MeshEventType,
  type MeshMessage,
  type MeshMessageBody,
  type MeshMessageStatus,
  readMeshMessageBody,
  type SendMeshMessageInput,
  sendMeshMessage,
  toMessage,
} from './message-log.js';

/**
 * What the hub needs of a MESH mailbox: `MeshClient` from `@junction/client` has all of it; tests
 * pass fakes (the hub never imports the sandbox).
 */
export interface MeshPort {
  send(request: MeshSendRequest, ctx?: RequestContext): Promise<MeshSendResult>;
  inbox(options?: MeshInboxOptions, ctx?: RequestContext): AsyncIterable<string>;
  receive(messageId: string, ctx?: RequestContext): Promise<MeshReceived>;
  acknowledge(messageId: string, ctx?: RequestContext): Promise<void>;
  track(messageId: string, ctx?: RequestContext): Promise<MeshTracking>;
  trackByLocalId(localId: string, ctx?: RequestContext): Promise<MeshTracking | undefined>;
  close?(): Promise<void>;
}

/** What `hub.mesh.events` emits (`'message'`) after each change of the log is committed. */
export interface MeshLogEvent {
  event: MeshEventType;
  message: MeshMessage;
  detail: string | null;
}

/** Runs for an inbound message of its workflow, as a `mesh.inbound` job, once the message is stored. */
export type MeshInboundHandler = (
  message: MeshMessage,
  body: MeshMessageBody,
  ctx: JobContext,
) => Promise<unknown>;
/** Runs when an outbound message of its workflow becomes sent, delivered, acknowledged or failed (`mesh.status` job). */
export type MeshStatusHandler = (message: MeshMessage, ctx: JobContext) => Promise<unknown>;

export interface MeshServiceOptions {
  store: Store;
  /** Where large inbound bodies go (`<dataDir>/mesh/messages`). */
  dataDir: string;
  mailboxes: readonly MeshMailboxConfig[];
  /** A port per configured mailbox. */
  portFor: (mailbox: MeshMailboxConfig) => MeshPort;
  trackIntervalMs?: number;
  /** Tracking stops after this many looks without an end (default 7 days' worth, MESH keeps messages 5). */
  maxTrackLooks?: number;
  /** Inbound bodies up to this size go in the store, larger ones in files (default 1 MiB). */
  inlineBodyMax?: number;
  now?: () => Date;
  /** Called after jobs were enqueued by this process, to run them now. */
  notify?: () => void;
}

const TERMINAL_OUTBOUND = new Set<MeshMessageStatus>(['acknowledged', 'failed']);
const STATUS_RANK: Record<string, number> = { queued: 0, sending: 1, sent: 2, delivered: 3, acknowledged: 4 };
const NOTIFIED = new Set<MeshMessageStatus>(['sent', 'delivered', 'acknowledged', 'failed']);

interface Change {
  status?: MeshMessageStatus;
  event: MeshEventType;
  detail?: string | null;
  set?: Partial<{
    mesh_message_id: string | null;
    chunks: number;
    chunks_sent: number | null;
    bytes: number;
    dts_event: string | null;
    dts_code: string | null;
    error: string | null;
  }>;
}

/**
 * The hub's MESH mailboxes: the job handlers for sending (`mesh.send`), tracking (`mesh.track`),
 * polling (`mesh.poll`), inbound handlers (`mesh.inbound`) and status handlers (`mesh.status`), the
 * poll schedule, and an EventEmitter of committed changes.
 *
 * Never sent twice: the send job marks the message `sending` (committed) before the POST, with
 * `mex-LocalID` unique per mailbox. A later attempt that finds it `sending` (the process died, or
 * the answer was lost, between the POST and recording the message id) first asks MESH for a
 * message with that local id (mesh-api.yaml `tracking_by_local_id`) and adopts it when found.
 *
 * Resumed, not restarted: a chunked message's MESH id is committed as soon as chunk 1 is accepted,
 * and `chunks_sent` after every chunk, before the next is posted. An attempt that finds the message
 * `sending` with a MESH id (the process died, the lease was lost, the network failed mid-upload)
 * posts chunks `chunks_sent + 1`..n to the same MESH message; MESH delivers it once, when all its
 * chunks are in. One found by its local id still `uploading` is adopted and resumed from chunk 2.
 *
 * Never lost: an inbound message is downloaded to a file, written to the store (status `received`,
 * its handler job enqueued in the same transaction) and only then acknowledged to MESH. A message
 * stored but not acknowledged (a crash in between) is listed again by the next poll, found in the
 * log by its MESH id, and only acknowledged: stored once.
 */
export class MeshService {
  readonly events = new EventEmitter<{ message: [MeshLogEvent] }>();
  private mailboxList: readonly MeshMailboxConfig[];
  private readonly store: Store;
  private readonly dataDir: string;
  private readonly ports = new Map<string, MeshPort>();
  /** Ports of mailboxes changed or removed since: a job may still be using one, so closed at close(). */
  private readonly retiredPorts: MeshPort[] = [];
  private readonly portFor: (mailbox: MeshMailboxConfig) => MeshPort;
  private readonly inboundHandlers = new Map<string, MeshInboundHandler>();
  private readonly statusHandlers = new Map<string, MeshStatusHandler>();
  private readonly trackIntervalMs: number;
  private readonly maxTrackLooks: number;
  private readonly inlineBodyMax: number;
  private readonly now: () => Date;
  private readonly notify: () => void;
  private timers: NodeJS.Timeout[] = [];
  private polling = false;

  constructor(options: MeshServiceOptions) {
    this.store = options.store;
    this.dataDir = options.dataDir;
    this.mailboxList = options.mailboxes;
    this.portFor = options.portFor;
    this.trackIntervalMs = options.trackIntervalMs ?? 60_000;
    this.maxTrackLooks =
      options.maxTrackLooks ?? Math.max(1, Math.ceil((7 * 86_400_000) / this.trackIntervalMs));
    this.inlineBodyMax = options.inlineBodyMax ?? 1024 * 1024;
    this.now = options.now ?? (() => new Date());
    this.notify = options.notify ?? (() => {});
  }

  /** The mailboxes in force (the environment's, with the console's settings). */
  get mailboxes(): readonly MeshMailboxConfig[] {
    return this.mailboxList;
  }

  /**
   * Uses another set of mailboxes (settings changed in the console): a changed or removed
   * mailbox's next job gets a new port, and the poll schedule follows the new list and intervals.
   * A send queued from a mailbox since removed fails as not configured (dead letter, with reason).
   */
  async reconfigure(mailboxes: readonly MeshMailboxConfig[]): Promise<void> {
    // Another setting changed (a base URL): the ports and the poll schedule stay as they are.
    if (JSON.stringify(mailboxes) === JSON.stringify(this.mailboxList)) return;
    const before = new Map(this.mailboxList.map((m) => [m.mailboxId, JSON.stringify(m)]));
    const after = new Map(mailboxes.map((m) => [m.mailboxId, JSON.stringify(m)]));
    this.mailboxList = mailboxes;
    for (const [id, port] of this.ports) {
      if (before.get(id) !== after.get(id)) {
        this.ports.delete(id);
        this.retiredPorts.push(port);
      }
    }
    if (this.polling) {
      this.stopPolling();
      this.startPolling();
    }
  }

  /** The job handlers to give the hub's JobRunner. */
  get jobHandlers(): Record<string, JobHandler> {
    return {
      'mesh.send': (job, ctx) => this.runSend(payloadId(job.payload), ctx),
      'mesh.track': (job, ctx) => this.runTrack(payloadId(job.payload), job.payload, ctx),
      'mesh.poll': (job, ctx) => this.poll(mailboxOf(job.payload), ctx),
      'mesh.inbound': (job, ctx) => this.runInbound(payloadId(job.payload), ctx),
      'mesh.status': (job, ctx) => this.runStatus(payloadId(job.payload), ctx),
    };
  }

  /** `sendMeshMessage` on the hub's store, then a nudge to the runner. */
  async send(input: SendMeshMessageInput): Promise<{ messageLogId: string; created: boolean }> {
    const out = await sendMeshMessage(this.store, input, { now: this.now });
    if (out.created) {
      const message = await this.load(out.messageLogId);
      if (message) this.emit({ event: 'queued', message, detail: null });
      this.notify();
    }
    return out;
  }

  /**
   * Handles inbound messages of a workflow (e.g. `GPFED_CONSULT_REPORT_ACK`): a `mesh.inbound` job is
   * enqueued with the stored message, before it is acknowledged to MESH. Register before the runner starts.
   */
  registerInboundHandler(workflowId: string, handler: MeshInboundHandler): void {
    this.inboundHandlers.set(workflowId, handler);
  }

  /** Learns, durably, when an outbound message of a workflow is sent, delivered, acknowledged or failed. */
  registerStatusHandler(workflowId: string, handler: MeshStatusHandler): void {
    this.statusHandlers.set(workflowId, handler);
  }

  /** The body of a logged message. */
  body(id: string): Promise<MeshMessageBody | undefined> {
    return readMeshMessageBody(this.store, id, this.dataDir);
  }

  /** Enqueues a `mesh.poll` job per mailbox every `pollIntervalMs` (one per mailbox per tick, whatever the instances). */
  startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    for (const mailbox of this.mailboxes) {
      const tick = () => {
        this.enqueuePoll(mailbox).catch(() => {
          // The store is unreachable: the next tick tries again.
        });
      };
      tick();
      const timer = setInterval(tick, mailbox.pollIntervalMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  stopPolling(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.polling = false;
  }

  async close(): Promise<void> {
    this.stopPolling();
    for (const port of [...this.ports.values(), ...this.retiredPorts]) await port.close?.();
    this.ports.clear();
    this.retiredPorts.length = 0;
  }

  /** Enqueues this tick's poll of a mailbox (idempotency key per mailbox per tick). */
  async enqueuePoll(mailbox: MeshMailboxConfig): Promise<void> {
    const tick = Math.floor(this.now().getTime() / mailbox.pollIntervalMs);
    const { created } = await enqueueJob(
      this.store,
      {
        kind: 'mesh.poll',
        payload: { mailboxId: mailbox.mailboxId },
        idempotencyKey: `mesh.poll:${mailbox.mailboxId}:${tick}`,
        // A failed poll is not retried: the next tick polls again, which supersedes it.
        maxAttempts: 1,
        periodic: true,
      },
      { now: this.now },
    );
    if (created) this.notify();
  }

  private port(mailboxId: string): MeshPort {
    let port = this.ports.get(mailboxId);
    if (!port) {
      const config = this.mailboxes.find((m) => m.mailboxId === mailboxId);
      if (!config)
        throw new PermanentJobError(`MESH mailbox ${mailboxId} is not configured (JUNCTION_MESH_MAILBOXES)`);
      port = this.portFor(config);
      this.ports.set(mailboxId, port);
    }
    return port;
  }

  // ---- outbound -------------------------------------------------------------------------------

  private async runSend(id: string, ctx: JobContext): Promise<unknown> {
    const row = await this.row(id);
    if (row.direction !== 'outbound') throw new PermanentJobError(`message ${id} is not outbound`);
    if (row.status === 'failed' || (row.mesh_message_id !== null && row.status !== 'sending')) {
      return { meshMessageId: row.mesh_message_id, status: row.status, already: true };
    }
    const port = this.port(row.mailbox_id);
    const req = { correlationId: row.correlation_id, signal: ctx.signal };
    const localId = row.local_id ?? row.id;
    let resume: { messageId: string; fromChunk: number } | undefined;
    if (row.status === 'sending' && row.mesh_message_id !== null) {
      // An earlier attempt had chunk 1 (at least) accepted: the upload goes on where it was recorded.
      const accepted = row.chunks_sent ?? 1;
      if (row.chunks !== null && accepted >= row.chunks) {
        // Every chunk was accepted; only recording `sent` was missed.
        const result = { messageId: row.mesh_message_id, chunks: row.chunks, bytes: Number(row.bytes ?? 0) };
        await this.recordSent(id, row.mesh_message_id, { ...result, checksum: undefined }, 'sent', ctx);
        return { meshMessageId: row.mesh_message_id, chunks: row.chunks };
      }
      resume = { messageId: row.mesh_message_id, fromChunk: accepted + 1 };
    } else if (row.status === 'sending') {
      // An earlier attempt may have posted it: look before sending again.
      let earlier: MeshTracking | undefined;
      try {
        earlier = await port.trackByLocalId(localId, req);
      } catch (error) {
        if ((error as MeshError).status !== 300) throw error;
        // mesh-api.yaml tracking_by_local_id 300: "the `local_id` is not unique"; which one is ours cannot be told.
        const reason = `several MESH messages carry local id ${localId}: whether this one was sent cannot be told, so it is not sent again`;
        await this.change(id, { status: 'failed', event: 'failed', detail: reason, set: { error: reason } });
        throw new PermanentJobError(reason);
      }
      if (earlier?.status === 'uploading') {
        // Chunk 1 was accepted but its answer (the message id) never recorded: adopt the message and post the
        // rest from chunk 2 (a chunk MESH already holds is replaced by the same bytes, mesh-api.yaml send_chunk).
        await this.change(id, {
          event: 'found-by-local-id',
          detail: `MESH message ${earlier.message_id} is incomplete (uploading): an interrupted attempt posted it; its upload goes on`,
          set: { mesh_message_id: earlier.message_id, chunks_sent: 1 },
        });
        resume = { messageId: earlier.message_id, fromChunk: 2 };
      } else if (earlier) {
        await this.recordSent(id, earlier.message_id, undefined, 'found-by-local-id', ctx);
        return { meshMessageId: earlier.message_id, foundByLocalId: true };
      } else {
        await this.change(id, {
          event: 'not-found-by-local-id',
          detail: `attempt ${ctx.attempt}: MESH has no message with local id ${localId}; sending again`,
        });
      }
    }
    if (resume) {
      await this.change(id, {
        event: 'resuming',
        detail: `attempt ${ctx.attempt}: MESH message ${resume.messageId} from chunk ${resume.fromChunk}${row.chunks === null ? '' : ` of ${row.chunks}`}`,
      });
    } else {
      await this.change(id, { status: 'sending', event: 'sending', detail: `attempt ${ctx.attempt}` });
    }
    const body = await this.body(id);
    if (!body) throw new PermanentJobError(`message ${id} has no stored body`);
    const request: MeshSendRequest = {
      to: row.to_mailbox ?? '',
      workflowId: row.workflow_id ?? '',
      body: body.stream(),
      localId,
      onProgress: async (progress) => {
        // One chunk: its `sent` says it all. A lost lease stops the upload here: the new holder goes on.
        if (progress.chunks === 1) return;
        ctx.signal.throwIfAborted();
        await this.recordChunk(id, progress);
      },
    };
    if (resume) request.resume = resume;
    if (row.subject !== null) request.subject = row.subject;
    if (row.content_type !== null) request.contentType = row.content_type;
    let result: MeshSendResult;
    try {
      result = await port.send(request, req);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      const e = error as MeshError;
      const chunkOf = e.meshMessageId ?? (resume ? resume.messageId : undefined);
      if (chunkOf !== undefined && (e.status === 404 || e.status === 410)) {
        // The incomplete message is gone from MESH (never delivered): the next attempt starts a new one.
        const reason = `MESH no longer has the incomplete message ${chunkOf} (${e.status}); the next attempt sends it anew`;
        await this.change(id, {
          event: 'restarting',
          detail: reason,
          set: { mesh_message_id: null, chunks_sent: null },
        });
        throw new Error(reason);
      }
      if (isRefusal(error) || (chunkOf !== undefined && isChunkRefusal(error))) {
        // MESH answered and refused (mesh-api.yaml send_message 400/403/417; send_chunk 403/406/417/423): a refused
        // first POST stored nothing; a refused chunk leaves an incomplete message that is never delivered.
        const reason = e.message;
        await this.change(id, {
          status: 'failed',
          event: 'failed',
          detail:
            chunkOf === undefined ? reason : `${reason} (incomplete MESH message ${chunkOf}, not delivered)`,
          set: { dts_event: e.dts?.event ?? null, dts_code: e.dts?.code ?? null, error: reason },
        });
        throw new PermanentJobError(reason);
      }
      // No answer, or a 5xx: the POST may have reached MESH. The row stays `sending` (with the MESH message id
      // once chunk 1 was accepted); the retry looks, or resumes, first.
      throw error;
    }
    await this.recordSent(id, result.messageId, result, 'sent', ctx);
    return {
      meshMessageId: result.messageId,
      chunks: result.chunks,
      ...(resume && { resumedFrom: resume.fromChunk }),
    };
  }

  /**
   * Commits one accepted chunk before the next is posted: the MESH message id (from chunk 1), the chunk count,
   * `chunks_sent` (never lowered), and a `chunk-sent` event when {@link chunkEventDue} says so.
   */
  private async recordChunk(id: string, p: MeshSendProgress): Promise<void> {
    const event = chunkEventDue(p.chunk, p.chunks);
    const detail = `chunk ${p.chunk}/${p.chunks} sent, ${p.bytesSent} of ${p.bytesTotal} bytes${p.chunk === 1 ? `, MESH message ${p.messageId}` : ''}`;
    const recorded = await inTransaction(this.store, async (trx) => {
      const stamp = this.now().toISOString();
      const updated = await trx
        .updateTable('mesh_messages')
        .set({ mesh_message_id: p.messageId, chunks: p.chunks, chunks_sent: p.chunk, updated_at: stamp })
        .where('id', '=', id)
        .where('status', '=', 'sending')
        .where((eb) => eb.or([eb('chunks_sent', 'is', null), eb('chunks_sent', '<', p.chunk)]))
        .executeTakeFirst();
      // Not updated: another holder of the job already recorded this chunk or a later one.
      if (!event || Number(updated.numUpdatedRows) !== 1) return false;
      await addEvent(trx, { message_id: id, at: stamp, event: 'chunk-sent', status: 'sending', detail });
      return true;
    });
    if (recorded) await this.emitLatest(id, 'chunk-sent', detail);
  }

  private async recordSent(
    id: string,
    meshMessageId: string,
    result: MeshSendResult | undefined,
    event: 'sent' | 'found-by-local-id',
    ctx: JobContext,
  ): Promise<void> {
    const detail =
      event === 'sent'
        ? `MESH message ${meshMessageId}${result ? `, ${result.chunks} chunk(s), ${result.bytes} bytes` : ''}`
        : `MESH message ${meshMessageId} (posted by an earlier, interrupted attempt; not sent again)`;
    const set: Change['set'] = { mesh_message_id: meshMessageId };
    if (result) {
      set.chunks = result.chunks;
      set.chunks_sent = result.chunks;
    }
    await this.change(id, { status: 'sent', event, detail, set }, async (trx) => {
      await this.enqueueTrack(trx, id, 1, ctx.correlationId);
    });
  }

  private async enqueueTrack(trx: Kysely<Database>, id: string, look: number, correlationId: string) {
    await enqueueJob(
      { db: trx, dialect: this.store.dialect },
      {
        kind: 'mesh.track',
        payload: { messageLogId: id, look },
        idempotencyKey: `mesh.track:${id}:${look}`,
        correlationId,
        runAfter: new Date(this.now().getTime() + (look === 1 ? 0 : this.trackIntervalMs)),
      },
      { now: this.now },
    );
  }

  private async runTrack(id: string, payload: unknown, ctx: JobContext): Promise<unknown> {
    const look = Number((payload as { look?: unknown }).look ?? 1);
    const row = await this.row(id);
    if (TERMINAL_OUTBOUND.has(row.status as MeshMessageStatus) || row.mesh_message_id === null) {
      return { status: row.status, tracking: 'not needed' };
    }
    const port = this.port(row.mailbox_id);
    let tracking: MeshTracking;
    try {
      tracking = await port.track(row.mesh_message_id, {
        correlationId: row.correlation_id,
        signal: ctx.signal,
      });
    } catch (error) {
      if ((error as MeshError).status === 404 || (error as MeshError).status === 410) {
        await this.change(id, {
          event: 'tracking-stopped',
          detail: `MESH no longer tracks it (${(error as MeshError).status})`,
        });
        return { status: row.status, tracking: 'gone' };
      }
      throw error;
    }
    const meshStatus = String(tracking.status ?? '').toLowerCase();
    const current = row.status as MeshMessageStatus;
    let next: MeshMessageStatus | undefined;
    if (meshStatus === 'accepted') next = 'delivered';
    else if (meshStatus === 'acknowledged') next = 'acknowledged';
    else if (meshStatus === 'undeliverable' || meshStatus === 'error' || tracking.status_success === false)
      next = 'failed';
    if (next === 'failed') {
      const reason = `MESH status ${meshStatus}${tracking.status_code ? ` (${tracking.status_event ?? ''} ${tracking.status_code} ${tracking.status_description ?? ''})`.replace(/\s+\)/, ')') : ''}`;
      await this.change(id, {
        status: 'failed',
        event: 'failed',
        detail: reason,
        set: { dts_event: str(tracking.status_event), dts_code: str(tracking.status_code), error: reason },
      });
      return { status: 'failed' };
    }
    if (next !== undefined && (STATUS_RANK[next] ?? 0) > (STATUS_RANK[current] ?? 0)) {
      await this.change(id, {
        status: next,
        event: next as 'delivered' | 'acknowledged',
        detail: `MESH status ${meshStatus}`,
      });
    }
    const status =
      next !== undefined && (STATUS_RANK[next] ?? 0) > (STATUS_RANK[current] ?? 0) ? next : current;
    if (status === 'acknowledged') return { status };
    if (look >= this.maxTrackLooks) {
      await this.change(id, { event: 'tracking-stopped', detail: `no end after ${look} looks` });
      return { status, tracking: 'stopped' };
    }
    await inTransaction(this.store, (trx) => this.enqueueTrack(trx, id, look + 1, ctx.correlationId));
    return { status, next: look + 1 };
  }

  private async runStatus(id: string, ctx: JobContext): Promise<unknown> {
    const message = await this.load(id);
    if (!message) throw new PermanentJobError(`no MESH message ${id}`);
    const handler = message.workflowId === null ? undefined : this.statusHandlers.get(message.workflowId);
    if (!handler) return { handled: false };
    return (await handler(message, ctx)) ?? null;
  }

  // ---- inbound --------------------------------------------------------------------------------

  /** Collects a mailbox's inbox: every message stored, then acknowledged. */
  async poll(
    mailboxId: string,
    ctx: JobContext,
  ): Promise<{ mailboxId: string; listed: number; stored: number; acked: number }> {
    const mailbox = this.mailboxes.find((m) => m.mailboxId === mailboxId);
    if (!mailbox) throw new PermanentJobError(`MESH mailbox ${mailboxId} is not configured`);
    const port = this.port(mailboxId);
    const req = { correlationId: ctx.correlationId, signal: ctx.signal };
    const summary = { mailboxId, listed: 0, stored: 0, acked: 0 };
    for (const workflow of mailbox.workflows ?? [undefined]) {
      const options: MeshInboxOptions = {};
      if (workflow !== undefined) options.workflowFilter = workflow;
      if (mailbox.inboxPageSize !== undefined) options.maxResults = mailbox.inboxPageSize;
      for await (const meshId of port.inbox(options, req)) {
        summary.listed++;
        const outcome = await this.collect(mailboxId, port, meshId, req);
        if (outcome.stored) summary.stored++;
        if (outcome.acked) summary.acked++;
      }
    }
    return summary;
  }

  private async collect(
    mailboxId: string,
    port: MeshPort,
    meshId: string,
    req: RequestContext,
  ): Promise<{ stored: boolean; acked: boolean }> {
    const known = await this.store.db
      .selectFrom('mesh_messages')
      .select(['id', 'status'])
      .where('direction', '=', 'inbound')
      .where('mailbox_id', '=', mailboxId)
      .where('mesh_message_id', '=', meshId)
      .executeTakeFirst();
    if (known) {
      // Stored by an earlier poll that stopped before (or failed at) the acknowledgement.
      await port.acknowledge(meshId, req);
      if (known.status !== 'acked') {
        await this.change(known.id, {
          status: 'acked',
          event: 'acked-to-mesh',
          detail: 'acknowledged by a later poll',
        });
      }
      return { stored: false, acked: true };
    }
    const id = randomUUID();
    const tmpDir = join(this.dataDir, 'mesh', 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${id}.part`);
    let bodyPath: string | null = null;
    let inline: Buffer | null = null;
    let bytes: number;
    const { metadata, body } = await port.receive(meshId, req);
    try {
      await pipeline(body, createWriteStream(tmp));
      const handle = await open(tmp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      bytes = (await stat(tmp)).size;
      if (bytes <= this.inlineBodyMax) {
        inline = await readFile(tmp);
      } else {
        const dir = join(this.dataDir, 'mesh', 'messages');
        await mkdir(dir, { recursive: true });
        bodyPath = join('mesh', 'messages', id);
        await rename(tmp, join(this.dataDir, bodyPath));
      }
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    const stamp = this.now().toISOString();
    const workflowId = metadata.workflowId ?? null;
    const isReport = metadata.messageType === 'REPORT';
    let linkedOutbound: string | undefined;
    const inserted = await inTransaction(this.store, async (trx) => {
      const res = await trx
        .insertInto('mesh_messages')
        .values({
          id,
          direction: 'inbound',
          mailbox_id: mailboxId,
          from_mailbox: metadata.from ?? null,
          to_mailbox: metadata.to ?? mailboxId,
          workflow_id: workflowId,
          subject: metadata.subject ?? null,
          local_id: metadata.localId ?? null,
          content_type: metadata.contentType ?? null,
          message_type: metadata.messageType ?? 'DATA',
          mesh_message_id: meshId,
          linked_message_id: metadata.linkedMessageId ?? null,
          status: 'received',
          dts_event: isReport ? (metadata.statusEvent ?? null) : null,
          dts_code: isReport ? (metadata.statusCode ?? null) : null,
          error: isReport ? (metadata.statusDescription ?? null) : null,
          bytes,
          chunks: metadata.totalChunks,
          body_path: bodyPath,
          correlation_id: req.correlationId ?? randomUUID(),
          idempotency_key: null,
          created_at: stamp,
          updated_at: stamp,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
      if (inline)
        await trx.insertInto('mesh_message_bodies').values({ message_id: id, body: inline }).execute();
      await addEvent(trx, [
        {
          message_id: id,
          at: stamp,
          event: 'received',
          status: 'received',
          detail: `MESH message ${meshId} from ${metadata.from ?? '?'} (${metadata.messageType ?? 'DATA'}, ${bytes} bytes, ${metadata.totalChunks} chunk(s))`,
        },
        {
          message_id: id,
          at: stamp,
          event: 'stored',
          status: 'received',
          detail: bodyPath === null ? 'body in the store' : `body in ${bodyPath}`,
        },
      ]);
      if (isReport && metadata.linkedMessageId) {
        linkedOutbound = await this.applyReport(trx, mailboxId, metadata.linkedMessageId, {
          event: metadata.statusEvent,
          code: metadata.statusCode,
          description: metadata.statusDescription,
          success: metadata.statusSuccess,
        });
      }
      if (workflowId !== null && this.inboundHandlers.has(workflowId) && !isReport) {
        await enqueueJob(
          { db: trx, dialect: this.store.dialect },
          {
            kind: 'mesh.inbound',
            payload: { messageLogId: id },
            idempotencyKey: `mesh.inbound:${id}`,
            correlationId: req.correlationId ?? randomUUID(),
          },
          { now: this.now },
        );
      }
      return true;
    });
    if (!inserted) {
      // Another hub instance stored it first.
      if (inline) await rm(tmp, { force: true });
      else if (bodyPath) await rm(join(this.dataDir, bodyPath), { force: true });
      return { stored: false, acked: false };
    }
    if (inline) await rm(tmp, { force: true });
    await this.emitLatest(id, 'stored');
    if (linkedOutbound) await this.emitLatest(linkedOutbound, 'failed');
    this.notify();
    // Stored (and its handler job enqueued): only now is it acknowledged to MESH.
    await port.acknowledge(meshId, req);
    await this.change(id, { status: 'acked', event: 'acked-to-mesh', detail: null });
    return { stored: true, acked: true };
  }

  /** A MESH error report about one of our sent messages: that message failed. Returns its log id. */
  private async applyReport(
    trx: Kysely<Database>,
    mailboxId: string,
    linkedMeshId: string,
    status: {
      event?: string | undefined;
      code?: string | undefined;
      description?: string | undefined;
      success?: string | undefined;
    },
  ): Promise<string | undefined> {
    const target = await trx
      .selectFrom('mesh_messages')
      .selectAll()
      .where('direction', '=', 'outbound')
      .where('mailbox_id', '=', mailboxId)
      .where('mesh_message_id', '=', linkedMeshId)
      .executeTakeFirst();
    if (!target || TERMINAL_OUTBOUND.has(target.status as MeshMessageStatus)) return undefined;
    if (status.success !== undefined && status.success.toUpperCase() === 'SUCCESS') return undefined;
    const reason = `MESH report: ${[status.event, status.code, status.description].filter(Boolean).join(' ')}`;
    await this.applyChange(trx, target.id, target.workflow_id, {
      status: 'failed',
      event: 'failed',
      detail: reason,
      set: { dts_event: status.event ?? null, dts_code: status.code ?? null, error: reason },
    });
    return target.id;
  }

  private async runInbound(id: string, ctx: JobContext): Promise<unknown> {
    const message = await this.load(id);
    if (!message) throw new PermanentJobError(`no MESH message ${id}`);
    const handler = message.workflowId === null ? undefined : this.inboundHandlers.get(message.workflowId);
    if (!handler) return { handled: false };
    const body = await this.body(id);
    if (!body) throw new PermanentJobError(`MESH message ${id} has no stored body`);
    const result = await handler(message, body, ctx);
    await this.change(id, {
      event: 'handled',
      detail: `by the ${message.workflowId} handler (job ${ctx.jobId})`,
    });
    return result ?? null;
  }

  // ---- log changes ----------------------------------------------------------------------------

  private async row(id: string) {
    const row = await this.store.db
      .selectFrom('mesh_messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new PermanentJobError(`no MESH message ${id}`);
    return row;
  }

  private async load(id: string): Promise<MeshMessage | undefined> {
    const row = await this.store.db
      .selectFrom('mesh_messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toMessage(row) : undefined;
  }

  /** Applies a change and its event in one transaction (with `more`), then emits it. */
  private async change(
    id: string,
    change: Change,
    more?: (trx: Kysely<Database>) => Promise<void>,
  ): Promise<void> {
    await inTransaction(this.store, async (trx) => {
      const row = await trx
        .selectFrom('mesh_messages')
        .select('workflow_id')
        .where('id', '=', id)
        .executeTakeFirst();
      await this.applyChange(trx, id, row?.workflow_id ?? null, change);
      await more?.(trx);
    });
    await this.emitLatest(id, change.event, change.detail ?? null);
    this.notify();
  }

  private async applyChange(
    trx: Kysely<Database>,
    id: string,
    workflowId: string | null,
    change: Change,
  ): Promise<void> {
    const stamp = this.now().toISOString();
    const set: Record<string, unknown> = { ...change.set, updated_at: stamp };
    if (change.status) set.status = change.status;
    await trx.updateTable('mesh_messages').set(set).where('id', '=', id).execute();
    const status =
      change.status ??
      ((await trx.selectFrom('mesh_messages').select('status').where('id', '=', id).executeTakeFirstOrThrow())
        .status as MeshMessageStatus);
    await addEvent(trx, {
      message_id: id,
      at: stamp,
      event: change.event,
      status,
      detail: change.detail ?? null,
    });
    if (
      change.status &&
      NOTIFIED.has(change.status) &&
      workflowId !== null &&
      this.statusHandlers.has(workflowId)
    ) {
      await enqueueJob(
        { db: trx, dialect: this.store.dialect },
        {
          kind: 'mesh.status',
          payload: { messageLogId: id, status: change.status },
          idempotencyKey: `mesh.status:${id}:${change.status}`,
        },
        { now: this.now },
      );
    }
  }

  private async emitLatest(id: string, event: MeshEventType, detail: string | null = null): Promise<void> {
    const message = await this.load(id);
    if (message) this.emit({ event, message, detail });
  }

  private emit(e: MeshLogEvent): void {
    try {
      this.events.emit('message', e);
    } catch {
      // A listener's failure is its own; the log is already written.
    }
  }
}

/** A refusal MESH answered (4xx other than 408/429): the message was not stored, so sending again cannot duplicate it. */
function isRefusal(error: unknown): boolean {
  const status = (error as { status?: unknown }).status;
  return (
    typeof status === 'number' &&
    status >= 400 &&
    status < 500 &&
    status !== 408 &&
    status !== 429 &&
    (error as MeshError).meshMessageId === undefined
  );
}

/** A refused chunk of a message MESH holds (mesh-api.yaml send_chunk 400/403/406/417/423): not worth posting again. */
function isChunkRefusal(error: unknown): boolean {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && [400, 403, 406, 417, 423].includes(status);
}

/**
 * At most this many `chunk-sent` events per message (plus the last chunk's): a 1 GB message in 20 MB chunks
 * records all 50; one of 100,000 chunks records chunk 1, every 1,000th and the last. `chunks_sent` is exact
 * whatever is recorded.
 */
export const MAX_CHUNK_EVENTS = 100;

/** Whether accepting chunk `k` of `n` is written to the message's history. */
export function chunkEventDue(k: number, n: number): boolean {
  if (n <= MAX_CHUNK_EVENTS) return true;
  return k === 1 || k === n || k % Math.ceil(n / MAX_CHUNK_EVENTS) === 0;
}

function payloadId(payload: unknown): string {
  const id = (payload as { messageLogId?: unknown } | null)?.messageLogId;
  if (typeof id !== 'string') throw new PermanentJobError('the job payload has no messageLogId');
  return id;
}

function mailboxOf(payload: unknown): string {
  const id = (payload as { mailboxId?: unknown } | null)?.mailboxId;
  if (typeof id !== 'string') throw new PermanentJobError('the job payload has no mailboxId');
  return id;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
