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
