import { OperationOutcomeError } from '@junction/core';
import type { Patient } from '@medplum/fhirtypes';
import type { Operation } from 'fast-json-patch';

/**
 * Extensions a patient may change (patient-patch.yaml "Patient access": communication, pharmacy,
 * place of birth), by the end of their URL as in patch.ts.
 */
const PATIENT_EXTENSIONS = [
  'Extension-UKCore-NHSCommunication',
  'Extension-UKCore-NominatedPharmacy',
  'Extension-UKCore-PreferredDispenserOrganization',
  'Extension-UKCore-MedicalApplianceSupplier',
  'patient-birthPlace',
] as const;

const forbidden = (detail: string) =>
  OperationOutcomeError.spine('FORBIDDEN_UPDATE', { diagnostics: `Forbidden update with error - ${detail}` });

/**
 * The limits patient-patch.yaml "Patient access" puts on a patient's own PATCH: only address,
 * emergency contact (`contact`), communication, pharmacy and place of birth extensions, and mobile
 * and email telecom; for extensions and telecom every operation except `remove` must carry the
 * whole object (a list item, never a part of one). `test` operations change nothing and pass.
 * Anything else is 403 FORBIDDEN_UPDATE ("The user is not permitted to update certain resources or elements").
 */
export function checkPatientPatches(original: Patient, patches: readonly Operation[]): void {
  for (const patch of patches) {
    if (patch.op === 'test') continue;
    const [field, index, child] = segments(patch.path);
    if (field === 'address' || field === 'contact') continue;
    if (field !== 'extension' && field !== 'telecom') {
      throw forbidden(`patient access is not permitted to update '${field ?? patch.path}'`);
    }
    if (index === undefined || (child !== undefined && patch.op !== 'remove')) {
      throw forbidden(
        `patient access must update a whole '${field}' item ('/${field}/-' or '/${field}/<index>')`,
      );
    }
    const items: unknown[] = [];
    if (patch.op === 'add' || patch.op === 'replace') items.push((patch as { value: unknown }).value);
    if (patch.op === 'replace' || patch.op === 'remove') {
      items.push(
        ((original as unknown as Record<string, unknown>)[field] as unknown[] | undefined)?.[Number(index)],
      );
    }
    const allowed = field === 'extension' ? isPatientExtension : isMobileOrEmail;
    // An item that does not exist is left to the patch engine's own error.
    if (!items.every((item) => item === undefined || allowed(item))) {
      throw forbidden(
        field === 'extension'
          ? 'patient access may only update communication, pharmacy and place of birth extensions'
          : 'patient access may only update mobile and email telecom',
      );
    }
  }
}

function isPatientExtension(item: unknown): boolean {
  const url = (item as { url?: unknown } | null)?.url;
  return typeof url === 'string' && PATIENT_EXTENSIONS.some((suffix) => url.endsWith(suffix));
}

function isMobileOrEmail(item: unknown): boolean {
  const { system, use } = (item ?? {}) as { system?: unknown; use?: unknown };
  return system === 'email' || (system === 'phone' && use === 'mobile');
}

function segments(path: string): (string | undefined)[] {
  return path
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}
