import { OperationOutcomeError } from '@junction/core';
import { errorFromResponse, networkError } from '../http/errors.js';

/** The DTS error of a MESH answer: `detail[0]` of a v2 body, or `errorEvent`/`errorCode`/`errorDescription` of v1. */
export interface MeshErrorDetail {
  /** The step that failed, e.g. `SEND`, `TRANSFER`, `RECEIVE` (mesh-api.yaml "Error codes"). */
  event?: string;
  /** The DTS code, e.g. `12` (unregistered recipient), `17` (workflow not registered). */
  code?: string;
  /** MESH's description, e.g. `Unregistered recipient`. */
  message?: string;
}

/**
 * A failed MESH call: the HTTP status (0 never: a network failure is 502, a timeout 504), the DTS error event
 * and code when the body carries one (417 send errors, mesh-api.yaml `MeshError` v1/v2 schemas), and MESH's
 * message and internal ids. It is an `OperationOutcomeError` like every other client failure, so the hub maps
 * it the same way; `code` stays the Spine code of that outcome, the DTS code is `dts.code`.
 */
export class MeshError extends OperationOutcomeError {
  /** The DTS event/code/message, when MESH gave one. */
  readonly dts: MeshErrorDetail | undefined;
  /** `message_id` (v2) / `messageID` (v1) of the error body: the message the error is about, if any. */
  readonly meshMessageId: string | undefined;
  /** MESH's `internal_id`, to quote to the service desk. */
  readonly internalId: string | undefined;

  constructor(
    base: OperationOutcomeError,
    extra: { dts?: MeshErrorDetail; meshMessageId?: string; internalId?: string; cause?: unknown } = {},
  ) {
    super(base.status, base.outcome, { cause: extra.cause ?? base.cause });
    Object.defineProperty(this, 'name', { value: 'MeshError' });
    this.dts = extra.dts;
    this.meshMessageId = extra.meshMessageId;
    this.internalId = extra.internalId;
  }

  /** Whether MESH named a DTS event and code, e.g. `isDts('SEND', '12')`. */
  isDts(event: string, code: string): boolean {
    return this.dts?.event === event && this.dts?.code === code;
  }
}

/**
 * The error for a non-2xx MESH answer. The body, when JSON, is read for the DTS detail in both shapes
 * (mesh-api.yaml `send_message` 417: v2 `{message_id, internal_id, detail:[{event, code, msg}]}`,
 * v1 `{messageID, errorEvent, errorCode, errorDescription}`). The message names the operation, the status and
 * the DTS event/code/description only: never the URL or any other part of the body.
 */
export function meshErrorFromResponse(status: number, body: unknown, operation: string): MeshError {
  const parsed = parseErrorBody(body);
  const suffix = parsed.dts
    ? `: ${[parsed.dts.event, parsed.dts.code].filter(Boolean).join(' ')}${parsed.dts.message ? ` ${parsed.dts.message}` : ''}`
    : '';
  const base = errorFromResponse(status, undefined, operation);
  const issue = base.outcome.issue?.[0];
  if (issue && suffix) issue.diagnostics = `${issue.diagnostics ?? operation}${suffix}`;
  return new MeshError(new OperationOutcomeError(status, base.outcome), parsed);
}

/** The error for a call that got no HTTP answer (connection refused or reset, TLS failure, timeout). */
export function meshNetworkError(operation: string, cause: unknown, timedOut: boolean): MeshError {
  return new MeshError(networkError(operation, cause, timedOut), { cause });
}

/** A local error: the request was never sent (bad argument, unreadable body source). */
export function meshLocalError(status: number, operation: string, what: string, cause?: unknown): MeshError {
  const base = errorFromResponse(status, undefined, operation);
  const issue = base.outcome.issue?.[0];
  if (issue) issue.diagnostics = `${operation}: ${what}`;
  return new MeshError(new OperationOutcomeError(status, base.outcome), { cause });
}

function parseErrorBody(body: unknown): {
  dts?: MeshErrorDetail;
  meshMessageId?: string;
  internalId?: string;
} {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const out: { dts?: MeshErrorDetail; meshMessageId?: string; internalId?: string } = {};
  const messageId = str(b.message_id) ?? str(b.messageID);
  if (messageId) out.meshMessageId = messageId;
  const internalId = str(b.internal_id) ?? str(b.internalID);
  if (internalId) out.internalId = internalId;
  const first = Array.isArray(b.detail) ? (b.detail[0] as Record<string, unknown> | undefined) : undefined;
  const dts: MeshErrorDetail = {};
  const event = str(first?.event) ?? str(b.errorEvent);
  const code = str(first?.code) ?? str(b.errorCode);
  const message = str(first?.msg) ?? str(b.errorDescription);
  if (event) dts.event = event;
  if (code) dts.code = code;
  if (message) dts.message = message;
  if (event || code || message) out.dts = dts;
  return out;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
