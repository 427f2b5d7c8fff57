import { OperationOutcomeError } from '@junction/core';
import type { Patient } from '@medplum/fhirtypes';
import fastJsonPatch, { type Operation } from 'fast-json-patch';

const { applyPatch, JsonPatchError } = fastJsonPatch;

const OPS = new Set(['add', 'replace', 'remove', 'test']);
/** Top-level fields a PATCH may touch (patient-patch.yaml "Healthcare worker access"). */
const UPDATABLE = new Set([
  'address',
  'birthDate',
  'contact',
  'deceasedDateTime',
  'extension',
  'gender',
  'generalPractitioner',
  'managingOrganization',
  'multipleBirthInteger',
  'name',
  'telecom',
]);
const READ_ONLY = new Set(['id', 'identifier', 'meta', 'resourceType']);
/** Lists whose items carry an `id` (or `url` for extensions) that a change to one item must quote. */
const LISTS = new Set(['address', 'contact', 'extension', 'generalPractitioner', 'name', 'telecom']);
const GENDERS = new Set(['male', 'female', 'unknown']);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const invalidUpdate = (detail: string) =>
  OperationOutcomeError.spine('INVALID_UPDATE', { diagnostics: `Invalid update with error - ${detail}` });
const forbidden = (detail: string) =>
  OperationOutcomeError.spine('FORBIDDEN_UPDATE', { diagnostics: `Forbidden update with error - ${detail}` });

/** Reads the wrapped body `{"patches": [...]}` (patient-patch.yaml requestBody); the sandbox also sends `correction`. */
export function readPatches(body: unknown): Operation[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidUpdate('No patches found');
  const { patches, ...rest } = body as { patches?: unknown };
  const extra = Object.keys(rest).filter((key) => key !== 'correction');
  if (extra.length > 0) {
    const list = extra.map((key) => `'${key}'`).join(', ');
    throw OperationOutcomeError.spine('ADDITIONAL_PROPERTIES', {
      diagnostics: `Invalid request with error - Additional properties are not allowed (${list} ${extra.length === 1 ? 'was' : 'were'} unexpected)`,
    });
  }
  // patch-patient.js NO_PATCHES_PROVIDED
  if (!Array.isArray(patches) || patches.length === 0) throw invalidUpdate('No patches found');
  patches.forEach((patch: unknown, i) => {
    const op = (patch as { op?: unknown })?.op;
    const path = (patch as { path?: unknown })?.path;
    if (typeof patch !== 'object' || patch === null) throw invalidValue(JSON.stringify(patch), String(i));
    if (op === undefined)
      throw OperationOutcomeError.spine('MISSING_VALUE', { diagnostics: `Missing value - '${i}/op'` });
    if (typeof op !== 'string' || !OPS.has(op)) throw invalidValue(String(op), `${i}/op`);
    if (path === undefined)
      throw OperationOutcomeError.spine('MISSING_VALUE', { diagnostics: `Missing value - '${i}/path'` });
    if (typeof path !== 'string' || !path.startsWith('/')) throw invalidValue(String(path), `${i}/path`);
    if (op !== 'remove' && !('value' in patch)) {
      throw OperationOutcomeError.spine('MISSING_VALUE', { diagnostics: `Missing value - '${i}/value'` });
    }
  });
  return patches as Operation[];
}

function invalidValue(value: string, field: string): OperationOutcomeError {
  return OperationOutcomeError.spine('INVALID_VALUE', {
    diagnostics: `Invalid value - '${value}' in field '${field}'`,
  });
}

/**
 * Applies the patches all-or-nothing after the business rules the spec states for every client
 * (patient-patch.yaml "JSON Patch", "Patient data fields"), and returns the next version.
 * New list items get an object id and, without a period, today's date as `period.start`.
 */
export function patchPatient(
  original: Patient,
  patches: Operation[],
  options: { now: Date; newId: () => string },
): Patient {
  checkRules(original, patches);
  let patched: Patient;
  try {
    patched = applyPatch(structuredClone(original), patches, true, false).newDocument;
  } catch (error) {
    throw patchError(error);
  }
  const today = options.now.toISOString().slice(0, 10);
  for (const patch of patches) {
    const [field, index] = segments(patch.path);
    if (patch.op !== 'add' || index !== '-' || !field || !LISTS.has(field) || field === 'extension') continue;
    const list = (patched as unknown as Record<string, unknown>)[field] as Record<string, unknown>[];
    const item = list[list.length - 1];
    if (item && typeof item === 'object') {
      item.id ??= options.newId();
      if (field !== 'generalPractitioner') item.period ??= { start: today };
    }
  }
  const version = Number(original.meta?.versionId ?? '1') + 1;
  patched.meta = { ...patched.meta, versionId: String(version) };
  return patched;
}

function checkRules(original: Patient, patches: Operation[]): void {
  patches.forEach((patch, i) => {
    const [field, index, child] = segments(patch.path);
    if (field === undefined) throw invalidUpdate(`Invalid patch - path '${patch.path}' is not supported`);
    if (READ_ONLY.has(field)) throw forbidden(`source not permitted to update '${field}'`);
    if (!UPDATABLE.has(field)) throw invalidUpdate(`Update unsupported for resource - '${field}'`);

    if (
      patch.op === 'remove' &&
      (field === 'birthDate' || field === 'gender' || field === 'deceasedDateTime') &&
      index === undefined
    ) {
      throw forbidden(`source not permitted to remove '${field}'`);
    }
    if (field === 'gender' && (patch.op === 'add' || patch.op === 'replace')) {
      const value = (patch as { value: unknown }).value;
      if (value === 'other') {
        throw OperationOutcomeError.spine('UNSUPPORTED_VALUE', {
          diagnostics: "Unsupported value - 'other' in field 'gender'",
        });
      }
      if (typeof value !== 'string' || !GENDERS.has(value)) throw invalidValue(String(value), 'gender');
    }
    if (field === 'birthDate' && (patch.op === 'add' || patch.op === 'replace')) {
      const value = (patch as { value: unknown }).value;
      if (typeof value !== 'string' || !DATE.test(value)) throw invalidValue(String(value), 'birthDate');
    }
    if (field === 'deceasedDateTime' && patch.op === 'replace' && hasFormalDeathNotification(original)) {
      throw forbidden(
        "not permitted to update 'deceasedDateTime' while the death notification status is formal",
      );
    }
    if (!LISTS.has(field)) return;

    if (patch.op === 'add' && index !== undefined && index !== '-' && child === undefined) {
      // "When adding a base level list item … ensure the index is always -, otherwise the request is rejected."
      throw invalidUpdate(`Invalid patch - add to '/${field}' must use the path '/${field}/-'`);
    }
    if (field === 'name' && patch.op === 'add' && index === '-') {
      const value = (patch as { value: { use?: string } }).value;
      if (value?.use === 'usual' && original.name?.some((name) => name.use === 'usual')) {
        throw forbidden('multiple usual names cannot be added');
      }
    }
    if (index !== undefined && /^\d+$/.test(index)) {
      if (patch.op === 'remove' && child === undefined) {
        checkRemovalGuard(patches, i, field, index);
        if (field === 'name' && original.name?.[Number(index)]?.use === 'usual') {
          throw forbidden('not permitted to remove usual name');
        }
      }
      if (child !== undefined && child !== 'id' && child !== 'url') {
        // "you must always include the list id or url" when changing part of an existing item
        const quoted = patches.some((other) =>
          [`/${field}/${index}/id`, `/${field}/${index}/url`, `/${field}/${index}`].includes(other.path),
        );
        if (!quoted) throw invalidUpdate(`no id or url found for path with root /${field}/${index}`);
      }
    }
  });
}

/** "To remove a list item, a `test` operation must immediately precede the `remove`." */
function checkRemovalGuard(patches: Operation[], i: number, field: string, index: string): void {
  const previous = patches[i - 1];
  const root = `/${field}/${index}`;
  if (previous?.op === 'test' && [root, `${root}/id`, `${root}/url`].includes(previous.path)) return;
  const instead = previous ? `'${previous.op}' on '${previous.path}'` : 'the first item';
  throw invalidUpdate(
    `removal '${root}' is not immediately preceded by equivalent test - instead it is ${instead}`,
  );
}

function hasFormalDeathNotification(patient: Patient): boolean {
  return (patient.extension ?? []).some(
    (extension) =>
      extension.url.endsWith('Extension-UKCore-DeathNotificationStatus') &&
      extension.extension?.some((part) =>
        part.valueCodeableConcept?.coding?.some((coding) => coding.code === '2'),
      ),
  );
}

function segments(path: string): (string | undefined)[] {
  return path
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** fast-json-patch's errors in the words of NHS's sandbox (karate-tests/.../sandbox/operations.js). */
function patchError(error: unknown): OperationOutcomeError {
  if (!(error instanceof JsonPatchError)) return invalidUpdate('Invalid patch');
  const path = error.operation?.path ?? '';
  const last = path.split('/').pop() ?? '';
  switch (error.name) {
    case 'OPERATION_VALUE_OUT_OF_BOUNDS':
      return invalidUpdate(`Invalid patch - index '${last}' is out of bounds`);
    case 'TEST_OPERATION_FAILED':
      return invalidUpdate(`Invalid patch - test failed for path '${path}'`);
    case 'OPERATION_PATH_UNRESOLVABLE':
      if (/^\d+$/.test(last)) return invalidUpdate(`Invalid patch - index '${last}' is out of bounds`);
      return error.operation?.op === 'replace'
        ? invalidUpdate(`Invalid patch - can't replace non-existent object '${last}'`)
        : invalidUpdate(`Invalid patch - can't remove non-existent object '${last}'`);
    default:
      return invalidUpdate(`Invalid patch - ${error.message.split('\n')[0]}`);
  }
}
