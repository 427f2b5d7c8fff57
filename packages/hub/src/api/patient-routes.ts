import { AuthError, type RequestContext } from '@junction/client';
import { isValidNhsNumber, OperationOutcomeError } from '@junction/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessAction } from '../access/policy.js';
import type { ActiveSession } from '../access/sessions.js';
import type { AuditAction, AuditOutcome } from '../audit/audit-hash.js';
import { type PdsPort, readPatient, searchPatients } from '../journeys/patient-lookup.js';
import type { RawQuery } from '../journeys/patient-search-query.js';
import { updatePatient } from '../journeys/patient-update.js';
import { parsePatientUpdate } from '../journeys/patient-update-request.js';
import type { HubMetrics } from '../observability/metrics.js';
import type { Store } from '../store/database.js';
import { type AccessControl, accessControl, type Caller } from './authorise.js';
import { outcomeOf, sendFhir } from './fhir-reply.js';

export interface PatientRoutesOptions {
  store: Store;
  pds: PdsPort;
  metrics: HubMetrics;
  now: () => Date;
  /** Shared with the other route plugins; built here when absent. */
  access?: AccessControl;
  /** PDS for a signed-in person's session (token exchange with its id_token); default: `pds`. */
  pdsForSession?: (session: ActiveSession) => PdsPort | undefined;
}

export const FHIR_PREFIX = '/fhir/R4';

// Documentation only: validation is ours (PDS's codes), so Fastify's validator is switched off on
// these routes, and the serialiser is plain JSON so no field is dropped by a response schema.
const noValidation = () => () => true;
const plainJson = () => (data: unknown) => JSON.stringify(data);
const fhirResponse = (description: string) => ({
  description,
  content: { 'application/fhir+json': { schema: { type: 'object', additionalProperties: true } } },
});
const commonResponses = {
  400: fhirResponse('OperationOutcome: invalid request (PDS codes, e.g. INVALID_RESOURCE_ID, INVALID_VALUE)'),
  401: fhirResponse(
    'OperationOutcome ACCESS_DENIED: missing, unknown or revoked credentials, or an expired session',
  ),
  403: fhirResponse(
    'OperationOutcome ACCESS_DENIED: the access policy refuses this caller (scope, role, own record, proofing level)',
  ),
  500: fhirResponse('OperationOutcome: internal error'),
};
const patchBodySchema = {
  type: 'object',
  required: ['patches'],
  properties: {
    patches: {
      type: 'array',
      minItems: 1,
      description: 'RFC 6902 operations (add, replace, remove, test), wrapped as PDS wants',
      items: {
        type: 'object',
        required: ['op', 'path'],
        properties: {
          op: { type: 'string', enum: ['add', 'replace', 'remove', 'test'] },
          path: { type: 'string', example: '/gender' },
          value: { description: 'required for add, replace and test' },
        },
      },
    },
  },
};
const security = [{ bearerApiKey: [] }, { headerApiKey: [] }, { bearerSession: [] }, { sessionCookie: [] }];
const correlationHeaders = {
  type: 'object',
  properties: {
    'x-correlation-id': {
      type: 'string',
      description: 'Passed on to NHS APIs and echoed; new UUID if absent',
    },
    'x-request-id': { type: 'string', description: 'UUID; echoed; new one if absent or not a UUID' },
  },
};

/**
 * Patient lookup and update for products: read by NHS number, trace by demographics and PATCH,
 * all through PDS. Every call is audited — success, not found, error and denied — before the answer is sent; if the
 * audit record cannot be written the request fails and no patient data leaves the hub.
 */
export async function patientRoutes(app: FastifyInstance, options: PatientRoutesOptions): Promise<void> {
  const { store, pds, metrics, now } = options;

  // PATCH bodies are read as text and parsed by the route, so that a wrong content type and bad
  // JSON get PDS's answers (400 UNSUPPORTED_SERVICE / INVALID_UPDATE), not Fastify's 415 / 400.
  // Scoped to this plugin; GET requests are never parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const access = options.access ?? accessControl({ store, metrics, now });
  const { audit } = access;

  /** PDS as this caller may use it: user-restricted (token exchange) for a signed-in person, when configured. */
  const pdsOf = (caller: Caller): PdsPort =>
    (caller.session && options.pdsForSession?.(caller.session)) || pds;

  /** Answers a failed upstream call and audits it (PDS calls are timed by the port, `observability/recorded-ports.ts`). */
  const failed = async (
    request: FastifyRequest,
    reply: FastifyReply,
    action: AuditAction,
    caller: Caller,
    nhsNumbers: string[],
    error: unknown,
  ) => {
    const { status, outcome, code } = outcomeOf(error);
    const auditOutcome: AuditOutcome = status === 404 ? 'not-found' : 'error';
    if (error instanceof AuthError) {
      request.log.warn(
        { code: error.code, tokenStatus: error.status },
        'NHS API platform token request failed',
      );
    } else if (!(error instanceof OperationOutcomeError)) {
      request.log.error({ err: safeError(error), action }, 'patient request failed');
    } else {
      request.log.info({ status, code, action }, 'patient request answered with an OperationOutcome');
    }
    await audit(request, {
      action,
      caller,
      nhsNumbers,
      outcome: auditOutcome,
      errorCode: code,
      httpStatus: status,
    });
    return sendFhir(reply, status, outcome);
  };

  /**
   * The prologue of the routes on one patient: authenticates, asks the policy about the NHS number in
   * the path and audits a denial; then answers a number failing the modulus 11 check as PDS does
   * (400 INVALID_RESOURCE_ID) without calling it. Returns the caller and number, or undefined after replying.
   */
  const authoriseForPatient = async (
    request: FastifyRequest<{ Params: { nhsNumber: string } }>,
    reply: FastifyReply,
    action: AccessAction,
  ): Promise<{ caller: Caller; nhsNumber: string } | undefined> => {
    const nhsNumber = request.params.nhsNumber;
    const valid = /^\d{10}$/.test(nhsNumber) && isValidNhsNumber(nhsNumber);
    const caller = await access.authorise(request, reply, action, {
      nhsNumber,
      auditNhsNumbers: valid ? [nhsNumber] : [],
    });
    if (!caller) return undefined;
    if (!valid) {
      await failed(request, reply, action, caller, [], OperationOutcomeError.spine('INVALID_RESOURCE_ID'));
      return undefined;
    }
    return { caller, nhsNumber };
  };

  const contextOf = (request: FastifyRequest, caller: Caller): RequestContext => {
    const ctx: RequestContext = { correlationId: request.correlationId };
    const p = caller.principal;
    if ((p.kind === 'api-key' || p.kind === 'clinician') && p.organisationOds) {
      ctx.endUserOrganisationOds = p.organisationOds;
    }
    // The selected role id goes in NHSD-Session-URID (personal-demographics.yaml: "The user role ID (URID)").
    if (p.kind === 'clinician') ctx.sessionUrid = p.roleId;
    return ctx;
  };

  app.get<{ Params: { nhsNumber: string } }>(
    `${FHIR_PREFIX}/Patient/:nhsNumber`,
    {
      validatorCompiler: noValidation,
      serializerCompiler: plainJson,
      schema: {
        summary: 'Read a patient by NHS number (PDS)',
        description:
          'Reads the patient from PDS. Restricted patients never carry address, telecom, contact or generalPractitioner. Audited.',
        tags: ['Patient'],
        security,
        headers: correlationHeaders,
        params: {
          type: 'object',
          properties: { nhsNumber: { type: 'string', pattern: '^\\d{10}$', description: 'NHS number' } },
          required: ['nhsNumber'],
        },
        response: {
          200: fhirResponse('Patient (ETag header carries the PDS version)'),
          404: fhirResponse('OperationOutcome RESOURCE_NOT_FOUND / INVALIDATED_RESOURCE from PDS'),
          ...commonResponses,
        },
      },
    },
    async (request, reply) => {
      const action: AccessAction = 'patient.read';
      const target = await authoriseForPatient(request, reply, action);
      if (!target) return reply;
      const { caller, nhsNumber } = target;
      let result: Awaited<ReturnType<typeof readPatient>>;
      try {
        result = await readPatient(pdsOf(caller), nhsNumber, contextOf(request, caller));
      } catch (error) {
        return failed(request, reply, action, caller, [nhsNumber], error);
      }
      await audit(request, {
        action,
        caller,
        nhsNumbers: result.nhsNumbers,
        outcome: 'success',
        httpStatus: 200,
      });
      if (result.etag) reply.header('etag', result.etag);
      return sendFhir(reply, 200, result.patient);
    },
  );

  app.get<{ Querystring: RawQuery }>(
    `${FHIR_PREFIX}/Patient`,
    {
      validatorCompiler: noValidation,
      serializerCompiler: plainJson,
      schema: {
        summary: 'Trace patients by demographics (PDS search)',
        description:
          'PDS search parameters, validated and passed through. Too many matches is HTTP 200 with OperationOutcome TOO_MANY_MATCHES, as PDS answers. Audited with the NHS numbers returned.',
        tags: ['Patient'],
        security,
        headers: correlationHeaders,
        querystring: {
          type: 'object',
          properties: {
            family: { type: 'string' },
            given: { type: 'array', items: { type: 'string' }, description: 'repeatable' },
            gender: { type: 'string', enum: ['male', 'female', 'other', 'unknown'] },
            birthdate: {
              type: 'array',
              items: { type: 'string' },
              description: 'eq|ge|le + yyyy-mm-dd; repeatable',
            },
            'death-date': { type: 'array', items: { type: 'string' } },
            'address-postalcode': { type: 'string' },
            'general-practitioner': { type: 'string', description: 'GP practice ODS code' },
            email: { type: 'string' },
            phone: { type: 'string' },
            '_fuzzy-match': { type: 'boolean' },
            '_exact-match': { type: 'boolean' },
            _history: { type: 'boolean' },
            '_max-results': { type: 'integer', minimum: 1, maximum: 50 },
          },
        },
        response: {
          200: fhirResponse('searchset Bundle of Patient, or OperationOutcome TOO_MANY_MATCHES'),
          ...commonResponses,
        },
      },
    },
    async (request, reply) => {
      const action: AccessAction = 'patient.search';
      const caller = await access.authorise(request, reply, action, { auditNhsNumbers: [] });
      if (!caller) return reply;
      const base = `${request.protocol}://${request.host}${FHIR_PREFIX}`;
      let result: Awaited<ReturnType<typeof searchPatients>>;
      try {
        result = await searchPatients(pdsOf(caller), request.query, contextOf(request, caller), base);
      } catch (error) {
        return failed(request, reply, action, caller, [], error);
      }
      await audit(request, {
        action,
        caller,
        nhsNumbers: result.nhsNumbers,
        outcome: result.tooManyMatches ? 'error' : 'success',
        errorCode: result.tooManyMatches ? 'TOO_MANY_MATCHES' : null,
        httpStatus: 200,
      });
      return sendFhir(reply, 200, result.body);
    },
  );

  app.patch<{ Params: { nhsNumber: string } }>(
    `${FHIR_PREFIX}/Patient/:nhsNumber`,
    {
      validatorCompiler: noValidation,
      serializerCompiler: plainJson,
      schema: {
        summary: 'Update a patient with JSON Patch (PDS)',
        description:
          "PDS PATCH, validated with PDS's codes before calling it, then passed through. Read the patient first and send its ETag as If-Match. PDS allows updates only with healthcare worker (user-restricted) access: with application-restricted access it answers 403 INVALID_METHOD, passed on as is. Needs the patient:update scope. Audited (never the body).",
        tags: ['Patient'],
        security,
        headers: {
          type: 'object',
          properties: {
            'if-match': {
              type: 'string',
              pattern: '^W\\/"[0-9]+"$',
              description: 'The ETag of the version read, e.g. W/"2"',
            },
            ...correlationHeaders.properties,
          },
          required: ['if-match'],
        },
        params: {
          type: 'object',
          properties: { nhsNumber: { type: 'string', pattern: '^\\d{10}$', description: 'NHS number' } },
          required: ['nhsNumber'],
        },
        body: {
          content: {
            'application/json-patch+json': { schema: patchBodySchema },
            'application/json': { schema: patchBodySchema },
          },
        },
        response: {
          200: fhirResponse('The updated Patient (ETag header carries the new version)'),
          400: fhirResponse(
            'OperationOutcome: INVALID_RESOURCE_ID, INVALID_UPDATE (no patches, bad JSON), UNSUPPORTED_SERVICE (Content-Type), MISSING_VALUE / INVALID_VALUE (a patch), or a PDS business rule',
          ),
          401: commonResponses[401],
          403: fhirResponse(
            'OperationOutcome ACCESS_DENIED (the policy refuses: key without patient:update, role, own record, P9), or from PDS INVALID_METHOD / FORBIDDEN_UPDATE',
          ),
          404: fhirResponse('OperationOutcome RESOURCE_NOT_FOUND / INVALIDATED_RESOURCE from PDS'),
          409: fhirResponse(
            'OperationOutcome RESOURCE_VERSION_MISMATCH: If-Match is not the current version',
          ),
          412: fhirResponse('OperationOutcome PRECONDITION_FAILED: If-Match missing or not W/"<n>"'),
          500: commonResponses[500],
        },
      },
    },
    async (request, reply) => {
      const action: AccessAction = 'patient.update';
      const target = await authoriseForPatient(request, reply, action);
      if (!target) return reply;
      const { caller, nhsNumber } = target;
      let update: ReturnType<typeof parsePatientUpdate>;
      try {
        update = parsePatientUpdate({
          ifMatch: request.headers['if-match'],
          contentType: request.headers['content-type'],
          body: request.body,
        });
      } catch (error) {
        return failed(request, reply, action, caller, [nhsNumber], error);
      }
      let result: Awaited<ReturnType<typeof updatePatient>>;
      try {
        result = await updatePatient(pdsOf(caller), nhsNumber, update, contextOf(request, caller));
      } catch (error) {
        return failed(request, reply, action, caller, [nhsNumber], error);
      }
      await audit(request, {
        action,
        caller,
        nhsNumbers: result.nhsNumbers,
        outcome: 'success',
        httpStatus: 200,
      });
      reply.header('etag', result.etag);
      return sendFhir(reply, 200, result.patient);
    },
  );
}

/** An error as it may be logged: type and stack frames, never the message (which may quote data). */
export function safeError(error: unknown): { type: string; code?: string; stack?: string } {
  if (!(error instanceof Error)) return { type: typeof error };
  const out: { type: string; code?: string; stack?: string } = { type: error.name };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  const frames = error.stack?.split('\n').slice(1).join('\n');
  if (frames) out.stack = frames;
  return out;
}
