import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one hub instance, in its own registry (no global default registry, so
 * several hubs in one process — tests — do not collide). Labels never carry patient data: routes
 * are patterns (`/fhir/R4/Patient/:nhsNumber`), never URLs.
 */
export interface HubMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  upstreamDuration: Histogram<'service' | 'operation' | 'outcome'>;
  auditWrites: Counter<'outcome'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): HubMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'junction_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'junction_http_requests_total',
      help: 'HTTP requests answered by the hub, by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'junction_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    upstreamDuration: new Histogram({
      name: 'junction_upstream_request_duration_seconds',
      help: 'Calls to NHS APIs (including retries), by service, operation and outcome',
      labelNames: ['service', 'operation', 'outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    auditWrites: new Counter({
      name: 'junction_audit_writes_total',
      help: 'Audit records appended (outcome ok) or failed to append (outcome failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
