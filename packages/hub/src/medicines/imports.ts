import { rm, rmdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Kysely } from 'kysely';
import { enqueueJob, getJob, type Job, listJobs } from '../jobs/queue.js';
import { type JobHandler, PermanentJobError } from '../jobs/runner.js';
import type { Database, Store } from '../store/database.js';
import {
  DmdImportBusyError,
  type DmdImportColumns,
  DmdImportError,
  type DmdImportProgress,
  importDmdRelease,
} from './store/import-release.js';

/*
 * dm+d imports started over HTTP (the console's Medicines page): the uploaded zip is an
 * import job (`dmd.import`) in the durable queue; the job runs `importDmdRelease`, whose release
 * row (`dmd_releases`, with `import_id` = the job id) carries the progress, written about once a
 * second, so that any hub instance can show it. The job drives the status (queued until a runner
 * takes it); the release row gives the detail (progress, counts, the error with its file:line).
 *
 * The upload lives under the hub's data dir until the import ends (done, or failed for good), so
 * with several hub instances the data dir must be shared, as for MESH's large message bodies.
 */

export const DMD_IMPORT_JOB = 'dmd.import';
/** Between two progress writes to the release row. */
const PROGRESS_EVERY_MS = 1_000;

export type DmdImportStatus = 'queued' | 'importing' | 'active' | 'superseded' | 'failed';

export interface DmdImportPayload {
  /** The uploaded zip (absolute path under the data dir). */
  path: string;
  /** Its name as uploaded (shown), e.g. `nhsbsa_dmd_11.1.0_20251110000001.zip`. */
  fileName: string;
  bytes: number;
}

export interface DmdImportProgressView {
  /** The file being read (its name within the release). */
  file?: string;
  filesDone: number;
  filesTotal: number;
  /** Records stored so far, all files. */
  records: number;
  /** Bytes of the release read so far, as a percentage (0–100). */
  percent?: number;
}

/** An import as `GET /medicines/imports/{id}` shows it. */
export interface DmdImportView {
  id: string;
  status: DmdImportStatus;
  fileName: string;
  bytes: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  progress: DmdImportProgressView;
  /** Rows stored per table, once the release is active. */
  counts?: Record<string, number>;
  releaseId?: number;
  releaseDate?: string | null;
  correlationId: string;
}

/** Something the import routes refuse: another import queued or running. */
export class DmdImportConflictError extends Error {
  override readonly name = 'DmdImportConflictError';
}

type Db = Kysely<Database & DmdImportColumns>;
const db = (store: Pick<Store, 'db'>): Db => store.db.withTables<DmdImportColumns>();

/**
 * Why a new import cannot start now, or undefined: another HTTP import is queued or running, or a
 * CLI import is running (its heartbeat fresh). One at a time: the importer allows no other.
 */
export async function dmdImportBusy(
  store: Pick<Store, 'db' | 'dialect'>,
  options: { now?: () => Date; staleAfterMs?: number } = {},
): Promise<string | undefined> {
  const now = options.now ?? (() => new Date());
  for (const status of ['queued', 'running', 'failed'] as const) {
    const [busy] = await listJobs(store, { kind: DMD_IMPORT_JOB, status, limit: 1 });
    if (busy) {
      return `dm+d import ${busy.id} is ${status === 'running' ? 'running' : 'waiting to run'}: one import at a time`;
    }
  }
  const stale = new Date(now().getTime() - (options.staleAfterMs ?? 60_000)).toISOString();
  const running = await db(store)
    .selectFrom('dmd_releases')
    .select(['id', 'started_at'])
    .where('status', '=', 'importing')
    .where('heartbeat_at', '>', stale)
    .executeTakeFirst();
  return running
    ? `dm+d release ${running.id} has been importing since ${running.started_at}: one import at a time`
    : undefined;
}

/**
 * Queues the import of an uploaded release; refused (DmdImportConflictError) when `dmdImportBusy`.
 * Two instances racing past this check are settled by the job: the loser waits (retries with
 * backoff) until the first is done.
 */
export async function queueDmdImport(
  store: Pick<Store, 'db' | 'dialect'>,
  input: DmdImportPayload & { correlationId: string },
  options: { now?: () => Date; staleAfterMs?: number } = {},
): Promise<Job> {
  const now = options.now ?? (() => new Date());
  const busy = await dmdImportBusy(store, options);
  if (busy) throw new DmdImportConflictError(busy);
  const payload: DmdImportPayload = { path: input.path, fileName: input.fileName, bytes: input.bytes };
  const { job } = await enqueueJob(
    store,
    { kind: DMD_IMPORT_JOB, payload, correlationId: input.correlationId },
    { now },
  );
  return job;
}

/**
 * The `dmd.import` job: imports the uploaded zip with progress on its release row, then deletes the
 * upload. A bad release fails for good (dead job, the error on the release row or the job); another
 * import running makes it wait (retry with backoff); an interrupted attempt is retried and the
 * importer clears what it left.
 */
export function dmdImportJobHandler(options: {
  store: Store;
  now?: () => Date;
  /** Passed to the importer (tests: no wait before purging the superseded release). */
  retainPreviousMs?: number;
  /** Rows per transaction, passed to the importer. */
  batchRows?: number;
  /** Between two progress writes (default 1 s). */
  progressEveryMs?: number;
}): JobHandler {
  const { store } = options;
  const now = options.now ?? (() => new Date());
  return async (job, ctx) => {
    const payload = job.payload as DmdImportPayload;
    const everyMs = options.progressEveryMs ?? PROGRESS_EVERY_MS;
    const progress = progressWriter(store, job.id, everyMs);
    // The upload, then its own folder if nothing else is in it (never anything recursive).
    const cleanUp = async () => {
      await rm(payload.path, { force: true });
      await rmdir(dirname(payload.path)).catch(() => {});
    };
    try {
      const summary = await importDmdRelease(store, payload.path, {
        importId: job.id,
        signal: ctx.signal,
        onProgress: progress.update,
        now,
        progressIntervalMs: Math.min(200, everyMs),
        ...(options.retainPreviousMs !== undefined && { retainPreviousMs: options.retainPreviousMs }),
        ...(options.batchRows !== undefined && { batchRows: options.batchRows }),
      });
      await progress.done();
      await cleanUp();
      return {
        releaseId: summary.releaseId,
        releaseDate: summary.releaseDate,
        durationMs: summary.durationMs,
      };
    } catch (error) {
      await progress.done();
      if (ctx.signal.aborted) throw error; // the lease was lost or the hub stops: another attempt resumes
      const message = shownError(error, payload.path);
      if (error instanceof DmdImportBusyError && ctx.attempt < job.maxAttempts) throw new Error(message);
      await cleanUp();
      throw new PermanentJobError(message);
    }
  };
}

/** The error as people see it: the release's file:line and reason, without the data dir's path. */
function shownError(error: unknown, path: string): string {
  const text =
    error instanceof DmdImportError ? error.reason : error instanceof Error ? error.message : String(error);
  return text.replaceAll(path, basename(path)).replaceAll(`${dirname(path)}/`, '');
}

/** Writes the importer's progress to the release row at most every `everyMs`, one write at a time. */
function progressWriter(store: Store, importId: string, everyMs: number) {
  let lastWriteMs = Number.NEGATIVE_INFINITY;
  let writing: Promise<unknown> = Promise.resolve();
  let latest: DmdImportProgress | undefined;
  const perFile = new Map<number, number>();
  const view = (p: DmdImportProgress): DmdImportProgressView => {
    perFile.set(p.fileIndex, p.records);
    const done = p.bytesRead >= p.bytesTotal;
    return {
      file: p.file,
      filesDone: p.fileIndex + (done ? 1 : 0),
      filesTotal: p.fileCount,
      records: [...perFile.values()].reduce((n, r) => n + r, 0),
      percent:
        p.releaseBytesTotal === 0
          ? 0
          : Math.min(100, Math.round((1000 * p.releaseBytesRead) / p.releaseBytesTotal) / 10),
    };
  };
  const write = (p: DmdImportProgress) => {
    const json = JSON.stringify(view(p));
    writing = writing.then(() =>
      db(store)
        .updateTable('dmd_releases')
        .set({ progress: json })
        .where('import_id', '=', importId)
        .where('status', '=', 'importing')
        .execute()
        .catch(() => {}),
    );
  };
  return {
    update: (p: DmdImportProgress) => {
      latest = p;
      const t = Date.now();
      if (t - lastWriteMs < everyMs) {
        perFile.set(p.fileIndex, p.records);
        return;
      }
      lastWriteMs = t;
      write(p);
    },
    /** Waits for the writes in flight (the last one may be skipped: the row's summary takes over). */
    async done() {
      if (latest) write(latest);
      await writing;
    },
  };
}

interface ReleaseRow {
  id: number | string;
  status: string;
  release_date: string | null;
  started_at: string;
  finished_at: string | null;
  summary: string | null;
  error: string | null;
  progress: string | null;
  import_id: string | null;
}

function viewOf(job: Job, row: ReleaseRow | undefined): DmdImportView {
  const payload = job.payload as DmdImportPayload;
  let status: DmdImportStatus;
  switch (job.status) {
    case 'queued':
    case 'failed': // an attempt waits for its retry (another import was running, or the hub stopped)
      status = 'queued';
      break;
    case 'running':
      status = 'importing';
      break;
    case 'dead':
      status = 'failed';
      break;
    case 'succeeded':
      status = row?.status === 'superseded' ? 'superseded' : 'active';
      break;
  }
  const out: DmdImportView = {
    id: job.id,
    status,
    fileName: payload.fileName,
    bytes: payload.bytes,
    createdAt: job.createdAt,
    progress: { filesDone: 0, filesTotal: 0, records: 0 },
    correlationId: job.correlationId,
  };
  // A row left by an earlier, interrupted attempt tells nothing about the queued retry.
  const current = row && (status !== 'queued' || row.status === 'importing') ? row : undefined;
  if (current) {
    out.releaseId = Number(current.id);
    out.releaseDate = current.release_date;
    out.startedAt = current.started_at;
    if (current.finished_at && status !== 'importing') out.finishedAt = current.finished_at;
    if (current.progress) out.progress = JSON.parse(current.progress) as DmdImportProgressView;
    const summary = current.summary
      ? (JSON.parse(current.summary) as { tables: Record<string, number>; files: unknown[] })
      : undefined;
    if (summary && (status === 'active' || status === 'superseded')) {
      out.counts = summary.tables;
      const records = Object.values(summary.tables).reduce((n, c) => n + c, 0);
      out.progress = {
        filesDone: summary.files.length,
        filesTotal: summary.files.length,
        records,
        percent: 100,
      };
    }
  }
  if (status === 'failed') {
    // The job's last error is recorded as `<ErrorName>: <message>`; people need the message.
    const jobError = job.lastError?.replace(/^[A-Za-z]*Error: /, '');
    out.error = (current?.status === 'failed' && current.error) || jobError || 'the import failed';
    out.finishedAt ??= job.finishedAt ?? job.updatedAt;
  }
  return out;
}

async function releaseRowsOf(store: Pick<Store, 'db'>, ids: string[]): Promise<Map<string, ReleaseRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db(store)
    .selectFrom('dmd_releases')
    .select([
      'id',
      'status',
      'release_date',
      'started_at',
      'finished_at',
      'summary',
      'error',
      'progress',
      'import_id',
    ])
    .where('import_id', 'in', ids)
    .orderBy('id')
    .execute();
  // The newest row of each import (a retried attempt makes a new one).
  return new Map(rows.map((r) => [r.import_id ?? '', r]));
}

/** An import started over HTTP, or undefined. */
export async function getDmdImport(
  store: Pick<Store, 'db' | 'dialect'>,
  id: string,
): Promise<DmdImportView | undefined> {
  const job = await getJob(store, id);
  if (!job || job.kind !== DMD_IMPORT_JOB) return undefined;
  return viewOf(job, (await releaseRowsOf(store, [id])).get(id));
}

/** Imports started over HTTP, newest first. */
export async function listDmdImports(
  store: Pick<Store, 'db' | 'dialect'>,
  limit = 20,
): Promise<DmdImportView[]> {
  const jobs = await listJobs(store, { kind: DMD_IMPORT_JOB, limit });
  const rows = await releaseRowsOf(
    store,
    jobs.map((j) => j.id),
  );
  return jobs.map((job) => viewOf(job, rows.get(job.id)));
}
