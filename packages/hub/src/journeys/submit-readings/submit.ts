import { randomUUID } from 'node:crypto';
import type { RequestContext } from '@junction/client';
import { OperationOutcomeError, SYSTEMS } from '@junction/core';
import type { OperationOutcome, OperationOutcomeIssue, Patient } from '@medplum/fhirtypes';
import type { Store } from '../../store/database.js';
import type { PdsPort } from '../patient-lookup.js';
import { isRestrictedPatient } from '../restricted-patient.js';
import { buildSendDocumentMessage, SEND_DOCUMENT_WORKFLOW } from './itk-message.js';
import type { SubmissionMeshPort } from './mesh-port.js';
import {
  findSubmissionByIdempotencyKey,
  getSubmission,
  type SubmissionWithHistory,
  submissionTransaction,
} from './submissions.js';
import { validateSubmission } from './validate.js';

export interface SubmitReadingsDeps {
  store: Store;
  pds: Pick<PdsPort, 'getPatient'>;
  /** Without it (no MESH mailbox configured), valid readings answer 503. */
  mesh?: SubmissionMeshPort;
  now: () => Date;
  /** The sending organisation when the API key names none (ITK sender, Composition custodian). */
  sender?: { organisationOds: string; organisationName: string };
}

export interface SubmitReadingsInput {
  body: unknown;
  product: { apiKeyId: string; name: string; organisationOds: string | null };
  /** The product's `Idempotency-Key` (or `X-Request-ID`): a repeat returns the first submission. */
  idempotencyKey?: string;
  correlationId: string;
  /** Passed on to PDS and MESH. */
  ctx: RequestContext;
}

export type SubmitReadingsResult =
  | { kind: 'accepted'; submission: SubmissionWithHistory; created: boolean }
  /** The body failed validation (400) or the patient cannot be sent to (422): nothing was stored. */
  | { kind: 'rejected'; status: 400 | 422; outcome: OperationOutcome; nhsNumbers: string[] };

const DEFAULT_SENDER = { organisationOds: 'X26', organisationName: 'Junction hub' };

const outcome = (code: OperationOutcomeIssue['code'], expression: string | undefined, diagnostics: string) =>
  ({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics, ...(expression ? { expression: [expression] } : {}) }],
  }) as OperationOutcome;

/**
 * The submitting-data journey, up to the hand-over to MESH:
 * validate the readings → read the patient from PDS → registered practice from `generalPractitioner`
 * → the practice's MESH mailbox (endpoint lookup, `GPFED_CONSULT_REPORT`) → ITK3 Send Document message
 * → one write transaction: the submission, its history and the outbound MESH message + send job
 * (`sendMeshMessage`, idempotency key = submission id). A crash before that commit leaves nothing
 * (the product gets no 202 and repeats with the same key); after it, the send job carries on.
 * PDS and MESH lookup failures propagate as OperationOutcomeErrors (their status, e.g. 502/503).
 */
export async function submitReadings(
  deps: SubmitReadingsDeps,
  input: SubmitReadingsInput,
): Promise<SubmitReadingsResult> {
  const { store, now } = deps;
  if (input.idempotencyKey !== undefined) {
    const existing = await findSubmissionByIdempotencyKey(
      store.db,
      input.product.apiKeyId,
      input.idempotencyKey,
    );
    if (existing) return accepted(store, existing.id, false);
  }

  const validation = validateSubmission(input.body, { now: now() });
  if (!validation.ok) return { kind: 'rejected', status: 400, outcome: validation.outcome, nhsNumbers: [] };
  const nhsNumbers = [validation.nhsNumber];
  const mesh = deps.mesh;
  if (!mesh) {
    throw new OperationOutcomeError(
      503,
      outcome(
        'not-supported',
        undefined,
        'The hub has no MESH mailbox configured (JUNCTION_MESH_MAILBOXES), so readings cannot be sent to a practice.',
      ),
    );
  }

  let patient: Patient;
  try {
    patient = (await deps.pds.getPatient(validation.nhsNumber, input.ctx)).patient;
  } catch (error) {
    if (
      error instanceof OperationOutcomeError &&
      (error.status === 404 || error.code === 'INVALIDATED_RESOURCE')
    ) {
      return {
        kind: 'rejected',
        status: 422,
        nhsNumbers,
        outcome: outcome(
          'not-found',
          'Observation.subject.identifier.value',
          `PDS does not know this NHS number (${error.code ?? error.status}): the readings cannot be sent to a practice.`,
        ),
      };
    }
    throw error;
  }
  const nhsNumber = patient.identifier?.find((i) => i.system === SYSTEMS.nhsNumber)?.value ?? patient.id;
  if (nhsNumber && nhsNumber !== validation.nhsNumber && /^\d{10}$/.test(nhsNumber))
    nhsNumbers.push(nhsNumber);
  if (isRestrictedPatient(patient)) {
    // PDS does not disclose a restricted (S-flagged) patient's practice; routing by it would reveal it.
    return {
      kind: 'rejected',
      status: 422,
      nhsNumbers,
      outcome: outcome(
        'business-rule',
        'Patient.generalPractitioner',
        "The patient's record is restricted: the hub does not route readings by a restricted patient's registered practice.",
      ),
    };
  }
  const practiceOds = patient.generalPractitioner
    ?.map((gp) => gp.identifier)
    .find((id) => id?.system === SYSTEMS.odsOrganisationCode && id.value)?.value;
  if (!practiceOds) {
    return {
      kind: 'rejected',
      status: 422,
      nhsNumbers,
      outcome: outcome(
        'business-rule',
        'Patient.generalPractitioner',
        'PDS records no registered GP practice for this patient (Patient.generalPractitioner), so there is no practice to send the readings to.',
      ),
    };
  }
  const mailboxes = await mesh.endpointLookup(practiceOds, SEND_DOCUMENT_WORKFLOW, input.ctx);
  const practiceMailbox = mailboxes[0]?.mailbox_id;
  if (!practiceMailbox) {
    return {
      kind: 'rejected',
      status: 422,
      nhsNumbers,
      outcome: outcome(
        'not-found',
        undefined,
        `The registered practice ${practiceOds} has no MESH mailbox for workflow ${SEND_DOCUMENT_WORKFLOW} (MESH endpoint lookup found none).`,
      ),
    };
  }

  const id = randomUUID();
  const createdAt = now().toISOString();
  const ids = {
    messageBundleId: randomUUID(),
    messageId: randomUUID(),
    messageHeaderId: randomUUID(),
    headerOrganizationId: randomUUID(),
    documentBundleId: randomUUID(),
    compositionId: randomUUID(),
    binaryId: randomUUID(),
    patientId: randomUUID(),
    organizationId: randomUUID(),
    authorId: randomUUID(),
    senderReference: id,
    createdAt,
  };
  const sender = input.product.organisationOds
    ? { organisationOds: input.product.organisationOds, organisationName: input.product.name }
    : (deps.sender ?? DEFAULT_SENDER);
  const message = buildSendDocumentMessage({
    readings: validation.readings,
    patient,
    sender: {
      productName: input.product.name,
      organisationOds: sender.organisationOds,
      organisationName: sender.organisationName,
      meshMailbox: mesh.mailboxId,
    },
    recipient: { practiceOds, meshMailbox: practiceMailbox },
    ids,
  });

  try {
    await submissionTransaction(store, async (trx) => {
      const tx = { db: trx, dialect: store.dialect };
      if (input.idempotencyKey !== undefined) {
        // SQLite: serialised by BEGIN IMMEDIATE; PostgreSQL: the unique constraint catches a race.
        const raced = await findSubmissionByIdempotencyKey(trx, input.product.apiKeyId, input.idempotencyKey);
        if (raced) throw new Raced(raced.id);
      }
      await trx
        .insertInto('submissions')
        .values({
          id,
          api_key_id: input.product.apiKeyId,
          api_key_name: input.product.name,
          idempotency_key: input.idempotencyKey ?? null,
          nhs_number: nhsNumber ?? validation.nhsNumber,
          practice_ods: practiceOds,
          mailbox_id: practiceMailbox,
          from_mailbox_id: mesh.mailboxId,
          reading_count: validation.readings.length,
          status: 'validated',
          message_log_id: null,
          itk_message_id: ids.messageHeaderId,
          mesh_message_id: null,
          correlation_id: input.correlationId,
          errors: null,
          warnings: validation.warnings.length > 0 ? JSON.stringify(validation.warnings) : null,
          created_at: createdAt,
          updated_at: createdAt,
        })
        .execute();
      const { messageLogId } = await mesh.send(tx, {
        mailboxId: mesh.mailboxId,
        to: message.mesh.to,
        workflowId: message.mesh.workflowId,
        subject: message.mesh.subject,
        localId: message.mesh.localId,
        body: message.xml,
        contentType: message.mesh.contentType,
        correlationId: input.correlationId,
        idempotencyKey: id,
      });
      const queuedAt = now().toISOString();
      await trx
        .updateTable('submissions')
        .set({ status: 'queued', message_log_id: messageLogId, updated_at: queuedAt })
        .where('id', '=', id)
        .execute();
      await trx
        .insertInto('submission_events')
        .values([
          {
            submission_id: id,
            at: createdAt,
            status: 'received',
            detail: `${validation.readings.length} readings`,
          },
          {
            submission_id: id,
            at: createdAt,
            status: 'validated',
            detail: `practice ${practiceOds}, MESH mailbox ${practiceMailbox}`,
          },
          { submission_id: id, at: queuedAt, status: 'queued', detail: `message log ${messageLogId}` },
        ])
        .execute();
    });
  } catch (error) {
    if (error instanceof Raced) return accepted(store, error.submissionId, false);
    if (input.idempotencyKey !== undefined) {
      const existing = await findSubmissionByIdempotencyKey(
        store.db,
        input.product.apiKeyId,
        input.idempotencyKey,
      ).catch(() => undefined);
      if (existing) return accepted(store, existing.id, false);
    }
    throw error;
  }
  return accepted(store, id, true);
}

class Raced extends Error {
  constructor(readonly submissionId: string) {
    super('a submission with this idempotency key exists');
  }
}

async function accepted(store: Store, id: string, created: boolean): Promise<SubmitReadingsResult> {
  const submission = await getSubmission(store, id);
  if (!submission) throw new Error(`submission ${id} vanished`);
  return { kind: 'accepted', submission, created };
}
