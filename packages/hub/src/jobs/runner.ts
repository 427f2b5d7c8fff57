import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../store/database.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { claimJobs, completeJob, failJob, type Job, type JobLease, releaseJob, renewLease } from './queue.js';

/** What a handler learns about the attempt it runs. */
export interface JobContext {
  jobId: string;
  kind: string;
  /** 1 for the first execution, 2 for the next, … (several executions may run the same effect). */
  attempt: number;
  /** The job's idempotency key, or its id when it was enqueued without one. */
  idempotencyKey: string;
  correlationId: string;
  /** The runner executing it. */
  owner: string;
  /** Aborted when the lease is lost (another runner may take the job) or the runner stops. */
  signal: AbortSignal;
}

/**
 * Does a job's work and resolves to its result (stored as JSON). Throwing fails the attempt: it is
 * retried with backoff, or dead-lettered when attempts run out or the error is a
 * `PermanentJobError`. Execution is at least once: make the effect idempotent with
 * `ctx.idempotencyKey` (e.g. a MESH local id), as a lost lease or a crash can run it again.
 */
export type JobHandler = (job: Job, ctx: JobContext) => Promise<unknown>;

/** Thrown by a handler when retrying cannot help (bad payload, a refusal): dead-letter at once. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

/** pino-compatible. */
export interface JobRunnerLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface JobRunnerOptions {
  /** Handlers by job kind; the runner claims only these kinds. */
  handlers: Record<string, JobHandler>;
  /** Unique per runner (default `host/pid/random`). */
  owner?: string;
  /** How long a claim lasts without renewal (default 30 s). A crashed runner's jobs wait this long. */
  leaseMs?: number;
  /** Heartbeat interval while a handler runs (default a third of `leaseMs`). */
  renewEveryMs?: number;
  /** Wait between looks at an empty queue (default 1 s); `notify()` looks at once. */
  pollMs?: number;
  /** Jobs run at once by this runner (default 4). */
  concurrency?: number;
  backoff?: BackoffOptions;
  /** How long `stop()` lets running handlers finish before releasing their jobs (default 10 s). */
  stopGraceMs?: number;
  /** Clock for leases, run times and history (tests inject one). */
  now?: () => Date;
  /** Jitter source in [0, 1) (tests inject one). */
  random?: () => number;
  logger?: JobRunnerLogger;
}

export type JobOutcome = 'succeeded' | 'failed' | 'dead' | 'refused' | 'released' | 'error';

export interface RunOnceSummary {
  claimed: number;
  outcomes: Record<JobOutcome, number>;
}

interface Active {
  lease: JobLease;
  controller: AbortController;
  done: Promise<JobOutcome>;
  released: boolean;
}

const stderrLogger: JobRunnerLogger = {
  warn: (obj, msg) => process.stderr.write(`[junction jobs] ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`[junction jobs] ${msg} ${JSON.stringify(obj)}\n`),
};

/**
 * Works the job queue: claims due jobs of its kinds under a lease, renews the lease while each
 * handler runs, and records the outcome (only while it still holds the lease). Any number of
 * runners, in one process or on several hub instances sharing a PostgreSQL, may work one queue.
 * @example
 * const runner = new JobRunner(store, { handlers: { 'mesh.send': sendMessage }, concurrency: 8 });
 * runner.start();
 * process.on('SIGTERM', () => void runner.stop().then(() => store.close()));
 */
export class JobRunner {
  readonly owner: string;
  private readonly handlers: Record<string, JobHandler>;
  private readonly kinds: string[];
  private readonly leaseMs: number;
  private readonly renewEveryMs: number;
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly stopGraceMs: number;
  private readonly backoff: BackoffOptions;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly logger: JobRunnerLogger;
  private readonly active = new Map<string, Active>();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private expiredLookedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Pick<Store, 'db' | 'dialect'>,
    options: JobRunnerOptions,
  ) {
    this.handlers = { ...options.handlers };
    this.kinds = Object.keys(this.handlers);
    this.owner = options.owner ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.leaseMs = positive('leaseMs', options.leaseMs ?? 30_000);
    this.renewEveryMs = positive(
      'renewEveryMs',
      options.renewEveryMs ?? Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    if (this.renewEveryMs >= this.leaseMs) throw new RangeError('renewEveryMs must be shorter than leaseMs');
    this.pollMs = positive('pollMs', options.pollMs ?? 1_000);
    this.concurrency = positive('concurrency', options.concurrency ?? 4);
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    this.backoff = options.backoff ?? {};
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? stderrLogger;
  }

  /** Jobs this runner is executing now. */
  get running(): number {
    return this.active.size;
  }

  /** Starts working the queue in the background. Idempotent. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.pump();
  }

  /** Looks at the queue now instead of at the next poll (e.g. after enqueuing in this process). */
  notify(): void {
    this.wakeUp?.();
  }

  /**
   * Stops claiming, lets running handlers finish for up to `graceMs`, then aborts the rest and
   * releases their jobs (due again at once for another runner). Resolves when done.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    this.stopping = true;
    this.wakeUp?.();
    await loop;
    const pending = [...this.active.values()];
    if (pending.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        Promise.allSettled(pending.map((a) => a.done)).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), options.graceMs ?? this.stopGraceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!finished) {
        for (const a of this.active.values()) {
          // Released first, aborted after: the handler's reaction to the abort records nothing.
          a.released = true;
          try {
            await releaseJob(
              this.store,
              a.lease,
              `runner ${this.owner} stopped before the handler finished`,
              {
                now: this.now,
              },
            );
          } catch (error) {
            this.logger.error({ jobId: a.lease.jobId, err: message(error) }, 'could not release a job');
          }
          a.controller.abort(new Error('the job runner is stopping'));
        }
      }
    }
    this.loop = undefined;
  }

  /**
   * One pass for tests and tools: claims up to `concurrency` due jobs, runs them to the end and
   * reports what happened. Do not mix with `start()`.
   */
  async runOnce(): Promise<RunOnceSummary> {
    const jobs = await this.claim(this.concurrency);
    const outcomes = await Promise.all(jobs.map((job) => this.launch(job)));
    const summary: RunOnceSummary = {
      claimed: jobs.length,
      outcomes: { succeeded: 0, failed: 0, dead: 0, refused: 0, released: 0, error: 0 },
    };
    for (const o of outcomes) summary.outcomes[o]++;
    return summary;
  }

  private claim(limit: number, always = true): Promise<Job[]> {
    // Expired leases are looked for on every pass of runOnce, and at most once per poll interval
    // while the loop is busy (they can only appear at lease granularity anyway).
    const at = performance.now();
    const includeExpired = always || at - this.expiredLookedAt >= this.pollMs;
    if (includeExpired) this.expiredLookedAt = at;
    return claimJobs(this.store, {
      owner: this.owner,
      kinds: this.kinds,
      limit,
      leaseMs: this.leaseMs,
      now: this.now,
      includeExpired,
    });
  }

  private async pump(): Promise<void> {
    while (!this.stopping) {
      const free = this.concurrency - this.active.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const jobs = await this.claim(free, false);
          claimed = jobs.length;
          for (const job of jobs) void this.launch(job);
        } catch (error) {
          this.logger.error({ owner: this.owner, err: message(error) }, 'could not claim jobs; retrying');
        }
      }
      if (this.stopping) break;
      // Every slot busy: wait for one to free. Queue drained (fewer than asked): poll later.
      const full = this.active.size >= this.concurrency;
      if (full || claimed < free) await this.sleep(full ? undefined : this.pollMs);
      // Let the completions that are already under way land, so one claim fills several slots.
      if (full) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private sleep(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      const wake = () => done();
      this.wakeUp = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).then(() => {
      this.wakeUp = undefined;
    });
  }

  private launch(job: Job): Promise<JobOutcome> {
    const lease: JobLease = { jobId: job.id, owner: this.owner, attempt: job.attempts };
    const active: Active = {
      lease,
      controller: new AbortController(),
      done: Promise.resolve('error'),
      released: false,
    };
    this.active.set(job.id, active);
    active.done = this.execute(job, active).finally(() => {
      this.active.delete(job.id);
      this.wakeUp?.();
    });
    return active.done;
  }

  private async execute(job: Job, active: Active): Promise<JobOutcome> {
    const { lease, controller } = active;
    const log = { jobId: job.id, kind: job.kind, attempt: lease.attempt, correlationId: job.correlationId };
    let renewing = false;
    const heartbeat = setInterval(() => {
      if (renewing) return;
      renewing = true;
      renewLease(this.store, lease, this.leaseMs, { now: this.now })
        .then((held) => {
          if (!held && !controller.signal.aborted) {
            this.logger.warn(log, 'job lease lost; another runner may take the job');
            controller.abort(new Error('the job lease was lost'));
          }
        })
        .catch((error) => this.logger.warn({ ...log, err: message(error) }, 'could not renew a job lease'))
        .finally(() => {
          renewing = false;
        });
    }, this.renewEveryMs);
    heartbeat.unref();

    const handler = this.handlers[job.kind];
    const ctx: JobContext = {
      jobId: job.id,
      kind: job.kind,
      attempt: lease.attempt,
      idempotencyKey: job.idempotencyKey ?? job.id,
      correlationId: job.correlationId,
      owner: this.owner,
      signal: controller.signal,
    };
    let result: unknown;
    let failure: unknown;
    let failed = false;
    try {
      if (!handler) throw new PermanentJobError(`no handler for job kind ${job.kind}`);
      result = await handler(job, ctx);
    } catch (error) {
      failed = true;
      failure = error;
    } finally {
      clearInterval(heartbeat);
    }
    // Given back by stop(): the job is another runner's now.
    if (active.released) return 'released';
    try {
      if (!failed) {
        let recorded: boolean;
        try {
          recorded = await completeJob(this.store, lease, result, { now: this.now });
        } catch (error) {
          if (!(error instanceof TypeError)) throw error;
          // JSON.stringify refused the result (a cycle, a BigInt): the attempt failed.
          failed = true;
          failure = new Error(`the handler's result cannot be stored as JSON: ${error.message}`);
          recorded = false;
        }
        if (!failed) {
          if (!recorded) this.logger.warn(log, 'job finished after losing its lease; result not recorded');
          return recorded ? 'succeeded' : active.released ? 'released' : 'refused';
        }
      }
      const permanent = failure instanceof PermanentJobError;
      const retryAt = permanent
        ? null
        : new Date(this.now().getTime() + backoffDelay(lease.attempt, this.backoff, this.random));
      const outcome = await failJob(this.store, lease, message(failure), { now: this.now, retryAt });
      if (outcome !== 'refused')
        this.logger.warn({ ...log, err: message(failure), outcome }, 'job attempt failed');
      return outcome === 'refused' && active.released ? 'released' : outcome;
    } catch (error) {
      // The store is unreachable: the lease runs out and the job is claimed again (at least once).
      this.logger.error({ ...log, err: message(error) }, 'could not record a job outcome');
      return 'error';
    }
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}

function message(error: unknown): string {
  if (error instanceof Error)
    return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
  return String(error);
}
