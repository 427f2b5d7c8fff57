import type { Store } from '../store/database.js';
import { type JobHandler, JobRunner, type JobRunnerOptions } from './runner.js';

/**
 * The hub's job runner, built once every part of the hub has registered its handlers: the hub
 * starts it (unless told not to) and stops it on close.
 * @example
 * hub.jobs.register('submission.lookup', handler); // before the hub starts the runner
 */
export class HubJobs {
  private readonly handlers: Record<string, JobHandler> = {};
  private current: JobRunner | undefined;

  constructor(
    private readonly store: Pick<Store, 'db' | 'dialect'>,
    private readonly options: Omit<JobRunnerOptions, 'handlers'> = {},
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
    this.current ??= new JobRunner(this.store, { ...this.options, handlers: { ...this.handlers } });
    return this.current;
  }

  start(): void {
    this.runner.start();
  }

  /** Runs queued jobs now instead of at the next poll. */
  notify(): void {
    this.current?.notify();
  }

  async stop(): Promise<void> {
    await this.current?.stop();
  }
}
