import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {
  MeshMailbox,
  MeshMessage,
  MeshSeed,
  MeshWorkflow,
  MessageEvent,
  MessageParty,
} from './model.js';
import { statusOf } from './model.js';

/** mesh-api.yaml "Message expiration": not downloaded and acknowledged within five days → removed, report to sender. */
export const DEFAULT_INBOX_EXPIRY_MS = 5 * 24 * 60 * 60 * 1000;

export interface MeshStoreOptions {
  dataDir: string;
  seed: MeshSeed;
  now: () => Date;
  inboxExpiryMs: number;
}

/** How long before start-up the newest canned message of the seed was sent. */
const SEED_AGE_MS = 1000;

/** Thrown when a request body is larger than the per-request limit. */
export class BodyTooLargeError extends Error {}

/**
 * Messages on disk: `<dataDir>/messages/<id>/meta.json` (small) and `<id>/chunks/<n>` (the bytes as
 * received), streamed in and out so a message of any size costs no memory. The metadata is also
 * kept in memory (it is small) and rewritten atomically (temp file + rename) on every change, so a
 * data dir can be reopened by a new server.
 */
export class MeshStore {
  readonly mailboxes = new Map<string, MeshMailbox>();
  readonly workflows = new Map<string, MeshWorkflow>();
  private readonly messages = new Map<string, MeshMessage>();
  private readonly writes = new Map<string, Promise<void>>();
  private readonly messagesDir: string;
  private lastIdMicros = 0n;

  constructor(private readonly options: MeshStoreOptions) {
    this.messagesDir = join(options.dataDir, 'messages');
    for (const mailbox of options.seed.mailboxes) {
      this.mailboxes.set(mailbox.mailbox_id.toUpperCase(), {
        ...mailbox,
        mailbox_id: mailbox.mailbox_id.toUpperCase(),
      });
    }
    for (const workflow of options.seed.workflows) this.workflows.set(workflow.workflow_id, workflow);
  }

  /** Loads the messages a data dir already holds, or puts the seed's messages in an empty one. */
  async open(): Promise<void> {
    await mkdir(this.messagesDir, { recursive: true });
    const ids = await readdir(this.messagesDir);
    const loaded: MeshMessage[] = [];
    for (const id of ids) {
      try {
        loaded.push(
          JSON.parse(await readFile(join(this.messagesDir, id, 'meta.json'), 'utf8')) as MeshMessage,
        );
      } catch {
        // A message whose first write never finished: drop its leftovers.
        await rm(join(this.messagesDir, id), { recursive: true, force: true });
      }
    }
    loaded.sort(byUploadTime);
    for (const message of loaded) this.messages.set(message.message_id, message);
    if (ids.length === 0) await this.loadSeedMessages();
  }

  /**
   * The seed's canned messages, their times moved to just before now (keeping their spacing) so the
   * canned inbox is not already past its expiry, and sorts before anything sent from now on.
   */
  private async loadSeedMessages(): Promise<void> {
    const seeded = this.options.seed.messages ?? [];
    const latest = Math.max(...seeded.map((m) => Date.parse(m.created_timestamp)).filter(Number.isFinite));
    const shift = Number.isFinite(latest) ? this.options.now().getTime() - SEED_AGE_MS - latest : 0;
    const moved = (iso: string | undefined) =>
      iso === undefined || !Number.isFinite(Date.parse(iso)) ? iso : toIso(new Date(Date.parse(iso) + shift));
    for (const { chunks, ...seed } of seeded) {
      const message: MeshMessage = {
        ...seed,
        message_id: seed.message_id.toUpperCase(),
        events: seed.events.map((event) => ({
          ...event,
          timestamp: moved(event.timestamp) ?? event.timestamp,
        })),
        created_timestamp: moved(seed.created_timestamp) ?? seed.created_timestamp,
        chunks_received: chunks.map((_, i) => i + 1),
      };
      const expiry = moved(seed.inbox_expiry_timestamp);
      if (expiry !== undefined) message.inbox_expiry_timestamp = expiry;
      const modified = moved(seed.last_modified);
      if (modified !== undefined) message.last_modified = modified;
      await mkdir(this.chunkDir(message.message_id), { recursive: true });
      for (const [i, chunk] of chunks.entries()) {
        const bytes = 'base64' in chunk ? Buffer.from(chunk.base64, 'base64') : Buffer.from(chunk.text);
        await writeFile(this.chunkPath(message.message_id, i + 1), bytes);
      }
      this.messages.set(message.message_id, message);
      await this.save(message);
    }
  }

  mailbox(id: string): MeshMailbox | undefined {
    return this.mailboxes.get(id.toUpperCase());
  }

  message(id: string): MeshMessage | undefined {
    return this.messages.get(id.toUpperCase());
  }

  all(): MeshMessage[] {
    return [...this.messages.values()];
  }

  /** Messages ready for download in a mailbox's inbox, oldest first (upload time, then id). */
  inbox(mailboxId: string): MeshMessage[] {
    return this.all()
      .filter((m) => m.recipient.mailbox_id === mailboxId && statusOf(m) === 'accepted')
      .sort(byUploadTime);
  }

  chunkDir(id: string): string {
    return join(this.messagesDir, id, 'chunks');
  }

  chunkPath(id: string, chunk: number): string {
    return join(this.chunkDir(id), String(chunk));
  }

  /**
   * A new message id in Spine's shape (`20200529155357895317_3573F8`: UTC time to microseconds, `_`,
   * 6 hex). The time part only ever grows (a send in the same microsecond, or under a fixed clock,
   * takes the next one), so ids sort in the order messages were sent: the inbox's order, on which
   * `continue_from` paging rests.
   */
  newMessageId(): string {
    const iso = this.options.now().toISOString();
    const micros = BigInt(`${iso.replace(/\D/g, '').slice(0, 17)}000`) + BigInt(randomBytes(1)[0] ?? 0);
    this.lastIdMicros = micros > this.lastIdMicros ? micros : this.lastIdMicros + 1n;
    return `${this.lastIdMicros}_${randomBytes(3).toString('hex').toUpperCase()}`;
  }

  /** Adds a new message (metadata only; chunks follow with `writeChunk`). */
  async add(message: MeshMessage): Promise<void> {
    await mkdir(this.chunkDir(message.message_id), { recursive: true });
    this.messages.set(message.message_id, message);
    await this.save(message);
  }

  /**
   * Streams a request body into a chunk file (temp file, then rename, so a reader never sees half a
   * chunk). Returns the byte count; throws BodyTooLargeError past `maxBytes`.
   */
  async writeChunk(id: string, chunk: number, body: Readable, maxBytes: number): Promise<number> {
    const target = this.chunkPath(id, chunk);
    const temp = `${target}.${randomBytes(4).toString('hex')}.part`;
    let bytes = 0;
    try {
      await pipeline(
        body,
        async function* limit(source: AsyncIterable<Buffer>) {
          for await (const data of source) {
            bytes += data.length;
            if (bytes > maxBytes) throw new BodyTooLargeError(`request body over ${maxBytes} bytes`);
            yield data;
          }
        },
        createWriteStream(temp),
      );
      await rename(temp, target);
      return bytes;
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  readChunk(id: string, chunk: number): ReadStream {
    return createReadStream(this.chunkPath(id, chunk));
  }

  async chunkSize(id: string, chunk: number): Promise<number | undefined> {
    try {
      return (await stat(this.chunkPath(id, chunk))).size;
    } catch {
      return undefined;
    }
  }

  /** Records a change of state: a new event first in `events`, as mesh-sandbox keeps them. */
  async addEvent(message: MeshMessage, event: Omit<MessageEvent, 'timestamp'> & { timestamp?: string }) {
    message.events.unshift({ ...event, timestamp: event.timestamp ?? toIso(this.options.now()) });
    message.last_modified = toIso(this.options.now());
    await this.save(message);
  }

  /** Marks a fully uploaded message accepted: it is in the recipient's inbox until it expires. */
  async accept(message: MeshMessage, fileSize: number): Promise<void> {
    message.file_size = fileSize;
    if (message.message_type === 'DATA') {
      message.inbox_expiry_timestamp = toIso(
        new Date(this.options.now().getTime() + this.options.inboxExpiryMs),
      );
    }
    if (statusOf(message) === 'accepted') await this.save(message);
    else await this.addEvent(message, { status: 'accepted' });
  }

  /** Writes a message's metadata (serialised per message, each write temp + rename). */
  save(message: MeshMessage): Promise<void> {
    const dir = join(this.messagesDir, message.message_id);
    const previous = this.writes.get(message.message_id) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (this.messages.get(message.message_id) !== message) return; // deleted meanwhile
      const temp = join(dir, `meta.${randomBytes(4).toString('hex')}.tmp`);
      await writeFile(temp, JSON.stringify(message));
      await rename(temp, join(dir, 'meta.json'));
    });
    const settled = next.catch(() => {});
    this.writes.set(message.message_id, settled);
    void settled.then(() => {
      if (this.writes.get(message.message_id) === settled) this.writes.delete(message.message_id);
    });
    return next;
  }

  async remove(id: string): Promise<void> {
    const pending = this.writes.get(id);
    this.messages.delete(id);
    await pending;
    await rm(join(this.messagesDir, id), { recursive: true, force: true });
  }

  /** mesh-sandbox `reset`: every message gone, the seed's canned messages back. */
  async reset(): Promise<void> {
    for (const id of [...this.messages.keys()]) await this.remove(id);
    await this.loadSeedMessages();
  }

  /** mesh-sandbox `reset_mailbox`: the mailbox's inbox emptied. */
  async resetMailbox(mailboxId: string): Promise<void> {
    for (const message of this.all()) {
      if (message.recipient.mailbox_id === mailboxId) await this.remove(message.message_id);
    }
  }

  /**
   * mesh-api.yaml "Message expiration": a message not acknowledged by its inbox expiry is removed
   * from the inbox (undeliverable, SEND 14) and its sender gets an error report.
   */
  async expire(): Promise<void> {
    const nowMs = this.options.now().getTime();
    for (const message of this.all()) {
      if (statusOf(message) !== 'accepted' || message.inbox_expiry_timestamp === undefined) continue;
      if (Date.parse(message.inbox_expiry_timestamp) > nowMs) continue;
      const days = String(Math.max(1, Math.round(this.options.inboxExpiryMs / 86_400_000)));
      const description = `Message not collected by recipient after ${days} days`;
      await this.addEvent(message, {
        status: 'undeliverable',
        event: 'SEND',
        code: '14',
        description,
        linked_message_id: message.message_id,
      });
      if (message.message_type === 'DATA') {
        await this.report(message, { event: 'SEND', code: '14', description });
      }
    }
  }

  /**
   * Puts an error report about `about` in its sender's inbox (mesh-api.yaml "Asynchronous error
   * reporting": `Mex-MessageType: REPORT`, empty body, `Mex-LinkedMsgID`, `Mex-StatusCode` …).
   */
  async report(
    about: MeshMessage,
    error: { event: string; code: string; description: string },
  ): Promise<MeshMessage | undefined> {
    const sender = this.mailbox(about.sender.mailbox_id);
    if (!sender) return undefined;
    return this.createReport({
      recipient: sender,
      workflowId: about.workflow_id,
      ...error,
      linkedMessageId: about.message_id,
      status: 'error',
      ...(about.metadata.subject !== undefined && { subject: about.metadata.subject }),
      ...(about.metadata.local_id !== undefined && { localId: about.metadata.local_id }),
      ...(about.metadata.file_name !== undefined && { fileName: about.metadata.file_name }),
      to: about.recipient.mailbox_id,
    });
  }

  /** A REPORT message from the central system mailbox (mesh-sandbox admin `create_report`). */
  async createReport(request: {
    recipient: MeshMailbox;
    workflowId: string;
    event?: string;
    code: string;
    description: string;
    linkedMessageId?: string;
    status?: 'error' | 'undeliverable';
    subject?: string;
    localId?: string;
    fileName?: string;
    to?: string;
  }): Promise<MeshMessage> {
    const now = toIso(this.options.now());
    const message: MeshMessage = {
      message_id: this.newMessageId(),
      message_type: 'REPORT',
      workflow_id: request.workflowId,
      sender: {
        mailbox_id: '',
        mailbox_name: 'Central System Mailbox',
        ods_code: 'X26',
        org_code: 'X26',
        org_name: 'NHS England',
        billing_entity: 'England',
      },
      recipient: partyOf(request.recipient),
      total_chunks: 0,
      chunks_received: [],
      file_size: 0,
      metadata: {
        ...(request.subject !== undefined && { subject: request.subject }),
        ...(request.localId !== undefined && { local_id: request.localId }),
        ...(request.fileName !== undefined && { file_name: request.fileName }),
      },
      events: [
        { status: 'accepted', timestamp: now },
        {
          status: request.status ?? 'error',
          timestamp: now,
          event: request.event ?? 'TRANSFER',
          code: request.code,
          description: request.description,
          ...(request.linkedMessageId !== undefined && { linked_message_id: request.linkedMessageId }),
        },
      ],
      created_timestamp: now,
      last_modified: now,
    };
    if (request.to !== undefined) message.report_to = request.to;
    await this.add(message);
    return message;
  }
}

/** Inbox order, the order `continue_from` pages in: upload time, then message id. */
export function byUploadTime(a: MeshMessage, b: MeshMessage): number {
  return a.created_timestamp.localeCompare(b.created_timestamp) || a.message_id.localeCompare(b.message_id);
}

export function partyOf(mailbox: MeshMailbox): MessageParty {
  return {
    mailbox_id: mailbox.mailbox_id,
    mailbox_name: mailbox.mailbox_name,
    ods_code: mailbox.ods_code,
    org_code: mailbox.org_code,
    ...(mailbox.org_name !== undefined && { org_name: mailbox.org_name }),
    ...(mailbox.billing_entity !== undefined && { billing_entity: mailbox.billing_entity }),
  };
}

/** ISO 8601 UTC with milliseconds. */
export function toIso(date: Date): string {
  return date.toISOString();
}
