import {
  getJob,
  JobError,
  type JobListing,
  type JobStatus,
  type JobWithEvents,
  jobListing,
  retryJob,
} from '@junction/hub';
import { table } from '../format.js';
import { CliError, type CliIo, printJson } from '../io.js';
import type { StoreFlags } from '../store-flags.js';
import { withStore } from './store-commands.js';

/*
 * `junction jobs …`: the hub's durable job queue (packages/hub/src/jobs, migration 0005) as stored: list with
 * filters, one job with its history, and the manual retry of a failed or dead job. The store is opened where the
 * hub would open it; a running hub's runner picks a retried job up on its next claim.
 */

export interface JobsListFlags extends StoreFlags {
  status?: JobStatus;
  kind?: string;
  correlationId?: string;
  includePeriodic?: boolean;
  limit?: number;
  json?: boolean;
}

/**
 * `junction jobs list`: newest first; a count per status heads the table. Successful runs of
 * periodic jobs (a `mesh.poll` per mailbox every few seconds) are left out as the hub's `GET /jobs`
 * leaves them out (`jobListing`), with a line saying how many and when each series last succeeded.
 */
export async function jobsList(io: CliIo, flags: JobsListFlags): Promise<void> {
  const { jobs, counts, hiddenPeriodic } = await withStore(io, flags, (store) =>
    jobListing(store, {
      ...(flags.status !== undefined && { status: flags.status }),
      ...(flags.kind !== undefined && { kind: flags.kind }),
      ...(flags.correlationId !== undefined && { correlationId: flags.correlationId }),
      ...(flags.includePeriodic && { includePeriodic: true }),
      ...(flags.limit !== undefined && { limit: flags.limit }),
    }),
  );
  if (flags.json) {
    printJson(io, jobs);
    return;
  }
  const summary = Object.entries(counts)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  const lines = [`jobs${flags.kind !== undefined ? ` of kind ${flags.kind}` : ''}: ${summary}`];
  if (jobs.length === 0) {
    lines.push('no job matches');
  } else {
    lines.push(
      ...table(
        ['id', 'kind', 'status', 'attempts', 'created', 'next run / finished', 'last error'],
        jobs.map((j) => [
          j.id,
          j.kind,
          j.status,
          `${j.attempts}/${j.maxAttempts}`,
          j.createdAt,
          j.finishedAt ?? (j.status === 'running' ? `lease until ${j.leaseExpiresAt ?? '?'}` : j.runAfter),
          oneLine(j.lastError ?? '', 80),
        ]),
        [3],
      ),
    );
    const limit = flags.limit ?? 50;
    if (jobs.length >= limit) lines.push(`(first ${jobs.length}; --limit for more, up to 1000)`);
  }
  if (hiddenPeriodic) lines.push(...hiddenLines(hiddenPeriodic));
  io.stdout(`${lines.join('\n')}\n`);
}

/** What the list left out: the count, then each series (kind and payload) with its last success. */
function hiddenLines(hidden: NonNullable<JobListing['hiddenPeriodic']>): string[] {
  return [
    `not listed: ${hidden.succeeded} successful run(s) of periodic jobs (--include-periodic lists them)`,
    ...hidden.series.map(
      (s) =>
        `  ${s.kind} ${JSON.stringify(s.payload)}: ${s.succeeded}, last succeeded ${s.lastSucceededAt ?? '?'}`,
    ),
  ];
}

/** `junction jobs show <id>`: the job, its payload and result, and every event of its history. */
export async function jobsShow(io: CliIo, id: string, flags: StoreFlags & { json?: boolean }): Promise<void> {
  const job = await withStore(io, flags, (store) => getJob(store, id));
  if (!job) throw new CliError(`no job with id ${id} (see \`junction jobs list\`)`);
  if (flags.json) printJson(io, job);
  else io.stdout(formatJob(job));
}

function formatJob(job: JobWithEvents): string {
  const fields: Array<[string, string | null]> = [
    ['job', job.id],
    ['kind', job.kind],
    ['status', job.status],
    ['attempts', `${job.attempts} of ${job.maxAttempts}`],
    ['correlation id', job.correlationId],
    ['idempotency key', job.idempotencyKey],
    ['created', job.createdAt],
    ['updated', job.updatedAt],
    ['next run', job.status === 'queued' || job.status === 'failed' ? job.runAfter : null],
    ['lease', job.leaseOwner ? `${job.leaseOwner} until ${job.leaseExpiresAt ?? '?'}` : null],
    ['finished', job.finishedAt],
    ['last error', job.lastError],
    ['payload', JSON.stringify(job.payload)],
    ['result', job.result === null || job.result === undefined ? null : JSON.stringify(job.result)],
  ];
  const lines = fields
    .filter((f): f is [string, string] => f[1] !== null)
    .map(([k, v]) => `${`${k}:`.padEnd(17)}${v}`);
  lines.push('', 'history:');
  lines.push(
    ...table(
      ['at', 'event', 'attempt', 'owner', 'detail'],
      job.events.map((e) => [e.at, e.event, String(e.attempt), e.owner ?? '', oneLine(e.detail ?? '', 200)]),
      [2],
    ).map((l) => `  ${l}`),
  );
  return `${lines.join('\n')}\n`;
}

/** `junction jobs retry <id>`: a dead job gets `--attempts` more attempts (default 1); a failed one is due now. */
export async function jobsRetry(
  io: CliIo,
  id: string,
  flags: StoreFlags & { attempts?: number; json?: boolean },
): Promise<void> {
  const { before, after } = await withStore(io, flags, async (store) => {
    const before = await getJob(store, id);
    try {
      const after = await retryJob(store, id, {
        by: 'cli',
        ...(flags.attempts !== undefined && { attempts: flags.attempts }),
      });
      return { before, after };
    } catch (error) {
      if (error instanceof JobError) {
        throw new CliError(
          error.code === 'not-found' ? `no job with id ${id} (see \`junction jobs list\`)` : error.message,
        );
      }
      throw error;
    }
  });
  if (flags.json) {
    printJson(io, after);
    return;
  }
  io.stdout(
    `job ${after.id} (${after.kind}) queued again: was ${before?.status ?? 'failed'}, ` +
      `${after.maxAttempts - after.attempts} more attempt(s) allowed; a running hub runs it on its next claim\n`,
  );
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
