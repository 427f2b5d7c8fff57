import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
// @ts-expect-error newman ships no types; this test only uses run() and its summary
import newman from 'newman';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdsPlugin } from './index.js';
import { PDS_PREFIX } from './test-app.js';

// NHS's own Postman collection for its PDS sandbox, kept beside the repo (see /work/shared/specs/SOURCES.md).
const COLLECTION = fileURLToPath(
  new URL(
    '../../../../../shared/specs/pds/postman/patient-demographics-sandbox.postman_collection.json',
    import.meta.url,
  ),
);

/**
 * Assertions NHS's sandbox passes only because it answers from canned files, which an honest
 * simulator under Junction's rules cannot. Each is reported, none is hidden: the test fails on any
 * other failure, and also if one of these starts passing (so the list never goes stale).
 */
const KNOWN_DEVIATIONS: Record<string, string> = {
  // get-patient-search.js returns the 9000000017 file for any fuzzy query without phone/email; a real
  // fuzzy search for Jane Smith finds Jane Smith (score 1) and Jayne Smyth (Soundex) - and adding a
  // phone filter cannot add 9000000009 back, as the collection's next request expects.
  'Fuzzy search / Searchset is returned': 'canned answer: fuzzy search returns 2 patients',
  'Fuzzy search / Searchset includes patient 9000000017':
    'canned answer: best fuzzy match is 9000000009 (exact)',
  // janet.smythe@example.com belongs to 9000000025, born 2005-06-16, so Sm* + 2010-10-22 finds nobody.
  'Search with limited results inc email / Searchset is returned': 'canned answer: email of another patient',
  'Search with limited results inc email / Searchset includes patient 9000000009':
    'canned answer: email of another patient',
  // Expected ids are INT test numbers (97…, 59…, 51…) that Junction must not ship; the scenario
  // patients exist with 999-range numbers and the same demographics (seed-patients.ts).
  'Basic search with exact match flag / Searchset includes patient 9736363120': 'INT number not shipped',
  'Basic search including history flag / Searchset includes patient 5900020584': 'INT number not shipped',
  'Allocate NHS number / Response includes patient 5182663366': 'allocates from the 999 test range instead',
};

describe('NHS Postman collection (postman/patient-demographics-sandbox.postman_collection.json)', () => {
  const present = existsSync(COLLECTION);
  let baseUrl = '';
  const app = Fastify({ logger: false });

  beforeAll(async () => {
    if (!present) return;
    await app.register(pdsPlugin, { prefix: PDS_PREFIX, mode: 'stateless' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${PDS_PREFIX}`;
  });
  afterAll(() => app.close());

  it.skipIf(!present)(
    'passes every assertion in stateless mode, apart from the documented canned-data ones',
    async () => {
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
        (f) => `${f.source?.name ?? '?'} / ${f.error.test ?? f.error.name}`,
      );
      const unexpected = summary.run.failures
        .map((f, i) => ({ key: failures[i] as string, message: f.error.message }))
        .filter(({ key }) => !(key in KNOWN_DEVIATIONS));
      if (unexpected.length > 0)
        console.error('Postman failures:\n', unexpected.map((u) => `${u.key}: ${u.message}`).join('\n'));
      const stats = summary.run.stats.assertions;
      console.info(
        `Postman: ${stats.total} assertions, ${stats.failed} failed (${Object.keys(KNOWN_DEVIATIONS).length} known deviations)`,
      );
      expect(unexpected).toEqual([]);
      expect(failures.sort()).toEqual(Object.keys(KNOWN_DEVIATIONS).sort());
    },
    120_000,
  );

  it.runIf(!present)('is skipped: ../shared/specs/pds/postman is not beside the repository', () => {
    console.warn(`skipping the Postman run: ${COLLECTION} not found`);
  });
});

interface NewmanSummary {
  run: {
    stats: { assertions: { total: number; failed: number } };
    failures: { source?: { name?: string }; error: { name: string; test?: string; message: string } }[];
  };
}
