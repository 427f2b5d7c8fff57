import { OperationOutcomeError } from '@junction/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** `X-Request-ID` must be a UUID (personal-demographics.yaml, parameters RequestID). */
const REQUEST_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const FHIR_JSON = 'application/fhir+json';

/** The first value of a request header (Node gives arrays for repeated ones). */
export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks `X-Request-ID` with the diagnostics NHS's sandbox gives
 * (karate-tests/src/test/java/mocks/sandbox/supporting-functions.js `validateRequestIDHeader`).
 */
export function requireRequestId(request: FastifyRequest): void {
  const requestId = header(request, 'x-request-id');
  if (!requestId) {
    throw OperationOutcomeError.spine('MISSING_VALUE', {
      diagnostics:
        'Invalid request with error - X-Request-ID header must be supplied to access this resource',
    });
  }
  if (!REQUEST_ID.test(requestId)) {
    throw OperationOutcomeError.spine('INVALID_VALUE', {
      diagnostics: `Invalid value - '${requestId}' in header 'X-Request-ID'`,
    });
  }
}

/** Mirrors the tracing headers back, as every PDS response does (patient-get.yaml response headers). */
export function mirrorTracingHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const requestId = header(request, 'x-request-id');
  const correlationId = header(request, 'x-correlation-id');
  if (requestId !== undefined) reply.header('X-Request-ID', requestId);
  if (correlationId !== undefined) reply.header('X-Correlation-ID', correlationId);
}

/** The base URL the caller used for this API, for `fullUrl`s (NHS answers with its own host). */
export function baseUrl(request: FastifyRequest, prefix: string): string {
  return `${request.protocol}://${request.host}${prefix}`;
}

/** `W/"<n>"`, the only If-Match / ETag form PDS uses (personal-demographics.yaml parameters IfMatch). */
export function etag(versionId: string | number): string {
  return `W/"${versionId}"`;
}

/**
 * Reads If-Match for PATCH and POST /Coverage: missing or not `W/"<n>"` gives 412 PRECONDITION_FAILED
 * (patient-patch.yaml sandbox table: "If-Match header missing or set to format other than W/"<version>"").
 */
export function requireIfMatch(request: FastifyRequest): string {
  const value = header(request, 'if-match');
  const match = value === undefined ? null : /^W\/"([0-9]+)"$/.exec(value);
  if (!match) {
    throw OperationOutcomeError.spine('PRECONDITION_FAILED', {
      diagnostics: 'Invalid request with error - If-Match header must be supplied to update this resource',
    });
  }
  return match[1] as string;
}

/** A body sent as anything that is not JSON (patch-patient.js: Content-Type must start with application/json). */
export function requireJsonContentType(request: FastifyRequest): void {
  const contentType = header(request, 'content-type');
  if (!contentType?.toLowerCase().startsWith('application/json')) {
    throw OperationOutcomeError.spine('UNSUPPORTED_SERVICE');
  }
}

/** Parses the raw body kept by the plugin's content type parser; bad JSON is a 400 like any bad input. */
export function jsonBody(
  request: FastifyRequest,
  errorCode: 'INVALID_UPDATE' | 'INVALID_CREATE' | 'INVALID_VALUE',
): unknown {
  const raw = request.body;
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw OperationOutcomeError.spine(errorCode, {
      diagnostics: 'Invalid request with error - request body is empty',
    });
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw OperationOutcomeError.spine(errorCode, {
      diagnostics: 'Invalid request with error - request body is not valid JSON',
    });
  }
}
