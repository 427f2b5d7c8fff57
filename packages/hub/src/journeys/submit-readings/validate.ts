import {
  type IssueSeverity,
  type IssueType,
  isValidNhsNumber,
  normaliseNhsNumber,
  SYSTEMS,
} from '@junction/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import {
  type ComponentDef,
  kindsForCoding,
  LOINC,
  OBSERVATION_CATEGORY,
  type QuantityDef,
  READING_KINDS,
  type ReadingKind,
  type ReadingKindDef,
  SNOMED,
  toCanonical,
  UCUM,
} from './reading-kinds.js';

/**
 * Validation of what a telemedicine product posts: one FHIR R4 `Observation`, or a `Bundle` of type
 * `collection`, `transaction` or `batch` whose entries are Observations, conforming to the FHIR R4
 * vital signs profile and the UK Core vital signs / blood glucose profiles (see reading-kinds.ts).
 *
 * Every problem found is reported (not only the first) as one `OperationOutcome.issue` with a FHIRPath
 * `expression` to the element and a plain `diagnostics` message. Messages never repeat the values the
 * caller sent (no NHS numbers, names or free text): they name the element and the rule.
 */

export const ACCEPTED_STATUSES = ['final', 'amended', 'preliminary'] as const;
export type ReadingStatus = (typeof ACCEPTED_STATUSES)[number];
export const ACCEPTED_BUNDLE_TYPES = ['collection', 'transaction', 'batch'] as const;

export interface MeasuredValue {
  /** The number as sent. */
  value: number;
  /** The UCUM code as sent, e.g. `[lb_av]`. */
  unit: string;
  /** The value in the kind's canonical unit (kg, cm, Cel, mmol/L, …), rounded to 4 places. */
  canonicalValue: number;
  canonicalUnit: string;
}

export interface CodeRef {
  system: string;
  code: string;
  display: string;
}

interface ReadingBase {
  kind: ReadingKind;
  /** Position of the Observation in the submission (0 for a bare Observation). */
  index: number;
  /** `Observation.id` when the product gave one. */
  id?: string;
  status: ReadingStatus;
  /** `effectiveDateTime` as sent (FHIR dateTime with time and offset). */
  effective: string;
  /** SNOMED CT code: the one sent, or the kind's preferred UK Core code when only LOINC was sent. */
  snomed: CodeRef;
  /** The LOINC code sent, if any. */
  loinc?: CodeRef;
  /** `Observation.device` (display, else reference, else identifier value). */
  device?: string;
  /** `Observation.performer[]` (display, else reference, else identifier value). */
  performers?: string[];
}

export interface BloodPressureReading extends ReadingBase {
  kind: 'blood-pressure';
  systolic: MeasuredValue;
  diastolic: MeasuredValue;
}

export interface SingleValueReading extends ReadingBase {
  kind: Exclude<ReadingKind, 'blood-pressure'>;
  value: MeasuredValue;
}

export type NormalisedReading = BloodPressureReading | SingleValueReading;

export type ValidationResult =
  | { ok: true; nhsNumber: string; readings: NormalisedReading[]; warnings: OperationOutcomeIssue[] }
  | { ok: false; outcome: OperationOutcome };

export interface ValidateOptions {
  /** The current time (injected so tests are deterministic). */
  now: Date;
  /** Clock skew tolerated for `effectiveDateTime` in the future. Default 5 minutes. */
  futureToleranceMs?: number;
  /** When set (e.g. the NHS login user's NHS number), every reading must be about this patient. */
  expectedNhsNumber?: string;
  /** Most Observations accepted in one submission. Default 500. */
  maxReadings?: number;
}

const DEFAULT_FUTURE_TOLERANCE_MS = 5 * 60 * 1000;
const DEFAULT_MAX_READINGS = 500;

/** FHIR R4 dateTime with a time part (seconds optional, fraction optional) and a mandatory offset. */
const DATE_TIME_WITH_TIME =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):([0-5]\d)(:([0-5]\d|60)(\.\d{1,9})?)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/;
const DATE_ONLY = /^\d{4}(-\d{2}(-\d{2})?)?$/;

class Collector {
  readonly issues: OperationOutcomeIssue[] = [];
  add(severity: IssueSeverity, code: IssueType, expression: string, diagnostics: string): void {
    this.issues.push({ severity, code, diagnostics, expression: [expression] });
  }
  error(code: IssueType, expression: string, diagnostics: string): void {
    this.add('error', code, expression, diagnostics);
  }
  warning(code: IssueType, expression: string, diagnostics: string): void {
    this.add('warning', code, expression, diagnostics);
  }
  get errorCount(): number {
    return this.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').length;
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Validates a submission and returns either normalised readings or an OperationOutcome. */
export function validateSubmission(input: unknown, options: ValidateOptions): ValidationResult {
  const c = new Collector();
  const observations: { resource: unknown; path: string; index: number }[] = [];
  const maxReadings = options.maxReadings ?? DEFAULT_MAX_READINGS;

  if (!isObject(input)) {
    c.error('structure', '', 'The body must be a FHIR Observation or Bundle (a JSON object).');
    return fail(c);
  }
  if (input.resourceType === 'Observation') {
    observations.push({ resource: input, path: 'Observation', index: 0 });
  } else if (input.resourceType === 'Bundle') {
    const type = input.type;
    if (!ACCEPTED_BUNDLE_TYPES.includes(type as (typeof ACCEPTED_BUNDLE_TYPES)[number])) {
      c.error('value', 'Bundle.type', `Bundle.type must be one of ${ACCEPTED_BUNDLE_TYPES.join(', ')}.`);
    }
    if (input.entry !== undefined && !Array.isArray(input.entry)) {
      c.error('structure', 'Bundle.entry', 'Bundle.entry must be an array.');
    }
    const entries = arr(input.entry);
    if (entries.length === 0) c.error('required', 'Bundle.entry', 'The Bundle holds no readings.');
    if (entries.length > maxReadings) {
      c.error('too-costly', 'Bundle.entry', `At most ${maxReadings} readings may be sent in one submission.`);
      return fail(c);
    }
    entries.forEach((entry, i) => {
      const path = `Bundle.entry[${i}].resource`;
      const resource = isObject(entry) ? entry.resource : undefined;
      if (!isObject(resource)) {
        c.error('required', path, 'Each Bundle entry must have a resource.');
      } else if (resource.resourceType !== 'Observation') {
        c.error('not-supported', `${path}.resourceType`, 'Only Observation resources are accepted.');
      } else {
        observations.push({ resource, path, index: i });
      }
    });
  } else {
    c.error('not-supported', 'resourceType', 'resourceType must be Observation or Bundle.');
    return fail(c);
  }

  const readings: NormalisedReading[] = [];
  const patients = new Set<string>();
  let patientMismatchReported = false;
  for (const obs of observations) {
    const result = validateObservation(obs.resource as Json, obs.path, obs.index, options, c);
    if (result.nhsNumber !== undefined) {
      if (patients.size > 0 && !patients.has(result.nhsNumber) && !patientMismatchReported) {
        c.error(
          'business-rule',
          `${obs.path}.subject.identifier`,
          'All readings in one submission must be about the same patient (same NHS number).',
        );
        patientMismatchReported = true;
      }
      patients.add(result.nhsNumber);
    }
    if (result.reading) readings.push(result.reading);
  }

  if (c.errorCount > 0) return fail(c);
  const [nhsNumber] = patients;
  if (nhsNumber === undefined) {
    c.error('required', 'subject', 'No patient was identified.');
    return fail(c);
  }
  return { ok: true, nhsNumber, readings, warnings: c.issues };
}

function fail(c: Collector): ValidationResult {
  return { ok: false, outcome: { resourceType: 'OperationOutcome', issue: c.issues } };
}

function validateObservation(
  obs: Json,
  path: string,
  index: number,
  options: ValidateOptions,
  c: Collector,
): { reading?: NormalisedReading; nhsNumber?: string } {
  const errorsBefore = c.errorCount;

  // status: final | amended | preliminary (hub rule; R4 vitals requires status).
  const status = obs.status;
  if (status === undefined) c.error('required', `${path}.status`, 'status is required.');
  else if (!ACCEPTED_STATUSES.includes(status as ReadingStatus)) {
    c.error('value', `${path}.status`, `status must be one of ${ACCEPTED_STATUSES.join(', ')}.`);
  }

  // code: identifies the kind (LOINC and/or SNOMED CT).
  const coded = identifyKind(obs.code, `${path}.code`, c);
  const def = coded ? READING_KINDS[coded.kind] : undefined;

  // category: vital-signs (R4 vitals VSCat slice); glucose may also be laboratory.
  if (def) checkCategory(obs.category, `${path}.category`, def, c);

  // subject: Patient identified by NHS number.
  const nhsNumber = checkSubject(obs.subject, `${path}.subject`, options, c);

  // effectiveDateTime: required, with time and offset, not in the future.
  const effective = checkEffective(obs, path, options, c);

  if (obs.dataAbsentReason !== undefined) {
    c.error('business-rule', `${path}.dataAbsentReason`, 'Readings without a value are not accepted.');
  }

  let measured: Pick<BloodPressureReading, 'systolic' | 'diastolic'> | { value: MeasuredValue } | undefined;
  if (def?.components) {
    if (obs.valueQuantity !== undefined || hasValueX(obs)) {
      c.error(
        'business-rule',
        `${path}.value[x]`,
        'A blood pressure panel carries its values in component, not value[x].',
      );
    }
    measured = checkBloodPressureComponents(obs.component, `${path}.component`, def.components, c);
  } else if (def?.quantity) {
    const q = checkQuantityValue(obs, path, def.quantity, def.label, c);
    if (q) measured = { value: q };
  }

  const device = referenceText(obs.device);
  const performers = arr(obs.performer)
    .map(referenceText)
    .filter((p): p is string => p !== undefined);

  if (c.errorCount > errorsBefore || !def || !coded || !measured || !effective) {
    return nhsNumber === undefined ? {} : { nhsNumber };
  }
  const base = {
    kind: def.kind,
    index,
    status: status as ReadingStatus,
    effective,
    snomed: coded.snomed,
    ...(coded.loinc ? { loinc: coded.loinc } : {}),
    ...(str(obs.id) ? { id: obs.id as string } : {}),
    ...(device !== undefined ? { device } : {}),
    ...(performers.length > 0 ? { performers } : {}),
  };
  const reading = { ...base, ...measured } as NormalisedReading;
  return nhsNumber === undefined ? { reading } : { reading, nhsNumber };
}

function hasValueX(obs: Json): boolean {
  return Object.keys(obs).some((k) => k.startsWith('value') && k !== 'valueQuantity');
}

function identifyKind(
  code: unknown,
  path: string,
  c: Collector,
): { kind: ReadingKind; snomed: CodeRef; loinc?: CodeRef } | undefined {
  if (!isObject(code)) {
    c.error('required', path, 'code is required.');
    return undefined;
  }
  const codings = arr(code.coding);
  if (codings.length === 0) {
    c.error('required', `${path}.coding`, 'code.coding is required (a LOINC and a SNOMED CT coding).');
    return undefined;
  }
  const kinds = new Set<ReadingKind>();
  let loinc: CodeRef | undefined;
  let snomed: CodeRef | undefined;
  codings.forEach((coding, i) => {
    if (!isObject(coding)) return;
    const system = str(coding.system);
    const value = str(coding.code);
    const found = kindsForCoding(system, value);
    for (const k of found) kinds.add(k);
    if (found.length === 0 && (system === LOINC || system === SNOMED)) {
      c.warning(
        'code-invalid',
        `${path}.coding[${i}].code`,
        `This ${system === LOINC ? 'LOINC' : 'SNOMED CT'} code is not one of the readings the hub accepts; it is ignored.`,
      );
    }
    if (found.length > 0 && value !== undefined && system !== undefined) {
      const [kind] = found as [ReadingKind];
      const list = system === LOINC ? READING_KINDS[kind].loinc : READING_KINDS[kind].snomed;
      const display = list.find((x) => x.code === value)?.display ?? value;
      if (system === LOINC) loinc ??= { system, code: value, display };
      else snomed ??= { system, code: value, display };
    }
  });
  if (kinds.size === 0) {
    c.error(
      'code-invalid',
      `${path}.coding`,
      'code does not identify a supported reading (blood pressure, heart rate, body weight, body height, body temperature, oxygen saturation, blood glucose).',
    );
    return undefined;
  }
  if (kinds.size > 1) {
    c.error('code-invalid', `${path}.coding`, 'The codings in code identify different readings.');
    return undefined;
  }
  const [kind] = kinds as unknown as [ReadingKind];
  const def = READING_KINDS[kind];
  if (def.vitalSign && !loinc) {
    c.error(
      'required',
      `${path}.coding`,
      `A LOINC coding (system ${LOINC}, code ${def.loinc[0]?.code}) is required by the FHIR R4 vital signs profile.`,
    );
    return undefined;
  }
  if (!snomed) {
    const preferred = def.snomed[0] as { code: string; display: string };
    c.warning(
      'incomplete',
      `${path}.coding`,
      `UK Core expects a SNOMED CT coding; the hub records ${preferred.code} (${preferred.display}).`,
    );
    snomed = { system: SNOMED, ...preferred };
  }
  return loinc ? { kind, snomed, loinc } : { kind, snomed };
}

function checkCategory(category: unknown, path: string, def: ReadingKindDef, c: Collector): void {
  const found = arr(category).some(
    (cat) =>
      isObject(cat) &&
      arr(cat.coding).some(
        (coding) =>
          isObject(coding) &&
          coding.system === OBSERVATION_CATEGORY &&
          def.categories.includes(coding.code as string),
      ),
  );
  if (!found) {
    c.error(
      'required',
      path,
      `category must include a coding ${OBSERVATION_CATEGORY}|${def.categories.join(' or |')}.`,
    );
  }
}

function checkSubject(
  subject: unknown,
  path: string,
  options: ValidateOptions,
  c: Collector,
): string | undefined {
  if (!isObject(subject)) {
    c.error('required', path, 'subject is required and must identify the patient by NHS number.');
    return undefined;
  }
  const identifier = subject.identifier;
  if (!isObject(identifier)) {
    c.error('required', `${path}.identifier`, 'subject.identifier (the NHS number) is required.');
    return undefined;
  }
  if (identifier.system !== SYSTEMS.nhsNumber) {
    c.error('value', `${path}.identifier.system`, `subject.identifier.system must be ${SYSTEMS.nhsNumber}.`);
    return undefined;
  }
  const value = typeof identifier.value === 'string' ? identifier.value : undefined;
  if (value === undefined || !isValidNhsNumber(value) || normaliseNhsNumber(value) !== value) {
    c.error(
      'value',
      `${path}.identifier.value`,
      'subject.identifier.value is not a valid NHS number (10 digits, no spaces, with a valid modulus 11 check digit).',
    );
    return undefined;
  }
  if (options.expectedNhsNumber !== undefined && value !== normaliseNhsNumber(options.expectedNhsNumber)) {
    c.error(
      'forbidden',
      `${path}.identifier.value`,
      'Readings may only be submitted for the signed-in patient.',
    );
    return undefined;
  }
  if (subject.type !== undefined && subject.type !== 'Patient') {
    c.error('value', `${path}.type`, 'subject.type, when given, must be Patient.');
  }
  return value;
}

function checkEffective(obs: Json, path: string, options: ValidateOptions, c: Collector): string | undefined {
  if (
    obs.effectivePeriod !== undefined ||
    obs.effectiveInstant !== undefined ||
    obs.effectiveTiming !== undefined
  ) {
    c.error(
      'not-supported',
      `${path}.effective[x]`,
      'Use effectiveDateTime (the time the reading was taken).',
    );
    return undefined;
  }
  const value = obs.effectiveDateTime;
  const expression = `${path}.effectiveDateTime`;
  if (value === undefined) {
    c.error('required', expression, 'effectiveDateTime is required.');
    return undefined;
  }
  if (typeof value !== 'string') {
    c.error('structure', expression, 'effectiveDateTime must be a string.');
    return undefined;
  }
  if (DATE_ONLY.test(value)) {
    c.error('value', expression, 'effectiveDateTime must include the time and a time-zone offset.');
    return undefined;
  }
  const m = DATE_TIME_WITH_TIME.exec(value);
  const time = m ? Date.parse(value) : Number.NaN;
  if (!m || Number.isNaN(time) || !calendarDateExists(Number(m[1]), Number(m[2]), Number(m[3]))) {
    c.error(
      'value',
      expression,
      'effectiveDateTime is not a valid FHIR dateTime (e.g. 2025-03-01T08:30:00+00:00).',
    );
    return undefined;
  }
  const tolerance = options.futureToleranceMs ?? DEFAULT_FUTURE_TOLERANCE_MS;
  if (time > options.now.getTime() + tolerance) {
    c.error('business-rule', expression, 'effectiveDateTime is in the future.');
    return undefined;
  }
  return value;
}

function calendarDateExists(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function checkQuantityValue(
  obs: Json,
  path: string,
  def: QuantityDef,
  label: string,
  c: Collector,
): MeasuredValue | undefined {
  if (obs.valueQuantity === undefined) {
    if (hasValueX(obs)) c.error('value', `${path}.value[x]`, 'The value must be a valueQuantity.');
    else c.error('required', `${path}.valueQuantity`, 'valueQuantity is required.');
    return undefined;
  }
  return checkQuantity(obs.valueQuantity, `${path}.valueQuantity`, def, label, c);
}

function checkQuantity(
  q: unknown,
  path: string,
  def: QuantityDef,
  label: string,
  c: Collector,
): MeasuredValue | undefined {
  if (!isObject(q)) {
    c.error('structure', path, 'valueQuantity must be an object.');
    return undefined;
  }
  const before = c.errorCount;
  const value = q.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    c.error('required', `${path}.value`, 'value must be a number.');
  }
  if (q.comparator !== undefined) {
    c.error('not-supported', `${path}.comparator`, 'Readings with a comparator (<, >, …) are not accepted.');
  }
  if (q.system !== UCUM) c.error('value', `${path}.system`, `system must be ${UCUM} (UCUM).`);
  const unitCode = q.code;
  const unit = def.units.find((u) => u.code === unitCode);
  if (unitCode === undefined) {
    c.error(
      'required',
      `${path}.code`,
      `code (the UCUM unit) is required: ${def.units.map((u) => u.code).join(', ')}.`,
    );
  } else if (!unit) {
    c.error(
      'code-invalid',
      `${path}.code`,
      `${label} must be in ${def.units.map((u) => u.code).join(', ')} (UCUM).`,
    );
  }
  if (str(q.unit) === undefined)
    c.error('required', `${path}.unit`, 'unit (the human-readable unit) is required.');
  if (c.errorCount > before || !unit || typeof value !== 'number') return undefined;

  const canonicalValue = toCanonical(unit, value);
  const { min, max } = def.range;
  if (canonicalValue < min || canonicalValue > max) {
    c.error(
      'business-rule',
      `${path}.value`,
      `${label} must be between ${min} and ${max} ${def.canonicalUnit}; a value outside that is not physiologically possible.`,
    );
    return undefined;
  }
  return { value, unit: unit.code, canonicalValue, canonicalUnit: def.canonicalUnit };
}

function checkBloodPressureComponents(
  components: unknown,
  path: string,
  defs: readonly ComponentDef[],
  c: Collector,
): Pick<BloodPressureReading, 'systolic' | 'diastolic'> | undefined {
  const list = arr(components);
  const found: Partial<Record<'systolic' | 'diastolic', MeasuredValue>> = {};
  const before = c.errorCount;
  for (const def of defs) {
    const i = list.findIndex((comp) => isObject(comp) && componentMatches(comp.code, def));
    if (i < 0) {
      c.error(
        'required',
        path,
        `A ${def.label.toLowerCase()} component (LOINC ${def.loinc.code}) is required in a blood pressure panel.`,
      );
      continue;
    }
    const comp = list[i] as Json;
    const cpath = `${path}[${i}]`;
    if (comp.valueQuantity === undefined) {
      c.error(
        'required',
        `${cpath}.valueQuantity`,
        `The ${def.label.toLowerCase()} component needs a valueQuantity.`,
      );
      continue;
    }
    const q = checkQuantity(
      comp.valueQuantity,
      `${cpath}.valueQuantity`,
      def.quantity,
      `${def.label} blood pressure`,
      c,
    );
    if (q) found[def.name] = q;
  }
  if (c.errorCount > before || !found.systolic || !found.diastolic) return undefined;
  if (found.diastolic.canonicalValue >= found.systolic.canonicalValue) {
    c.error('business-rule', path, 'Diastolic blood pressure must be lower than systolic.');
    return undefined;
  }
  return { systolic: found.systolic, diastolic: found.diastolic };
}

function componentMatches(code: unknown, def: ComponentDef): boolean {
  if (!isObject(code)) return false;
  return arr(code.coding).some(
    (coding) =>
      isObject(coding) &&
      // R4 vital signs: component.code must carry the LOINC code (UK Core adds a SNOMED CT slice).
      coding.system === LOINC &&
      coding.code === def.loinc.code,
  );
}

function referenceText(ref: unknown): string | undefined {
  if (!isObject(ref)) return undefined;
  const identifier = isObject(ref.identifier) ? str(ref.identifier.value) : undefined;
  return str(ref.display) ?? str(ref.reference) ?? identifier;
}
