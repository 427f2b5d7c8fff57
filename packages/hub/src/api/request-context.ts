import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// Printable ASCII, bounded: it is echoed in headers and written to logs and the audit trail.
const CORRELATION_ID = /^[\x21-\x7e]{1,200}$/;

/** The request id: the caller's `X-Request-ID` when it is a UUID (as PDS requires), else a new one. */
export function requestIdFrom(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && UUID.test(given) ? given : randomUUID();
}

/** The caller's `X-Correlation-ID` when well-formed, else a new UUID. */
export function correlationIdFrom(headers: IncomingHttpHeaders): string {
  const given = headers['x-correlation-id'];
  return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
}
