/**
 * The readings a telemedicine product may submit, with the codes, units and plausible ranges the
 * hub accepts for each. Pure data: no I/O.
 *
 * Sources (cited per kind below):
 * - FHIR R4 vital signs profile, http://hl7.org/fhir/R4/observation-vitalsigns.html: category
 *   `vital-signs`, one LOINC code per vital sign (BP panel 85354-9 with components 8480-6 and
 *   8462-4; heart rate 8867-4; body weight 29463-7; body height 8302-2; body temperature 8310-5;
 *   oxygen saturation 2708-6 (59408-5 is the pulse-oximetry child of 2708-6 used by many devices)),
 *   UCUM units (`http://unitsofmeasure.org`): mm[Hg], /min, kg|g|[lb_av], cm|[in_i], Cel|[degF], %.
 * - UK Core (NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN, `structuredefinitions/UKCore-Observation-VitalSigns-*.xml`
 *   and `UKCore-Observation-BloodGlucose.xml`) binds the `snomedCT` coding slice to the value sets in
 *   `valuesets/ValueSet-UKCore-*.xml`. The SNOMED codes below are the members of those expansions that
 *   a patient's own device or app can measure (invasive, intracardiac, neonatal and pre-amputation
 *   concepts are left out on purpose).
 */

export type ReadingKind =
  | 'blood-pressure'
  | 'heart-rate'
  | 'body-weight'
  | 'body-height'
  | 'body-temperature'
  | 'oxygen-saturation'
  | 'blood-glucose';

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

export interface Code {
  code: string;
  display: string;
}

/** An accepted UCUM unit and how to bring a value in it to the kind's canonical unit. */
export interface UnitDef {
  /** UCUM code, e.g. `[lb_av]`. */
  code: string;
  /** Human-readable unit, used in the readable document. */
  display: string;
  toCanonical: (value: number) => number;
}

export interface RangeDef {
  /** Lowest and highest physiologically possible value, in the canonical unit (inclusive). */
  min: number;
  max: number;
}

export interface QuantityDef {
  /** The unit UK Core fixes (or the first R4 vitals lists); ranges are in it. */
  canonicalUnit: string;
  units: readonly UnitDef[];
  range: RangeDef;
}

export interface ReadingKindDef {
  kind: ReadingKind;
  /** Plain label for messages and the readable document. */
  label: string;
  /** R4 base vital signs LOINC codes; the first is the one the profile fixes. */
  loinc: readonly Code[];
  /** UK Core value set members accepted; the first is the preferred code added when none is sent. */
  snomed: readonly Code[];
  /** True for the R4 vital signs: a LOINC coding and category `vital-signs` are required. */
  vitalSign: boolean;
  /** Categories accepted (observation-category codes). */
  categories: readonly string[];
  /** Single-valued kinds: the value's units and range. Blood pressure uses `components` instead. */
  quantity?: QuantityDef;
  components?: readonly ComponentDef[];
}

export interface ComponentDef {
  name: 'systolic' | 'diastolic';
  label: string;
  loinc: Code;
  snomed: readonly Code[];
  quantity: QuantityDef;
}

const identity = (v: number) => v;
const round = (v: number, places: number) => {
  const f = 10 ** places;
  return Math.round(v * f) / f;
};

const MM_HG: UnitDef = { code: 'mm[Hg]', display: 'mmHg', toCanonical: identity };

/** UCUM `mg/dL` to `mmol/L` for glucose: molar mass of glucose 180.156 g/mol. */
export const GLUCOSE_MG_DL_PER_MMOL_L = 18.0156;

export const READING_KINDS: Readonly<Record<ReadingKind, ReadingKindDef>> = {
  // UKCore-Observation-VitalSigns-BloodPressure: loinc slice fixed 85354-9, snomedCT bound to
  // ValueSet-UKCore-BloodPressure; components SystolicBP (LOINC 8480-6, ValueSet-UKCore-BloodPressure-Systolic)
  // and DiastolicBP (LOINC 8462-4, ValueSet-UKCore-BloodPressure-Diastolic), unit fixed mm[Hg].
  'blood-pressure': {
    kind: 'blood-pressure',
    label: 'Blood pressure',
    loinc: [{ code: '85354-9', display: 'Blood pressure panel with all children optional' }],
    snomed: [
      { code: '75367002', display: 'Blood pressure' },
      { code: '163020007', display: 'O/E - blood pressure reading' },
      { code: '335661000000109', display: 'Self measured blood pressure reading' },
      { code: '723237002', display: 'Non-invasive blood pressure' },
      { code: '251076008', display: 'Non-invasive arterial pressure' },
      { code: '386534000', display: 'Arterial blood pressure' },
      { code: '163035008', display: 'Sitting blood pressure' },
      { code: '163034007', display: 'Standing blood pressure' },
      { code: '163033001', display: 'Lying blood pressure' },
    ],
    vitalSign: true,
    categories: ['vital-signs'],
    components: [
      {
        name: 'systolic',
        label: 'Systolic',
        loinc: { code: '8480-6', display: 'Systolic blood pressure' },
        snomed: [
          { code: '72313002', display: 'Systolic arterial pressure' },
          { code: '271649006', display: 'Systolic blood pressure' },
          { code: '163030003', display: 'O/E - Systolic BP reading' },
          { code: '1162737008', display: 'Self reported systolic blood pressure' },
          { code: '407554009', display: 'Sitting systolic blood pressure' },
          { code: '400974009', display: 'Standing systolic blood pressure' },
          { code: '407556006', display: 'Lying systolic blood pressure' },
        ],
        quantity: { canonicalUnit: 'mm[Hg]', units: [MM_HG], range: { min: 40, max: 300 } },
      },
      {
        name: 'diastolic',
        label: 'Diastolic',
        loinc: { code: '8462-4', display: 'Diastolic blood pressure' },
        snomed: [
          { code: '1091811000000102', display: 'Diastolic arterial pressure' },
          { code: '271650006', display: 'Diastolic blood pressure' },
          { code: '163031004', display: 'O/E - Diastolic BP reading' },
          { code: '1162735000', display: 'Self reported diastolic blood pressure' },
          { code: '407555005', display: 'Sitting diastolic blood pressure' },
          { code: '400975005', display: 'Standing diastolic blood pressure' },
          { code: '407557002', display: 'Lying diastolic blood pressure' },
        ],
        quantity: { canonicalUnit: 'mm[Hg]', units: [MM_HG], range: { min: 20, max: 200 } },
      },
    ],
  },
  // UKCore-Observation-VitalSigns-HeartRate: loinc fixed 8867-4, unit fixed /min; ValueSet-UKCore-HeartRate.
  'heart-rate': {
    kind: 'heart-rate',
    label: 'Heart rate',
    loinc: [{ code: '8867-4', display: 'Heart rate' }],
    snomed: [
      { code: '364075005', display: 'Heart rate' },
      { code: '78564009', display: 'Pulse rate' },
      { code: '444981005', display: 'Resting heart rate' },
      { code: '843941000000100', display: 'Radial pulse rate' },
      { code: '422119006', display: 'Brachial pulse rate' },
      { code: '1089491000000108', display: 'Heart rate at cardiac apex' },
    ],
    vitalSign: true,
    categories: ['vital-signs'],
    quantity: {
      canonicalUnit: '/min',
      units: [{ code: '/min', display: 'beats/min', toCanonical: identity }],
      range: { min: 20, max: 300 },
    },
  },
  // UKCore-Observation-VitalSigns-BodyWeight: loinc fixed 29463-7, UK Core fixes kg; R4 vitals also
  // allows g and [lb_av] (converted to kg). ValueSet-UKCore-BodyWeightMeasurements.
  'body-weight': {
    kind: 'body-weight',
    label: 'Body weight',
    loinc: [{ code: '29463-7', display: 'Body weight' }],
    snomed: [
      { code: '27113001', display: 'Body weight' },
      { code: '363808001', display: 'Body weight measure' },
      { code: '735395000', display: 'Current body weight' },
      { code: '784399000', display: 'Self reported body weight' },
      { code: '424927000', display: 'Body weight with shoes' },
      { code: '425024002', display: 'Body weight without shoes' },
    ],
    vitalSign: true,
    categories: ['vital-signs'],
    quantity: {
      canonicalUnit: 'kg',
      units: [
        { code: 'kg', display: 'kg', toCanonical: identity },
        { code: 'g', display: 'g', toCanonical: (v) => v / 1000 },
        { code: '[lb_av]', display: 'lb', toCanonical: (v) => v * 0.45359237 },
      ],
      range: { min: 0.2, max: 650 },
    },
  },
  // UKCore-Observation-VitalSigns-BodyHeight: loinc fixed 8302-2, unit from all-distance-units;
  // R4 vitals lists cm and [in_i]. ValueSet-UKCore-BodyHeightMeasurements.
  'body-height': {
    kind: 'body-height',
    label: 'Body height',
    loinc: [{ code: '8302-2', display: 'Body height' }],
    snomed: [
      { code: '50373000', display: 'Body height measure' },
      { code: '1153637007', display: 'Body height' },
      { code: '248333004', display: 'Standing height' },
      { code: '1162419008', display: 'Self reported body height' },
      { code: '1149101003', display: 'Recumbent body height' },
    ],
    vitalSign: true,
    categories: ['vital-signs'],
    quantity: {
      canonicalUnit: 'cm',
      units: [
        { code: 'cm', display: 'cm', toCanonical: identity },
        { code: 'm', display: 'm', toCanonical: (v) => v * 100 },
        { code: '[in_i]', display: 'in', toCanonical: (v) => v * 2.54 },
      ],
      range: { min: 20, max: 275 },
    },
  },
  // UKCore-Observation-VitalSigns-BodyTemperature: loinc fixed 8310-5, UK Core fixes Cel; R4 vitals
  // also allows [degF]. ValueSet-UKCore-BodyTemperature.
  'body-temperature': {
    kind: 'body-temperature',
    label: 'Body temperature',
    loinc: [{ code: '8310-5', display: 'Body temperature' }],
    snomed: [
      { code: '276885007', display: 'Core body temperature' },
      { code: '386725007', display: 'Body temperature' },
      { code: '431807005', display: 'Body temperature taken with digital thermometer' },
      { code: '415974002', display: 'Tympanic temperature' },
      { code: '415945006', display: 'Oral temperature' },
      { code: '415882003', display: 'Axillary temperature' },
      { code: '415922000', display: 'Forehead temperature' },
      { code: '415921007', display: 'Forehead skin strip temperature' },
    ],
    vitalSign: true,
    categories: ['vital-signs'],
    quantity: {
      canonicalUnit: 'Cel',
      units: [
        { code: 'Cel', display: '°C', toCanonical: identity },
        { code: '[degF]', display: '°F', toCanonical: (v) => ((v - 32) * 5) / 9 },
      ],
      range: { min: 25, max: 45 },
    },
  },
  // UKCore-Observation-VitalSigns-OxygenSaturation: loinc fixed 2708-6, unit fixed %;
  // ValueSet-UKCore-OxygenSaturation.
  'oxygen-saturation': {
    kind: 'oxygen-saturation',
    label: 'Oxygen saturation (SpO2)',
    loinc: [
      { code: '2708-6', display: 'Oxygen saturation in Arterial blood' },
      { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' },
    ],
    snomed: [
      { code: '431314004', display: 'Peripheral oxygen saturation' },
      { code: '103228002', display: 'Blood oxygen saturation' },
      { code: '866661000000106', display: 'Peripheral blood oxygen saturation on room air at rest' },
      { code: '866681000000102', display: 'Peripheral blood oxygen saturation on room air on exertion' },
      {
        code: '866701000000100',
        display: 'Peripheral blood oxygen saturation on supplemental oxygen at rest',
      },
      {
        code: '866721000000109',
        display: 'Peripheral blood oxygen saturation on supplemental oxygen on exertion',
      },
      { code: '442440005', display: 'Capillary oxygen saturation' },
    ],
    vitalSign: true,
    categories: ['vital-signs'],
    quantity: {
      canonicalUnit: '%',
      units: [{ code: '%', display: '%', toCanonical: identity }],
      range: { min: 50, max: 100 },
    },
  },
  // UKCore-Observation-BloodGlucose (derived from UKCore-Observation, not from the vital signs
  // profile): code bound to ValueSet-UKCore-BloodGlucose, unit fixed mmol/L. mg/dL is accepted and
  // converted. Not an R4 vital sign, so LOINC is optional; the LOINC codes are the blood,
  // serum/plasma and glucometer glucose concentrations (mass and substance).
  'blood-glucose': {
    kind: 'blood-glucose',
    label: 'Blood glucose',
    loinc: [
      { code: '15074-8', display: 'Glucose [Moles/volume] in Blood' },
      { code: '2339-0', display: 'Glucose [Mass/volume] in Blood' },
      { code: '14743-9', display: 'Glucose [Moles/volume] in Capillary blood by Glucometer' },
      { code: '41653-7', display: 'Glucose [Mass/volume] in Capillary blood by Glucometer' },
      { code: '14749-6', display: 'Glucose [Moles/volume] in Serum or Plasma' },
      { code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma' },
    ],
    snomed: [
      { code: '997671000000106', display: 'Blood glucose level' },
      { code: '997681000000108', display: 'Fasting blood glucose level' },
      { code: '1089381000000101', display: 'Random blood glucose level' },
      { code: '1030551000000103', display: '2 hour post-prandial blood glucose level' },
      { code: '56991000237104', display: 'Glucose molar concentration in blood' },
      { code: '434911002', display: 'Plasma glucose concentration' },
      { code: '1010671000000102', display: 'Plasma glucose level' },
    ],
    vitalSign: false,
    categories: ['vital-signs', 'laboratory'],
    quantity: {
      canonicalUnit: 'mmol/L',
      units: [
        { code: 'mmol/L', display: 'mmol/L', toCanonical: identity },
        { code: 'mg/dL', display: 'mg/dL', toCanonical: (v) => v / GLUCOSE_MG_DL_PER_MMOL_L },
      ],
      range: { min: 0.5, max: 60 },
    },
  },
};

export const ALL_KINDS = Object.keys(READING_KINDS) as ReadingKind[];

/** The kinds a `system|code` identifies (LOINC or SNOMED CT), top-level codes only. */
export function kindsForCoding(system: string | undefined, code: string | undefined): ReadingKind[] {
  if (code === undefined) return [];
  const out: ReadingKind[] = [];
  for (const def of Object.values(READING_KINDS)) {
    const list = system === LOINC ? def.loinc : system === SNOMED ? def.snomed : undefined;
    if (list?.some((c) => c.code === code)) out.push(def.kind);
  }
  return out;
}

/** Canonical value rounded to a sensible precision for display and range checks. */
export function toCanonical(unit: UnitDef, value: number): number {
  return round(unit.toCanonical(value), 4);
}
