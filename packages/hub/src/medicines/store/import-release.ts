import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Database, Store } from '../../store/database.js';
import { readDmdFile } from '../read-release.js';
import type { DmdFileKind, DmdRecord } from '../records.js';
import { type DmdRelease, type DmdReleaseFile, openDmdRelease } from '../release-files.js';
import { DmdFormatError } from '../xml-reader.js';
import { appendRowValues, DMD_TABLES, type DmdTable, sqlTypeOf, tableOf } from './tables.js';

/*
 * The importer. A release is written beside the active one under a new `release_id`, in small
 * batched transactions (readers and the audit trail keep going), then made active in one
 * transaction. Until that switch nobody reads the new rows, so a parse error, a database error or
 * a killed process leaves the previous release exactly as it was; the next import notices the
 * dead one (its heartbeat stops) and clears its rows.
 */

export interface DmdImportProgress {
  /** The file being read (its name within the release) and its place in the load order. */
  file: string;
  kind: DmdFileKind;
  fileIndex: number;
  fileCount: number;
  /** Bytes of this file read so far, and its uncompressed size. */
  bytesRead: number;
  bytesTotal: number;
  /** Bytes of all files read so far, and their total. */
  releaseBytesRead: number;
  releaseBytesTotal: number;
  /** Records of this file stored so far. */
  records: number;
}

export interface DmdImportOptions {
  /** Called as the import advances (at most every `progressIntervalMs`, and at each file's end). */
  onProgress?: (progress: DmdImportProgress) => void;
  progressIntervalMs?: number;
  /** Stops the import; the previous release stays active. */
  signal?: AbortSignal;
  /** Rows written per transaction (default 5,000 on SQLite, 20,000 on PostgreSQL). */
  batchRows?: number;
  /**
   * How long the superseded release's rows are kept after the switch, so that a request that
   * resolved the old release id just before it finishes reading (default 2 s).
   */
  retainPreviousMs?: number;
  /** An import whose heartbeat is older than this is taken to be dead (default 60 s). */
  staleAfterMs?: number;
  now?: () => Date;
  /** Recorded on the release's row (`dmd_releases.import_id`): the `dmd.import` job that runs it. */
  importId?: string;
}

export interface DmdImportSummary {
  releaseId: number;
  releaseDate: string | null;
  source: string;
  /** Records read from each file, by section. */
  files: { name: string; kind: DmdFileKind; records: Record<string, number> }[];
  /** Rows stored per table (checked against the records read). */
  tables: Record<string, number>;
  /** References that point nowhere in this release (the release is still imported). */
  warnings: string[];
  /** The release this one replaced, if any. */
  replaced: number | null;
  durationMs: number;
}

/** An import that did not complete. The previously active release is unchanged. */
export class DmdImportError extends Error {
  override readonly name = 'DmdImportError';
  constructor(
    readonly source: string,
    readonly reason: string,
    /** Where in the release the problem is, when it is in a file. */
    readonly at?: { file: string; line: number; column?: number },
    options?: ErrorOptions,
  ) {
    super(`dm+d import of ${source} failed: ${reason}`, options);
  }
}

/** Another import is running (its heartbeat is fresh): try again once it has finished. */
export class DmdImportBusyError extends DmdImportError {}

const HEARTBEAT_STALE_MS = 60_000;
/** Rows per transaction: short on SQLite (one writer lock, shared with the audit trail), longer on PostgreSQL. */
const DEFAULT_BATCH_ROWS = { sqlite: 5_000, postgres: 20_000 } as const;
/** Parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMS = 30_000;
const MAX_ROWS_PER_STATEMENT = 1_000;

/**
 * Imports a dm+d release (the NHSBSA zip, or its unpacked folder) and makes it the active one.
 *
 * @example
 * const summary = await importDmdRelease(store, 'nhsbsa_dmd_11.1.0_20251110000001.zip', {
 *   onProgress: (p) => console.log(p.file, p.bytesRead / p.bytesTotal),
 * });
 */
export async function importDmdRelease(
  store: Store,
  source: string,
  options: DmdImportOptions = {},
): Promise<DmdImportSummary> {
  const started = Date.now();
  const now = options.now ?? (() => new Date());
  let release: DmdRelease;
  try {
    release = await openDmdRelease(source);
  } catch (err) {
    throw new DmdImportError(source, err instanceof Error ? err.message : String(err), undefined, {
      cause: err,
    });
  }
  try {
    if (release.missing.length > 0) {
      throw new DmdImportError(source, `the release lacks its ${release.missing.join(', ')} file(s)`);
    }
    const releaseDate = release.files.find((f) => f.kind === 'vmp')?.date ?? null;
    const releaseId = await beginImport(
      store,
      source,
      releaseDate,
      now,
      options.staleAfterMs ?? HEARTBEAT_STALE_MS,
      options.importId ?? null,
    );
    try {
      const files = await writeRelease(store, releaseId, release.files, now, options);
      const tables = await countRows(store.db, releaseId);
      checkCounts(source, files, tables);
      const warnings = await danglingReferences(store.db, releaseId);
      const summary = { files, tables, warnings };
      const replaced = await activate(store, releaseId, summary, now);
      if (replaced !== null) {
        await sleep(options.retainPreviousMs ?? 2_000);
        await purgeRelease(store, replaced);
      }
      return {
        releaseId,
        releaseDate,
        source,
        files,
        tables,
        warnings,
        replaced,
        durationMs: Date.now() - started,
      };
    } catch (err) {
      const failure = asImportError(source, err);
      await failImport(store, releaseId, failure, now);
      throw failure;
    }
  } finally {
    await release.close();
  }
}

function asImportError(source: string, err: unknown): DmdImportError {
  if (err instanceof DmdImportError) return err;
  if (err instanceof DmdFormatError) {
    const at =
      err.column === undefined
        ? { file: err.file, line: err.line }
        : { file: err.file, line: err.line, column: err.column };
    return new DmdImportError(source, err.message, at, { cause: err });
  }
  return new DmdImportError(source, err instanceof Error ? err.message : String(err), undefined, {
    cause: err,
  });
}

/** Columns of `dmd_releases` added by migration 0010 for imports over HTTP (`medicines/imports.ts`). */
export type DmdImportColumns = {
  dmd_releases: { import_id: string | null; progress: string | null };
};

/** Registers the new release as `importing`, after clearing what dead or failed imports left. */
async function beginImport(
  store: Store,
  source: string,
  releaseDate: string | null,
  now: () => Date,
  staleAfterMs: number,
  importId: string | null,
): Promise<number> {
  const stamp = now().toISOString();
  const stale = new Date(now().getTime() - staleAfterMs).toISOString();
  const { id, leftovers } = await store.db.transaction().execute(async (trx) => {
    // Two hubs on one PostgreSQL must not both decide they are the only importer.
    if (store.dialect === 'postgres') await sql`lock table dmd_releases in exclusive mode`.execute(trx);
    const running = await trx
      .selectFrom('dmd_releases')
      .select(['id', 'started_at', 'heartbeat_at', 'source'])
      .where('status', '=', 'importing')
      .execute();
    for (const r of running) {
      if (r.heartbeat_at > stale) {
        throw new DmdImportBusyError(
          source,
          `another import is in progress (release ${r.id} from ${r.source}, started ${r.started_at}, ` +
            `last active ${r.heartbeat_at}); if that process has stopped, its release is cleared by an ` +
            `import started after ${new Date(Date.parse(r.heartbeat_at) + staleAfterMs).toISOString()}`,
        );
      }
    }
    if (running.length > 0) {
      await trx
        .updateTable('dmd_releases')
        .set({ status: 'failed', error: 'interrupted: the importing process stopped', finished_at: stamp })
        .where('status', '=', 'importing')
        .execute();
    }
    const max = await trx
      .selectFrom('dmd_releases')
      .select((eb) => eb.fn.max('id').as('max'))
      .executeTakeFirst();
    const next = Number(max?.max ?? 0) + 1;
    await trx
      .withTables<DmdImportColumns>()
      .insertInto('dmd_releases')
      .values({
        id: next,
        status: 'importing',
        source,
        release_date: releaseDate,
        started_at: stamp,
        heartbeat_at: stamp,
        import_id: importId,
      })
      .execute();
    // Rows of releases that are neither active nor this one: failed, interrupted, or superseded
    // ones whose purge was cut short.
    const rest = await trx
      .selectFrom('dmd_releases')
      .select('id')
      .where('status', 'in', ['failed', 'superseded'])
      .execute();
    return { id: next, leftovers: rest.map((r) => r.id) };
  });
  for (const old of leftovers) await purgeRelease(store, old);
  return id;
}

async function writeRelease(
  store: Store,
  releaseId: number,
  files: readonly DmdReleaseFile[],
  now: () => Date,
  options: DmdImportOptions,
): Promise<DmdImportSummary['files']> {
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS[store.dialect];
  const interval = options.progressIntervalMs ?? 200;
  const releaseBytesTotal = files.reduce((n, f) => n + f.size, 0);
  let releaseBytesBefore = 0;
  const writer = new BulkWriter(store, releaseId);
  const out: DmdImportSummary['files'] = [];
  /** Ids already seen per keyed table: a duplicate is an error with its line, not a constraint failure. */
  const seen = new Map<DmdTable, Set<string>>();

  try {
    for (const [fileIndex, file] of files.entries()) {
      const records: Record<string, number> = {};
      let bytesRead = 0;
      let lastReport = 0;
      const report = (force: boolean) => {
        if (!options.onProgress) return;
        const t = Date.now();
        if (!force && t - lastReport < interval) return;
        lastReport = t;
        options.onProgress({
          file: file.name,
          kind: file.kind,
          fileIndex,
          fileCount: files.length,
          bytesRead,
          bytesTotal: file.size,
          releaseBytesRead: releaseBytesBefore + bytesRead,
          releaseBytesTotal,
          records: writer.written,
        });
      };
      const flush = async (all: boolean) => {
        options.signal?.throwIfAborted();
        await writer.flush(all, now().toISOString());
        report(all);
      };
      writer.written = 0;
      for await (const record of readDmdFile(file, { onBytes: (n) => (bytesRead += n) })) {
        const table = tableOf(record);
        if (table.key) checkUnique(seen, table, record);
        writer.add(table, record);
        records[record.section] = (records[record.section] ?? 0) + 1;
        if (writer.pending >= batchRows) await flush(false);
      }
      await flush(true);
      await writer.drain();
      releaseBytesBefore += file.size;
      out.push({ name: file.name, kind: file.kind, records });
    }
  } catch (err) {
    // A write may still be in flight (PostgreSQL): let it end before the caller clears the rows.
    await writer.drain().catch(() => {});
    throw err;
  }
  return out;
}

function checkUnique(seen: Map<DmdTable, Set<string>>, table: DmdTable, record: DmdRecord): void {
  const row = record.row as Record<string, unknown>;
  const key = (table.key ?? [])
    .map((k) =>
      k === table.discriminator?.column ? table.discriminator.valueOf(record.section) : row[k.toUpperCase()],
    )
    .join(' ');
  let ids = seen.get(table);
  if (!ids) {
    ids = new Set();
    seen.set(table, ids);
  }
  if (ids.has(key)) {
    throw new DmdFormatError(record.file, record.line, undefined, `<${record.section}> ${key} appears twice`);
  }
  ids.add(detached(key));
}

/**
 * A copy of a string that shares no memory with its source. V8 keeps substrings as slices of
 * their parent, so an id kept for the whole import would otherwise pin the 64 KB chunk of XML
 * it was parsed from (seen: 170 MB of heap for a full release instead of ~20 MB).
 */
function detached(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/**
 * Buffers rows per table and writes them as multi-row INSERTs, run as compiled queries with the
 * SQL text built once per table: Kysely's builder would build a node per value (a full release
 * has ~20M). Only full-size statements are written until a file ends, so each table has one
 * statement text to cache (plus one final short one), never one per odd batch size.
 */
class BulkWriter {
  /** Per table, the flat parameter list of the rows not yet written (release id first in each row). */
  private readonly buffers = new Map<DmdTable, unknown[]>();
  private readonly statements = new Map<DmdTable, string>();
  /** Rows buffered, not yet written. */
  pending = 0;
  /** Rows written since the counter was last reset. */
  written = 0;
  /**
   * PostgreSQL works in its own process, so one write may run while the next batch is parsed;
   * better-sqlite3 works on this thread, where overlapping would only hold the lock longer.
   */
  private readonly overlap: boolean;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly releaseId: number,
  ) {
    this.overlap = store.dialect === 'postgres';
  }

  /** Waits for the write in flight, if any; its failure is thrown here. */
  async drain(): Promise<void> {
    const pending = this.inFlight;
    this.inFlight = undefined;
    await pending;
  }

  add(table: DmdTable, record: DmdRecord): void {
    let params = this.buffers.get(table);
    if (!params) {
      params = [];
      this.buffers.set(table, params);
    }
    params.push(this.releaseId);
    appendRowValues(table, record, params);
    this.pending++;
  }

  /** Writes every full statement's worth of rows (and, with `all`, the rest) in one transaction. */
  async flush(all: boolean, heartbeat: string): Promise<void> {
    const work: { text: string; params: unknown[] }[] = [];
    for (const [table, params] of this.buffers) {
      const width = widthOf(table);
      if (this.store.dialect === 'postgres') {
        // One statement per table, whatever the row count: a parameter per column, each an array.
        const rows = params.length / width;
        if (rows > 0) work.push({ text: this.fullStatement(table), params: columnArrays(params, width) });
        params.length = 0;
        this.pending -= rows;
        this.written += rows;
        continue;
      }
      const per = rowsPerStatement(table);
      const rows = params.length / width;
      let done = 0;
      for (; done + per <= rows; done += per) {
        work.push({
          text: this.fullStatement(table),
          params: params.slice(done * width, (done + per) * width),
        });
      }
      if (all && done < rows) {
        work.push({ text: insertSql(table, rows - done), params: params.slice(done * width) });
        done = rows;
      }
      params.splice(0, done * width);
      this.pending -= done;
      this.written += done;
    }
    if (work.length === 0 && !all) return;
    await this.drain();
    const write = this.store.db.transaction().execute(async (trx) => {
      // Rows of a release nobody reads until the switch (itself a normal, durable commit): a crash
      // that loses the last batches loses nothing anyone saw, and the next import clears them.
      if (this.overlap) await sql`set local synchronous_commit = off`.execute(trx);
      for (const w of work) await trx.executeQuery(CompiledQuery.raw(w.text, w.params));
      await trx
        .updateTable('dmd_releases')
        .set({ heartbeat_at: heartbeat })
        .where('id', '=', this.releaseId)
        .execute();
    });
    if (!this.overlap) return write;
    // Kept, not awaited: the next flush (or drain) awaits it and so rethrows its failure.
    write.catch(() => {});
    this.inFlight = write;
  }

  private fullStatement(table: DmdTable): string {
    let text = this.statements.get(table);
    if (!text) {
      text =
        this.store.dialect === 'postgres'
          ? unnestInsertSql(table)
          : insertSql(table, rowsPerStatement(table));
      this.statements.set(table, text);
    }
    return text;
  }
}

function widthOf(table: DmdTable): number {
  return 1 + (table.discriminator ? 1 : 0) + table.columns.length;
}

function rowsPerStatement(table: DmdTable): number {
  return Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_PARAMS / widthOf(table)));
}

function columnNames(table: DmdTable): string {
  const names = [
    'release_id',
    ...(table.discriminator ? [table.discriminator.column] : []),
    ...table.columns.map((c) => c.name),
  ];
  return names.map((c) => `"${c}"`).join(',');
}

/** SQLite: a multi-row VALUES insert of `rowCount` rows. */
function insertSql(table: DmdTable, rowCount: number): string {
  const tuple = `(${Array.from({ length: widthOf(table) }, () => '?').join(',')})`;
  return `insert into "${table.name}" (${columnNames(table)}) values ${Array.from({ length: rowCount }, () => tuple).join(',')}`;
}

/**
 * PostgreSQL: `insert … select * from unnest($1::t[], $2::t[], …)`, one array per column. The
 * server parses and plans one small statement per batch instead of one with tens of thousands of
 * placeholders.
 */
function unnestInsertSql(table: DmdTable): string {
  const types = [
    'integer',
    ...(table.discriminator ? ['text'] : []),
    ...table.columns.map((c) => sqlTypeOf(c.kind).replace(/\(\d+\)$/, '')),
  ];
  const arrays = types.map((t, i) => `$${i + 1}::${t}[]`).join(',');
  return `insert into "${table.name}" (${columnNames(table)}) select * from unnest(${arrays})`;
}

/** Row-major parameters to one array per column. */
function columnArrays(params: unknown[], width: number): unknown[][] {
  const rows = params.length / width;
  const columns: unknown[][] = Array.from({ length: width }, () => new Array(rows));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) (columns[c] as unknown[])[r] = params[r * width + c];
  }
  return columns;
}

async function countRows(db: Kysely<Database>, releaseId: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of DMD_TABLES) {
    const r = await sql<{
      n: number | string;
    }>`select count(*) as n from ${sql.table(t.name)} where release_id = ${releaseId}`.execute(db);
    out[t.name] = Number(r.rows[0]?.n ?? 0);
  }
  return out;
}

/** Every record read must be a row stored: a mismatch means lost data, and fails the import. */
function checkCounts(source: string, files: DmdImportSummary['files'], tables: Record<string, number>): void {
  const read: Record<string, number> = {};
  for (const f of files) {
    for (const [section, n] of Object.entries(f.records)) {
      const t = tableOf({ kind: f.kind, section } as DmdRecord).name;
      read[t] = (read[t] ?? 0) + n;
    }
  }
  for (const t of DMD_TABLES) {
    const want = read[t.name] ?? 0;
    const got = tables[t.name] ?? 0;
    if (want !== got) throw new DmdImportError(source, `${t.name}: read ${want} records but stored ${got}`);
  }
}

/**
 * Relationships of the data model (NHSBSA Technical Specification of data files R2 v3.1 §2) whose
 * target is missing from the release.
 */
const REFERENCES: readonly { from: string; column: string; to: string; key: string }[] = [
  { from: 'dmd_vmp', column: 'vtmid', to: 'dmd_vtm', key: 'vtmid' },
  { from: 'dmd_amp', column: 'vpid', to: 'dmd_vmp', key: 'vpid' },
  { from: 'dmd_vmpp', column: 'vpid', to: 'dmd_vmp', key: 'vpid' },
  { from: 'dmd_ampp', column: 'apid', to: 'dmd_amp', key: 'apid' },
  { from: 'dmd_ampp', column: 'vppid', to: 'dmd_vmpp', key: 'vppid' },
  { from: 'dmd_vpi', column: 'isid', to: 'dmd_ingredient', key: 'isid' },
  { from: 'dmd_ap_ingredient', column: 'isid', to: 'dmd_ingredient', key: 'isid' },
  { from: 'dmd_vmpp_comb_content', column: 'prntvppid', to: 'dmd_vmpp', key: 'vppid' },
  { from: 'dmd_vmpp_comb_content', column: 'chldvppid', to: 'dmd_vmpp', key: 'vppid' },
  { from: 'dmd_ampp_comb_content', column: 'prntappid', to: 'dmd_ampp', key: 'appid' },
  { from: 'dmd_ampp_comb_content', column: 'chldappid', to: 'dmd_ampp', key: 'appid' },
  { from: 'dmd_gtin', column: 'amppid', to: 'dmd_ampp', key: 'appid' },
];

async function danglingReferences(db: Kysely<Database>, releaseId: number): Promise<string[]> {
  const warnings: string[] = [];
  for (const ref of REFERENCES) {
    const r = await sql<{ n: number | string }>`
      select count(*) as n from ${sql.table(ref.from)} a
      where a.release_id = ${releaseId} and ${sql.ref(`a.${ref.column}`)} is not null
        and not exists (select 1 from ${sql.table(ref.to)} b
                        where b.release_id = ${releaseId} and ${sql.ref(`b.${ref.key}`)} = ${sql.ref(`a.${ref.column}`)})`.execute(
      db,
    );
    const n = Number(r.rows[0]?.n ?? 0);
    if (n > 0) warnings.push(`${n} ${ref.from}.${ref.column} value(s) name no ${ref.to} row`);
  }
  return warnings;
}

/** The switch: in one transaction the new release becomes active and the old one superseded. */
async function activate(
  store: Store,
  releaseId: number,
  summary: { files: unknown; tables: unknown; warnings: string[] },
  now: () => Date,
): Promise<number | null> {
  const stamp = now().toISOString();
  return store.db.transaction().execute(async (trx) => {
    const own = await trx
      .selectFrom('dmd_releases')
      .select('status')
      .where('id', '=', releaseId)
      .executeTakeFirst();
    // Taken for dead (a stall longer than the stale limit) and cleared by another import.
    if (own?.status !== 'importing')
      throw new Error(`release ${releaseId} was marked ${own?.status ?? 'deleted'} by another import`);
    const previous = await trx
      .selectFrom('dmd_releases')
      .select('id')
      .where('status', '=', 'active')
      .executeTakeFirst();
    if (previous) {
      await trx
        .updateTable('dmd_releases')
        .set({ status: 'superseded' })
        .where('id', '=', previous.id)
        .execute();
    }
    await trx
      .updateTable('dmd_releases')
      .set({ status: 'active', finished_at: stamp, heartbeat_at: stamp, summary: JSON.stringify(summary) })
      .where('id', '=', releaseId)
      .execute();
    return previous ? previous.id : null;
  });
}

async function failImport(
  store: Store,
  releaseId: number,
  error: DmdImportError,
  now: () => Date,
): Promise<void> {
  try {
    await store.db
      .updateTable('dmd_releases')
      .set({ status: 'failed', error: error.reason, finished_at: now().toISOString() })
      .where('id', '=', releaseId)
      .where('status', '=', 'importing')
      .execute();
    await purgeRelease(store, releaseId);
  } catch {
    // The store itself failed; the next import clears the rows (status stays `importing`, goes stale).
  }
}

const PURGE_BATCH = 10_000;

/**
 * Deletes a release's rows (not its history row). On SQLite in slices, so that the single
 * writer lock is never held long enough to make an audit append wait out its busy timeout.
 */
export async function purgeRelease(store: Store, releaseId: number): Promise<void> {
  for (const t of DMD_TABLES) {
    if (store.dialect === 'postgres') {
      await sql`delete from ${sql.table(t.name)} where release_id = ${releaseId}`.execute(store.db);
      continue;
    }
    for (;;) {
      const r = await sql`delete from ${sql.table(t.name)} where rowid in
        (select rowid from ${sql.table(t.name)} where release_id = ${releaseId} limit ${PURGE_BATCH})`.execute(
        store.db,
      );
      if (Number(r.numAffectedRows ?? 0) < PURGE_BATCH) break;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
