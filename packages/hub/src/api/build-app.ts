import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { OperationOutcomeError } from '@junction/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { PdsPort } from '../journeys/patient-lookup.js';
import { assertJsonDepth } from '../json-body.js';
import { DmdService } from '../medicines/service.js';
import type { HubMetrics } from '../observability/metrics.js';
import { recordedPds } from '../observability/recorded-ports.js';
import { UpstreamCalls } from '../observability/upstream-calls.js';
import type { UpstreamServiceInfo } from '../observability/upstream-services.js';
import type { HubSettings } from '../settings/hub-settings.js';
import type { Store } from '../store/database.js';
import { accessHoldersRoutes } from './access-holders-routes.js';
import { type AuthRoutesOptions, authRoutes } from './auth-routes.js';
import { accessControl } from './authorise.js';
import { consoleRoutes } from './console-routes.js';
import { consoleStatic } from './console-static.js';
import { outcomeOf, sendFhir } from './fhir-reply.js';
import { type MedicineImportRoutesOptions, medicineImportRoutes } from './medicine-import-routes.js';
import { medicineRoutes } from './medicine-routes.js';
import { operationsRoutes } from './operations-routes.js';
import { overviewRoutes } from './overview-routes.js';
import { type PatientRoutesOptions, patientRoutes, safeError } from './patient-routes.js';
import { correlationIdFrom, requestIdFrom } from './request-context.js';
import { rootRoute } from './root-route.js';
import { settingsRoutes } from './settings-routes.js';
import { type SubmissionRoutesOptions, submissionRoutes } from './submission-routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** `X-Correlation-ID` of this request (the caller's or a new one); passed on to NHS APIs. */
    correlationId: string;
  }
  interface FastifyInstance {
    /** Every route the hub registered (method + URL pattern), e.g. for the authorisation-matrix test. */
    hubRoutes: readonly HubRoute[];
  }
}

export interface HubRoute {
  method: string;
  url: string;
}

export interface BuildAppOptions {
  store: Store;
  pds: PdsPort;
  metrics: HubMetrics;
  logger: Logger;
  now: () => Date;
  version?: string;
  /** Sign-in settings and relying parties; without them the sign-in routes answer "not configured". */
  auth?: Omit<AuthRoutesOptions, 'store' | 'access' | 'now'>;
  /** PDS for a signed-in person's session (user-restricted, token exchange); default: `pds`. */
  pdsForSession?: PatientRoutesOptions['pdsForSession'];
  /** The dm+d as served (default: one on `store`). */
  dmd?: DmdService;
  /** The MESH log and job queue routes: how to wake the job runner after a retry. */
  operations?: { notifyJobs?: () => void };
  /** The submitting-data journey's MESH (without it, submissions answer 503). */
  submissions?: Pick<SubmissionRoutesOptions, 'mesh' | 'onSubmitted'>;
  /** The configuration in force and the console's changes to it. */
  settings: HubSettings;
  /** The console's built bundle, served at /console/ (see console-static.ts); the hub never imports it. */
  consoleDir?: string;
  /** The recorder of NHS API calls and of requests (default: one of this app's, flushed on close). */
  calls?: UpstreamCalls;
  /** The NHS APIs the hub uses now, as the overview lists them. */
  services: () => readonly UpstreamServiceInfo[];
  /** dm+d imports over HTTP: where uploads go, their size limit, how to wake the job runner (default: ./data). */
  medicineImports?: Pick<MedicineImportRoutesOptions, 'dataDir' | 'maxUploadBytes' | 'notifyJobs'>;
}

/** A year, the value RFC 6797 section 11.2 and browsers' preload lists expect. */
const HSTS = 'max-age=31536000';

/**
 * /docs (Swagger UI) Content-Security-Policy: its page, script and styles come from the hub; the
 * UI sets inline styles on elements, so styles need 'unsafe-inline'; its schema images are data:
 * URIs. No validator badge (validatorUrl is off), no framing.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The hub's HTTP surface. Logging is done here, once per request, with the route *pattern* and
 * never the URL (an NHS number or a trace query is patient data) and never a body.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { store, metrics, now } = options;
  const version = options.version ?? '0.1.0';
  // Every NHS API call goes through the one recorder (timing, per-minute statistics, health).
  const calls = options.calls ?? new UpstreamCalls({ store, metrics, now });
  const pds = recordedPds(options.pds, calls);
  const sessionPds = options.pdsForSession;
  const publicUrl = options.auth?.publicUrl ?? 'http://127.0.0.1';
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Fastify's own request lines would carry the URL; ours (onResponse) carry the route pattern.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => requestIdFrom(req.headers),
  });

  // A DELETE has no body, but curl and HTTP libraries often send `Content-Type: application/json`
  // with it: an empty JSON body is no body there, not a 400. A body nested too deep is refused
  // before parsing (json-body.ts); anything else parses as before.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && request.method === 'DELETE') return done(null, undefined);
    try {
      assertJsonDepth(body as string);
    } catch (error) {
      return done(error as Error, undefined);
    }
    return json(request, body as string, done);
  });

  app.decorateRequest('correlationId', '');
  const routes: HubRoute[] = [];
  app.decorate('hubRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  app.addHook('onRequest', async (request, reply) => {
    request.correlationId = correlationIdFrom(request.headers);
    reply.header('x-correlation-id', request.correlationId);
    reply.header('x-request-id', request.id);
  });

  // Hygiene headers on every answer: API answers (patients, audit, settings) must not be kept by a
  // browser or shared cache, and no answer may be content-sniffed into something it is not. Static
  // files (the console, /docs assets) set their own Cache-Control and keep it. HSTS only when the
  // configured public URL is https: the hub itself listens on plain HTTP behind a TLS terminator,
  // and HSTS over plain http is ignored by browsers anyway (RFC 6797 section 8.1).
  const hsts = publicUrl.startsWith('https://');
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    if (hsts) reply.header('strict-transport-security', HSTS);
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '(unmatched)';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    // Product and console traffic; probes and scrapes would drown it.
    if (route !== '/healthz' && route !== '/metrics') calls.recordRequest(reply.statusCode);
    request.log.info(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime),
        correlationId: request.correlationId,
      },
      'request completed',
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof OperationOutcomeError) {
      return sendFhir(reply, error.status, error.outcome);
    }
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // Framework-level client errors (bad JSON, unsupported media type, …), as OperationOutcomes.
      const outcome: OperationOutcome = {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            // FHIR R4 issue types (valueset-issue-type.html): a body over the size limit is `too-long`.
            code: status === 415 ? 'not-supported' : status === 413 ? 'too-long' : 'invalid',
            diagnostics: error.message,
          },
        ],
      };
      request.log.info({ status, code: error.code }, 'client error');
      return sendFhir(reply, status, outcome);
    }
    request.log.error({ err: safeError(error) }, 'unhandled error');
    const { status: s, outcome } = outcomeOf(error);
    return sendFhir(reply, s, outcome);
  });

  app.setNotFoundHandler((_request, reply) => {
    const outcome: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'not-found',
          diagnostics: 'Unknown route: see /openapi.json for the hub API',
        },
      ],
    };
    return sendFhir(reply, 404, outcome);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Junction hub API',
        version,
        description:
          'The hub API for products. FHIR R4 resources from NHS national services; errors are OperationOutcomes. Every patient access is audited.',
      },
      components: {
        securitySchemes: {
          bearerApiKey: { type: 'http', scheme: 'bearer', description: 'Junction API key jct_…' },
          headerApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearerSession: { type: 'http', scheme: 'bearer', description: 'Session token jss_… (mobile apps)' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'junction_session' },
        },
      },
      tags: [
        { name: 'Patient', description: 'Patient lookup through PDS' },
        { name: 'Sign-in', description: 'NHS login and CIS2 sign-in; sessions' },
        {
          name: 'Medicines',
          description:
            'The NHS Dictionary of Medicines and Devices (dm+d): reference data, reads not audited',
        },
        {
          name: 'Submissions',
          description: "Readings (vital signs) sent to the patient's GP over MESH (ITK3 Send Document)",
        },
        { name: 'Operations', description: 'Health and metrics' },
        {
          name: 'Settings',
          description:
            "What the hub is connected to, and changing an NHS API's base URL or a MESH mailbox without a restart (hub admins)",
        },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  await app.register(rootRoute, { version });

  const access = accessControl({
    store,
    metrics,
    now,
    publicUrl,
    ...(options.auth?.delegationsFor && { delegationsFor: options.auth.delegationsFor }),
  });
  const patientOptions: PatientRoutesOptions = { store, pds, metrics, now, access };
  if (sessionPds) {
    patientOptions.pdsForSession = (session) => {
      const port = sessionPds(session);
      return port && recordedPds(port, calls);
    };
  }
  await app.register(patientRoutes, patientOptions);
  await app.register(submissionRoutes, { store, pds, access, now, ...options.submissions });
  await app.register(medicineRoutes, { store, dmd: options.dmd ?? new DmdService(store), access });
  await app.register(medicineImportRoutes, {
    store,
    access,
    now,
    ...(options.medicineImports ?? { dataDir: './data' }),
  });
  await app.register(operationsRoutes, { store, access, ...options.operations });
  await app.register(consoleStatic, options.consoleDir === undefined ? {} : { dir: options.consoleDir });
  const { services, settings } = options;
  await app.register(overviewRoutes, { store, access, calls, now, services });
  await app.register(consoleRoutes, {
    store,
    access,
    now,
    mailboxes: () => settings.current.mesh.mailboxes,
    adminMayGrantPatientData: settings.current.auth.adminMayGrantPatientDataScopes,
  });
  await app.register(settingsRoutes, {
    store,
    access,
    settings,
    services,
    signIn: { nhsLogin: options.auth?.nhsLogin !== undefined, cis2: options.auth?.cis2 !== undefined },
  });
  await app.register(authRoutes, {
    store,
    access,
    now,
    ...(options.auth ?? { publicUrl: 'http://127.0.0.1', returnUrls: [], sessionTtlS: 3600 }),
  });

  await app.register(accessHoldersRoutes, { access });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness, store check and upstream reachability (from recent calls)',
        tags: ['Operations'],
        response: {
          200: { type: 'object', additionalProperties: true },
          503: { type: 'object', additionalProperties: true },
        },
      },
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (_request, reply) => {
      let storeCheck: { status: 'ok' | 'fail'; dialect: string };
      try {
        await store.db.selectFrom('audit_chain_head').select('id').limit(1).execute();
        storeCheck = { status: 'ok', dialect: store.dialect };
      } catch {
        storeCheck = { status: 'fail', dialect: store.dialect };
      }
      const body = {
        status: storeCheck.status === 'ok' ? 'ok' : 'fail',
        time: now().toISOString(),
        checks: { store: storeCheck, pds: pdsHealth((await calls.lastCalls()).get('pds')) },
      };
      return reply.code(storeCheck.status === 'ok' ? 200 : 503).send(body);
    },
  );

  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['Operations'] } },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );

  if (!options.calls) app.addHook('onClose', () => calls.close());

  return app;
}

/** `/healthz`'s PDS check (shape kept from before the store-backed statistics). */
function pdsHealth(last: { at: string; reachable: boolean; status?: number } | undefined): {
  status: 'unknown' | 'reachable' | 'unreachable';
  lastCallAt?: string;
  lastStatus?: number;
} {
  if (!last) return { status: 'unknown' };
  const s = {
    status: last.reachable ? ('reachable' as const) : ('unreachable' as const),
    lastCallAt: last.at,
  };
  return last.status === undefined ? s : { ...s, lastStatus: last.status };
}
