import { OperationOutcomeError } from '@junction/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessAction } from '../access/policy.js';
import type { PdsPort } from '../journeys/patient-lookup.js';
import type { SubmissionMeshPort } from '../journeys/submit-readings/mesh-port.js';
import { getSubmission, submissionView } from '../journeys/submit-readings/submissions.js';
import { submitReadings } from '../journeys/submit-readings/submit.js';
import {
  deleteWebhook,
  getWebhook,
  setWebhook,
  WebhookUrlError,
} from '../journeys/submit-readings/webhooks.js';
import { parseBoundedJson } from '../json-body.js';
import type { Store } from '../store/database.js';
import type { AccessControl, Caller } from './authorise.js';
import { outcomeOf, sendFhir } from './fhir-reply.js';
import { FHIR_PREFIX, safeError } from './patient-routes.js';

export interface SubmissionRoutesOptions {
  store: Store;
  pds: PdsPort;
  access: AccessControl;
  now: () => Date;
  /** The hub's MESH as it is now (sending mailbox, endpoint lookup, sendMeshMessage); without one, submissions answer 503. */
  mesh?: () => SubmissionMeshPort | undefined;
  /** Called after a submission is stored (e.g. to wake the job runner). */
  onSubmitted?: () => void;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const security = [{ bearerApiKey: [] }, { headerApiKey: [] }];
const json = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } },
});
const fhir = (description: string) => ({
  description,
  content: { 'application/fhir+json': { schema: { type: 'object', additionalProperties: true } } },
});
const noValidation = () => () => true;
const plainJson = () => (data: unknown) => JSON.stringify(data);

const submitSchema = (summary: string, description: string) => ({
  summary,
  description: `${description} Validated (UK Core vital signs, SNOMED CT and UCUM); the patient is read from PDS; the registered practice (Patient.generalPractitioner) and its MESH mailbox (endpoint lookup, GPFED_CONSULT_REPORT) are found; an ITK3 Send Document message is queued for MESH. Answers 202 Accepted with Location: /submissions/{id}. A repeat with the same Idempotency-Key (or X-Request-ID) returns the same submission and sends nothing more. Needs the readings:submit scope. Audited.`,
  tags: ['Submissions'],
  security,
  headers: {
    type: 'object',
    properties: {
      'idempotency-key': { type: 'string', description: '1–200 printable ASCII characters, per API key' },
      'x-request-id': {
        type: 'string',
        description: 'Used as the idempotency key when Idempotency-Key is absent',
      },
      'x-correlation-id': { type: 'string' },
    },
  },
  response: {
    202: json('The submission (as GET /submissions/{id}); Location and Content-Location point at it'),
    400: fhir('OperationOutcome: the readings failed validation (one issue per problem, with FHIRPath)'),
    401: fhir('OperationOutcome ACCESS_DENIED: missing or invalid API key'),
    403: fhir('OperationOutcome ACCESS_DENIED: the key lacks readings:submit'),
    422: fhir(
      'OperationOutcome: PDS does not know the patient, the record is restricted, no registered practice, or the practice has no MESH mailbox for GPFED_CONSULT_REPORT',
    ),
    502: fhir('OperationOutcome: PDS or MESH failed; repeat with the same Idempotency-Key'),
    503: fhir('OperationOutcome: the hub has no MESH mailbox configured'),
  },
});

/**
 * The submitting-data journey for products, and where a product follows it:
 *
 * - `POST /fhir/R4/Observation` (one Observation), `POST /fhir/R4/Bundle` (a Bundle resource of
 *   Observations, any of collection / batch / transaction) and `POST /fhir/R4` (a `batch` or
 *   `transaction` Bundle posted to the service base, as FHIR R4 http.html#transaction prescribes for
 *   submitting several resources at once). All three answer 202 Accepted + Location (FHIR R4
 *   async pattern, http.html#async): delivery to the practice takes minutes to days.
 * - `GET /submissions/{id}`: the status and its history as JSON (operational data, like messages and
 *   jobs; a FHIR Task would add nothing a product needs). Only the API key that submitted sees it.
 * - `PUT|GET|DELETE /submissions/webhook`: the key's callback URL (signed POSTs, see webhooks.ts).
 */
export async function submissionRoutes(
  app: FastifyInstance,
  options: SubmissionRoutesOptions,
): Promise<void> {
  const { store, pds, access, now } = options;
  app.addContentTypeParser(
    ['application/fhir+json', 'application/json+fhir'],
    { parseAs: 'string', bodyLimit: 5 * 1024 * 1024 },
    (_request, body, done) => {
      try {
        done(null, parseBoundedJson(body as string));
      } catch (cause) {
        if (cause instanceof OperationOutcomeError) return done(cause, undefined);
        const error = new Error('The body is not valid JSON') as Error & { statusCode: number };
        error.statusCode = 400;
        done(error, undefined);
      }
    },
  );

  const apiKeyOf = (caller: Caller) => {
    const p = caller.principal;
    if (p.kind !== 'api-key') throw new Error('readings routes are for API keys only (policy)');
    return p;
  };

  const submit =
    (expected: 'Observation' | 'Bundle' | 'batch-or-transaction') =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const action: AccessAction = 'readings.submit';
      const caller = await access.authorise(request, reply, action, { auditNhsNumbers: [] });
      if (!caller) return reply;
      const key = apiKeyOf(caller);
      const wrongType = wrongResource(request.body, expected);
      if (wrongType) {
        await access.audit(request, {
          action,
          caller,
          nhsNumbers: [],
          outcome: 'error',
          errorCode: 'INVALID_RESOURCE',
          httpStatus: 400,
        });
        return sendFhir(reply, 400, wrongType);
      }
      const idempotencyKey = headerValue(request, 'idempotency-key') ?? headerValue(request, 'x-request-id');
      if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
        const outcome = issue('value', 'Idempotency-Key must be 1–200 printable ASCII characters.');
        await access.audit(request, {
          action,
          caller,
          nhsNumbers: [],
          outcome: 'error',
          errorCode: 'INVALID_VALUE',
          httpStatus: 400,
        });
        return sendFhir(reply, 400, outcome);
      }
      try {
        const mesh = options.mesh?.();
        const result = await submitReadings(
          { store, pds, now, ...(mesh ? { mesh } : {}) },
          {
            body: request.body,
            product: { apiKeyId: key.id, name: key.name, organisationOds: key.organisationOds },
            ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
            correlationId: request.correlationId,
            ctx: {
              correlationId: request.correlationId,
              ...(key.organisationOds ? { endUserOrganisationOds: key.organisationOds } : {}),
            },
          },
        );
        if (result.kind === 'rejected') {
          await access.audit(request, {
            action,
            caller,
            nhsNumbers: result.nhsNumbers,
            outcome: 'error',
            errorCode: result.status === 400 ? 'INVALID_RESOURCE' : 'UNPROCESSABLE_ENTITY',
            httpStatus: result.status,
          });
          return sendFhir(reply, result.status, result.outcome);
        }
        const s = result.submission;
        await access.audit(request, {
          action,
          caller,
          nhsNumbers: [s.nhsNumber],
          outcome: 'success',
          httpStatus: 202,
        });
        if (result.created) options.onSubmitted?.();
        const location = `/submissions/${s.id}`;
        return reply
          .code(202)
          .header('location', location)
          .header('content-location', location)
          .type('application/json; charset=utf-8')
          .send(submissionView(s));
      } catch (error) {
        const { status, outcome, code } = outcomeOf(error);
        if (!(error instanceof OperationOutcomeError)) {
          request.log.error({ err: safeError(error) }, 'submission failed');
        }
        await access.audit(request, {
          action,
          caller,
          nhsNumbers: [],
          outcome: 'error',
          errorCode: code,
          httpStatus: status,
        });
        return sendFhir(reply, status, outcome);
      }
    };

  const routeOptions = (summary: string, description: string) => ({
    validatorCompiler: noValidation,
    serializerCompiler: plainJson,
    schema: submitSchema(summary, description),
  });
  app.post(
    `${FHIR_PREFIX}/Observation`,
    routeOptions("Submit one reading (Observation) for the patient's GP", 'One FHIR R4 Observation.'),
    submit('Observation'),
  );
  app.post(
    `${FHIR_PREFIX}/Bundle`,
    routeOptions(
      "Submit readings (a Bundle of Observations) for the patient's GP",
      'A Bundle (collection, batch or transaction) of Observations about one patient.',
    ),
    submit('Bundle'),
  );
  app.post(
    FHIR_PREFIX,
    routeOptions(
      'Submit readings as a batch/transaction Bundle',
      'A batch or transaction Bundle of Observations (entry.request POST Observation), all about one patient, processed as one submission.',
    ),
    submit('batch-or-transaction'),
  );

  app.get<{ Params: { id: string } }>(
    '/submissions/:id',
    {
      validatorCompiler: noValidation,
      serializerCompiler: plainJson,
      schema: {
        summary: 'Where a submission is: status and history',
        description:
          'validated → queued → sent → delivered → acknowledged, or failed (errors says why). Only the API key that submitted sees it (404 otherwise). Needs readings:read. Audited.',
        tags: ['Submissions'],
        security,
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        response: {
          200: json('The submission with its history'),
          404: fhir('OperationOutcome: no such submission'),
        },
      },
    },
    async (request, reply) => {
      const action: AccessAction = 'readings.read';
      const caller = await access.authorise(request, reply, action, { auditNhsNumbers: [] });
      if (!caller) return reply;
      const key = apiKeyOf(caller);
      const s = /^[0-9a-f-]{36}$/.test(request.params.id)
        ? await getSubmission(store, request.params.id)
        : undefined;
      if (!s || s.apiKeyId !== key.id) {
        await access.audit(request, {
          action,
          caller,
          nhsNumbers: [],
          outcome: 'not-found',
          errorCode: 'RESOURCE_NOT_FOUND',
          httpStatus: 404,
        });
        return sendFhir(reply, 404, issue('not-found', 'No submission with this id for this API key.'));
      }
      await access.audit(request, {
        action,
        caller,
        nhsNumbers: [s.nhsNumber],
        outcome: 'success',
        httpStatus: 200,
      });
      return reply.code(200).type('application/json; charset=utf-8').send(submissionView(s));
    },
  );

  const webhookSchema = (summary: string, description: string, extra: object = {}) => ({
    validatorCompiler: noValidation,
    serializerCompiler: plainJson,
    schema: { summary, description, tags: ['Submissions'], security, ...extra },
  });
  app.put<{ Body: { url?: unknown } }>(
    '/submissions/webhook',
    webhookSchema(
      'Register the webhook of this API key',
      'Body {"url": "https://…"}. Returns the signing secret once: each POST carries X-Junction-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> (refuse a t more than 5 minutes off). Sent when a submission becomes delivered, acknowledged or failed; retried with backoff, then dead-lettered. Needs readings:submit.',
      { body: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] } },
    ),
    async (request, reply) => {
      const caller = await access.authorise(request, reply, 'readings.submit', { auditNhsNumbers: [] });
      if (!caller) return reply;
      try {
        const hook = await setWebhook(store, apiKeyOf(caller).id, request.body?.url as string, now);
        return reply.code(200).type('application/json; charset=utf-8').send(hook);
      } catch (error) {
        if (error instanceof WebhookUrlError) return sendFhir(reply, 400, issue('value', error.message));
        throw error;
      }
    },
  );
  app.get(
    '/submissions/webhook',
    webhookSchema(
      'The webhook of this API key',
      'The URL and when it was set (never the secret). 404 when none.',
    ),
    async (request, reply) => {
      const caller = await access.authorise(request, reply, 'readings.submit', { auditNhsNumbers: [] });
      if (!caller) return reply;
      const hook = await getWebhook(store, apiKeyOf(caller).id);
      if (!hook) return sendFhir(reply, 404, issue('not-found', 'This API key has no webhook.'));
      return reply.code(200).type('application/json; charset=utf-8').send(hook);
    },
  );
  app.delete(
    '/submissions/webhook',
    webhookSchema('Remove the webhook of this API key', '204; later events are not sent.'),
    async (request, reply) => {
      const caller = await access.authorise(request, reply, 'readings.submit', { auditNhsNumbers: [] });
      if (!caller) return reply;
      await deleteWebhook(store, apiKeyOf(caller).id);
      return reply.code(204).send();
    },
  );
}

function issue(
  code: 'value' | 'not-found' | 'not-supported' | 'invalid',
  diagnostics: string,
): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The endpoint's resource type rule (before validation): Observation to /Observation, Bundle elsewhere. */
function wrongResource(
  body: unknown,
  expected: 'Observation' | 'Bundle' | 'batch-or-transaction',
): OperationOutcome | undefined {
  if (typeof body !== 'object' || body === null) return undefined; // validation reports it
  const { resourceType, type } = body as { resourceType?: unknown; type?: unknown };
  if (expected === 'Observation' && resourceType !== 'Observation') {
    return issue(
      'invalid',
      'POST /fhir/R4/Observation takes an Observation (send a Bundle to /fhir/R4/Bundle).',
    );
  }
  if (expected !== 'Observation' && resourceType !== 'Bundle') {
    return issue('invalid', 'This endpoint takes a Bundle of Observations.');
  }
  if (expected === 'batch-or-transaction' && type !== 'batch' && type !== 'transaction') {
    return issue(
      'invalid',
      'POST to the service base takes a batch or transaction Bundle (FHIR R4 http.html#transaction).',
    );
  }
  return undefined;
}
