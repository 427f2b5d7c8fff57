/**
 * MESH error events and codes, word for word from NHS's MESH sandbox (`common/constants.py`
 * `ErrorCodeMap`, the DTS codes) and the error bodies of mesh-api.yaml (send_message 417 `MeshError`,
 * v1 `{messageID, errorEvent, errorCode, errorDescription}`, v2 `{message_id, internal_id, detail}`).
 */

/** Keys of mesh-sandbox's `ErrorCodeMap` → [event, code, description]. */
export const MESH_ERRORS = {
  malformedControlFile: ['TRANSFER', '06', 'Malformed control file'],
  invalidFromAddress: ['SEND', '07', 'Invalid From Address in the control file'],
  missingToAddress: ['SEND', '08', 'TO_DTS missing'],
  invalidVersion: ['SEND', '09', 'Invalid version of the control file'],
  invalidMessageType: ['SEND', '11', 'Invalid Message Type for the transfer'],
  unregisteredRecipient: ['SEND', '12', 'Unregistered to address'],
  undeliveredMessage: ['SEND', '14', 'Message not collected by recipient after {0} days'],
  workflowNotRegistered: ['SEND', '17', 'Workflow ID not registered for mailbox'],
  invalidExpiryPeriod: ['SEND', '19', 'Invalid expiry period'],
  tooManyMailboxMatches: ['SEND', 'EPL-150', 'Multiple mailboxes matches'],
  noMailboxMatches: ['SEND', 'EPL-151', 'No mailbox matched'],
  missingDataFile: ['COLLECT', '02', 'Data file is missing or inaccessible.'],
  messageDoesNotExist: ['RECEIVE', '20', 'Message does not exist'],
  messageGone: ['SEND', 'Message already accepted', 'Message no longer available for download'],
  invalidHeaderChunks: ['SEND', 'InvalidHeaderChunks', 'Invalid chunk values sent in mex-Chunk-Range header'],
  unsupportedContentEncoding: ['SEND', 'UnsupportedContentEncoding', 'Unsupported content encoding'],
  invalidChecksum: ['SEND', 'Invalid checksum', 'Invalid checksum'],
} as const satisfies Record<string, readonly [string, string, string]>;

export type MeshErrorKey = keyof typeof MESH_ERRORS;

/** mesh-sandbox's texts for errors that have no DTS code (they come back with empty event and code). */
export const MESH_MESSAGES = {
  readingAuthHeader: 'Error reading from Authorization header',
  mailboxTokenMismatch: 'Mailbox id does not match token',
  invalidAuthToken: 'Invalid Authentication Token',
  duplicatedAuthToken: 'Error Duplicated Authentication Token',
  contentEncodingChanged: 'cannot change content encoding',
} as const;

/** An error answered with a MESH error body in the shape the `Accept` header asks for. */
export class MeshError extends Error {
  readonly event: string;
  readonly code: string;
  constructor(
    readonly status: number,
    detail: MeshErrorKey | { event?: string; code?: string; description: string },
    readonly messageId?: string,
    formatArgs: string[] = [],
  ) {
    const [event, code, description] =
      typeof detail === 'string'
        ? MESH_ERRORS[detail]
        : [detail.event ?? '', detail.code ?? '', detail.description];
    super(description.replace(/\{(\d+)\}/g, (_, i: string) => formatArgs[Number(i)] ?? ''));
    this.event = event;
    this.code = code;
  }

  /** The body of mesh-sandbox `get_error_response`: v1 `MeshErrorV1`, v2 `MeshErrorV2`. */
  body(version: number, internalId: string): Record<string, unknown> {
    if (version < 2) {
      return {
        ...(this.messageId !== undefined && { messageID: this.messageId }),
        errorEvent: this.event,
        errorCode: this.code,
        errorDescription: this.message,
      };
    }
    return {
      ...(this.messageId !== undefined && { message_id: this.messageId }),
      internal_id: internalId,
      detail: [{ event: this.event, code: this.code, msg: this.message }],
    };
  }
}

/** A request the spec's `HTTPValidationError` (400) describes: a missing or malformed parameter. */
export class MeshValidationError extends Error {
  constructor(
    readonly location: (string | number)[],
    message: string,
    readonly type = 'value_error',
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { detail: [{ loc: this.location, msg: this.message, type: this.type }] };
  }
}

/** A bare status (mesh-sandbox raises these without a body detail: 404s of tracking, 403 of a foreign message). */
export class MeshStatus extends Error {
  constructor(
    readonly status: number,
    readonly detail?: string,
  ) {
    super(detail ?? String(status));
  }
}
