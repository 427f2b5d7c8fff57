import type { MeshMailboxMatch, RequestContext } from '@junction/client';
import type { MeshMailboxConfig } from '../../config/load-config.js';
import type { HubJobs } from '../../jobs/hub-jobs.js';
import { PermanentJobError } from '../../jobs/runner.js';
import type { MeshService } from '../../mesh/mesh-service.js';
import { sendMeshMessage } from '../../mesh/message-log.js';
import type { Store } from '../../store/database.js';
import { SEND_DOCUMENT_ACK_WORKFLOW, SEND_DOCUMENT_WORKFLOW } from './itk-message.js';
import type { SubmissionMeshPort } from './mesh-port.js';
import { WEBHOOK_JOB_KIND } from './submissions.js';
import { applyMeshStatus, handleItkAck, ItkAckParseError } from './tracking.js';
import { webhookJobHandler } from './webhooks.js';

export interface EndpointLookup {
  endpointLookup(odsCode: string, workflowId: string, ctx?: RequestContext): Promise<MeshMailboxMatch[]>;
  close?(): Promise<void>;
}

export interface WireSubmissionsOptions {
  store: Store;
  jobs: HubJobs;
  mesh: MeshService;
  mailboxes: readonly MeshMailboxConfig[];
  /** MESH endpoint lookup as a mailbox (a MeshClient). */
  lookupFor: (mailbox: MeshMailboxConfig) => EndpointLookup;
  now: () => Date;
  /** fetch for webhook POSTs. */
  fetch?: typeof fetch;
}

export interface WiredSubmissions {
  /** The port for the routes, or undefined when no mailbox is configured. */
  port: SubmissionMeshPort | undefined;
  close(): Promise<void>;
}

/**
 * Connects the journey to the hub's MESH layer and job queue (call before the runner starts):
 * - sending mailbox: the first configured mailbox that collects GPFED_CONSULT_REPORT_ACK (its
 *   `workflows` list it, or it has no list: the ITK3 responses come back to it), else none — then
 *   submissions answer 503;
 * - `sendMeshMessage` in the submission's transaction;
 * - a status handler for GPFED_CONSULT_REPORT (durable `mesh.status` jobs): sent / delivered /
 *   acknowledged-in-MESH / failed move the submission;
 * - an inbound handler for GPFED_CONSULT_REPORT_ACK (`mesh.inbound` jobs, before the MESH ack):
 *   ITK3 responses; a body that is not one is dead-lettered (PermanentJobError), never retried;
 * - the `submission.webhook` job handler.
 */
export function wireSubmissions(options: WireSubmissionsOptions): WiredSubmissions {
  const { store, jobs, mesh, now } = options;
  jobs.register(
    WEBHOOK_JOB_KIND,
    webhookJobHandler(options.fetch ? { store, now, fetch: options.fetch } : { store, now }),
  );
  mesh.registerStatusHandler(SEND_DOCUMENT_WORKFLOW, async (message) => {
    const detail = [message.dts?.event, message.dts?.code, message.error].filter(Boolean).join(' ');
    const result = await applyMeshStatus(
      store,
      {
        messageLogId: message.id,
        status: message.status,
        ...(message.meshMessageId ? { meshMessageId: message.meshMessageId } : {}),
        ...(detail ? { detail } : {}),
      },
      now,
    );
    if (result?.webhookJobId) jobs.notify();
    return { submissionId: result?.submission.id ?? null, changed: result?.changed ?? false };
  });
  mesh.registerInboundHandler(SEND_DOCUMENT_ACK_WORKFLOW, async (_message, body) => {
    try {
      const outcome = await handleItkAck(store, await body.text(), now);
      if (outcome.changed) jobs.notify();
      return outcome;
    } catch (error) {
      if (error instanceof ItkAckParseError) throw new PermanentJobError(error.message);
      throw error;
    }
  });

  const mailbox =
    options.mailboxes.find((m) => !m.workflows || m.workflows.includes(SEND_DOCUMENT_ACK_WORKFLOW)) ??
    undefined;
  if (!mailbox) return { port: undefined, close: async () => {} };
  let lookup: EndpointLookup | undefined;
  const port: SubmissionMeshPort = {
    mailboxId: mailbox.mailboxId,
    endpointLookup(ods, workflowId, ctx) {
      lookup ??= options.lookupFor(mailbox);
      return lookup.endpointLookup(ods, workflowId, ctx);
    },
    async send(tx, input) {
      const out = await sendMeshMessage(tx, input, { now });
      return out;
    },
  };
  return {
    port,
    async close() {
      await lookup?.close?.();
    },
  };
}
