import type { FastifyPluginAsync } from 'fastify';

/** Options of the PDS FHIR R4 simulator (`/personal-demographics/FHIR/R4`). */
export interface PdsPluginOptions {
  /** `stateful` (default, like NHS INT) keeps PATCH/POST changes; `stateless` (like NHS's public sandbox) does not. */
  mode?: 'stateful' | 'stateless';
  /** How many generated patients to add to the spec's seed patients (default 2000). */
  syntheticPatients?: number;
  /** Seed of the synthetic patient generator: same seed, same patients. */
  seed?: number;
  /** Clock, for tests. */
  now?: () => Date;
  /** When given, every request needs a bearer token this accepts (401 ACCESS_DENIED otherwise). */
  verifyAccessToken?: (token: string) => { accessMode: 'application-restricted' } | undefined;
}

/** The PDS FHIR R4 simulator as a Fastify plugin; mount it with prefix `/personal-demographics/FHIR/R4`. */
export const pdsPlugin: FastifyPluginAsync<PdsPluginOptions> = async (_app, _options) => {
  // Filled in by routes.ts (work in progress).
};
