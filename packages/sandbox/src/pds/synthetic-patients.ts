import { syntheticNhsNumbers } from '@junction/core';
import { buildPatient, type PatientFacts } from './patient-builder.js';
import type { PatientRecord } from './patient-store.js';
import { FAMILY, FEMALE_GIVEN, INWARD_LETTERS, MALE_GIVEN, STREETS, TOWNS } from './synthetic-names.js';

export interface SyntheticPatientsOptions {
  count: number;
  seed?: number;
  /** Dates of birth and death stay before this day. */
  today?: Date;
}

const DEFAULT_SEED = 20_240_101;
const SHARE_DECEASED = 0.06;
const SHARE_RESTRICTED = 0.02;
const SHARE_SUPERSEDED = 0.01;
const SHARE_INVALIDATED = 0.005;
const SHARE_WITH_MAIDEN_NAME = 0.25;

/**
 * Thousands of fictional patients with 999-range NHS numbers (core `syntheticNhsNumbers`), UK names,
 * addresses with valid postcode shapes, GP practice codes (letter + 5 digits), some deceased,
 * restricted, superseded or invalidated. Deterministic: the same options give the same patients.
 * @example syntheticPatients({ count: 2000, seed: 7 }).length // 2000
 */
export function syntheticPatients(options: SyntheticPatientsOptions): PatientRecord[] {
  const random = mulberry32(options.seed ?? DEFAULT_SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const todayMs = (options.today ?? new Date('2025-01-01T00:00:00Z')).getTime();
  const practices = Array.from(
    { length: 40 },
    () => `${pick([...'ABCDEFGHJKLMNPY'])}${String(81_000 + Math.floor(random() * 9_000))}`,
  );

  const numbers = syntheticNhsNumbers();
  const records: PatientRecord[] = [];
  for (let i = 0; i < options.count; i++) {
    const nhsNumber = numbers.next().value as string;
    const female = random() < 0.5;
    const given = [pick(female ? FEMALE_GIVEN : MALE_GIVEN)];
    if (random() < 0.4) given.push(pick(female ? FEMALE_GIVEN : MALE_GIVEN));
    const family = pick(FAMILY);
    const ageDays = Math.floor(random() * 95 * 365.25);
    const birthDate = isoDate(todayMs - ageDays * 86_400_000);
    const place = pick(TOWNS);
    const postalCode = `${pick(place.districts)} ${Math.floor(random() * 10)}${pick([...INWARD_LETTERS])}${pick([...INWARD_LETTERS])}`;
    const deceased = random() < SHARE_DECEASED;
    const facts: PatientFacts = {
      nhsNumber,
      versionId: 1 + Math.floor(random() * 4),
      restricted: random() < SHARE_RESTRICTED,
      prefix: female ? pick(['Mrs', 'Ms', 'Miss', 'Dr']) : pick(['Mr', 'Mr', 'Dr']),
      given,
      family,
      gender: female ? 'female' : 'male',
      birthDate,
      address: {
        lines: [`${1 + Math.floor(random() * 180)} ${pick(STREETS)}`, place.town, place.county],
        postalCode,
        since: isoDate(todayMs - Math.floor(random() * Math.min(ageDays, 20 * 365)) * 86_400_000),
      },
      phone: `01632 ${String(960_000 + Math.floor(random() * 1_000)).slice(-6)}`.replace(' ', ''),
      mobile: `07700 ${String(900_000 + Math.floor(random() * 1_000))}`.replace(' ', ''),
      email: `${given[0]}.${family}${i}@example.com`.toLowerCase().replace(/'/g, ''),
      gpOdsCode: pick(practices),
    };
    if (deceased)
      facts.deceasedDateTime = `${isoDate(todayMs - Math.floor(random() * ageDays) * 86_400_000)}T00:00:00+00:00`;
    const record: PatientRecord = { nhsNumber, patient: buildPatient(facts), state: 'active' };
    if (female && random() < SHARE_WITH_MAIDEN_NAME) {
      record.history = {
        names: [{ use: 'old', given, family: pick(FAMILY) }],
        postalCodes: [`${pick(pick(TOWNS).districts)} 1AB`],
      };
    }
    const roll = random();
    if (roll < SHARE_INVALIDATED) record.state = 'invalidated';
    else if (roll < SHARE_INVALIDATED + SHARE_SUPERSEDED && records.length > 0) {
      // merged into an earlier, active record: reads and searches answer with that one
      const target = records[Math.floor(random() * records.length)] as PatientRecord;
      if (target.state === 'active') {
        record.state = 'superseded';
        record.supersededBy = target.nhsNumber;
      }
    }
    records.push(record);
  }
  return records;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A small, fast, seedable PRNG (public domain), so the data never depends on a library's version. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
