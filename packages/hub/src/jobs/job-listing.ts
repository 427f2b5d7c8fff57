import type { Store } from '../store/database.js';
import { JOB_STATUSES, type Job, type JobStatus, type ListJobsOptions, listJobs } from './queue.js';

/*
 * The job list as people see it (`GET /jobs`, so the console, and `junction jobs list`). A schedule
 * enqueues a periodic job again and again (`mesh.poll`: one per mailbox every 5 s, ~17k a day), so
 * their successful runs would be nearly the whole list and hide the work people look for. Those
 * runs are left out unless asked for (or a filter names a kind or a correlation id), and the list
 * says how many were left out and when each series last succeeded. Queued, running, failed and
 * dead periodic runs always show: they are work under way or work that did not happen.
 */

type Db = Pick<Store, 'db' | 'dialect'>;

/** A recurring series whose successful runs the list left out. */
export interface HiddenPeriodicSeries {
  kind: string;
  /** What each run does, e.g. `{ mailboxId: 'X26ABC1' }`: with the kind, it names the series. */
  payload: unknown;
  /** Successful runs left out. */
  succeeded: number;
  /** When the latest of them finished (ISO-8601). */
  lastSucceededAt: string | null;
}

export interface JobListingOptions extends ListJobsOptions {
  /** Also list successful runs of periodic jobs (default false). */
  includePeriodic?: boolean;
}

export interface JobListing {
  jobs: Job[];
  /** Jobs in each status, counted as listed (without the runs left out). */
  counts: Record<JobStatus, number>;
  /** The successful periodic runs left out, per series; absent when none were. */
  hiddenPeriodic?: { succeeded: number; series: HiddenPeriodicSeries[] };
}

/**
 * Jobs newest first as people look at them: successful runs of periodic jobs left out unless
 * `includePeriodic`, a `kind` or a `correlationId` is given (whoever names them wants them).
 * @example
 * const { jobs, hiddenPeriodic } = await jobListing(store, { status: 'succeeded' });
 */
export async function jobListing(store: Db, options: JobListingOptions = {}): Promise<JobListing> {
  const { includePeriodic, ...filters } = options;
  const hide = !includePeriodic && filters.kind === undefined && filters.correlationId === undefined;
  const jobs = await listJobs(store, { ...filters, ...(hide && { excludeSucceededPeriodic: true }) });

  let counted = store.db
    .selectFrom('jobs')
    .select((eb) => ['status', 'periodic', eb.fn.countAll<number | string>().as('n')])
    .groupBy(['status', 'periodic']);
  if (filters.kind !== undefined) counted = counted.where('kind', '=', filters.kind);
  if (filters.correlationId !== undefined) {
    counted = counted.where('correlation_id', '=', filters.correlationId);
  }
  const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  let hiddenSucceeded = 0;
  for (const row of await counted.execute()) {
    const status = row.status as JobStatus;
    if (hide && status === 'succeeded' && Number(row.periodic) === 1) hiddenSucceeded += Number(row.n);
    else counts[status] += Number(row.n);
  }

  const listing: JobListing = { jobs, counts };
  const shownStatuses = filters.status === undefined || filters.status === 'succeeded';
  if (hide && shownStatuses && hiddenSucceeded > 0) {
    const series = await store.db
      .selectFrom('jobs')
      .select((eb) => [
        'kind',
        'payload',
        eb.fn.countAll<number | string>().as('n'),
        eb.fn.max('finished_at').as('last'),
      ])
      .where('periodic', '=', 1)
      .where('status', '=', 'succeeded')
      .groupBy(['kind', 'payload'])
      .orderBy('kind')
      .orderBy('payload')
      .execute();
    listing.hiddenPeriodic = {
      succeeded: hiddenSucceeded,
      series: series.map((s) => ({
        kind: s.kind,
        payload: JSON.parse(s.payload) as unknown,
        succeeded: Number(s.n),
        lastSucceededAt: s.last === null ? null : String(s.last),
      })),
    };
  }
  return listing;
}
