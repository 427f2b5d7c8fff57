export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export type { HubJobsOptions } from './hub-jobs.js';
export {
  type HiddenPeriodicSeries,
  type JobListing,
  type JobListingOptions,
  jobListing,
} from './job-listing.js';
export {
  type ClaimJobsOptions,
  claimJobs,
  completeJob,
  countJobs,
  DEFAULT_MAX_ATTEMPTS,
  type EnqueuedJob,
  type EnqueueJobInput,
  enqueueJob,
  type FailJobOptions,
  failJob,
  getJob,
  JOB_EVENT_TYPES,
  JOB_STATUSES,
  type Job,
  JobError,
  type JobEvent,
  type JobEventType,
  type JobLease,
  type JobStatus,
  type JobWithEvents,
  type ListJobsOptions,
  listJobs,
  type RetryJobOptions,
  releaseJob,
  renewLease,
  retryJob,
} from './queue.js';
export {
  DAY_MS,
  PERIODIC_SUCCESS_KEPT_MS,
  type PurgeJobsOptions,
  type PurgeJobsSummary,
  purgeJobs,
} from './retention.js';
export {
  type JobContext,
  type JobHandler,
  type JobOutcome,
  JobRunner,
  type JobRunnerLogger,
  type JobRunnerOptions,
  PermanentJobError,
  type RunOnceSummary,
} from './runner.js';
