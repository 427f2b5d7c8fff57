import type { MeshMailboxMatch, RequestContext } from '@junction/client';
import type { Store } from '../../store/database.js';

/**
 * What the submitting-data journey needs from the hub's MESH layer (src/mesh):
 * the sending mailbox, endpoint lookup, and `sendMeshMessage`, which records the outbound message in
 * the message log and enqueues its `mesh.send` job in the caller's transaction. Kept as a port so the
 * journey is tested with a fake and wired to the real MESH layer in create-hub.
 */
export interface OutboundMeshMessage {
  /** The hub mailbox that sends (`Mex-From`). */
  mailboxId: string;
  /** `Mex-To`. */
  to: string;
  workflowId: string;
  subject?: string;
  /** `Mex-LocalID`. */
  localId: string;
  body: string | Uint8Array;
  contentType?: string;
  correlationId: string;
  /** The same key never sends a second message (the submission id). */
  idempotencyKey: string;
}

export type SendMeshMessage = (
  store: Pick<Store, 'db' | 'dialect'>,
  input: OutboundMeshMessage,
) => Promise<{ messageLogId: string; created: boolean }>;

export interface SubmissionMeshPort {
  /** The hub mailbox submissions are sent from (`Mex-From`, ITK MessageHeader.source.endpoint). */
  mailboxId: string;
  /** MESH endpoint lookup (mesh-api.yaml `get_receiving_mailbox_ids`). */
  endpointLookup(odsCode: string, workflowId: string, ctx?: RequestContext): Promise<MeshMailboxMatch[]>;
  send: SendMeshMessage;
}

/**
 * A message-log status change the journey follows (from the MESH layer's events): the outbound
 * message was sent, delivered (downloaded / acknowledged by the recipient in MESH) or failed.
 */
export interface MeshStatusEvent {
  messageLogId: string;
  status: 'queued' | 'sending' | 'sent' | 'delivered' | 'acknowledged' | 'failed' | string;
  meshMessageId?: string;
  /** e.g. the DTS error code and description of an undeliverable / expired message. */
  detail?: string;
}
