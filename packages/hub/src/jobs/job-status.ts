/*
 * The states of a job in the durable queue (queue.ts), in a module of its own that loads nothing, so
 * that a list of them (the CLI's `jobs list --status` choices) costs no store or server.
 */

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'dead'] as const;
/** `failed`: an attempt failed and the job waits until `runAfter` to be tried again. */
export type JobStatus = (typeof JOB_STATUSES)[number];
