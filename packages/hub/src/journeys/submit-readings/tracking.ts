import { appendAuditEvent } from '../../audit/append-audit-event.js';
import type { Store } from '../../store/database.js';
import { ItkAckParseError, parseItkAck } from './itk-ack.js';
import type { MeshStatusEvent } from './mesh-port.js';
import {
  findSubmissionByMessageLogId,
  findSubmissionForAck,
  noteSubmission,
  type SubmissionStatus,
  type Transition,
  type TransitionResult,
  transitionSubmission,
} from './submissions.js';

/**
 * Following a submission after the hand-over to MESH: the MESH layer's message-log status changes
 * (sent / delivered / failed) and the practice's ITK3 responses (workflow GPFED_CONSULT_REPORT_ACK).
 * Each applied change is audited (`readings.status`, the patient's NHS number, the submission's
 * correlation id), as a change to a record about a patient.
 */

/**
 * Message-log status → submission status. The MESH layer's `delivered` is "in the practice's inbox"
 * (MESH tracking `Accepted`); its `acknowledged` is the practice system having downloaded and
 * acknowledged it in MESH (not an ITK3 response): noted in the history as `downloaded`.
 */
const FROM_MESH: Record<string, SubmissionStatus | undefined> = {
  sent: 'sent',
  delivered: 'delivered',
  acknowledged: 'delivered',
  failed: 'failed',
};

export async function applyMeshStatus(
  store: Store,
  event: MeshStatusEvent,
  now: () => Date,
): Promise<TransitionResult | undefined> {
  const status = FROM_MESH[event.status];
  if (!status) return undefined;
  const submission = await findSubmissionByMessageLogId(store, event.messageLogId);
  if (!submission) return undefined;
  if (
    event.status === 'acknowledged' &&
    (submission.status === 'delivered' || submission.status === 'acknowledged')
  ) {
    await noteSubmission(store, submission.id, 'downloaded', 'the practice downloaded it from MESH', now);
    return { changed: false, submission };
  }
  const t: Transition = { status };
  if (event.meshMessageId) t.meshMessageId = event.meshMessageId;
  if (event.detail) t.detail = event.detail;
  if (status === 'failed') {
    t.errors = {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'transient',
          diagnostics: `MESH could not deliver the message to the practice mailbox${event.detail ? `: ${event.detail}` : ''}.`,
        },
      ],
    };
  }
  return audited(store, submission.id, t, now);
}

export interface AckOutcome {
  /** The submission the response was about, when one matched. */
  submissionId?: string;
  kind?: 'infrastructure' | 'business';
  ok?: boolean;
  changed: boolean;
}

/**
 * Handles one ITK3 response body (GPCM-SD-054): finds the submission by `response.identifier` (the
 * MessageHeader id sent) or the echoed SenderReference, then: a positive business response (30001)
 * → `acknowledged`; a positive infrastructure response (20013) → `delivered` (the GP system has it);
 * any negative one → `failed` with its ITK code and text. Throws ItkAckParseError for a body that is
 * not an ITK3 response (retrying cannot help).
 */
export async function handleItkAck(store: Store, xml: string, now: () => Date): Promise<AckOutcome> {
  const ack = parseItkAck(xml);
  const submission = await findSubmissionForAck(store, ack.referencedMessageId, ack.senderReference);
  if (!submission) return { changed: false, kind: ack.kind, ok: ack.ok };
  const what = `ITK3 ${ack.kind} response ${ack.itkCode ?? ack.code}${ack.detail ? ` (${ack.detail})` : ''}`;
  let t: Transition;
  if (!ack.ok) {
    t = {
      status: 'failed',
      detail: what,
      errors: {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: ack.kind === 'business' ? 'business-rule' : 'exception',
            details: {
              coding: [
                {
                  system: 'https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1',
                  ...(ack.itkCode ? { code: ack.itkCode } : {}),
                },
              ],
            },
            diagnostics: `The practice's GP system rejected the message: ${what}.`,
          },
        ],
      },
    };
  } else {
    t = { status: ack.kind === 'business' ? 'acknowledged' : 'delivered', detail: what };
  }
  const result = await audited(store, submission.id, t, now);
  return {
    submissionId: submission.id,
    kind: ack.kind,
    ok: ack.ok,
    changed: result?.changed ?? false,
  };
}

export { ItkAckParseError };

async function audited(
  store: Store,
  id: string,
  t: Transition,
  now: () => Date,
): Promise<TransitionResult | undefined> {
  const result = await transitionSubmission(store, id, t, now);
  if (result?.changed) {
    const s = result.submission;
    await appendAuditEvent(
      store,
      {
        action: 'readings.status',
        actor: { kind: 'operator', userId: 'junction-hub/mesh', organisationOds: null },
        nhsNumbers: [s.nhsNumber],
        outcome: t.status === 'failed' ? 'error' : 'success',
        errorCode: t.status === 'failed' ? 'SUBMISSION_FAILED' : null,
        httpStatus: 0,
        correlationId: s.correlationId,
        requestId: s.id,
        decision: { allowed: true, rule: `submission.${t.status}` },
      },
      now,
    );
  }
  return result;
}
