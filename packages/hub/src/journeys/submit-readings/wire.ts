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
  /** Its mailboxes in force (they change with the console's settings) are looked at on every submission. */
  mesh: MeshService;
  /** MESH endpoint lookup as a mailbox (a MeshClient). */
  lookupFor: (mailbox: MeshMailboxConfig) => EndpointLookup;
  now: () => Date;
  /** fetch for webhook POSTs. */
  fetch?: typeof fetch;
}

export interface WiredSubmissions {
  /** The port for the routes now, or undefined while no mailbox collects the ITK3 responses. */
  port: () => SubmissionMeshPort | undefined;
  close(): Promise<void>;
}

/**
 * Connects the journey to the hub's MESH layer and job queue (call before the runner starts):
 * - sending mailbox: the first mailbox in force that collects GPFED_CONSULT_REPORT_ACK (its
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

  // One endpoint-lookup client for the sending mailbox, made again when its settings change.
  let lookup: { mailbox: MeshMailboxConfig; client: EndpointLookup } | undefined;
  const retired: EndpointLookup[] = [];
  const lookupFor = (mailbox: MeshMailboxConfig): EndpointLookup => {
    if (lookup?.mailbox !== mailbox) {
      if (lookup) retired.push(lookup.client);
      lookup = { mailbox, client: options.lookupFor(mailbox) };
    }
    return lookup.client;
  };
  return {
    port() {
      const mailbox = mesh.mailboxes.find(
        (m) => !m.workflows || m.workflows.includes(SEND_DOCUMENT_ACK_WORKFLOW),
      );
      if (!mailbox) return undefined;
      return {
        mailboxId: mailbox.mailboxId,
        endpointLookup: (ods, workflowId, ctx) => lookupFor(mailbox).endpointLookup(ods, workflowId, ctx),
        send: (tx, input) => sendMeshMessage(tx, input, { now }),
      };
    },
    async close() {
      for (const client of [...retired, ...(lookup ? [lookup.client] : [])]) await client.close?.();
    },
  };
}
