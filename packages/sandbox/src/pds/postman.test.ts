import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
// @ts-expect-error newman ships no types; this test only uses run() and its summary
import newman from 'newman';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDS_PREFIX } from '../testing/pds-test-app.js';
import { referencePath } from '../testing/reference.js';
import { pdsPlugin } from './index.js';

// NHS's own Postman collection for its PDS sandbox (NHSDigital/personal-demographics-service-api, vendored).
const COLLECTION = referencePath('specs/pds/postman/patient-demographics-sandbox.postman_collection.json');

describe('NHS Postman collection (postman/patient-demographics-sandbox.postman_collection.json)', () => {
  let baseUrl = '';
  const app = Fastify({ logger: false });

  beforeAll(async () => {
    await app.register(pdsPlugin, { prefix: PDS_PREFIX, mode: 'stateless' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${PDS_PREFIX}`;
  });
  afterAll(() => app.close());

  it('passes every assertion in stateless mode (NHS public sandbox emulation)', async () => {
    const summary = await new Promise<NewmanSummary>((resolve, reject) => {
      newman.run(
        {
          collection: COLLECTION,
          envVar: [{ key: 'base_url', value: baseUrl }],
          reporters: [],
          timeoutRequest: 10_000,
        },
        (error: Error | null, result: NewmanSummary) => (error ? reject(error) : resolve(result)),
      );
    });
    const failures = summary.run.failures.map(
      (f) => `${f.source?.name ?? '?'} / ${f.error.test ?? f.error.name}: ${f.error.message}`,
    );
    if (failures.length > 0) console.error(`Postman failures:\n${failures.join('\n')}`);
    const stats = summary.run.stats.assertions;
    console.info(`Postman: ${stats.total} assertions, ${stats.failed} failed`);
    expect(failures).toEqual([]);
    expect(stats.failed).toBe(0);
    expect(stats.total).toBeGreaterThan(100);
  }, 120_000);
});

interface NewmanSummary {
  run: {
    stats: { assertions: { total: number; failed: number } };
    failures: { source?: { name?: string }; error: { name: string; test?: string; message: string } }[];
  };
}
