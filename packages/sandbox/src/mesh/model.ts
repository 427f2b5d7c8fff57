/**
 * The MESH sandbox's data model, in the shape of NHS's own MESH sandbox (NHSDigital/mesh-sandbox
 * `models/mailbox.py`, `models/workflow.py`, `models/message.py`) so its seed files load unchanged.
 */

/** A mailbox (mesh-sandbox `mailboxes.jsonl` line). */
export interface MeshMailbox {
  mailbox_id: string;
  mailbox_name: string;
  password: string;
  ods_code: string;
  org_code: string;
  org_name?: string;
  billing_entity?: string;
}

/** A workflow and the mailboxes registered to send and receive it (mesh-sandbox `workflows.jsonl` line). */
export interface MeshWorkflow {
  workflow_id: string;
  senders: string[];
  receivers: string[];
}

/** mesh-sandbox `MessageStatus`. */
export type MessageStatus = 'uploading' | 'accepted' | 'acknowledged' | 'undeliverable' | 'error';

/** One step of a message's history, newest first in `events` (mesh-sandbox `MessageEvent`). */
export interface MessageEvent {
  status: MessageStatus;
  timestamp: string;
  event?: string;
  code?: string;
  description?: string;
  linked_message_id?: string;
}

/** A sender or recipient as recorded on the message (mesh-sandbox `MessageParty`). */
export interface MessageParty {
  mailbox_id: string;
  mailbox_name: string;
  ods_code: string;
  org_code: string;
  org_name?: string;
  billing_entity?: string;
}

/** The sender's metadata, carried to the recipient as `mex-*` headers (mesh-sandbox `MessageMetadata`). */
export interface MessageMetadata {
  subject?: string;
  content_type?: string;
  content_encoding?: string;
  file_name?: string;
  local_id?: string;
  partner_id?: string;
  checksum?: string;
  encrypted?: boolean;
  compressed?: boolean;
  is_compressed?: boolean;
}

/** A message's metadata (its chunks live in files beside it). */
export interface MeshMessage {
  message_id: string;
  message_type: 'DATA' | 'REPORT';
  workflow_id: string;
  sender: MessageParty;
  recipient: MessageParty;
  total_chunks: number;
  /** Chunk numbers stored so far (a message is delivered only once it has all of them). */
  chunks_received?: number[];
  file_size: number;
  metadata: MessageMetadata;
  events: MessageEvent[];
  created_timestamp: string;
  last_modified?: string;
  inbox_expiry_timestamp?: string;
  /** On a REPORT: the intended receiver of the undelivered message (its `Mex-To`). */
  report_to?: string;
}

/** The sandbox's configuration of MESH: the environment's shared key, its mailboxes and workflows. */
export interface MeshSeed {
  sharedKey: string;
  mailboxes: MeshMailbox[];
  workflows: MeshWorkflow[];
  /** Messages already in inboxes at start; each chunk's bytes inline (`base64` or `text`). */
  messages?: (MeshMessage & { chunks: ({ base64: string } | { text: string })[] })[];
}

export function statusOf(message: MeshMessage): MessageStatus {
  return message.events[0]?.status ?? 'accepted';
}

/** The event explaining a failure (mesh-sandbox `Message.error_event`; undeliverable with a code counts too). */
export function errorEventOf(message: MeshMessage): MessageEvent | undefined {
  return message.events.find(
    (event) => event.status === 'error' || (event.status === 'undeliverable' && event.code !== undefined),
  );
}

export function statusTimestamp(message: MeshMessage, ...statuses: MessageStatus[]): string | undefined {
  if (statuses.length === 0) return message.events[0]?.timestamp;
  return message.events.find((event) => statuses.includes(event.status))?.timestamp;
}
