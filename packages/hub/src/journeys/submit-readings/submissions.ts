import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { type Kysely, type Selectable, sql } from 'kysely';
import { enqueueJob } from '../../jobs/queue.js';
import type { Database, Store, SubmissionsTable } from '../../store/database.js';

/**
 * Submissions of readings (migration 0007): the row, its status history, and the status machine.
 *
 *   validated → queued → sent → delivered → acknowledged
 *        └──────────┴───────┴────────┴──────→ failed
 *
 * `validated`: the readings passed validation, the patient's practice and its MESH mailbox were found.
 * `queued`: the ITK3 message is in the MESH message log with a `mesh.send` job (same transaction).
 * `sent`: MESH accepted it (a MESH message id). `delivered`: MESH reports the practice downloaded it.
 * `acknowledged`: the practice's GP system sent a positive ITK3 business response.
 * `failed`: undeliverable / expired in MESH, or a negative ITK3 response; `errors` says why.
 * Statuses only move forward; a late or repeated event is recorded in the history but changes nothing.
 */

export const SUBMISSION_STATUSES = [
  'validated',
  'queued',
  'sent',
  'delivered',
  'acknowledged',
  'failed',
] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

const RANK: Record<SubmissionStatus, number> = {
  validated: 1,
  queued: 2,
  sent: 3,
  delivered: 4,
  acknowledged: 5,
  failed: 5,
};
const TERMINAL: ReadonlySet<SubmissionStatus> = new Set(['acknowledged', 'failed']);
/** Statuses a product's webhook is told about. */
export const NOTIFIED_STATUSES: ReadonlySet<SubmissionStatus> = new Set([
  'delivered',
  'acknowledged',
  'failed',
]);
export const WEBHOOK_JOB_KIND = 'submission.webhook';

export interface SubmissionEvent {
  at: string;
  /** A status, or an event that did not change it (e.g. `infrastructure-ack`, `ignored`). */
  status: string;
  detail: string | null;
}

export interface Submission {
  id: string;
  status: SubmissionStatus;
  apiKeyId: string;
  apiKeyName: string;
  idempotencyKey: string | null;
  nhsNumber: string;
  practiceOds: string;
  mailboxId: string;
  fromMailboxId: string;
  readingCount: number;
  messageLogId: string | null;
  itkMessageId: string;
  meshMessageId: string | null;
  correlationId: string;
  errors: OperationOutcome | null;
  warnings: OperationOutcomeIssue[];
  createdAt: string;
  updatedAt: string;
}

export interface SubmissionWithHistory extends Submission {
  history: SubmissionEvent[];
}

type Db = Pick<Store, 'db' | 'dialect'>;

/**
 * A write transaction that is a Kysely transaction (`isTransaction`), so that what runs inside it and
 * opens its own (enqueueJob, sendMeshMessage through writeTransaction) joins it instead. On SQLite the
 * first statement is a write, which takes the database's one write lock at once (as BEGIN IMMEDIATE
 * would), so reading and then writing can never fail to upgrade.
 */
export async function submissionTransaction<T>(
  store: Db,
  fn: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (store.db.isTransaction) return fn(store.db);
  return store.db.transaction().execute(async (trx) => {
    if (store.dialect === 'sqlite') await sql`update submissions set id = id where 1 = 0`.execute(trx);
    return fn(trx);
  });
}

export function toSubmission(row: Selectable<SubmissionsTable>): Submission {
  return {
    id: row.id,
    status: row.status as SubmissionStatus,
    apiKeyId: row.api_key_id,
    apiKeyName: row.api_key_name,
    idempotencyKey: row.idempotency_key,
    nhsNumber: row.nhs_number,
    practiceOds: row.practice_ods,
    mailboxId: row.mailbox_id,
    fromMailboxId: row.from_mailbox_id,
    readingCount: Number(row.reading_count),
    messageLogId: row.message_log_id,
    itkMessageId: row.itk_message_id,
    meshMessageId: row.mesh_message_id,
    correlationId: row.correlation_id,
    errors: row.errors === null ? null : (JSON.parse(row.errors) as OperationOutcome),
    warnings: row.warnings === null ? [] : (JSON.parse(row.warnings) as OperationOutcomeIssue[]),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function getSubmission(store: Db, id: string): Promise<SubmissionWithHistory | undefined> {
  const row = await store.db.selectFrom('submissions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const events = await store.db
    .selectFrom('submission_events')
    .select(['at', 'status', 'detail'])
    .where('submission_id', '=', id)
    .orderBy('id')
    .execute();
  return { ...toSubmission(row), history: events };
}

export async function findSubmissionByIdempotencyKey(
  db: Kysely<Database>,
  apiKeyId: string,
  idempotencyKey: string,
): Promise<Submission | undefined> {
  const row = await db
    .selectFrom('submissions')
    .selectAll()
    .where('api_key_id', '=', apiKeyId)
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
  return row ? toSubmission(row) : undefined;
}

/** The submission an ITK3 response is about: by the MessageHeader id it references, else by SenderReference. */
export async function findSubmissionForAck(
  store: Db,
  referencedMessageId: string,
  senderReference: string | undefined,
): Promise<Submission | undefined> {
  const byHeader = await store.db
    .selectFrom('submissions')
    .selectAll()
    .where('itk_message_id', '=', referencedMessageId)
    .executeTakeFirst();
  if (byHeader) return toSubmission(byHeader);
  if (senderReference === undefined) return undefined;
  const byRef = await store.db
    .selectFrom('submissions')
    .selectAll()
    .where('id', '=', senderReference)
    .executeTakeFirst();
  return byRef ? toSubmission(byRef) : undefined;
}

export async function findSubmissionByMessageLogId(
  store: Db,
  messageLogId: string,
): Promise<Submission | undefined> {
  const row = await store.db
    .selectFrom('submissions')
    .selectAll()
    .where('message_log_id', '=', messageLogId)
    .executeTakeFirst();
  return row ? toSubmission(row) : undefined;
}

/** Records an event in a submission's history that does not change its status (e.g. `downloaded`). */
export async function noteSubmission(
  store: Db,
  id: string,
  event: string,
  detail: string | null,
  now: () => Date,
): Promise<void> {
  await store.db
    .insertInto('submission_events')
    .values({ submission_id: id, at: now().toISOString(), status: event, detail })
    .execute();
}

export interface Transition {
  status: SubmissionStatus;
  detail?: string;
  errors?: OperationOutcome;
  meshMessageId?: string;
}

export interface TransitionResult {
  changed: boolean;
  submission: Submission;
  /** The webhook job enqueued for this change, when the product registered a webhook. */
  webhookJobId?: string;
}

/**
 * Moves a submission forward (never back, never out of acknowledged/failed), recording the event in
 * its history and, for delivered / acknowledged / failed, enqueuing the product's webhook — all in one
 * write transaction. A transition that does not apply is recorded as `ignored` with its reason.
 */
export async function transitionSubmission(
  store: Db,
  id: string,
  t: Transition,
  now: () => Date,
): Promise<TransitionResult | undefined> {
  return submissionTransaction(store, async (trx) => {
    let query = trx.selectFrom('submissions').selectAll().where('id', '=', id);
    if (store.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) return undefined;
    const current = toSubmission(row);
    const stamp = now().toISOString();
    const applies = !TERMINAL.has(current.status) && RANK[t.status] > RANK[current.status];
    // The same status again (a repeated or late event: status handlers see the message as it is now).
    if (t.status === current.status) return { changed: false, submission: current };
    if (!applies) {
      await trx
        .insertInto('submission_events')
        .values({
          submission_id: id,
          at: stamp,
          status: 'ignored',
          detail: `${t.status} after ${current.status}${t.detail ? `: ${t.detail}` : ''}`.slice(0, 4000),
        })
        .execute();
      return { changed: false, submission: current };
    }
    const update: Partial<Selectable<SubmissionsTable>> = { status: t.status, updated_at: stamp };
    if (t.errors) update.errors = JSON.stringify(t.errors);
    if (t.meshMessageId) update.mesh_message_id = t.meshMessageId;
    await trx.updateTable('submissions').set(update).where('id', '=', id).execute();
    await trx
      .insertInto('submission_events')
      .values({ submission_id: id, at: stamp, status: t.status, detail: t.detail?.slice(0, 4000) ?? null })
      .execute();
    const submission: Submission = {
      ...current,
      status: t.status,
      updatedAt: stamp,
      ...(t.errors ? { errors: t.errors } : {}),
      ...(t.meshMessageId ? { meshMessageId: t.meshMessageId } : {}),
    };
    const result: TransitionResult = { changed: true, submission };
    if (NOTIFIED_STATUSES.has(t.status)) {
      const hook = await trx
        .selectFrom('submission_webhooks')
        .select('api_key_id')
        .where('api_key_id', '=', current.apiKeyId)
        .executeTakeFirst();
      if (hook) {
        const { job } = await enqueueJob(
          { db: trx, dialect: store.dialect },
          {
            kind: WEBHOOK_JOB_KIND,
            payload: { event: webhookEvent(submission, stamp) },
            idempotencyKey: `${id}:${t.status}`,
            correlationId: current.correlationId,
            maxAttempts: 12,
          },
          { now },
        );
        result.webhookJobId = job.id;
      }
    }
    return result;
  });
}

/** What a webhook POST carries: the submission's new state, never the NHS number or readings. */
export interface WebhookEvent {
  /** Unique per submission and status: a receiver may drop repeats by it. */
  id: string;
  type: `submission.${SubmissionStatus}`;
  occurredAt: string;
  submission: {
    id: string;
    status: SubmissionStatus;
    practiceOds: string;
    meshMessageId: string | null;
    correlationId: string;
    errors: OperationOutcome | null;
    href: string;
  };
}

function webhookEvent(s: Submission, at: string): WebhookEvent {
  return {
    id: `${s.id}:${s.status}`,
    type: `submission.${s.status}`,
    occurredAt: at,
    submission: {
      id: s.id,
      status: s.status,
      practiceOds: s.practiceOds,
      meshMessageId: s.meshMessageId,
      correlationId: s.correlationId,
      errors: s.errors,
      href: `/submissions/${s.id}`,
    },
  };
}

/** The JSON a product sees (GET /submissions/{id}). */
export function submissionView(s: SubmissionWithHistory | Submission): Record<string, unknown> {
  return {
    id: s.id,
    status: s.status,
    nhsNumber: s.nhsNumber,
    practiceOds: s.practiceOds,
    mailboxId: s.mailboxId,
    readingCount: s.readingCount,
    messageLogId: s.messageLogId,
    itkMessageId: s.itkMessageId,
    meshMessageId: s.meshMessageId,
    correlationId: s.correlationId,
    idempotencyKey: s.idempotencyKey,
    errors: s.errors,
    warnings: s.warnings,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    ...('history' in s ? { history: s.history } : {}),
  };
}
