import { Readable } from 'node:stream';
import type {
  MeshInboxOptions,
  MeshMessageMetadata,
  MeshReceived,
  MeshSendRequest,
  MeshSendResult,
  MeshTracking,
} from '@junction/client';
import { MeshError } from '@junction/client';
import { OperationOutcomeError } from '@junction/core';
import type { MeshPort } from '../mesh/mesh-service.js';

/**
 * Test helper: an in-memory MESH shared by several mailboxes, with hooks to fail (or "kill the
 * process") at chosen points. Only the hub's MeshPort surface; the real wire protocol is tested in
 * packages/cli against the sandbox.
 */
export interface FakeMeshMessage {
  id: string;
  from: string;
  to: string;
  workflowId: string;
  localId: string | undefined;
  subject: string | undefined;
  body: Buffer;
  type: 'DATA' | 'REPORT';
  status: 'accepted' | 'acknowledged' | 'undeliverable';
  linkedMessageId?: string;
  statusEvent?: string;
  statusCode?: string;
}

export interface FakeMeshHooks {
  /** Runs after MESH stored a sent message, before the answer reaches the hub (throw = answer lost). */
  afterPost?: (message: FakeMeshMessage) => void;
  /** Runs before an acknowledgement is recorded (throw = the hub died before acknowledging). */
  beforeAck?: (id: string) => void;
  /** Runs as a download's body is read (throw = cut mid-download). */
  duringDownload?: (id: string) => void;
}

export class FakeMesh {
  readonly messages: FakeMeshMessage[] = [];
  hooks: FakeMeshHooks = {};
  /** Recipients that exist (others: 417 SEND 12). */
  readonly mailboxes = new Set<string>();
  /** Inbox page size used by `inbox` (as MESH's max_results). */
  pageSize = 500;
  pagesServed = 0;
  private seq = 0;

  constructor(mailboxes: string[]) {
    for (const m of mailboxes) this.mailboxes.add(m);
  }

  port(mailboxId: string): MeshPort {
    return new FakeMeshPort(this, mailboxId);
  }

  nextId(): string {
    this.seq++;
    return `20250506070809000000_${String(this.seq).padStart(6, '0')}`;
  }

  /** A message put straight into a mailbox's inbox (from another sender). */
  deliver(
    to: string,
    init: Omit<Partial<FakeMeshMessage>, 'body'> & { body?: string | Buffer } = {},
  ): FakeMeshMessage {
    const message: FakeMeshMessage = {
      id: this.nextId(),
      from: init.from ?? 'X26ABC2',
      to,
      workflowId: init.workflowId ?? 'TEST_WORKFLOW',
      localId: init.localId,
      subject: init.subject,
      body: Buffer.from(init.body ?? 'hello'),
      type: init.type ?? 'DATA',
      status: 'accepted',
      ...(init.linkedMessageId && { linkedMessageId: init.linkedMessageId }),
      ...(init.statusEvent && { statusEvent: init.statusEvent }),
      ...(init.statusCode && { statusCode: init.statusCode }),
    };
    this.messages.push(message);
    return message;
  }

  inboxOf(mailboxId: string): FakeMeshMessage[] {
    return this.messages.filter((m) => m.to === mailboxId && m.status === 'accepted');
  }
}

function meshError(status: number, dts?: { event: string; code: string; message: string }): MeshError {
  const base = new OperationOutcomeError(status, {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: 'processing',
        diagnostics: `MESH ${status}${dts ? ` ${dts.event} ${dts.code}` : ''}`,
      },
    ],
  });
  return new MeshError(base, dts ? { dts } : {});
}

class FakeMeshPort implements MeshPort {
  constructor(
    private readonly mesh: FakeMesh,
    private readonly mailboxId: string,
  ) {}

  async send(request: MeshSendRequest): Promise<MeshSendResult> {
    if (!this.mesh.mailboxes.has(request.to)) {
      throw meshError(417, { event: 'SEND', code: '12', message: 'Unregistered to address' });
    }
    const parts: Buffer[] = [];
    const body = request.body;
    if (typeof body === 'string' || body instanceof Uint8Array) parts.push(Buffer.from(body));
    else if (Symbol.asyncIterator in (body as object)) {
      for await (const piece of body as AsyncIterable<Uint8Array | string>) parts.push(Buffer.from(piece));
    }
    const message: FakeMeshMessage = {
      id: this.mesh.nextId(),
      from: this.mailboxId,
      to: request.to,
      workflowId: request.workflowId,
      localId: request.localId,
      subject: request.subject,
      body: Buffer.concat(parts),
      type: 'DATA',
      status: 'accepted',
    };
    this.mesh.messages.push(message);
    this.mesh.hooks.afterPost?.(message);
    return { messageId: message.id, chunks: 1, bytes: message.body.byteLength, checksum: undefined };
  }

  async *inbox(options: MeshInboxOptions = {}): AsyncGenerator<string> {
    const size = options.maxResults ?? this.mesh.pageSize;
    const all = this.mesh
      .inboxOf(this.mailboxId)
      .filter((m) => options.workflowFilter === undefined || m.workflowId === options.workflowFilter)
      .map((m) => m.id);
    for (let i = 0; i < all.length; i += size) {
      this.mesh.pagesServed++;
      for (const id of all.slice(i, i + size)) yield id;
    }
  }

  async receive(messageId: string): Promise<MeshReceived> {
    const m = this.mesh.messages.find((x) => x.id === messageId && x.to === this.mailboxId);
    if (!m) throw meshError(404);
    const metadata: MeshMessageMetadata = {
      messageId: m.id,
      messageType: m.type,
      from: m.from,
      to: m.to,
      workflowId: m.workflowId,
      totalChunks: 1,
      localId: m.localId,
      partnerId: undefined,
      fileName: undefined,
      subject: m.subject,
      contentType: 'text/plain',
      checksum: undefined,
      contentCompressed: false,
      contentEncrypted: false,
      statusCode: m.statusCode,
      statusEvent: m.statusEvent,
      statusDescription: m.type === 'REPORT' ? 'Unregistered to address' : undefined,
      statusSuccess: m.type === 'REPORT' ? 'ERROR' : undefined,
      statusTimestamp: undefined,
      linkedMessageId: m.linkedMessageId,
      addressType: undefined,
      version: '1.0',
      headers: {},
    };
    const hooks = this.mesh.hooks;
    async function* content() {
      const half = Math.floor(m!.body.byteLength / 2);
      yield m!.body.subarray(0, half);
      hooks.duringDownload?.(m!.id);
      yield m!.body.subarray(half);
    }
    return { metadata, body: Readable.from(content()) };
  }

  async acknowledge(messageId: string): Promise<void> {
    this.mesh.hooks.beforeAck?.(messageId);
    const m = this.mesh.messages.find((x) => x.id === messageId && x.to === this.mailboxId);
    if (!m) throw meshError(404);
    m.status = 'acknowledged';
  }

  async track(messageId: string): Promise<MeshTracking> {
    const m = this.mesh.messages.find((x) => x.id === messageId && x.from === this.mailboxId);
    if (!m) throw meshError(404);
    return tracking(m);
  }

  async trackByLocalId(localId: string): Promise<MeshTracking | undefined> {
    const found = this.mesh.messages.filter((x) => x.localId === localId && x.from === this.mailboxId);
    if (found.length > 1) throw meshError(300);
    return found[0] && tracking(found[0]);
  }
}

function tracking(m: FakeMeshMessage): MeshTracking {
  return {
    message_id: m.id,
    ...(m.localId !== undefined && { local_id: m.localId }),
    workflow_id: m.workflowId,
    recipient: m.to,
    status: m.status,
    status_success: m.status !== 'undeliverable',
    ...(m.statusCode && { status_code: m.statusCode, status_event: m.statusEvent }),
  };
}
