import { closeSync, mkdirSync, openSync } from 'node:fs';

/** Where the hub keeps its embedded store and local files unless JUNCTION_DATA_DIR (or a flag) says otherwise. */
export const DEFAULT_DATA_DIR = './data';

/**
 * The data folder holds patient data (the SQLite store, MESH messages) and the secrets key, so a
 * folder the hub creates is its owner's only (0700), and so is a file it creates there (0600).
 * Existing folders and files keep the modes their owner gave them.
 */
export const DATA_DIR_MODE = 0o700;
export const DATA_FILE_MODE = 0o600;

/** Creates `dir` (and any missing parents) owner-only; an existing folder is left as it is. */
export function createDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
}

/** Creates `file` empty and owner-only if it does not exist yet; an existing file is left as it is. */
export function createDataFile(file: string): void {
  closeSync(openSync(file, 'a', DATA_FILE_MODE));
}
