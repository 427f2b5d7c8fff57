import type { KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { enqueueJob } from '../jobs/queue.js';
import type { JobHandler } from '../jobs/runner.js';
import type { Store } from '../store/database.js';
import { createAuditCheckpoint } from './audit-checkpoint.js';

export const AUDIT_CHECKPOINT_JOB = 'audit.checkpoint';

export interface AuditCheckpointScheduleOptions {
  store: Store;
  /** Signs the checkpoints (loadAuditCheckpointKey); kept outside the store. */
  privateKey: KeyObject;
  /** Folder the checkpoints are written to, one file each; ship it off the machine. */
  dir: string;
  intervalMs: number;
  now: () => Date;
  /** Runs the queued job now (HubJobs.notify). */
  notify: () => void;
}

/**
 * The hub's own checkpoints: every `intervalMs` one durable `audit.checkpoint` job (one per tick
 * whatever the number of hub instances, by its idempotency key) signs the chain's head and writes
 * it to `<dir>/audit-checkpoint-<seq>-<time>.jws`.
 */
export class AuditCheckpointSchedule {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AuditCheckpointScheduleOptions) {}

  /** The job handler, to register with HubJobs. */
  get jobHandler(): JobHandler {
    return async () => {
      const { jws, checkpoint } = await createAuditCheckpoint(
        this.options.store,
        this.options.privateKey,
        this.options.now,
      );
      await mkdir(this.options.dir, { recursive: true });
      const file = join(
        this.options.dir,
        `audit-checkpoint-${checkpoint.seq}-${checkpoint.at.replaceAll(':', '')}.jws`,
      );
      await writeFile(file, `${jws}\n`);
      return { seq: checkpoint.seq, file };
    };
  }

  /** Enqueues this tick's checkpoint. */
  async enqueue(): Promise<void> {
    const tick = Math.floor(this.options.now().getTime() / this.options.intervalMs);
    const { created } = await enqueueJob(
      this.options.store,
      {
        kind: AUDIT_CHECKPOINT_JOB,
        payload: {},
        idempotencyKey: `${AUDIT_CHECKPOINT_JOB}:${tick}`,
        maxAttempts: 3,
        periodic: true,
      },
      { now: this.options.now },
    );
    if (created) this.options.notify();
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.enqueue().catch(() => {
        // The store is unreachable: the next tick tries again.
      });
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
