import Fastify, { type FastifyInstance } from 'fastify';
import { type PdsPluginOptions, pdsPlugin } from '../pds/index.js';

export const PDS_PREFIX = '/personal-demographics/FHIR/R4';
export const REQUEST_ID = '60E0B220-8136-4CA5-AE46-1D97EF59D068';
export const FIXED_NOW = new Date('2025-06-01T12:00:00Z');

/** A Fastify app with only the PDS plugin, a fixed clock and few synthetic patients, for tests. */
export async function pdsTestApp(options: PdsPluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(pdsPlugin, {
    prefix: PDS_PREFIX,
    syntheticPatients: 200,
    now: () => FIXED_NOW,
    ...options,
  });
  await app.ready();
  return app;
}
