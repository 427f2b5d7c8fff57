import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Readable } from 'node:stream';
import type { Insertable, Kysely, Selectable } from 'kysely';
import { enqueueJob } from '../jobs/queue.js';
import type { Database, MeshMessageEventsTable, MeshMessagesTable, Store } from '../store/database.js';

/*
 * The MESH message log (migration 0006): every message the hub sends or receives through a
 * configured mailbox, with its full history. Status changes and their events are written in one
 * transaction, together with any job they cause (the send, the next tracking look, a handler).
 */

export const MESH_DIRECTIONS = ['outbound', 'inbound'] as const;
export type MeshDirection = (typeof MESH_DIRECTIONS)[number];

/**
 * outbound: `queued` (recorded, send job enqueued) → `sending` (the POST may have reached MESH; for a
 * chunked message, once chunk 1 is accepted, `meshMessageId` and `chunksSent` record the upload as it goes,
 * with `chunk-sent` events) → `sent` (MESH accepted every chunk) → `delivered` (tracking: in the recipient's inbox,
 * MESH `accepted`) → `acknowledged` (the recipient downloaded and acknowledged it) | `failed`
 * (refused with a DTS code, undeliverable or expired). inbound: `received` (downloaded and stored) →
 * `acked` (acknowledged to MESH, which removes it from the inbox).
 */
export const MESH_MESSAGE_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'acknowledged',
  'failed',
  'received',
  'acked',
] as const;
export type MeshMessageStatus = (typeof MESH_MESSAGE_STATUSES)[number];

export const MESH_EVENT_TYPES = [
  'queued',
  'sending',
  'chunk-sent',
  'resuming',
  'restarting',
  'sent',
  'found-by-local-id',
  'not-found-by-local-id',
  'delivered',
  'acknowledged',
  'failed',
  'tracking-stopped',
  'received',
  'stored',
  'acked-to-mesh',
  'handled',
  'report',
] as const;
export type MeshEventType = (typeof MESH_EVENT_TYPES)[number];

/** One message of the log, as the API shows it (never its body). */
export interface MeshMessage {
  id: string;
  direction: MeshDirection;
  /** The hub's mailbox: sender of an outbound message, recipient of an inbound one. */
  mailboxId: string;
  from: string | null;
  to: string | null;
  workflowId: string | null;
  subject: string | null;
  localId: string | null;
  contentType: string | null;
  /** `DATA`, or `REPORT` (a MESH error/delivery report about `linkedMessageId`). */
  messageType: string;
  meshMessageId: string | null;
  linkedMessageId: string | null;
  status: MeshMessageStatus;
  /** The DTS error event and code of a failure (mesh-api.yaml "Error codes"), e.g. SEND 12. */
  dts: { event: string | null; code: string | null } | null;
  error: string | null;
  bytes: number | null;
  chunks: number | null;
  /** Chunks MESH has accepted so far (outbound): `chunks` once sent; where an interrupted upload resumes. */
  chunksSent: number | null;
  correlationId: string;
  idempotencyKey: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface MeshMessageEvent {
  id: number;
  messageId: string;
  at: string;
  event: MeshEventType;
  /** The message's status after it. */
  status: MeshMessageStatus;
  detail: string | null;
}

export interface MeshMessageWithEvents extends MeshMessage {
  events: MeshMessageEvent[];
}

/** Something the log refuses: bad input, or a local id already used by another message. */
export class MeshLogError extends Error {
  override readonly name = 'MeshLogError';
  constructor(
    readonly code: 'invalid' | 'conflict' | 'not-found',
    message: string,
  ) {
    super(message);
  }
}

type Db = Pick<Store, 'db' | 'dialect'>;
type Clock = () => Date;
const systemClock: Clock = () => new Date();
const MAX_KEY = 200;
/** Bodies sent through `sendMeshMessage` are kept in the store (every hub instance can send them). */
export const MAX_STORED_SEND_BYTES = 20 * 1024 * 1024;

/** Runs `fn` in a transaction (or in the caller's): a Kysely `Transaction`, so queue calls join it. */
export function inTransaction<T>(store: Db, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (store.db.isTransaction) return fn(store.db);
  return store.db.transaction().execute((trx) => fn(trx));
}

export interface SendMeshMessageInput {
  /** The hub mailbox to send from (one of `JUNCTION_MESH_MAILBOXES`). */
  mailboxId: string;
  /** `mex-To`. */
  to: string;
  /** `mex-WorkflowID`. */
  workflowId: string;
  /** `mex-Subject`. */
  subject?: string;
  /**
   * `mex-LocalID` (mesh-api.yaml: "must not contain PID"); unique per sending mailbox, since a send
   * whose answer was lost is found again by it. Default: the message log id.
   */
  localId?: string;
  body: string | Uint8Array;
  /** The content's type (`Content-Type` / `mex-Content-Type`). */
  contentType?: string;
  correlationId: string;
  /** Sending again with the same key (per mailbox) returns the first message and sends nothing. */
  idempotencyKey: string;
}

/**
 * Records an outbound message (status `queued`, body in the store) and enqueues its `mesh.send`
 * job, in one transaction: the message is sent once the transaction commits, and never twice (see
 * `send-jobs.ts`). Pass `{ db: trx, dialect }` to make it part of your own transaction.
 * @example
 * const { messageLogId } = await sendMeshMessage(store, { mailboxId: 'X26ABC1', to: 'A12345HC001',
 *   workflowId: 'GPFED_CONSULT_REPORT', body: xml, correlationId, idempotencyKey: `submission:${id}` });
 */
export async function sendMeshMessage(
  store: Db,
  input: SendMeshMessageInput,
  options: { now?: Clock } = {},
): Promise<{ messageLogId: string; created: boolean }> {
  for (const [name, value] of [
    ['mailboxId', input.mailboxId],
    ['to', input.to],
    ['workflowId', input.workflowId],
    ['correlationId', input.correlationId],
    ['idempotencyKey', input.idempotencyKey],
  ] as const) {
    if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_KEY) {
      throw new MeshLogError('invalid', `${name} must be 1–${MAX_KEY} characters`);
    }
  }
  if (input.localId !== undefined && (input.localId === '' || input.localId.length > 300)) {
    throw new MeshLogError('invalid', 'localId must be 1–300 characters');
  }
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : Buffer.from(input.body);
  if (body.byteLength > MAX_STORED_SEND_BYTES) {
    throw new MeshLogError('invalid', `the body is over ${MAX_STORED_SEND_BYTES} bytes`);
  }
  const mailboxId = input.mailboxId.toUpperCase();
  const stamp = (options.now ?? systemClock)().toISOString();
  const id = randomUUID();
  const row: Insertable<MeshMessagesTable> = {
    id,
    direction: 'outbound',
    mailbox_id: mailboxId,
    from_mailbox: mailboxId,
    to_mailbox: input.to,
    workflow_id: input.workflowId,
    subject: input.subject ?? null,
    local_id: input.localId ?? id,
    content_type: input.contentType ?? null,
    message_type: 'DATA',
    mesh_message_id: null,
    linked_message_id: null,
    status: 'queued',
    dts_event: null,
    dts_code: null,
    error: null,
    bytes: body.byteLength,
    chunks: null,
    body_path: null,
    correlation_id: input.correlationId,
    idempotency_key: input.idempotencyKey,
    created_at: stamp,
    updated_at: stamp,
  };
  return inTransaction(store, async (trx) => {
    const existing = await findByKey(trx, mailboxId, input.idempotencyKey);
    if (existing) return { messageLogId: existing.id, created: false };
    const inserted = await trx
      .insertInto('mesh_messages')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) {
      // Another transaction took the key in between (PostgreSQL), or the local id is taken.
      const raced = await findByKey(trx, mailboxId, input.idempotencyKey);
      if (raced) return { messageLogId: raced.id, created: false };
      throw new MeshLogError('conflict', `localId ${row.local_id} is already used by another message`);
    }
    await trx.insertInto('mesh_message_bodies').values({ message_id: id, body }).execute();
    await addEvent(trx, { message_id: id, at: stamp, event: 'queued', status: 'queued', detail: null });
    await enqueueJob(
      { db: trx, dialect: store.dialect },
      {
        kind: 'mesh.send',
        payload: { messageLogId: id },
        idempotencyKey: `mesh.send:${id}`,
        correlationId: input.correlationId,
      },
      options.now ? { now: options.now } : {},
    );
    return { messageLogId: id, created: true };
  });
}

function findByKey(trx: Kysely<Database>, mailboxId: string, key: string) {
  return trx
    .selectFrom('mesh_messages')
    .select('id')
    .where('direction', '=', 'outbound')
    .where('mailbox_id', '=', mailboxId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
}

export interface ListMeshMessagesOptions {
  mailboxId?: string;
  workflowId?: string;
  status?: MeshMessageStatus;
  correlationId?: string;
  direction?: MeshDirection;
  /** Default 50, at most 500. */
  limit?: number;
  /** A message log id: only messages older than it (the next page). */
  before?: string;
}

/** Messages, newest first, filtered; page with `before` = the last id of the previous page. */
export async function listMeshMessages(
  store: Db,
  options: ListMeshMessagesOptions = {},
): Promise<MeshMessage[]> {
  let q = store.db.selectFrom('mesh_messages').selectAll();
  if (options.mailboxId !== undefined) q = q.where('mailbox_id', '=', options.mailboxId.toUpperCase());
  if (options.workflowId !== undefined) q = q.where('workflow_id', '=', options.workflowId);
  if (options.status !== undefined) q = q.where('status', '=', options.status);
  if (options.correlationId !== undefined) q = q.where('correlation_id', '=', options.correlationId);
  if (options.direction !== undefined) q = q.where('direction', '=', options.direction);
  if (options.before !== undefined) {
    const anchor = await store.db
      .selectFrom('mesh_messages')
      .select(['created_at', 'id'])
      .where('id', '=', options.before)
      .executeTakeFirst();
    if (!anchor) throw new MeshLogError('not-found', `no message ${options.before} to page from`);
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '<', anchor.created_at),
        eb.and([eb('created_at', '=', anchor.created_at), eb('id', '<', anchor.id)]),
      ]),
    );
  }
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 1), 500);
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toMessage);
}

/** A message and its full history, or undefined. */
export async function getMeshMessage(store: Db, id: string): Promise<MeshMessageWithEvents | undefined> {
  const row = await store.db.selectFrom('mesh_messages').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const events = await store.db
    .selectFrom('mesh_message_events')
    .selectAll()
    .where('message_id', '=', id)
    .orderBy('id')
    .execute();
  return { ...toMessage(row), events: events.map(toEvent) };
}

/**
 * Events of every message after `afterId` (0 for all), oldest first: a cursor another process (or
 * another hub instance) can poll to learn of deliveries, failures and arrivals.
 */
export async function listMeshEvents(
  store: Db,
  options: { afterId?: number; limit?: number } = {},
): Promise<Array<MeshMessageEvent & { message: MeshMessage }>> {
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), 1_000);
  const rows = await store.db
    .selectFrom('mesh_message_events as e')
    .innerJoin('mesh_messages as m', 'm.id', 'e.message_id')
    .selectAll('m')
    .select(['e.id as event_id', 'e.at', 'e.event', 'e.status as event_status', 'e.detail'])
    .where('e.id', '>', options.afterId ?? 0)
    .orderBy('e.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.event_id),
    messageId: r.id,
    at: r.at,
    event: r.event as MeshEventType,
    status: r.event_status as MeshMessageStatus,
    detail: r.detail,
    message: toMessage(r),
  }));
}

/** A stored body: in the store (small) or a file under the data dir (large). */
export interface MeshMessageBody {
  bytes: number;
  /** The content, streamed. */
  stream(): Readable;
  /** The content as UTF-8 text (refused over 16 MiB: stream a large one). */
  text(): Promise<string>;
}

const MAX_TEXT_BYTES = 16 * 1024 * 1024;

/** The body of a logged message, or undefined when none is kept. */
export async function readMeshMessageBody(
  store: Db,
  id: string,
  dataDir: string,
): Promise<MeshMessageBody | undefined> {
  const row = await store.db
    .selectFrom('mesh_messages')
    .select(['body_path', 'bytes'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.body_path !== null) {
    const path = isAbsolute(row.body_path) ? row.body_path : join(dataDir, row.body_path);
    const bytes = Number(row.bytes ?? 0);
    return {
      bytes,
      stream: () => createReadStream(path),
      async text() {
        if (bytes > MAX_TEXT_BYTES)
          throw new MeshLogError('invalid', 'the body is too large to read as text');
        const parts: Buffer[] = [];
        for await (const piece of createReadStream(path)) parts.push(piece as Buffer);
        return Buffer.concat(parts).toString('utf8');
      },
    };
  }
  const stored = await store.db
    .selectFrom('mesh_message_bodies')
    .select('body')
    .where('message_id', '=', id)
    .executeTakeFirst();
  if (!stored) return undefined;
  const buffer = Buffer.from(stored.body);
  return {
    bytes: buffer.byteLength,
    stream: () => Readable.from([buffer]),
    async text() {
      return buffer.toString('utf8');
    },
  };
}

export type NewMeshEvent = Omit<Selectable<MeshMessageEventsTable>, 'id'>;

export async function addEvent(trx: Kysely<Database>, event: NewMeshEvent | NewMeshEvent[]): Promise<void> {
  const list = Array.isArray(event) ? event : [event];
  if (list.length > 0) await trx.insertInto('mesh_message_events').values(list).execute();
}

export function toMessage(r: Selectable<MeshMessagesTable>): MeshMessage {
  return {
    id: r.id,
    direction: r.direction as MeshDirection,
    mailboxId: r.mailbox_id,
    from: r.from_mailbox,
    to: r.to_mailbox,
    workflowId: r.workflow_id,
    subject: r.subject,
    localId: r.local_id,
    contentType: r.content_type,
    messageType: r.message_type,
    meshMessageId: r.mesh_message_id,
    linkedMessageId: r.linked_message_id,
    status: r.status as MeshMessageStatus,
    dts: r.dts_event === null && r.dts_code === null ? null : { event: r.dts_event, code: r.dts_code },
    error: r.error,
    bytes: r.bytes === null ? null : Number(r.bytes),
    chunks: r.chunks === null ? null : Number(r.chunks),
    chunksSent: r.chunks_sent === null || r.chunks_sent === undefined ? null : Number(r.chunks_sent),
    correlationId: r.correlation_id,
    idempotencyKey: r.idempotency_key,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toEvent(e: Selectable<MeshMessageEventsTable>): MeshMessageEvent {
  return {
    id: Number(e.id),
    messageId: e.message_id,
    at: e.at,
    event: e.event as MeshEventType,
    status: e.status as MeshMessageStatus,
    detail: e.detail,
  };
}
