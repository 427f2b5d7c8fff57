import { describe, expect, it } from 'vitest';
import { validateSubmission } from './validate.js';

const NOW = new Date('2025-03-01T12:00:00Z');
const NHS = '9000000009'; // PDS sandbox test patient
const OTHER_NHS = '9990000018'; // synthetic (999 range), valid check digit

type Obj = Record<string, unknown>;
const vitals = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
];
const subject = (nhs = NHS) => ({ identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhs } });
const qty = (value: number, code: string, unit = code) => ({
  value,
  unit,
  system: 'http://unitsofmeasure.org',
  code,
});
const codeOf = (loinc: string, snomed?: string) => ({
  coding: [
    { system: 'http://loinc.org', code: loinc },
    ...(snomed ? [{ system: 'http://snomed.info/sct', code: snomed }] : []),
  ],
});
const obs = (code: Obj, extra: Obj): Obj => ({
  resourceType: 'Observation',
  status: 'final',
  category: vitals,
  code,
  subject: subject(),
  effectiveDateTime: '2025-03-01T08:30:00+00:00',
  ...extra,
});
const bp = (sys: number, dia: number, extra: Obj = {}) =>
  obs(codeOf('85354-9', '75367002'), {
    component: [
      { code: codeOf('8480-6', '72313002'), valueQuantity: qty(sys, 'mm[Hg]', 'mmHg') },
      { code: codeOf('8462-4', '1091811000000102'), valueQuantity: qty(dia, 'mm[Hg]', 'mmHg') },
    ],
    ...extra,
  });
const hr = (v: number, extra: Obj = {}) =>
  obs(codeOf('8867-4', '364075005'), { valueQuantity: qty(v, '/min', 'beats/minute'), ...extra });
const weight = (v: number, unit: string) =>
  obs(codeOf('29463-7', '27113001'), { valueQuantity: qty(v, unit) });
const height = (v: number, unit: string) =>
  obs(codeOf('8302-2', '50373000'), { valueQuantity: qty(v, unit) });
const temp = (v: number, unit: string) => obs(codeOf('8310-5', '276885007'), { valueQuantity: qty(v, unit) });
const spo2 = (v: number) => obs(codeOf('2708-6', '431314004'), { valueQuantity: qty(v, '%') });
const glucose = (v: number, unit: string) =>
  obs(
    { coding: [{ system: 'http://snomed.info/sct', code: '997671000000106' }] },
    { valueQuantity: qty(v, unit) },
  );
const bundle = (...resources: Obj[]) => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: resources.map((resource) => ({ resource })),
});

const validate = (input: unknown) => validateSubmission(input, { now: NOW });
function issues(input: unknown) {
  const r = validate(input);
  if (r.ok) throw new Error('expected a failure');
  return r.outcome.issue;
}
function expectIssue(input: unknown, expression: string, text: RegExp) {
  const found = issues(input).find((i) => i.expression?.[0] === expression);
  expect(found, `no issue at ${expression}: ${JSON.stringify(issues(input))}`).toBeDefined();
  expect(found?.severity).toBe('error');
  expect(found?.diagnostics).toMatch(text);
}

describe('validateSubmission: each reading kind passes and is normalised', () => {
  it('blood pressure panel (LOINC 85354-9 / SNOMED 75367002, components 8480-6 and 8462-4, mm[Hg])', () => {
    const r = validate(bp(128, 82, { device: { display: 'Omron M3' } }));
    expect(r.ok && r.readings[0]).toMatchObject({
      kind: 'blood-pressure',
      systolic: { value: 128, unit: 'mm[Hg]' },
      diastolic: { value: 82, unit: 'mm[Hg]' },
      snomed: { code: '75367002' },
      loinc: { code: '85354-9' },
      device: 'Omron M3',
    });
  });
  it.each([
    ['heart rate /min', hr(72), 'heart-rate', 72, '/min'],
    ['body weight kg', weight(70.5, 'kg'), 'body-weight', 70.5, 'kg'],
    ['body weight g', weight(3500, 'g'), 'body-weight', 3.5, 'kg'],
    ['body weight [lb_av]', weight(154, '[lb_av]'), 'body-weight', 69.8532, 'kg'],
    ['body height cm', height(172, 'cm'), 'body-height', 172, 'cm'],
    ['body height m', height(1.72, 'm'), 'body-height', 172, 'cm'],
    ['body height [in_i]', height(68, '[in_i]'), 'body-height', 172.72, 'cm'],
    ['temperature Cel', temp(37.2, 'Cel'), 'body-temperature', 37.2, 'Cel'],
    ['temperature [degF]', temp(98.6, '[degF]'), 'body-temperature', 37, 'Cel'],
    ['SpO2 %', spo2(97), 'oxygen-saturation', 97, '%'],
    ['glucose mmol/L (SNOMED only)', glucose(5.4, 'mmol/L'), 'blood-glucose', 5.4, 'mmol/L'],
    ['glucose mg/dL', glucose(99, 'mg/dL'), 'blood-glucose', 5.4952, 'mmol/L'],
  ])('%s', (_name, input, kind, canonicalValue, canonicalUnit) => {
    const r = validate(input);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.ok && r.readings[0]).toMatchObject({ kind, value: { canonicalValue, canonicalUnit } });
  });
  it('a Bundle of several readings for one patient gives them in order with their entry index', () => {
    const r = validate({ ...bundle(hr(60), spo2(98)), type: 'transaction' });
    expect(r.ok && r.readings.map((x) => [x.kind, x.index])).toEqual([
      ['heart-rate', 0],
      ['oxygen-saturation', 1],
    ]);
    expect(r.ok && r.nhsNumber).toBe(NHS);
  });
  it('LOINC only: passes with a warning and the preferred UK Core SNOMED code added', () => {
    const r = validate(obs(codeOf('8867-4'), { valueQuantity: qty(60, '/min') }));
    expect(r.ok && r.readings[0]?.snomed.code).toBe('364075005');
    expect(r.ok && r.warnings[0]?.severity).toBe('warning');
  });
});

describe('validateSubmission: every rule fails with an expression and a plain message', () => {
  it('body must be an Observation or Bundle', () => {
    expect(issues('x')[0]?.code).toBe('structure');
    expect(issues({ resourceType: 'Patient' })[0]?.expression).toEqual(['resourceType']);
  });
  it('Bundle.type collection/transaction/batch', () =>
    expectIssue({ ...bundle(hr(60)), type: 'searchset' }, 'Bundle.type', /collection, transaction, batch/));
  it('Bundle with no entries', () => expectIssue(bundle(), 'Bundle.entry', /no readings/));
  it('Bundle entries must be Observations', () =>
    expectIssue(
      bundle(hr(60), { resourceType: 'Patient' }),
      'Bundle.entry[1].resource.resourceType',
      /Only Observation/,
    ));
  it('too many readings', () =>
    expect(validateSubmission(bundle(hr(60), hr(61)), { now: NOW, maxReadings: 1 }).ok).toBe(false));
  it('status required and final/amended/preliminary', () => {
    expectIssue(hr(60, { status: undefined }), 'Observation.status', /required/);
    expectIssue(hr(60, { status: 'cancelled' }), 'Observation.status', /final, amended, preliminary/);
    expect(validate(hr(60, { status: 'amended' })).ok).toBe(true);
    expect(validate(hr(60, { status: 'preliminary' })).ok).toBe(true);
  });
  it('category vital-signs required', () =>
    expectIssue(hr(60, { category: undefined }), 'Observation.category', /vital-signs/));
  it('glucose may be category laboratory', () => {
    const lab = [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
        ],
      },
    ];
    expect(validate({ ...glucose(5, 'mmol/L'), category: lab }).ok).toBe(true);
    expectIssue({ ...hr(60), category: lab }, 'Observation.category', /vital-signs/);
  });
  it('code must identify a supported reading', () =>
    expectIssue(
      obs(codeOf('9279-1'), { valueQuantity: qty(16, '/min') }),
      'Observation.code.coding',
      /supported reading/,
    ));
  it('codes must agree', () =>
    expectIssue(
      obs(codeOf('8867-4', '27113001'), { valueQuantity: qty(60, '/min') }),
      'Observation.code.coding',
      /different readings/,
    ));
  it('vital signs need the LOINC coding', () =>
    expectIssue(
      obs(
        { coding: [{ system: 'http://snomed.info/sct', code: '364075005' }] },
        { valueQuantity: qty(60, '/min') },
      ),
      'Observation.code.coding',
      /LOINC/,
    ));
  it('subject must identify the patient by NHS number', () => {
    expectIssue(hr(60, { subject: undefined }), 'Observation.subject', /NHS number/);
    expectIssue(
      hr(60, { subject: { reference: 'Patient/1' } }),
      'Observation.subject.identifier',
      /required/,
    );
    expectIssue(
      hr(60, { subject: { identifier: { system: 'urn:other', value: NHS } } }),
      'Observation.subject.identifier.system',
      /nhs-number/,
    );
    expectIssue(
      hr(60, { subject: subject('9000000008') }),
      'Observation.subject.identifier.value',
      /modulus 11/,
    );
  });
  it('all readings for one patient', () =>
    expectIssue(
      bundle(hr(60), hr(61, { subject: subject(OTHER_NHS) })),
      'Bundle.entry[1].resource.subject.identifier',
      /same patient/,
    ));
  it('expectedNhsNumber: only the signed-in patient', () => {
    const r = validateSubmission(hr(60), { now: NOW, expectedNhsNumber: OTHER_NHS });
    expect(!r.ok && r.outcome.issue[0]?.code).toBe('forbidden');
  });
  it('effectiveDateTime required, with time and offset, valid, not in the future', () => {
    expectIssue(hr(60, { effectiveDateTime: undefined }), 'Observation.effectiveDateTime', /required/);
    expectIssue(hr(60, { effectiveDateTime: '2025-03-01' }), 'Observation.effectiveDateTime', /time/);
    expectIssue(
      hr(60, { effectiveDateTime: '2025-02-30T08:00:00Z' }),
      'Observation.effectiveDateTime',
      /not a valid/,
    );
    expectIssue(
      hr(60, { effectiveDateTime: '2025-03-01T08:00:00' }),
      'Observation.effectiveDateTime',
      /not a valid/,
    );
    expectIssue(
      hr(60, { effectiveDateTime: '2025-03-01T12:06:00Z' }),
      'Observation.effectiveDateTime',
      /future/,
    );
    expect(validate(hr(60, { effectiveDateTime: '2025-03-01T12:04:00Z' })).ok).toBe(true); // within 5 min skew
    expectIssue(
      hr(60, { effectiveDateTime: undefined, effectivePeriod: { start: '2025-03-01T08:00:00Z' } }),
      'Observation.effective[x]',
      /effectiveDateTime/,
    );
  });
  it('valueQuantity required, numeric, UCUM system, accepted unit code, unit text', () => {
    expectIssue(hr(60, { valueQuantity: undefined }), 'Observation.valueQuantity', /required/);
    expectIssue(
      hr(60, { valueQuantity: undefined, valueString: '60' }),
      'Observation.value[x]',
      /valueQuantity/,
    );
    expectIssue(
      hr(60, { valueQuantity: { ...qty(60, '/min'), value: '60' } }),
      'Observation.valueQuantity.value',
      /number/,
    );
    expectIssue(
      hr(60, { valueQuantity: { ...qty(60, '/min'), system: 'urn:x' } }),
      'Observation.valueQuantity.system',
      /UCUM/,
    );
    expectIssue(hr(60, { valueQuantity: qty(60, 'bpm') }), 'Observation.valueQuantity.code', /\/min/);
    expectIssue(
      hr(60, { valueQuantity: { ...qty(60, '/min'), unit: undefined } }),
      'Observation.valueQuantity.unit',
      /unit/,
    );
    expectIssue(
      hr(60, { valueQuantity: { ...qty(60, '/min'), comparator: '>' } }),
      'Observation.valueQuantity.comparator',
      /comparator/,
    );
    expectIssue(
      hr(60, { dataAbsentReason: { text: 'x' } }),
      'Observation.dataAbsentReason',
      /without a value/,
    );
  });
  it.each([
    ['SpO2 > 100', spo2(101), /Oxygen saturation.*between 50 and 100 %/],
    ['heart rate 0', hr(0), /between 20 and 300/],
    ['temperature 50 Cel', temp(50, 'Cel'), /between 25 and 45 Cel/],
    ['temperature 120 [degF]', temp(120, '[degF]'), /between 25 and 45 Cel/],
    ['weight 700 kg', weight(700, 'kg'), /between 0.2 and 650 kg/],
    ['height 3 m', height(3, 'm'), /between 20 and 275 cm/],
    ['glucose 2000 mg/dL', glucose(2000, 'mg/dL'), /between 0.5 and 60 mmol\/L/],
  ])('rejects the impossible: %s', (_n, input, text) =>
    expectIssue(input, 'Observation.valueQuantity.value', text),
  );
  it('blood pressure: both components, ranges, diastolic below systolic, no value[x]', () => {
    const noDia = bp(120, 80);
    (noDia.component as unknown[]).pop();
    expectIssue(noDia, 'Observation.component', /diastolic component/);
    expectIssue(
      bp(400, 80),
      'Observation.component[0].valueQuantity.value',
      /Systolic blood pressure must be between 40 and 300/,
    );
    expectIssue(bp(80, 120), 'Observation.component', /lower than systolic/);
    expectIssue(bp(120, 80, { valueQuantity: qty(120, 'mm[Hg]') }), 'Observation.value[x]', /component/);
  });
  it('expressions in a Bundle point at the entry, e.g. Bundle.entry[2].resource.valueQuantity.code', () =>
    expectIssue(
      bundle(hr(60), hr(61), hr(62, { valueQuantity: qty(62, 'Hz') })),
      'Bundle.entry[2].resource.valueQuantity.code',
      /UCUM/,
    ));
  it('reports every problem, not only the first', () => {
    expect(issues(bundle(spo2(101), hr(60, { status: 'x' }))).length).toBeGreaterThanOrEqual(2);
  });
  it('messages never echo patient data the caller sent (NHS number, names, free text)', () => {
    const leaky = hr(60, {
      subject: {
        identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000008' },
        display: 'Jane Smith',
      },
      performer: [{ display: 'Jane Smith, 1 Trevelyan Square' }],
      valueQuantity: qty(60, 'Jane'),
      effectiveDateTime: 'Trevelyan',
    });
    const text = JSON.stringify(issues(leaky));
    for (const s of ['9000000008', 'Jane', 'Smith', 'Trevelyan']) expect(text).not.toContain(s);
  });
});
