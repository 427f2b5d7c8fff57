import { compactTimestamp } from './headers.js';
import type { MeshMessage } from './model.js';
import { errorEventOf, statusOf, statusTimestamp } from './model.js';

/**
 * Tracking bodies of mesh-api.yaml `GET /messageexchange/{mailbox_id}/outbox/tracking` (v1
 * `application/json`, v2 `application/vnd.mesh.v2+json`), filled as NHS's sandbox does
 * (`views/tracking.py` `create_tracking_response`).
 */
export function trackingView(message: MeshMessage, version: number): Record<string, unknown> {
  const errorEvent = errorEventOf(message);
  const successful = message.message_type === 'DATA' && !errorEvent;
  const failure = errorEvent && message.message_type === 'DATA' ? errorEvent : undefined;
  const reportStatus = errorEvent && message.message_type !== 'DATA' ? errorEvent : undefined;
  const { metadata } = message;
  if (version < 2) {
    return dropUndefined({
      addressType: 'ALL',
      checksum: metadata.checksum ?? '',
      chunkCount: message.total_chunks,
      compressFlag: metadata.compressed ? 'Y' : '',
      contentEncoding: metadata.content_encoding ?? '',
      downloadTimestamp: compactTimestamp(statusTimestamp(message, 'acknowledged')),
      dtsId: message.message_id,
      encryptedFlag: metadata.encrypted ? 'Y' : '',
      expiryTime: compactTimestamp(message.inbox_expiry_timestamp),
      failureDate: failure ? compactTimestamp(failure.timestamp) : undefined,
      failureDiagnostic: failure?.description,
      fileName: metadata.file_name || `${message.message_id}.dat`,
      fileSize: message.file_size,
      isCompressed: metadata.compressed ? 'Y' : '',
      linkedMsgId: errorEvent?.linked_message_id,
      localId: metadata.local_id,
      meshRecipientOdsCode: message.recipient.ods_code,
      messageId: message.message_id,
      messageType: message.message_type,
      partnerId: metadata.partner_id ?? '',
      recipient: message.recipient.mailbox_id,
      recipientName: message.recipient.mailbox_name,
      recipientOrgCode: message.recipient.org_code,
      recipientOrgName: message.recipient.org_name,
      recipientSmtp: '',
      sender: message.sender.mailbox_id,
      senderName: message.sender.mailbox_name,
      senderOdsCode: message.sender.ods_code,
      senderOrgCode: message.sender.org_code,
      senderOrgName: message.sender.org_name,
      senderSmtp: '',
      status: statusOf(message),
      statusCode: reportStatus?.code,
      statusDescription: reportStatus?.description,
      statusEvent: reportStatus?.event,
      statusSuccess: successful ? 'SUCCESS' : 'ERROR',
      statusTimestamp: reportStatus ? compactTimestamp(reportStatus.timestamp) : undefined,
      subject: metadata.subject,
      uploadTimestamp: compactTimestamp(message.created_timestamp),
      version: '1.0',
      workflowId: message.workflow_id,
    });
  }
  return dropUndefined({
    message_id: message.message_id,
    local_id: metadata.local_id,
    workflow_id: message.workflow_id,
    filename: metadata.file_name,
    expiry_time: message.inbox_expiry_timestamp,
    upload_timestamp: message.created_timestamp,
    recipient: message.recipient.mailbox_id,
    recipient_name: message.recipient.mailbox_name,
    recipient_ods_code: message.recipient.ods_code,
    recipient_org_code: message.recipient.org_code,
    recipient_org_name: message.recipient.org_name,
    status_success: successful,
    status: statusOf(message),
    status_event: (reportStatus ?? failure)?.event,
    status_timestamp: (reportStatus ?? failure)?.timestamp ?? statusTimestamp(message),
    status_description: (reportStatus ?? failure)?.description,
    status_code: (reportStatus ?? failure)?.code,
  });
}

/** The test-only message details of mesh-sandbox `views/admin.py` `MessageDetails`. */
export function messageDetailsView(message: MeshMessage): Record<string, unknown> {
  const errorEvent = errorEventOf(message);
  const { metadata } = message;
  return dropUndefined({
    message_id: message.message_id,
    message_type: message.message_type,
    workflow_id: message.workflow_id,
    checksum: metadata.checksum,
    chunk_count: message.total_chunks,
    chunks_received: message.chunks_received,
    content_encoding: metadata.content_encoding ?? '',
    download_timestamp: statusTimestamp(message, 'acknowledged'),
    expiry_time: message.inbox_expiry_timestamp,
    filename: metadata.file_name,
    file_size: message.file_size,
    is_compressed: metadata.compressed ?? false,
    is_encrypted: metadata.encrypted ?? false,
    linked_msg_id: errorEvent?.linked_message_id,
    local_id: metadata.local_id,
    recipient: message.recipient.mailbox_id,
    recipient_name: message.recipient.mailbox_name,
    recipient_ods_code: message.recipient.ods_code,
    recipient_org_code: message.recipient.org_code,
    recipient_org_name: message.recipient.org_name,
    sender: message.sender.mailbox_id,
    sender_name: message.sender.mailbox_name,
    sender_ods_code: message.sender.ods_code,
    sender_org_code: message.sender.org_code,
    sender_org_name: message.sender.org_name,
    status: statusOf(message),
    status_code: errorEvent?.code,
    status_description: errorEvent?.description,
    status_event: errorEvent?.event,
    status_success: message.message_type === 'DATA' && !errorEvent ? 'SUCCESS' : 'ERROR',
    status_timestamp: statusTimestamp(message),
    subject: metadata.subject,
    events: message.events,
  });
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
