import type { FastifyInstance } from 'fastify';
import {
  BUCKET_COLUMNS,
  type LastCall,
  quantileFromBuckets,
  readHttpMinutes,
  readUpstreamMinutes,
} from '../observability/operations-stats.js';
import type { UpstreamCalls } from '../observability/upstream-calls.js';
import type { UpstreamServiceInfo } from '../observability/upstream-services.js';
import type { Store } from '../store/database.js';
import type { AccessControl } from './authorise.js';
import { sendFhir } from './fhir-reply.js';
import { outcome } from './json-routes.js';

/*
 * GET /operations/overview (the console's Overview page): each NHS API the hub uses, its
 * environment, health, and traffic over a window, plus the hub's own requests, from the per-minute
 * rows every hub instance adds to (`src/observability`). No patient data: allowed reads are not
 * audited, denials are (access.authorise).
 */

export interface OverviewRoutesOptions {
  store: Store;
  access: AccessControl;
  calls: UpstreamCalls;
  services: () => readonly UpstreamServiceInfo[];
  now: () => Date;
}

/** Window → width of one point of the series (60, 72 and 96 points). */
export const OVERVIEW_WINDOWS = { '1h': 60, '6h': 300, '24h': 900 } as const;
export type OverviewWindow = keyof typeof OVERVIEW_WINDOWS;
const WINDOW_MS: Record<OverviewWindow, number> = { '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000 };

export interface ServiceOverview extends UpstreamServiceInfo {
  health: 'reachable' | 'unreachable' | 'unknown';
  lastCallAt?: string;
  calls: number;
  failures: number;
  /** failures / calls, 0 without calls. */
  errorRate: number;
  latencyMs: { p50: number; p95: number; max: number } | null;
  series: { at: string; calls: number; failures: number; p95Ms: number | null }[];
}

export interface Overview {
  generatedAt: string;
  window: { from: string; to: string; bucketSeconds: number };
  services: ServiceOverview[];
  /** `errors`: answers with a 5xx status (the hub failing); 4xx are counted per point as `clientErrors`. */
  hub: {
    requests: number;
    errors: number;
    series: { at: string; requests: number; clientErrors: number; serverErrors: number }[];
  };
}

interface Acc {
  calls: number;
  failures: number;
  maxMs: number;
  buckets: number[];
}

const emptyAcc = (): Acc => ({ calls: 0, failures: 0, maxMs: 0, buckets: BUCKET_COLUMNS.map(() => 0) });

function addTo(acc: Acc, m: { calls: number; failures: number; latencyMaxMs: number; buckets: number[] }) {
  acc.calls += m.calls;
  acc.failures += m.failures;
  acc.maxMs = Math.max(acc.maxMs, m.latencyMaxMs);
  acc.buckets = acc.buckets.map((c, i) => c + (m.buckets[i] ?? 0));
}

/** The overview over `window` ending with the point that holds `now`, from the store. */
export async function buildOverview(
  store: Store,
  options: {
    services: readonly UpstreamServiceInfo[];
    lastCalls: Map<string, LastCall>;
    window: OverviewWindow;
    now: Date;
  },
): Promise<Overview> {
  const bucketMs = OVERVIEW_WINDOWS[options.window] * 1000;
  const points = WINDOW_MS[options.window] / bucketMs;
  const end = Math.floor(options.now.getTime() / bucketMs) * bucketMs + bucketMs;
  const from = end - WINDOW_MS[options.window];
  const fromIso = new Date(from).toISOString();
  const endIso = new Date(end).toISOString();
  const at = (i: number) => new Date(from + i * bucketMs).toISOString();
  const indexOf = (minute: string) => Math.floor((Date.parse(minute) - from) / bucketMs);

  const upstream = await readUpstreamMinutes(store, fromIso, endIso);
  const http = await readHttpMinutes(store, fromIso, endIso);

  const services = options.services.map((info): ServiceOverview => {
    const total = emptyAcc();
    const perPoint = Array.from({ length: points }, emptyAcc);
    for (const m of upstream) {
      if (m.service !== info.id) continue;
      addTo(total, m);
      const p = perPoint[indexOf(m.minute)];
      if (p) addTo(p, m);
    }
    const last = options.lastCalls.get(info.id);
    const out: ServiceOverview = {
      ...info,
      health: last && last.at >= fromIso ? (last.reachable ? 'reachable' : 'unreachable') : 'unknown',
      calls: total.calls,
      failures: total.failures,
      errorRate: total.calls === 0 ? 0 : total.failures / total.calls,
      latencyMs:
        total.calls === 0
          ? null
          : {
              p50: quantileFromBuckets(total.buckets, 0.5, total.maxMs) ?? 0,
              p95: quantileFromBuckets(total.buckets, 0.95, total.maxMs) ?? 0,
              max: Math.round(total.maxMs * 10) / 10,
            },
      series: perPoint.map((p, i) => ({
        at: at(i),
        calls: p.calls,
        failures: p.failures,
        p95Ms: quantileFromBuckets(p.buckets, 0.95, p.maxMs),
      })),
    };
    if (last) out.lastCallAt = last.at;
    return out;
  });

  const hubSeries = Array.from({ length: points }, (_, i) => ({
    at: at(i),
    requests: 0,
    clientErrors: 0,
    serverErrors: 0,
  }));
  for (const h of http) {
    const p = hubSeries[indexOf(h.minute)];
    if (!p) continue;
    p.requests += h.requests;
    p.clientErrors += h.clientErrors;
    p.serverErrors += h.serverErrors;
  }
  return {
    generatedAt: options.now.toISOString(),
    window: { from: fromIso, to: options.now.toISOString(), bucketSeconds: bucketMs / 1000 },
    services,
    hub: {
      requests: hubSeries.reduce((n, p) => n + p.requests, 0),
      errors: hubSeries.reduce((n, p) => n + p.serverErrors, 0),
      series: hubSeries,
    },
  };
}

export async function overviewRoutes(app: FastifyInstance, options: OverviewRoutesOptions): Promise<void> {
  const { store, access, calls, services, now } = options;

  app.get<{ Querystring: { window?: string } }>(
    '/operations/overview',
    {
      schema: {
        summary: 'NHS APIs the hub uses (environment, health, latency, errors) and its traffic over a window',
        description:
          'From the per-minute statistics every hub instance writes (about every 10 s). window: 1h (1-minute points), 6h (5-minute) or 24h (15-minute). Needs operations.read.',
        tags: ['Operations'],
        querystring: {
          type: 'object',
          properties: { window: { type: 'string', enum: Object.keys(OVERVIEW_WINDOWS) } },
        },
        response: { 200: { type: 'object', additionalProperties: true } },
      },
      // Validation is ours (an OperationOutcome), and the body is sent as built.
      validatorCompiler: () => () => true,
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (request, reply) => {
      const caller = await access.authorise(request, reply, 'operations.read', { auditNhsNumbers: [] });
      if (!caller) return reply;
      const window = request.query.window ?? '1h';
      if (!Object.hasOwn(OVERVIEW_WINDOWS, window)) {
        return sendFhir(
          reply,
          400,
          outcome('invalid', `Parameter 'window' must be one of ${Object.keys(OVERVIEW_WINDOWS).join(', ')}`),
        );
      }
      // This instance's latest seconds too; other instances' arrive within their flush interval.
      await calls
        .flush()
        .catch((error: unknown) =>
          request.log.warn({ error: (error as Error).message }, 'stats flush failed'),
        );
      const overview = await buildOverview(store, {
        services: services(),
        lastCalls: await calls.lastCalls(),
        window: window as OverviewWindow,
        now: now(),
      });
      return reply.send(overview);
    },
  );
}
