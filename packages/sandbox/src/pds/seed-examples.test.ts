import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { referencePath } from '../testing/reference.js';
import { INT_TEST_NHS_NUMBERS, KATHY_KNAPP, SAM_SMITH_HISTORIC } from './seed-examples.js';

// NHS's PDS examples (vendored in reference/specs/pds/); seed/README.md lists the copies.
const SEED = fileURLToPath(new URL('./seed/', import.meta.url));
const SOURCES: Record<string, string> = {
  'Patient.json': 'sandbox/mocks/Patient.json',
  'Patient-Jayne-Smyth.json': 'sandbox/mocks/Patient-Jayne-Smyth.json',
  'search_patient_9000000025.json': 'karate-mock/stubs/searchResponses/search_patient_9000000025.json',
  'Minimal_Patient.json': 'sandbox/mocks/Minimal_Patient.json',
  'PatientCompoundName.json': 'sandbox/mocks/PatientCompoundName.json',
  'related_person_9000000009.json': 'karate-mock/stubs/relatedPersonResponses/related_person_9000000009.json',
  'related_person_9000000017.json': 'karate-mock/stubs/relatedPersonResponses/related_person_9000000017.json',
  'patient_with_coverage_9000000009.json':
    'karate-mock/stubs/coverageResponses/patient_with_coverage_9000000009.json',
  'knap_kathy_exact_match.json': 'karate-mock/stubs/searchResponses/knap_kathy_exact_match.json',
  'historic_email_searchset.json': 'karate-mock/stubs/searchResponses/historic_email_searchset.json',
};
const SANDBOX_ONLY = ['restricted-spine-held.json'];

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/** What a seed file keeps of a published example: a Bundle's resources (one, or all for RelatedPerson). */
function resourcesOf(published: unknown): unknown {
  const bundle = published as { resourceType: string; entry?: { resource: { resourceType: string } }[] };
  if (bundle.resourceType !== 'Bundle') return published;
  const resources = (bundle.entry ?? []).map((entry) => entry.resource);
  return resources.every((resource) => resource.resourceType === 'RelatedPerson') ? resources : resources[0];
}

describe('seed examples (seed/README.md)', () => {
  it('are every file in seed/, each from a known source or marked as the sandbox own', () => {
    const files = readdirSync(SEED).filter((name) => name.endsWith('.json'));
    expect(files.sort()).toEqual([...Object.keys(SOURCES), ...SANDBOX_ONLY].sort());
  });

  it('hold INT test patients under the numbers INT_TEST_NHS_NUMBERS names', () => {
    expect(KATHY_KNAPP.id).toBe(INT_TEST_NHS_NUMBERS.kathyKnapp);
    expect(SAM_SMITH_HISTORIC.id).toBe(INT_TEST_NHS_NUMBERS.samSmithHistoric);
  });

  for (const [file, source] of Object.entries(SOURCES)) {
    it(`${file} is ${source} as NHS publishes it`, () => {
      expect(readJson(`${SEED}${file}`)).toEqual(resourcesOf(readJson(referencePath(`specs/pds/${source}`))));
    });
  }
});
