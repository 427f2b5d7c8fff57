import { randomBytes } from 'node:crypto';
import { OperationOutcomeError, spineOutcome } from '@junction/core';
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import { acceptRawBodies } from '../http/raw-body.js';
import type { VerifyAccessToken } from './access.js';
import { PatientStore } from './patient-store.js';
import { FHIR_JSON, mirrorTracingHeaders } from './request-context.js';
import { registerPdsRoutes } from './routes.js';
import { seedPatientRecords } from './seed-patients.js';
import { syntheticPatients } from './synthetic-patients.js';

/** Options of the PDS FHIR R4 simulator (`/personal-demographics/FHIR/R4`). */
export interface PdsPluginOptions {
  /** `stateful` (default, like NHS INT) keeps PATCH/POST changes in memory; `stateless` (like NHS's public sandbox) does not. */
  mode?: 'stateful' | 'stateless';
  /** How many generated patients to add to the spec's seed patients (default 2000). */
  syntheticPatients?: number;
  /** Seed of the synthetic patient generator: same seed, same patients. */
  seed?: number;
  /** Clock, for tests. */
  now?: () => Date;
  /**
   * When given, every request needs a bearer token this accepts (401 ACCESS_DENIED otherwise), and
   * PDS serves it in the access mode its grant says (AccessTokenStore.verify fits).
   */
  verifyAccessToken?: VerifyAccessToken;
}

const DEFAULT_SYNTHETIC_PATIENTS = 2000;

/**
 * The PDS FHIR R4 simulator as a Fastify plugin, faithful to NHS's published spec and sandbox
 * (NHSDigital/personal-demographics-service-api, vendored in reference/specs/pds). Mount it with prefix `/personal-demographics/FHIR/R4`; each registration
 * keeps its own in-memory records.
 * @example await app.register(pdsPlugin, { prefix: '/personal-demographics/FHIR/R4', mode: 'stateless' })
 */
export const pdsPlugin: FastifyPluginAsync<PdsPluginOptions> = async (app, options) => {
  const now = options.now ?? (() => new Date());
  const store = new PatientStore([
    ...seedPatientRecords(),
    ...syntheticPatients({
      count: options.syntheticPatients ?? DEFAULT_SYNTHETIC_PATIENTS,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      today: now(),
    }),
  ]);

  // Bodies are read as text and parsed by the routes, so that content type rules and bad JSON get
  // PDS's answers rather than Fastify's 415/400.
  acceptRawBodies(app);

  app.addHook('onSend', async (request, reply) => {
    mirrorTracingHeaders(request, reply);
  });

  app.setErrorHandler(async (error: FastifyError | OperationOutcomeError, request, reply) => {
    if (error instanceof OperationOutcomeError) {
      return reply.code(error.status).type(FHIR_JSON).send(error.outcome);
    }
    if (typeof error.statusCode === 'number' && error.statusCode < 500) {
      return reply
        .code(400)
        .type(FHIR_JSON)
        .send(
          spineOutcome('INVALID_VALUE', { diagnostics: `Invalid request with error - ${error.message}` }),
        );
    }
    request.log.error({ err: error }, 'PDS sandbox failure');
    return reply.code(500).type(FHIR_JSON).send(spineOutcome('INTERNAL_SERVER_ERROR'));
  });

  registerPdsRoutes(app, {
    store,
    stateful: (options.mode ?? 'stateful') === 'stateful',
    now,
    verifyAccessToken: options.verifyAccessToken,
    newId: () => randomBytes(4).toString('hex').toUpperCase(),
  });
};
