import type { Store } from '../store/database.js';
import { DAY_MS, type PurgeJobsSummary, purgeJobs } from './retention.js';
import { type JobHandler, JobRunner, type JobRunnerOptions } from './runner.js';

export interface HubJobsOptions extends Omit<JobRunnerOptions, 'handlers'> {
  /**
   * The retention sweep (`purgeJobs`): succeeded jobs, and dead periodic runs, older than
   * `retentionDays` are deleted; periodic runs also once a later run of their series succeeded.
   * Absent, or `retentionDays` 0: every job is kept forever.
   */
  retention?: {
    retentionDays: number;
    /** Between two sweeps (default 10 minutes). */
    sweepEveryMs?: number;
    /** Jobs deleted per transaction (default 500). */
    batchSize?: number;
  };
}

const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * The hub's job runner, built once every part of the hub has registered its handlers: the hub
 * starts it (unless told not to) and stops it on close. While started it also sweeps finished jobs
 * away on a schedule (`retention`).
 * @example
 * hub.jobs.register('submission.lookup', handler); // before the hub starts the runner
 */
export class HubJobs {
  private readonly handlers: Record<string, JobHandler> = {};
  private current: JobRunner | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<PurgeJobsSummary> | undefined;

  constructor(
    private readonly store: Pick<Store, 'db' | 'dialect'>,
    private readonly options: HubJobsOptions = {},
  ) {}

  /** Adds the handler of a job kind; refused once the runner exists. */
  register(kind: string, handler: JobHandler): void {
    if (this.current) throw new Error(`job handlers are fixed once the runner is built (${kind})`);
    if (this.handlers[kind]) throw new Error(`a handler for job kind ${kind} is already registered`);
    this.handlers[kind] = handler;
  }

  /** The kinds with a handler. */
  get kinds(): string[] {
    return Object.keys(this.handlers);
  }

  /** The runner (built on first use with the handlers registered so far). */
  get runner(): JobRunner {
    const { retention: _retention, ...runnerOptions } = this.options;
    this.current ??= new JobRunner(this.store, { ...runnerOptions, handlers: { ...this.handlers } });
    return this.current;
  }

  /** Starts the runner and, when retention is on, the sweep schedule. */
  start(): void {
    this.runner.start();
    const every = this.options.retention?.sweepEveryMs ?? SWEEP_EVERY_MS;
    if (this.retentionMs > 0 && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => {
        this.sweep().catch((error: unknown) => {
          this.options.logger?.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'job retention sweep failed; the next one tries again',
          );
        });
      }, every);
      this.sweepTimer.unref();
    }
  }

  /**
   * Deletes what retention lets go now (what the schedule does every 10 minutes). A sweep already
   * under way in this process is joined, not doubled.
   */
  sweep(): Promise<PurgeJobsSummary> {
    this.sweeping ??= purgeJobs(this.store, {
      retentionMs: this.retentionMs,
      ...(this.options.now ? { now: this.options.now } : {}),
      ...(this.options.retention?.batchSize ? { batchSize: this.options.retention.batchSize } : {}),
    }).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  /** Runs queued jobs now instead of at the next poll. */
  notify(): void {
    this.current?.notify();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.sweeping?.catch(() => {});
    await this.current?.stop();
  }

  private get retentionMs(): number {
    return (this.options.retention?.retentionDays ?? 0) * DAY_MS;
  }
}
