import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { type DmdFileKind, isDmdFileKind } from './records.js';

/** One XML file of a release, opened on demand as a byte stream. */
export interface DmdReleaseFile {
  kind: DmdFileKind;
  /** Where it is in the release, e.g. `f_vmp2_3010419.xml` or `gtin.zip!/f_gtin2_0010419.xml`. */
  name: string;
  /** The release date from the file name (`DDMMYY`), ISO `YYYY-MM-DD`. */
  date: string;
  /** Uncompressed size in bytes (for progress). */
  size: number;
  open(): Promise<Readable>;
}

export interface DmdRelease {
  /** In load order (NHSBSA spec §3: lookup, ingredient, VTM, VMP, AMP, VMPP, AMPP; then GTIN and the bonus files). */
  files: DmdReleaseFile[];
  /** Main-release files not found (a partial folder is allowed; the importer decides). */
  missing: DmdFileKind[];
  /** Releases files and removes the temporary copy of a nested zip. */
  close(): Promise<void>;
}

/** The file name rule of wardle/dmd's importer (`src/com/eldrix/dmd/import.clj`): kind, then DDMMYY date. */
const FILE_NAME = /^f_([a-z_]*)\d_\d(\d{6})\.xml$/;
const LOAD_ORDER: readonly DmdFileKind[] = [
  'lookup',
  'ingredient',
  'vtm',
  'vmp',
  'amp',
  'vmpp',
  'ampp',
  'gtin',
  'bnf',
  'history',
  'vtm_ing',
];
const MAIN_FILES: readonly DmdFileKind[] = [
  'lookup',
  'ingredient',
  'vtm',
  'vmp',
  'amp',
  'vmpp',
  'ampp',
  'gtin',
];

/** Parses a release file name: `f_vmp2_3010419.xml` → `{ kind: 'vmp', date: '2019-04-01' }`. */
export function parseDmdFileName(name: string): { kind: DmdFileKind; date: string } | undefined {
  const m = FILE_NAME.exec(basename(name));
  if (!m) return undefined;
  const kind = m[1] as string;
  const ddmmyy = m[2] as string;
  if (!isDmdFileKind(kind)) return undefined;
  return { kind, date: `20${ddmmyy.slice(4, 6)}-${ddmmyy.slice(2, 4)}-${ddmmyy.slice(0, 2)}` };
}

/**
 * Opens a dm+d release as NHSBSA ships it: the zip (with its nested GTIN zip) or an unpacked
 * folder (the GTIN file loose, in a sub-folder, or still in its zip). Nothing is read yet:
 * each file is streamed when opened. A nested zip is copied to a temporary file (zips need
 * random access), never held in memory.
 *
 * @example
 * const release = await openDmdRelease('nhsbsa_dmd_4.0.1_20190401000001.zip');
 * try { for (const f of release.files) for await (const row of readDmdXml(await f.open(), f.name)) … }
 * finally { await release.close(); }
 */
export async function openDmdRelease(path: string): Promise<DmdRelease> {
  const found: DmdReleaseFile[] = [];
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    if ((await stat(path)).isDirectory()) {
      const entries = await readdir(path, { recursive: true, withFileTypes: true });
      for (const e of entries) {
        if (!e.isFile()) continue;
        const full = join(e.parentPath, e.name);
        const rel = full.slice(path.length).replace(/^[\\/]+/, '');
        if (/\.zip$/i.test(e.name)) {
          await addZip(full, rel, found, closers);
          continue;
        }
        const parsed = parseDmdFileName(e.name);
        if (parsed) {
          const { size } = await stat(full);
          found.push({ ...parsed, name: rel, size, open: async () => createReadStream(full) });
        }
      }
    } else {
      await addZip(path, basename(path), found, closers);
    }
    const byKind = new Map<DmdFileKind, DmdReleaseFile>();
    for (const f of found) {
      const other = byKind.get(f.kind);
      if (other) throw new DmdReleaseError(path, `two ${f.kind} files: ${other.name} and ${f.name}`);
      byKind.set(f.kind, f);
    }
    return {
      files: LOAD_ORDER.flatMap((k) => byKind.get(k) ?? []),
      missing: MAIN_FILES.filter((k) => !byKind.has(k)),
      close,
    };
  } catch (err) {
    await close();
    if (err instanceof DmdReleaseError) throw err;
    throw new DmdReleaseError(path, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** A release that cannot be opened: not a folder or zip, a corrupt zip, two files of one kind. */
export class DmdReleaseError extends Error {
  override readonly name = 'DmdReleaseError';
  constructor(
    readonly release: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`dm+d release ${release}: ${reason}`, options);
  }
}

async function addZip(
  zipPath: string,
  label: string,
  found: DmdReleaseFile[],
  closers: (() => Promise<void>)[],
  nested = false,
): Promise<void> {
  const zip = await openZip(zipPath);
  closers.push(async () => zip.close());
  for (const entry of await listEntries(zip)) {
    if (entry.fileName.endsWith('/')) continue;
    const name = posix.basename(entry.fileName);
    if (/\.zip$/i.test(name)) {
      if (nested) continue; // NHSBSA nests one level only (the GTIN zip)
      const dir = await mkdtemp(join(tmpdir(), 'junction-dmd-'));
      closers.push(() => rm(dir, { recursive: true, force: true }));
      const copy = join(dir, 'nested.zip');
      await pipeline(await openEntry(zip, entry), createWriteStream(copy));
      await addZip(copy, `${label}!/${entry.fileName}`, found, closers, true);
      continue;
    }
    const parsed = parseDmdFileName(name);
    if (parsed)
      found.push({
        ...parsed,
        name: `${label}!/${entry.fileName}`,
        size: entry.uncompressedSize,
        open: () => openEntry(zip, entry),
      });
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, strictFileNames: true }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

function listEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}
