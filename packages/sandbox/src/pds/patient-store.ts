import { syntheticNhsNumbers } from '@junction/core';
import type { Coverage, HumanName, Patient, RelatedPerson } from '@medplum/fhirtypes';

/**
 * What PDS holds about a patient beyond the resource it returns: the historic data searched with
 * `_history` and fuzzy search (personal-demographics-service-api specification/components/paths/patient-search.yaml, "History").
 */
export interface PatientHistory {
  names?: HumanName[];
  postalCodes?: string[];
  emails?: string[];
  phones?: string[];
  birthDates?: string[];
}

/** One NHS number in the simulated Spine, with the record state PDS distinguishes on read. */
export interface PatientRecord {
  nhsNumber: string;
  /** The full current resource, `meta.versionId` included. Never returned as is to a caller. */
  patient: Patient;
  /** `superseded`: merged into `supersededBy`; `invalidated`: never returned (patient-get.yaml). */
  state: 'active' | 'superseded' | 'invalidated';
  supersededBy?: string;
  history?: PatientHistory;
  relatedPersons?: RelatedPerson[];
  /** EHIC coverage, versioned on its own (karate-mock/stubs/coverageResponses/*.json carry `meta.versionId`). */
  coverage?: { versionId: number; entries: Coverage[] };
}

export type ResolvedPatient =
  | { kind: 'found'; record: PatientRecord }
  | { kind: 'invalidated' }
  | { kind: 'not-found' };

/**
 * The in-memory Spine of one sandbox instance. Records are indexed by every birth date they carry
 * (current and historic): every PDS search must give a birth date (patient-search.yaml), so a search
 * only ever scans the records born in the asked range.
 */
export class PatientStore {
  readonly #records = new Map<string, PatientRecord>();
  readonly #byBirthDate = new Map<string, Set<string>>();
  #sortedBirthDates: string[] | undefined;
  #nextSynthetic: Generator<string> | undefined;

  constructor(records: Iterable<PatientRecord> = []) {
    for (const record of records) this.put(record);
  }

  get size(): number {
    return this.#records.size;
  }

  get(nhsNumber: string): PatientRecord | undefined {
    return this.#records.get(nhsNumber);
  }

  has(nhsNumber: string): boolean {
    return this.#records.has(nhsNumber);
  }

  /** Follows supersession to the live record, as a PDS read does (patient-get.yaml, "Superseded patients"). */
  resolve(nhsNumber: string): ResolvedPatient {
    let record = this.#records.get(nhsNumber);
    const seen = new Set<string>();
    while (record?.state === 'superseded' && record.supersededBy && !seen.has(record.nhsNumber)) {
      seen.add(record.nhsNumber);
      record = this.#records.get(record.supersededBy);
    }
    if (!record) return { kind: 'not-found' };
    if (record.state === 'invalidated') return { kind: 'invalidated' };
    if (record.state === 'superseded') return { kind: 'not-found' };
    return { kind: 'found', record };
  }

  put(record: PatientRecord): void {
    const previous = this.#records.get(record.nhsNumber);
    if (previous)
      for (const date of birthDatesOf(previous)) this.#byBirthDate.get(date)?.delete(previous.nhsNumber);
    this.#records.set(record.nhsNumber, record);
    for (const date of birthDatesOf(record)) {
      let bucket = this.#byBirthDate.get(date);
      if (!bucket) {
        bucket = new Set();
        this.#byBirthDate.set(date, bucket);
        this.#sortedBirthDates = undefined;
      }
      bucket.add(record.nhsNumber);
    }
  }

  /** Records with a (current or historic) birth date in [from, to] (ISO dates, inclusive, either open). */
  *bornBetween(from: string | undefined, to: string | undefined): Generator<PatientRecord> {
    const dates = this.#dates();
    let i = from === undefined ? 0 : lowerBound(dates, from);
    const seen = new Set<string>();
    for (; i < dates.length; i++) {
      const date = dates[i] as string;
      if (to !== undefined && date > to) break;
      for (const nhsNumber of this.#byBirthDate.get(date) ?? []) {
        if (seen.has(nhsNumber)) continue;
        seen.add(nhsNumber);
        const record = this.#records.get(nhsNumber);
        if (record) yield record;
      }
    }
  }

  /** The next unused NHS number of the 999 test range (core `syntheticNhsNumbers`), for POST /Patient. */
  allocateNhsNumber(): string {
    this.#nextSynthetic ??= syntheticNhsNumbers();
    // next() by hand: a for-of would close the generator on return
    for (let next = this.#nextSynthetic.next(); !next.done; next = this.#nextSynthetic.next()) {
      if (!this.#records.has(next.value)) return next.value;
    }
    throw new RangeError('the 999 test range is exhausted');
  }

  /** A deep copy, so a stateless request can work on data it then throws away. */
  snapshot(nhsNumber: string): PatientRecord | undefined {
    const record = this.#records.get(nhsNumber);
    return record ? structuredClone(record) : undefined;
  }

  #dates(): string[] {
    this.#sortedBirthDates ??= [...this.#byBirthDate.keys()].sort();
    return this.#sortedBirthDates;
  }
}

function birthDatesOf(record: PatientRecord): string[] {
  const dates = new Set<string>(record.history?.birthDates ?? []);
  if (record.patient.birthDate) dates.add(record.patient.birthDate);
  return [...dates];
}

function lowerBound(sorted: string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
