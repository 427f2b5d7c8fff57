export {
  type BuildAckInput,
  buildItkAck,
  ITK_RESPONSE_CODES_SYSTEM,
  ITK_RESPONSE_EVENT,
  type ItkAck,
  ItkAckParseError,
  parseItkAck,
  type ResponseCode,
} from './itk-ack.js';
export {
  buildSendDocumentMessage,
  gpProviderAddress,
  ITK,
  type MeshSendMetadata,
  type MessageIds,
  type RecipientDetails,
  SEND_DOCUMENT_ACK_WORKFLOW,
  SEND_DOCUMENT_WORKFLOW,
  type SendDocumentInput,
  SendDocumentInputError,
  type SendDocumentMessage,
  type SenderDetails,
} from './itk-message.js';
export type {
  MeshStatusEvent,
  OutboundMeshMessage,
  SendMeshMessage,
  SubmissionMeshPort,
} from './mesh-port.js';
export { READING_KINDS, type ReadingKind, type ReadingKindDef } from './reading-kinds.js';
export {
  getSubmission,
  NOTIFIED_STATUSES,
  SUBMISSION_STATUSES,
  type Submission,
  type SubmissionEvent,
  type SubmissionStatus,
  type SubmissionWithHistory,
  submissionView,
  WEBHOOK_JOB_KIND,
  type WebhookEvent,
} from './submissions.js';
export {
  type SubmitReadingsDeps,
  type SubmitReadingsInput,
  type SubmitReadingsResult,
  submitReadings,
} from './submit.js';
export { type AckOutcome, applyMeshStatus, handleItkAck } from './tracking.js';
export {
  ACCEPTED_STATUSES,
  type BloodPressureReading,
  type MeasuredValue,
  type NormalisedReading,
  type ReadingStatus,
  type SingleValueReading,
  type ValidateOptions,
  type ValidationResult,
  validateSubmission,
} from './validate.js';
export {
  checkWebhookUrl,
  deleteWebhook,
  getWebhook,
  SIGNATURE_HEADER,
  SIGNATURE_TOLERANCE_S,
  setWebhook,
  signWebhookBody,
  type VerifyWebhookSignatureOptions,
  verifyWebhookSignature,
  type WebhookInfo,
  type WebhookSignatureFailure,
  type WebhookSignatureResult,
  WebhookUrlError,
} from './webhooks.js';
export { type EndpointLookup, type WiredSubmissions, wireSubmissions } from './wire.js';
