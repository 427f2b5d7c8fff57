import { AuthError } from '@junction/client';
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
 * (upstream PDS errors pass through), token failures are a 502, anything else is a 500
 * OperationOutcome with no detail.
 */
export function outcomeOf(error: unknown): { status: number; outcome: OperationOutcome; code: string } {
  if (error instanceof OperationOutcomeError) {
    return { status: error.status, outcome: error.outcome, code: error.code ?? 'UNKNOWN' };
  }
  if (error instanceof AuthError) {
    // The hub could not get a token from the API platform: an upstream failure, not the caller's.
    const upstream = OperationOutcomeError.spine('UNABLE_TO_CALL_SERVICE', {
      status: 502,
      diagnostics: `The hub could not authenticate to the NHS API platform (${error.code})`,
    });
    return { status: 502, outcome: upstream.outcome, code: 'UNABLE_TO_CALL_SERVICE' };
  }
  const internal = OperationOutcomeError.spine('INTERNAL_SERVER_ERROR', {
    diagnostics: 'An unexpected error occurred; see the hub logs with this request id',
  });
  return { status: internal.status, outcome: internal.outcome, code: 'INTERNAL_SERVER_ERROR' };
}
