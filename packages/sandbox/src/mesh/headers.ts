import type { MeshMessage } from './model.js';
import { errorEventOf, statusTimestamp } from './model.js';

/** Header names as NHS's sandbox spells them (`common/constants.py` `Headers`); HTTP headers are case-insensitive. */
export const MEX = {
  from: 'mex-From',
  to: 'mex-To',
  chunkRange: 'mex-Chunk-Range',
  totalChunks: 'mex-Total-Chunks',
  statusCode: 'mex-StatusCode',
  statusEvent: 'mex-StatusEvent',
  statusDescription: 'mex-StatusDescription',
  statusSuccess: 'mex-StatusSuccess',
  statusTimestamp: 'mex-StatusTimestamp',
  workflowId: 'mex-WorkflowID',
  contentEncrypted: 'mex-Content-Encrypted',
  contentCompressed: 'mex-Content-Compressed',
  contentChecksum: 'mex-Content-Checksum',
  contentType: 'mex-Content-Type',
  messageType: 'mex-MessageType',
  messageId: 'mex-MessageID',
  localId: 'mex-LocalID',
  partnerId: 'mex-PartnerID',
  fileName: 'mex-FileName',
  subject: 'mex-Subject',
  version: 'mex-Version',
  linkedMsgId: 'mex-LinkedMsgID',
  addressType: 'mex-AddressType',
} as const;

/** `yyyyMMddHHmmss` (mesh-sandbox `_format_timestamp`, `mex-StatusTimestamp`). */
export function compactTimestamp(iso: string | undefined): string {
  if (iso === undefined) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace(/\D/g, '').slice(0, 14);
}

/**
 * The `mex-*` headers of a downloaded message (mesh-sandbox `InboxHandler._get_response_headers`
 * and `_get_status_headers`; mesh-api.yaml "Get Message" response and the error report header table).
 * Empty values are left out, as the real API does.
 */
export function messageHeaders(message: MeshMessage, chunk: number, nowIso: string): Record<string, string> {
  const errorEvent = errorEventOf(message);
  const timestamp = compactTimestamp(statusTimestamp(message, 'accepted', 'error') ?? nowIso);
  let status: Record<string, string | undefined>;
  if (message.message_type === 'DATA' && !errorEvent) {
    status = {
      [MEX.statusCode]: '00',
      [MEX.statusEvent]: 'TRANSFER',
      [MEX.statusDescription]: 'Transferred to recipient mailbox',
      [MEX.statusSuccess]: 'SUCCESS',
      [MEX.statusTimestamp]: timestamp,
    };
  } else if (!errorEvent) {
    status = { [MEX.statusSuccess]: 'ERROR', [MEX.statusTimestamp]: timestamp };
  } else {
    status = {
      [MEX.linkedMsgId]: errorEvent.linked_message_id,
      [MEX.statusCode]: errorEvent.code,
      [MEX.statusEvent]: errorEvent.event,
      [MEX.statusDescription]: errorEvent.description,
      [MEX.statusSuccess]: 'ERROR',
      [MEX.statusTimestamp]: compactTimestamp(errorEvent.timestamp) || timestamp,
    };
  }
  const { metadata } = message;
  const headers: Record<string, string | undefined> = {
    [MEX.from]: message.sender.mailbox_id,
    [MEX.to]:
      message.message_type === 'REPORT'
        ? (message.report_to ?? message.recipient.mailbox_id)
        : message.recipient.mailbox_id,
    [MEX.workflowId]: message.workflow_id,
    [MEX.chunkRange]: `${chunk}:${message.total_chunks}`,
    [MEX.totalChunks]: String(message.total_chunks || 0),
    [MEX.addressType]: 'ALL',
    [MEX.localId]: metadata.local_id,
    [MEX.partnerId]: metadata.partner_id,
    [MEX.fileName]: metadata.file_name || `${message.message_id}.dat`,
    [MEX.subject]: metadata.subject,
    [MEX.version]: '1.0',
    [MEX.messageType]: message.message_type,
    [MEX.messageId]: message.message_id,
    ...(message.message_type !== 'REPORT' && { 'Content-Encoding': metadata.content_encoding }),
    ...status,
    [MEX.contentCompressed]: metadata.compressed ? 'Y' : undefined,
    [MEX.contentEncrypted]: metadata.encrypted ? 'Y' : undefined,
    [MEX.contentChecksum]: metadata.checksum,
    [MEX.contentType]: metadata.content_type,
  };
  const modified = message.events[0]?.timestamp;
  if (modified !== undefined) headers['Last-Modified'] = new Date(modified).toUTCString();
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value) out[name] = value;
  return out;
}
