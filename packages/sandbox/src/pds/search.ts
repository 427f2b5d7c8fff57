import { spineOutcome } from '@junction/core';
import type { Bundle, HumanName, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { soundex } from 'soundex-code';
import type { PatientRecord, PatientStore } from './patient-store.js';
import { isRestricted, searchView } from './restricted.js';
import type { DateCriterion, PatientSearchQuery } from './search-params.js';

/** Score lost per field matched only loosely (wildcard, homophone, history, transposition, mismatch). */
const PENALTY = {
  wildcard: 0.1,
  soundex: 0.1,
  history: 0.05,
  transposed: 0.15,
  ignoredMismatch: 0.1,
} as const;
const MIN_SCORE = 0.5;

export interface Match {
  record: PatientRecord;
  score: number;
}

/**
 * Runs a validated search: a searchset Bundle sorted best first, or the TOO_MANY_MATCHES outcome PDS
 * answers with HTTP 200 (karate-mock/stubs/searchResponses/TOO_MANY_MATCHES.json).
 */
export function searchPatients(
  store: PatientStore,
  query: PatientSearchQuery,
  options: { baseUrl: string; now: Date },
): Bundle<Patient> | OperationOutcome {
  const best = new Map<string, Match>();
  for (const [from, to] of birthDateWindow(query.birthdate)) {
    for (const record of store.bornBetween(from, to)) {
      if (record.state === 'invalidated') continue;
      const score = matchScore(record, query);
      if (score === undefined) continue;
      // a superseded record stands for the record that superseded it (patient-search.yaml "Invalidated patients")
      const resolved = store.resolve(record.nhsNumber);
      if (resolved.kind !== 'found') continue;
      const live = resolved.record;
      if (query.locationSearch && isRestricted(live.patient)) continue;
      const previous = best.get(live.nhsNumber);
      if (!previous || previous.score < score) best.set(live.nhsNumber, { record: live, score });
    }
  }
  let matches = [...best.values()];
  if (query.exact) matches = matches.filter((match) => match.score === 1);
  matches.sort((a, b) => b.score - a.score || a.record.nhsNumber.localeCompare(b.record.nhsNumber));
  return searchResult(matches, query.maxResults, options);
}

/**
 * The answer to a search that found `matches` (best first): TOO_MANY_MATCHES (HTTP 200) beyond
 * `maxResults`, else a searchset Bundle of the reduced search view of each patient.
 */
export function searchResult(
  matches: Match[],
  maxResults: number,
  options: { baseUrl: string; now: Date },
): Bundle<Patient> | OperationOutcome {
  if (matches.length > maxResults) return spineOutcome('TOO_MANY_MATCHES');
  const bundle: Bundle<Patient> = {
    resourceType: 'Bundle',
    type: 'searchset',
    timestamp: options.now.toISOString(),
    total: matches.length,
  };
  if (matches.length > 0) {
    bundle.entry = matches.map(({ record, score }) => ({
      fullUrl: `${options.baseUrl}/Patient/${record.nhsNumber}`,
      search: { score },
      resource: searchView(record.patient),
    }));
  }
  return bundle;
}

/** The birth date window to scan in the store's index; the criteria themselves are checked per record. */
function birthDateWindow(criteria: DateCriterion[]): [string | undefined, string | undefined][] {
  let from: string | undefined;
  let to: string | undefined;
  for (const { op, date } of criteria) {
    if (op === 'eq' || op === 'ge') from = from === undefined || date > from ? date : from;
    if (op === 'eq' || op === 'le') to = to === undefined || date < to ? date : to;
  }
  return from !== undefined && to !== undefined && from > to ? [] : [[from, to]];
}

/** The score of a record for the query, or undefined when it does not match. */
function matchScore(record: PatientRecord, query: PatientSearchQuery): number | undefined {
  const patient = record.patient;
  const useHistory = query.history;
  let penalty = 0;

  if (query.gender !== undefined && patient.gender !== query.gender) return undefined;

  const birthDates = [patient.birthDate, ...(useHistory ? (record.history?.birthDates ?? []) : [])];
  const birthIndex = birthDates.findIndex((date) => date !== undefined && datesMatch(date, query.birthdate));
  if (birthIndex < 0) return undefined;
  if (birthIndex > 0) penalty += PENALTY.history;

  const names = nameScore(record, query);
  if (names === undefined) return undefined;
  penalty += names;

  if (query.postalCode !== undefined) {
    const current = (patient.address ?? []).map((address) => address.postalCode);
    const historic = useHistory ? (record.history?.postalCodes ?? []) : [];
    const found = matchAny(query.postalCode, current, historic, normalisePostcode, !query.fuzzy);
    if (found === undefined) return undefined;
    penalty += found;
  }

  for (const [system, wanted, historic] of [
    ['email', query.email, record.history?.emails],
    ['phone', query.phone, record.history?.phones],
  ] as const) {
    if (wanted === undefined) continue;
    // exact only, email case-insensitively; history only when asked (patient-search.yaml "Phone number and email address")
    const normalise =
      system === 'email'
        ? (value: string) => value.toLowerCase()
        : (value: string) => value.replace(/\s/g, '');
    const current = (patient.telecom ?? [])
      .filter((telecom) => telecom.system === system)
      .map((telecom) => telecom.value);
    const found = matchAny(wanted, current, useHistory ? (historic ?? []) : [], normalise, false);
    if (found === undefined) return undefined;
    penalty += found;
  }

  // Fuzzy search does not filter on death date or GP, it only scores them (patient-search.yaml "Fuzzy search").
  const deathDate = patient.deceasedDateTime?.slice(0, 10);
  const deathMatches =
    query.deathDate.length === 0 || (deathDate !== undefined && datesMatch(deathDate, query.deathDate));
  const gp = patient.generalPractitioner?.[0]?.identifier?.value;
  const gpMatches =
    query.generalPractitioner === undefined || gp?.toUpperCase() === query.generalPractitioner.toUpperCase();
  if (!deathMatches || !gpMatches) {
    if (!query.fuzzy) return undefined;
    penalty += PENALTY.ignoredMismatch * (Number(!deathMatches) + Number(!gpMatches));
  }
  return Math.max(MIN_SCORE, Math.round((1 - penalty) * 10_000) / 10_000);
}

/** Family and given names must match within one name (usual, nickname, temp, or any historic one). */
function nameScore(record: PatientRecord, query: PatientSearchQuery): number | undefined {
  if (query.family === undefined && query.given.length === 0) return 0;
  const current = (record.patient.name ?? []).filter(
    (name) => !name.use || ['usual', 'nickname', 'temp'].includes(name.use),
  );
  const historic = query.history
    ? [...(record.history?.names ?? []), ...(record.patient.name ?? []).filter((name) => name.use === 'old')]
    : [];
  let best: number | undefined;
  for (const [names, base] of [
    [current, 0],
    [historic, PENALTY.history],
  ] as const) {
    for (const name of names) {
      const score = query.fuzzy ? fuzzyNameScore(name, query) : exactNameScore(name, query);
      if (score !== undefined && (best === undefined || score + base < best)) best = score + base;
    }
  }
  return best;
}

function exactNameScore(name: HumanName, query: PatientSearchQuery): number | undefined {
  let penalty = 0;
  if (query.family !== undefined) {
    const found = textMatches(query.family, name.family);
    if (found === undefined) return undefined;
    penalty += found;
  }
  // given=John Paul&given=James: the n-th parameter is the n-th given name; a wildcard matches its start
  for (const [i, wanted] of query.given.entries()) {
    const found = textMatches(wanted, name.given?.[i]);
    if (found === undefined) return undefined;
    penalty += found;
  }
  return penalty;
}

/** Soundex on family and first given name, also with the two transposed (patient-search.yaml "Fuzzy search"). */
function fuzzyNameScore(name: HumanName, query: PatientSearchQuery): number | undefined {
  const straight = fuzzyPair(query.family, query.given[0], name.family, name.given?.[0]);
  if (straight !== undefined) return straight;
  const transposed = fuzzyPair(query.family, query.given[0], name.given?.[0], name.family);
  return transposed === undefined ? undefined : transposed + PENALTY.transposed;
}

function fuzzyPair(
  wantedFamily: string | undefined,
  wantedGiven: string | undefined,
  family: string | undefined,
  given: string | undefined,
): number | undefined {
  let penalty = 0;
  for (const [wanted, actual] of [
    [wantedFamily, family],
    [wantedGiven, given],
  ] as const) {
    if (wanted === undefined) continue;
    if (actual === undefined) return undefined;
    if (fold(wanted) === fold(actual)) continue;
    if (soundex(fold(wanted)) !== soundex(fold(actual))) return undefined;
    penalty += PENALTY.soundex;
  }
  return penalty;
}

/** 0 for an exact (case-insensitive) match, the wildcard penalty for a `*` match, undefined for none. */
function textMatches(wanted: string, actual: string | undefined): number | undefined {
  if (actual === undefined) return undefined;
  if (!wanted.includes('*')) return fold(wanted) === fold(actual) ? 0 : undefined;
  return wildcard(fold(wanted)).test(fold(actual)) ? PENALTY.wildcard : undefined;
}

function matchAny(
  wanted: string,
  current: (string | undefined)[],
  historic: string[],
  normalise: (value: string) => string,
  allowWildcard: boolean,
): number | undefined {
  const target = normalise(wanted);
  const test =
    allowWildcard && target.includes('*')
      ? (value: string) => wildcard(target).test(value)
      : (value: string) => value === target;
  const wildcardPenalty = allowWildcard && target.includes('*') ? PENALTY.wildcard : 0;
  if (current.some((value) => value !== undefined && test(normalise(value)))) return wildcardPenalty;
  if (historic.some((value) => test(normalise(value)))) return wildcardPenalty + PENALTY.history;
  return undefined;
}

function datesMatch(date: string, criteria: DateCriterion[]): boolean {
  return criteria.every(({ op, date: wanted }) =>
    op === 'eq' ? date === wanted : op === 'ge' ? date >= wanted : date <= wanted,
  );
}

/** Spaces are ignored and case does not matter (personal-demographics.yaml AddressPostalcode). */
function normalisePostcode(postcode: string): string {
  return postcode.replace(/\s/g, '').toUpperCase();
}

function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim();
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}
