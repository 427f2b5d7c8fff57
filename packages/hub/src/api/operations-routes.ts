import type { FastifyInstance } from 'fastify';
import { jobListing } from '../jobs/job-listing.js';
import { getJob, JOB_STATUSES, JobError, type JobStatus, retryJob } from '../jobs/queue.js';
import {
  getMeshMessage,
  listMeshMessages,
  MESH_DIRECTIONS,
  MESH_MESSAGE_STATUSES,
  type MeshDirection,
  MeshLogError,
  type MeshMessageStatus,
} from '../mesh/message-log.js';
import type { Store } from '../store/database.js';
import type { AccessControl, Caller } from './authorise.js';
import { sendFhir } from './fhir-reply.js';
import {
  ANY_SCHEMA as ANY,
  guardedBy,
  oneOf,
  outcome,
  QUERY_SCHEMA as QUERY,
  type Query,
  text,
  whole,
} from './json-routes.js';

/*
 * Operations over HTTP, plain JSON for people and the console: the MESH message
 * log (`messages.read`) and the job queue (`jobs.read`, `jobs.retry`). Bodies never leave here.
 * Audit: the log and the queue hold no patient data (MESH local ids "must not contain PID",
 * mesh-api.yaml), so allowed reads are not audited; denials are (access.authorise), and so is every
 * retry, allowed or not, since it changes what the hub does.
 */

export interface OperationsRoutesOptions {
  store: Store;
  access: AccessControl;
  /** Runs a retried job now rather than at the runner's next poll. */
  notifyJobs?: () => void;
}

export async function operationsRoutes(
  app: FastifyInstance,
  options: OperationsRoutesOptions,
): Promise<void> {
  const { store, access } = options;

  // A MESH log paging cursor that names no message is the caller's mistake.
  const guarded = guardedBy(access, (e) => e instanceof MeshLogError && e.code === 'not-found');

  app.get(
    '/mesh/messages',
    {
      schema: {
        summary:
          'The MESH message log, newest first: filters mailbox, workflow, status, correlationId, direction; page with before=<last id>',
        tags: ['Operations'],
        querystring: QUERY,
        response: { 200: ANY },
      },
    },
    guarded('messages.read', async (request) => {
      const q = request.query as Query;
      const status = oneOf<MeshMessageStatus>(q, 'status', MESH_MESSAGE_STATUSES);
      const direction = oneOf<MeshDirection>(q, 'direction', MESH_DIRECTIONS);
      const mailboxId = text(q, 'mailbox');
      const workflowId = text(q, 'workflow');
      const correlationId = text(q, 'correlationId');
      const before = text(q, 'before');
      const limit = whole(q, 'limit', 1, 500) ?? 50;
      const messages = await listMeshMessages(store, {
        limit,
        ...(status && { status }),
        ...(direction && { direction }),
        ...(mailboxId && { mailboxId }),
        ...(workflowId && { workflowId }),
        ...(correlationId && { correlationId }),
        ...(before && { before }),
      });
      const last = messages.length === limit ? messages[messages.length - 1] : undefined;
      return { messages, ...(last && { next: last.id }) };
    }),
  );

  app.get(
    '/mesh/messages/:id',
    {
      schema: {
        summary: 'One MESH message of the log with its full history',
        tags: ['Operations'],
        response: { 200: ANY },
      },
    },
    guarded('messages.read', async (request, reply) => {
      const { id } = request.params as { id: string };
      const message = await getMeshMessage(store, id);
      if (!message) return sendFhir(reply, 404, outcome('not-found', `No MESH message ${id}`));
      return message;
    }),
  );

  app.get(
    '/jobs',
    {
      schema: {
        summary:
          'Jobs of the durable queue, newest first, with a count per status: filters status, kind, correlationId; limit, offset. Successful runs of periodic jobs (mesh.poll) are left out, counted per series in hiddenPeriodic, unless include=periodic or a kind or correlationId is given',
        tags: ['Operations'],
        querystring: QUERY,
        response: { 200: ANY },
      },
    },
    guarded('jobs.read', async (request) => {
      const q = request.query as Query;
      const status = oneOf<JobStatus>(q, 'status', JOB_STATUSES);
      const kind = text(q, 'kind');
      const correlationId = text(q, 'correlationId');
      const limit = whole(q, 'limit', 1, 1000) ?? 50;
      const offset = whole(q, 'offset', 0, 1_000_000);
      const include = oneOf(q, 'include', ['periodic'] as const);
      return jobListing(store, {
        limit,
        ...(status && { status }),
        ...(kind && { kind }),
        ...(correlationId && { correlationId }),
        ...(offset !== undefined && { offset }),
        ...(include === 'periodic' && { includePeriodic: true }),
      });
    }),
  );

  app.get(
    '/jobs/:id',
    {
      schema: { summary: 'One job with its history', tags: ['Operations'], response: { 200: ANY } },
    },
    guarded('jobs.read', async (request, reply) => {
      const { id } = request.params as { id: string };
      const job = await getJob(store, id);
      if (!job) return sendFhir(reply, 404, outcome('not-found', `No job ${id}`));
      return job;
    }),
  );

  app.post(
    '/jobs/:id/retry',
    {
      schema: {
        summary: 'Retry a failed or dead-lettered job now (409 for any other status)',
        tags: ['Operations'],
        response: { 200: ANY },
      },
    },
    async (request, reply) => {
      const caller = await access.authorise(request, reply, 'jobs.retry', { auditNhsNumbers: [] });
      if (!caller) return reply;
      const { id } = request.params as { id: string };
      const by = callerName(caller);
      const audit = (status: number, result: 'success' | 'not-found' | 'error', errorCode?: string) =>
        access.audit(request, {
          action: 'jobs.retry',
          caller,
          nhsNumbers: [],
          outcome: result,
          httpStatus: status,
          ...(errorCode && { errorCode }),
        });
      try {
        const job = await retryJob(store, id, { by });
        await audit(200, 'success');
        options.notifyJobs?.();
        return reply.code(200).send(job);
      } catch (error) {
        if (error instanceof JobError) {
          const status = error.code === 'not-found' ? 404 : error.code === 'not-retryable' ? 409 : 400;
          await audit(status, status === 404 ? 'not-found' : 'error', error.code);
          return sendFhir(
            reply,
            status,
            outcome(status === 404 ? 'not-found' : status === 409 ? 'conflict' : 'invalid', error.message),
          );
        }
        throw error;
      }
    },
  );
}

function callerName(caller: Caller): string {
  const p = caller.principal;
  switch (p.kind) {
    case 'api-key':
      return `api-key:${p.id}`;
    case 'clinician':
      return `clinician:${p.uid}`;
    case 'patient':
      return `patient:${p.sub}`;
    case 'admin':
      return `admin:${p.username}`;
  }
}
