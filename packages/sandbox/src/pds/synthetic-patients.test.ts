import { isGpPracticeCode, isSyntheticNhsNumber } from '@junction/core';
import { describe, expect, it } from 'vitest';
import { PatientStore } from './patient-store.js';
import { SEED_NHS_NUMBERS, seedPatientRecords } from './seed-patients.js';
import { syntheticPatients } from './synthetic-patients.js';

// Full UK postcode shape: outward code (area letters, district digit(s), optional letter) + inward code.
const UK_POSTCODE = /^[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}$/;

describe('synthetic patients', () => {
  it('are deterministic: the same seed gives identical patients, another seed others', () => {
    const a = syntheticPatients({ count: 300, seed: 7 });
    expect(syntheticPatients({ count: 300, seed: 7 })).toEqual(a);
    expect(syntheticPatients({ count: 300, seed: 8 })).not.toEqual(a);
  });

  it('generate 2000 patients in well under a second', () => {
    const started = performance.now();
    const records = syntheticPatients({ count: 2000, seed: 1 });
    new PatientStore(records);
    expect(records).toHaveLength(2000);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('use 999-range NHS numbers, UK postcode shapes, GP practice codes, and mix in every record state', () => {
    const records = syntheticPatients({ count: 2000, seed: 1 });
    expect(new Set(records.map((r) => r.nhsNumber)).size).toBe(2000);
    for (const record of records) {
      expect(isSyntheticNhsNumber(record.nhsNumber)).toBe(true);
      expect(record.patient.address?.[0]?.postalCode).toMatch(UK_POSTCODE);
      expect(isGpPracticeCode(record.patient.generalPractitioner?.[0]?.identifier?.value ?? '')).toBe(true);
    }
    const count = (test: (r: (typeof records)[number]) => boolean) => records.filter(test).length;
    expect(count((r) => r.patient.deceasedDateTime !== undefined)).toBeGreaterThan(20);
    expect(count((r) => r.patient.meta?.security?.[0]?.code === 'R')).toBeGreaterThan(5);
    expect(count((r) => r.state === 'superseded')).toBeGreaterThan(2);
    expect(count((r) => r.state === 'invalidated')).toBeGreaterThan(0);
  });

  it('never collide with the seed patients, whose numbers all pass the modulus 11 check', () => {
    const seeds = seedPatientRecords();
    const synthetic = new Set(syntheticPatients({ count: 2000 }).map((r) => r.nhsNumber));
    for (const seed of seeds) expect(synthetic.has(seed.nhsNumber)).toBe(false);
    for (const [key, nhsNumber] of Object.entries(SEED_NHS_NUMBERS)) {
      if (key === 'invalid') continue;
      expect(seeds.some((s) => s.nhsNumber === nhsNumber) || key === 'notFound').toBe(true);
    }
  });
});

describe('PatientStore', () => {
  it('allocates the first unused 999 number and finds records by birth date range', () => {
    const store = new PatientStore(syntheticPatients({ count: 5 }));
    expect(isSyntheticNhsNumber(store.allocateNhsNumber())).toBe(true);
    expect(store.has(store.allocateNhsNumber())).toBe(false);
    const all = [...store.bornBetween(undefined, undefined)];
    expect(all).toHaveLength(5);
    const first = all[0]?.patient.birthDate as string;
    expect([...store.bornBetween(first, first)].every((r) => r.patient.birthDate === first)).toBe(true);
  });
});
