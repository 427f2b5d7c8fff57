import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_DATA_DIR } from '@junction/hub/vocabulary';

/*
 * What a running `junction start` tells the other `junction` commands: the ports it chose (the hub's
 * and the sandbox's, which `--port 0` or `--port 18080` move) and the sandbox API platform app a PDS
 * client may sign in as. Kept in the data folder, where the same `--data-dir` / JUNCTION_DATA_DIR that
 * chose the start's store finds it; `start` removes it when it stops, and a record whose process has
 * died (a kill -9, a crash) is ignored.
 */

/** The record's file name inside the data folder. */
export const START_RECORD_FILE = 'junction-start.json';

/** `junction start`'s hub port when none is given; its sandbox listens on the next one. */
export const DEFAULT_HUB_PORT = 8080;
const DATA_DIR_ENV = 'JUNCTION_DATA_DIR';

/** Where `junction start` listens when nothing was recorded: its defaults. */
export const DEFAULT_HUB_URL = `http://127.0.0.1:${DEFAULT_HUB_PORT}`;
export const DEFAULT_SANDBOX_URL = `http://127.0.0.1:${DEFAULT_HUB_PORT + 1}`;

/** The sandbox's PDS FHIR R4 base path (the real service's, digital.nhs.uk PDS FHIR API). */
export const PDS_PATH = '/personal-demographics/FHIR/R4';

/**
 * An API platform app registered with that run's sandbox only (a key pair made for the run), so a
 * PDS client can sign in to the sandbox's PDS as a real one signs in to INT: never a key of INT or
 * live, and useless once that start stops.
 */
export interface SandboxAppCredentials {
  tokenUrl: string;
  apiKey: string;
  kid: string;
  privateKeyPem: string;
}

export interface StartRecord {
  pid: number;
  startedAt: string;
  hubUrl: string;
  sandboxUrl: string;
  pdsBaseUrl: string;
  /** MESH's host (the API's paths start `/messageexchange`). */
  meshBaseUrl: string;
  /** Absent when the sandbox runs open (`--open-sandbox`): PDS then wants no token. */
  sandboxApp?: SandboxAppCredentials;
}

/** The data folder a command means: its --data-dir, then JUNCTION_DATA_DIR, then ./data (as the hub). */
export function dataDirOf(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env[DATA_DIR_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_DATA_DIR;
}

/**
 * Writes the record, readable by its owner only (it holds the sandbox app's private key); replaced
 * whole (a reader never sees half of it).
 */
export async function writeStartRecord(dataDir: string, record: StartRecord): Promise<void> {
  const path = join(dataDir, START_RECORD_FILE);
  const part = `${path}.${record.pid}.part`;
  await writeFile(part, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(part, path);
}

/** Removes the record if it is still this process's (a later start on the same folder keeps its own). */
export async function removeStartRecord(dataDir: string, pid: number): Promise<void> {
  const path = join(dataDir, START_RECORD_FILE);
  // A file that is not a record (or cannot be read) is not this process's to remove.
  const found = await readRecord(path).catch(() => undefined);
  if (found?.pid === pid) await rm(path, { force: true });
}

/** What a command learnt from the data folder, and a sentence saying so for its error messages. */
export interface FoundStart {
  record?: StartRecord;
  /** e.g. "found no record in data/junction-start.json". */
  note: string;
  /** Set when a record was ignored because its process has died. */
  stale?: string;
}

/** The running `junction start` recorded in the data folder, if its process is alive. */
export async function findStart(
  dataDirFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<FoundStart> {
  const path = join(dataDirOf(dataDirFlag, env), START_RECORD_FILE);
  let record: StartRecord | undefined;
  try {
    record = await readRecord(path);
  } catch (error) {
    return { note: `cannot read ${path}: ${(error as Error).message}` };
  }
  if (!record) return { note: `found no record in ${path}` };
  if (!isAlive(record.pid)) {
    const stale = `ignoring ${path}: the junction start that wrote it (pid ${record.pid}) is no longer running`;
    return { note: stale, stale };
  }
  return { record, note: `as recorded in ${path} by junction start, pid ${record.pid}` };
}

async function readRecord(path: string): Promise<StartRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const value = JSON.parse(text) as Partial<StartRecord>;
  const urls = [value.hubUrl, value.sandboxUrl, value.pdsBaseUrl, value.meshBaseUrl];
  if (!Number.isInteger(value.pid) || urls.some((u) => typeof u !== 'string')) {
    throw new Error('not a junction start record');
  }
  return value as StartRecord;
}

/** Signal 0 checks that the process exists; EPERM means it does, under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** System error codes of a request that got no answer, in words. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
};

/**
 * Why a request got no answer ("connection refused", "timed out"), found along the error's causes
 * (fetch wraps the system error); undefined when nothing in it is a network failure.
 */
export function networkFailure(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code in NETWORK_REASONS) return NETWORK_REASONS[code];
    if (current.name === 'TimeoutError') return 'timed out';
    current = current.cause;
  }
  return undefined;
}

/**
 * The one line for a service that did not answer: the URL tried and why, and for a URL that was not
 * given on the command line, where `junction start` was looked for.
 */
export function cannotReach(what: string, url: string, reason: string, found?: FoundStart): string {
  return `cannot reach ${what} at ${url} (${reason})${found ? ` — is junction start running? (${found.note})` : ''}`;
}
