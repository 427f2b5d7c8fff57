import { OperationOutcomeError } from '@junction/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyReply } from 'fastify';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Sends a FHIR resource with the FHIR media type. */
export function sendFhir(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(FHIR_JSON).send(body);
}

/**
 * The one place errors become HTTP answers: OperationOutcomeErrors keep their status and outcome
 * (upstream PDS errors pass through), anything else is a 500 OperationOutcome with no detail.
 */
export function outcomeOf(error: unknown): { status: number; outcome: OperationOutcome; code: string } {
  if (error instanceof OperationOutcomeError) {
    return { status: error.status, outcome: error.outcome, code: error.code ?? 'UNKNOWN' };
  }
  const internal = OperationOutcomeError.spine('INTERNAL_SERVER_ERROR', {
    diagnostics: 'An unexpected error occurred; see the hub logs with this request id',
  });
  return { status: internal.status, outcome: internal.outcome, code: 'INTERNAL_SERVER_ERROR' };
}
