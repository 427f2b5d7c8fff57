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
export { READING_KINDS, type ReadingKind, type ReadingKindDef } from './reading-kinds.js';
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
