import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's `reference/`: the NHS specs, examples and sample releases tests read (reference/SOURCES.md). */
const REFERENCE = new URL('../../../../reference/', import.meta.url);

/**
 * The absolute path of a file or folder under `reference/`, found from this file rather than from
 * the working directory. A missing one throws: the reference data is part of the repository, so its
 * absence is a failure, never a reason to skip.
 * @example readFileSync(referencePath('specs/pds/postman/patient-demographics-sandbox.postman_collection.json'))
 */
export function referencePath(relative: string): string {
  const path = fileURLToPath(new URL(relative, REFERENCE));
  if (!existsSync(path)) throw new Error(`reference/${relative} is missing (see reference/SOURCES.md)`);
  return path;
}

/**
 * The dm+d sample releases (reference/refdata/dmd/; what each holds is in reference/SOURCES.md):
 * openprescribing's NHSBSA release of 1 April 2019 (full VTM, ingredient and lookup files, 7 VMPs
 * with their products, the NHSBSA XSDs); the three files of it where VMP 22480211000001104 became
 * `12345` with a VPIDPREV; wardle/dmd's 2021 set (a full lookup, a combination pack, the bonus files).
 */
export const DMD_2019 = referencePath('refdata/dmd/openprescribing-2019-04-01');
export const DMD_2019_VPID_CHANGED = referencePath('refdata/dmd/openprescribing-2019-04-01-vpid-changed');
export const DMD_2021_WARDLE = referencePath('refdata/dmd/wardle-dmd-2021-08-26');
