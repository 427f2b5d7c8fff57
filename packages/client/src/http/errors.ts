import { isOperationOutcome, OperationOutcomeError, type SpineErrorCode, spineOutcome } from '@junction/core';
import type { OperationOutcome } from '@medplum/fhirtypes';

// Spine codes that mean the same thing as a bare HTTP status, used when a server (or a gateway in
// front of it) answers with something that is not an OperationOutcome.
const STATUS_TO_SPINE_CODE: Record<number, SpineErrorCode> = {
  401: 'ACCESS_DENIED',
  403: 'ACCESS_DENIED',
  404: 'RESOURCE_NOT_FOUND',
  408: 'UNABLE_TO_CALL_SERVICE',
  409: 'RESOURCE_VERSION_MISMATCH',
  412: 'PRECONDITION_FAILED',
  429: 'TOO_MANY_REQUESTS',
  502: 'UNABLE_TO_CALL_SERVICE',
  503: 'SERVICE_UNAVAILABLE',
  504: 'UNABLE_TO_CALL_SERVICE',
};

/**
 * The error for a non-2xx answer: the server's OperationOutcome when the body is one, otherwise
 * one synthesised from the status. The synthesised text names only the operation and the status,
 * never the URL (which holds NHS numbers and search terms) or the body.
 */
export function errorFromResponse(status: number, body: unknown, operation: string): OperationOutcomeError {
  if (isOperationOutcome(body)) return new OperationOutcomeError(status, body);
  return new OperationOutcomeError(
    status,
    synthesisedOutcome(status, `${operation} failed with HTTP ${status}`),
  );
}

/** The error for a call that never got an HTTP answer (connection refused, reset, timed out). */
export function networkError(operation: string, cause: unknown, timedOut: boolean): OperationOutcomeError {
  const reason = timedOut ? 'timed out' : `failed (${describeCause(cause)})`;
  return new OperationOutcomeError(
    timedOut ? 504 : 502,
    spineOutcome('UNABLE_TO_CALL_SERVICE', { diagnostics: `${operation} ${reason}` }),
    { cause },
  );
}

/** The error for a 2xx answer whose body is not what the API promises. */
export function unexpectedResponseError(operation: string, what: string): OperationOutcomeError {
  return new OperationOutcomeError(
    502,
    spineOutcome('UNABLE_TO_CALL_SERVICE', { diagnostics: `${operation} returned ${what}` }),
  );
}

function synthesisedOutcome(status: number, diagnostics: string): OperationOutcome {
  const code = STATUS_TO_SPINE_CODE[status];
  if (code) return spineOutcome(code, { diagnostics });
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: status >= 500 ? 'exception' : 'processing', diagnostics }],
  };
}

// Only the error's class and system code (ECONNREFUSED...): messages can echo the URL.
function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: { code?: unknown } }).cause;
    const code = (cause as { code?: unknown }).code ?? inner?.code;
    return typeof code === 'string' ? `${cause.name} ${code}` : cause.name;
  }
  return 'unknown error';
}
