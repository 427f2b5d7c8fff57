import { performance } from 'node:perf_hooks';
import { AuthError } from '@junction/client';
import { OperationOutcomeError } from '@junction/core';
import type { Store } from '../store/database.js';
import type { HubMetrics } from './metrics.js';
import {
  addToStore,
  BUCKET_COLUMNS,
  bucketIndexOf,
  deleteMinutesBefore,
  type HttpMinute,
  type LastCall,
  minuteOf,
  readLastCalls,
  type UpstreamMinute,
} from './operations-stats.js';

/** The NHS APIs the hub calls, as the overview names them. */
export type UpstreamService = 'pds' | 'mesh' | 'nhs-login' | 'cis2' | 'api-platform-auth';

/** How one call ended, for the statistics. */
export interface CallOutcome {
  /** The service gave an HTTP answer (even a 404); false for no answer, a timeout or 502/503/504. */
  reachable: boolean;
  /** Counts towards the error rate: no answer, a 5xx, a 429, or a refused token request. */
  failed: boolean;
  /** HTTP status, when there was one. */
  status?: number;
}

export interface UpstreamCallsOptions {
  store: Pick<Store, 'db' | 'dialect'>;
  metrics: Pick<HubMetrics, 'upstreamDuration'>;
  /** Clock for minute buckets and "last call at" (tests fix it). */
  now?: () => Date;
  /** How often `start()` writes the minutes to the store (default 10 s). */
  flushIntervalMs?: number;
  /** Rows older than this are deleted by the sweep (default 7 days). */
  retentionMs?: number;
  /** Told when a flush or sweep fails (the minutes are kept and tried again). */
  onError?: (error: unknown, what: 'flush' | 'sweep') => void;
}

const FLUSH_INTERVAL_MS = 10_000;
const RETENTION_MS = 7 * 24 * 3_600_000;
const SWEEP_EVERY_MS = 3_600_000;
/** OAuth errors that are about a person's sign-in (a reused code, a refusal), not the service. */
const PERSONAL_OAUTH_ERRORS = new Set([
  'invalid_grant',
  'access_denied',
  'login_required',
  'consent_required',
]);

/**
 * The one recorder every NHS API call goes through (PDS, MESH, NHS login, CIS2, the API platform's
 * token endpoint), and every request the hub answers. Each call is timed into the Prometheus
 * histogram at once and added to an in-memory per-service, per-minute aggregate (calls, failures,
 * latency sum, max and fixed buckets); `flush()` adds those minutes to the store, where every hub
 * instance adds to the same rows, so the console's overview is the same whichever instance answers.
 *
 * Durability: these are operational statistics, not patient data or audit. A clean close flushes;
 * a `kill -9` loses at most the last unflushed `flushIntervalMs` (10 s) of this instance's counts.
 * @example
 * const calls = new UpstreamCalls({ store, metrics });
 * calls.start();
 * const patient = await calls.time('pds', 'read', () => pds.getPatient(nhsNumber, ctx));
 * await calls.close(); // before the store closes
 */
export class UpstreamCalls {
  private readonly store: Pick<Store, 'db' | 'dialect'>;
  private readonly metrics: Pick<HubMetrics, 'upstreamDuration'>;
  private readonly now: () => Date;
  private readonly flushIntervalMs: number;
  private readonly retentionMs: number;
  private readonly onError: (error: unknown, what: 'flush' | 'sweep') => void;
  private upstream = new Map<string, UpstreamMinute>();
  private http = new Map<string, HttpMinute>();
  private last = new Map<string, LastCall>();
  /** The last call per service made by this instance (flushed or not): health without a store read. */
  private readonly lastSeen = new Map<string, LastCall>();
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastSweepMs = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(options: UpstreamCallsOptions) {
    this.store = options.store;
    this.metrics = options.metrics;
    this.now = options.now ?? (() => new Date());
    this.flushIntervalMs = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
    this.retentionMs = options.retentionMs ?? RETENTION_MS;
    this.onError = options.onError ?? (() => {});
  }

  /** Runs `call`, timing it and recording how it ended; its result or error passes through. */
  async time<T>(service: UpstreamService, operation: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await call();
      this.record(service, operation, performance.now() - started, { reachable: true, failed: false });
      return result;
    } catch (error) {
      // A local error (the request could not be sent as given) is no call and says nothing about the service.
      if (!(error instanceof OperationOutcomeError && error.local)) {
        this.record(service, operation, performance.now() - started, outcomeOf(error));
      }
      throw error;
    }
  }

  /** Records one call that took `durationMs`. */
  record(service: UpstreamService, operation: string, durationMs: number, outcome: CallOutcome): void {
    const label = outcome.failed || outcome.status !== undefined ? String(outcome.status ?? 'error') : 'ok';
    this.metrics.upstreamDuration.observe({ service, operation, outcome: label }, durationMs / 1000);
    const at = this.now();
    const minute = minuteOf(at);
    const key = `${service} ${minute}`;
    let m = this.upstream.get(key);
    if (!m) {
      m = {
        service,
        minute,
        calls: 0,
        failures: 0,
        latencySumMs: 0,
        latencyMaxMs: 0,
        buckets: BUCKET_COLUMNS.map(() => 0),
      };
      this.upstream.set(key, m);
    }
    m.calls += 1;
    if (outcome.failed) m.failures += 1;
    m.latencySumMs += durationMs;
    m.latencyMaxMs = Math.max(m.latencyMaxMs, durationMs);
    const i = bucketIndexOf(durationMs);
    m.buckets[i] = (m.buckets[i] ?? 0) + 1;
    const last: LastCall = { service, at: at.toISOString(), reachable: outcome.reachable };
    if (outcome.status !== undefined) last.status = outcome.status;
    this.last.set(service, last);
    this.lastSeen.set(service, last);
  }

  /** Records a request the hub answered with `status`. */
  recordRequest(status: number): void {
    const minute = minuteOf(this.now());
    let h = this.http.get(minute);
    if (!h) {
      h = { minute, requests: 0, clientErrors: 0, serverErrors: 0 };
      this.http.set(minute, h);
    }
    h.requests += 1;
    if (status >= 500) h.serverErrors += 1;
    else if (status >= 400) h.clientErrors += 1;
  }

  /**
   * Adds what was recorded since the last flush to the store. Flushes run one at a time; a failed
   * one puts its minutes back to be added by the next.
   */
  flush(): Promise<void> {
    const run = this.writing.then(() => this.flushNow());
    this.writing = run.catch(() => {});
    return run;
  }

  private async flushNow(): Promise<void> {
    const batch = {
      upstream: [...this.upstream.values()],
      http: [...this.http.values()],
      last: [...this.last.values()],
    };
    this.upstream = new Map();
    this.http = new Map();
    this.last = new Map();
    try {
      await addToStore(this.store, batch);
    } catch (error) {
      this.restore(batch);
      throw error;
    }
  }

  private restore(batch: { upstream: UpstreamMinute[]; http: HttpMinute[]; last: LastCall[] }): void {
    for (const m of batch.upstream) {
      const key = `${m.service} ${m.minute}`;
      const now = this.upstream.get(key);
      if (!now) {
        this.upstream.set(key, m);
        continue;
      }
      now.calls += m.calls;
      now.failures += m.failures;
      now.latencySumMs += m.latencySumMs;
      now.latencyMaxMs = Math.max(now.latencyMaxMs, m.latencyMaxMs);
      now.buckets = now.buckets.map((c, i) => c + (m.buckets[i] ?? 0));
    }
    for (const h of batch.http) {
      const now = this.http.get(h.minute);
      if (!now) {
        this.http.set(h.minute, h);
        continue;
      }
      now.requests += h.requests;
      now.clientErrors += h.clientErrors;
      now.serverErrors += h.serverErrors;
    }
    for (const l of batch.last) if (!this.last.has(l.service)) this.last.set(l.service, l);
  }

  /** Deletes stored minutes older than the retention (7 days); returns the rows deleted. */
  async sweep(): Promise<number> {
    const before = minuteOf(new Date(this.now().getTime() - this.retentionMs));
    return deleteMinutesBefore(this.store, before);
  }

  /**
   * The last call per service, any instance's (from the store, with this instance's unflushed
   * ones), or this instance's alone when the store cannot be read.
   */
  async lastCalls(): Promise<Map<string, LastCall>> {
    let stored: Map<string, LastCall>;
    try {
      stored = await readLastCalls(this.store);
    } catch {
      return new Map(this.lastSeen);
    }
    for (const [service, mine] of this.lastSeen) {
      const other = stored.get(service);
      if (!other || other.at < mine.at) stored.set(service, mine);
    }
    return stored;
  }

  /** Flushes every `flushIntervalMs` and sweeps hourly, until `close()`. */
  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      this.flush().catch((error: unknown) => this.onError(error, 'flush'));
      const t = Date.now();
      if (t - this.lastSweepMs >= SWEEP_EVERY_MS) {
        this.lastSweepMs = t;
        this.sweep().catch((error: unknown) => this.onError(error, 'sweep'));
      }
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  /** Stops the schedule and writes what is left (call before closing the store). Idempotent. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.closed) return this.writing;
    this.closed = true;
    await this.flush().catch((error: unknown) => this.onError(error, 'flush'));
  }
}

/**
 * How a failed call counts. Any HTTP answer means the service is reachable, except 502/503/504 and
 * Spine's UNABLE_TO_CALL_SERVICE; failures are those plus other 5xx, 429 and errors with no answer.
 * A token endpoint's refusal is a failure too (the hub's credentials), unless it is about a person's
 * sign-in (`invalid_grant`, `access_denied`, …).
 */
export function outcomeOf(error: unknown): CallOutcome {
  if (error instanceof OperationOutcomeError) {
    const status = error.status;
    const reachable = error.code !== 'UNABLE_TO_CALL_SERVICE' && ![502, 503, 504].includes(status);
    return { reachable, failed: !reachable || status >= 500 || status === 429, status };
  }
  if (error instanceof AuthError) {
    const status = error.status;
    const reachable =
      status === undefined ? !/unreachable/.test(error.code) : ![502, 503, 504].includes(status);
    const out: CallOutcome = { reachable, failed: !PERSONAL_OAUTH_ERRORS.has(error.code) };
    if (status !== undefined) out.status = status;
    return out;
  }
  return { reachable: false, failed: true };
}
