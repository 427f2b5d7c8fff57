import type { MeshMailboxMatch, RequestContext } from '@junction/client';
import { enqueueJob } from '../jobs/queue.js';
import type { OutboundMeshMessage, SubmissionMeshPort } from '../journeys/submit-readings/mesh-port.js';

/**
 * Test helper (not exported from the package): the submitting-data journey's MESH port. `send`
 * enqueues a real `mesh.send` job in the caller's transaction (so atomicity with the submission is
 * exercised on both databases) and returns its id as the message log id; endpoint lookup answers
 * `<ODS>HC001` for the practices in `mailboxes` (as the sandbox names GP practice mailboxes).
 */
export interface FakeSubmissionMesh extends SubmissionMeshPort {
  sends: OutboundMeshMessage[];
  lookups: { ods: string; workflowId: string; ctx: RequestContext | undefined }[];
  /** Practices with a mailbox (default Y12345). */
  practices: Set<string>;
}

export function fakeSubmissionMesh(mailboxId = 'X26ABC1'): FakeSubmissionMesh {
  const fake: FakeSubmissionMesh = {
    mailboxId,
    sends: [],
    lookups: [],
    practices: new Set(['Y12345']),
    async endpointLookup(ods, workflowId, ctx) {
      fake.lookups.push({ ods, workflowId, ctx });
      const found: MeshMailboxMatch[] = fake.practices.has(ods)
        ? [{ mailbox_id: `${ods}HC001`, mailbox_name: `GP practice ${ods}` }]
        : [];
      return found;
    },
    async send(store, input) {
      const { job, created } = await enqueueJob(store, {
        kind: 'mesh.send',
        payload: { to: input.to, workflowId: input.workflowId, localId: input.localId },
        idempotencyKey: input.idempotencyKey,
        correlationId: input.correlationId,
      });
      if (created) fake.sends.push(input);
      return { messageLogId: job.id, created };
    },
  };
  return fake;
}
