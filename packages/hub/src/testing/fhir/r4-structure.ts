/*
 * Test support: a structural check of FHIR R4 JSON for the elements this folder emits, used by the
 * tests beside it (no FHIR validator or R4 JSON schema is a dependency of the project). Element names,
 * types and cardinalities are those of the R4 specification pages:
 * - Medication: http://hl7.org/fhir/R4/medication.html#resource
 * - Parameters: http://hl7.org/fhir/R4/parameters.html#resource (inv-1: a parameter has a value, a
 *   resource or parts, exactly one of them)
 * - Meta, CodeableConcept, Coding, Quantity, Ratio, Reference: http://hl7.org/fhir/R4/datatypes.html
 *   (qty-3: a Quantity with a code has a system; rat-1: a Ratio has both numerator and denominator,
 *   or neither)
 * - JSON rules (http://hl7.org/fhir/R4/json.html): no null, no empty object or array, no empty
 *   string (ele-1), primitives matching their regex (http://hl7.org/fhir/R4/datatypes.html#primitive).
 * Unknown element names are errors, so a misspelt element cannot pass.
 */

interface El {
  type: string;
  min?: 1;
  array?: true;
}
type Struct = Readonly<Record<string, El>>;

const base = { id: { type: 'string' }, extension: { type: 'Extension', array: true } } as const;
const STRUCTS: Readonly<Record<string, Struct>> = {
  Medication: {
    resourceType: { type: 'string', min: 1 },
    id: { type: 'id' },
    meta: { type: 'Meta' },
    implicitRules: { type: 'uri' },
    language: { type: 'code' },
    text: { type: 'Narrative' },
    contained: { type: 'Resource', array: true },
    extension: { type: 'Extension', array: true },
    modifierExtension: { type: 'Extension', array: true },
    identifier: { type: 'Identifier', array: true },
    code: { type: 'CodeableConcept' },
    status: { type: 'code' },
    manufacturer: { type: 'Reference' },
    form: { type: 'CodeableConcept' },
    amount: { type: 'Ratio' },
    ingredient: { type: 'MedicationIngredient', array: true },
    batch: { type: 'MedicationBatch' },
  },
  MedicationIngredient: {
    ...base,
    modifierExtension: { type: 'Extension', array: true },
    itemCodeableConcept: { type: 'CodeableConcept' },
    itemReference: { type: 'Reference' },
    isActive: { type: 'boolean' },
    strength: { type: 'Ratio' },
  },
  Parameters: {
    resourceType: { type: 'string', min: 1 },
    id: { type: 'id' },
    meta: { type: 'Meta' },
    implicitRules: { type: 'uri' },
    language: { type: 'code' },
    parameter: { type: 'ParametersParameter', array: true },
  },
  ParametersParameter: {
    ...base,
    modifierExtension: { type: 'Extension', array: true },
    name: { type: 'string', min: 1 },
    valueCode: { type: 'code' },
    valueString: { type: 'string' },
    valueInteger: { type: 'integer' },
    valueDecimal: { type: 'decimal' },
    valueBoolean: { type: 'boolean' },
    valueDateTime: { type: 'dateTime' },
    valueCoding: { type: 'Coding' },
    part: { type: 'ParametersParameter', array: true },
  },
  Meta: {
    ...base,
    versionId: { type: 'id' },
    lastUpdated: { type: 'instant' },
    source: { type: 'uri' },
    profile: { type: 'canonical', array: true },
  },
  CodeableConcept: { ...base, coding: { type: 'Coding', array: true }, text: { type: 'string' } },
  Coding: {
    ...base,
    system: { type: 'uri' },
    version: { type: 'string' },
    code: { type: 'code' },
    display: { type: 'string' },
    userSelected: { type: 'boolean' },
  },
  Quantity: {
    ...base,
    value: { type: 'decimal' },
    comparator: { type: 'code' },
    unit: { type: 'string' },
    system: { type: 'uri' },
    code: { type: 'code' },
  },
  Ratio: { ...base, numerator: { type: 'Quantity' }, denominator: { type: 'Quantity' } },
  Reference: {
    ...base,
    reference: { type: 'string' },
    type: { type: 'uri' },
    display: { type: 'string' },
  },
};

const PRIMITIVES: Readonly<Record<string, (v: unknown) => boolean>> = {
  string: (v) => typeof v === 'string' && /\S/.test(v),
  id: (v) => typeof v === 'string' && /^[A-Za-z0-9\-.]{1,64}$/.test(v),
  code: (v) => typeof v === 'string' && /^[^\s]+( [^\s]+)*$/.test(v),
  uri: (v) => typeof v === 'string' && /^\S+$/.test(v),
  canonical: (v) => typeof v === 'string' && /^\S+$/.test(v),
  boolean: (v) => typeof v === 'boolean',
  integer: (v) => Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647,
  decimal: (v) => typeof v === 'number' && Number.isFinite(v),
  dateTime: (v) =>
    typeof v === 'string' &&
    /^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/.test(
      v,
    ),
  instant: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v),
};

/** Every structural error of `resource` (an R4 Medication or Parameters), as `path: message`. */
export function r4StructureErrors(resource: unknown): string[] {
  const errors: string[] = [];
  const type = (resource as { resourceType?: unknown })?.resourceType;
  if (type !== 'Medication' && type !== 'Parameters')
    return [`resourceType ${String(type)} is not checked here`];
  checkStruct(type, resource, type, errors);
  return errors;
}

function checkStruct(typeName: string, value: unknown, path: string, errors: string[]): void {
  const struct = STRUCTS[typeName];
  if (!struct) {
    errors.push(`${path}: type ${typeName} is not checked here`);
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${path}: expected a ${typeName} object`);
    return;
  }
  const obj = value as Record<string, unknown>;
  if (Object.keys(obj).length === 0) errors.push(`${path}: empty object`);
  for (const [key, el] of Object.entries(struct)) {
    if (el.min && obj[key] === undefined) errors.push(`${path}.${key}: required`);
  }
  for (const [key, v] of Object.entries(obj)) {
    const el = struct[key];
    if (!el) {
      errors.push(`${path}.${key}: not an element of ${typeName}`);
      continue;
    }
    const items = el.array ? v : [v];
    if (el.array && (!Array.isArray(v) || v.length === 0)) {
      errors.push(`${path}.${key}: expected a non-empty array`);
      continue;
    }
    if (!el.array && Array.isArray(v)) {
      errors.push(`${path}.${key}: expected a single value`);
      continue;
    }
    (items as unknown[]).forEach((item, i) => {
      const at = el.array ? `${path}.${key}[${i}]` : `${path}.${key}`;
      const primitive = PRIMITIVES[el.type];
      if (primitive) {
        if (!primitive(item)) errors.push(`${at}: ${JSON.stringify(item)} is not a valid ${el.type}`);
      } else checkStruct(el.type, item, at, errors);
    });
  }
  invariants(typeName, obj, path, errors);
}

function invariants(typeName: string, obj: Record<string, unknown>, path: string, errors: string[]): void {
  if (typeName === 'Quantity' && obj.code !== undefined && obj.system === undefined) {
    errors.push(`${path}: qty-3 a code needs a system`);
  }
  if (typeName === 'Ratio' && (obj.numerator === undefined) !== (obj.denominator === undefined)) {
    errors.push(`${path}: rat-1 numerator and denominator both or neither`);
  }
  if (typeName === 'MedicationIngredient') {
    const items = ['itemCodeableConcept', 'itemReference'].filter((k) => obj[k] !== undefined);
    if (items.length !== 1) errors.push(`${path}: item[x] is 1..1`);
  }
  if (typeName === 'ParametersParameter') {
    const kinds = Object.keys(obj).filter((k) => k.startsWith('value') || k === 'resource' || k === 'part');
    if (kinds.length !== 1)
      errors.push(`${path}: inv-1 one of value[x], resource, part (has ${kinds.join(', ')})`);
  }
  if (
    typeName === 'Medication' &&
    !['active', 'inactive', 'entered-in-error', undefined].includes(obj.status as string)
  ) {
    errors.push(`${path}.status: not in medication-status`);
  }
}
