import type { Kysely } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * The submitting-data journey (`src/journeys/submit-readings`): one row per submission a
 * product made, its history, and the products' webhooks.
 *
 * - `submissions`: who sent it (API key), for which patient (NHS number only, never demographics),
 *   to which practice and MESH mailbox, the outbound message (message log id, ITK MessageHeader id
 *   that ITK3 acknowledgements reference), its status and errors. A product's `Idempotency-Key` is
 *   unique per API key, so a repeated POST finds the first submission.
 * - `submission_events`: the status history (received, validated, queued, sent, delivered,
 *   acknowledged, failed, …), append-only by convention.
 * - `submission_webhooks`: one callback URL per API key and the secret its POSTs are signed with.
 */
export async function up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('submissions')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('api_key_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('api_key_name', 'varchar(200)', (c) => c.notNull())
    .addColumn('idempotency_key', 'varchar(200)')
    .addColumn('nhs_number', 'varchar(10)', (c) => c.notNull())
    .addColumn('practice_ods', 'varchar(20)', (c) => c.notNull())
    .addColumn('mailbox_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('from_mailbox_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('reading_count', 'integer', (c) => c.notNull())
    // received → validated → queued → sent → delivered → acknowledged | failed | rejected
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('message_log_id', 'varchar(36)')
    .addColumn('itk_message_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('mesh_message_id', 'varchar(100)')
    .addColumn('correlation_id', 'varchar(200)', (c) => c.notNull())
    /** JSON OperationOutcome of the failure / negative acknowledgement, else null. */
    .addColumn('errors', 'text')
    /** JSON OperationOutcome issues (warnings) from validation, else null. */
    .addColumn('warnings', 'text')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    // NULL keys are distinct on both databases: submissions without a key never collide.
    .addUniqueConstraint('submissions_key_idempotency', ['api_key_id', 'idempotency_key'])
    .execute();
  await db.schema
    .createIndex('submissions_message_log_id')
    .on('submissions')
    .column('message_log_id')
    .execute();
  await db.schema
    .createIndex('submissions_itk_message_id')
    .on('submissions')
    .column('itk_message_id')
    .execute();
  await db.schema
    .createIndex('submissions_api_key_created')
    .on('submissions')
    .columns(['api_key_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('submission_events')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('submission_id', 'varchar(36)', (c) =>
      c.notNull().references('submissions.id').onDelete('cascade'),
    )
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('submission_events_submission_id')
    .on('submission_events')
    .columns(['submission_id', 'id'])
    .execute();

  await db.schema
    .createTable('submission_webhooks')
    .addColumn('api_key_id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    /** HMAC-SHA256 key for `X-Junction-Signature` (shown to the product once, when set). */
    .addColumn('secret', 'varchar(100)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.dropTable('submission_webhooks').execute();
  await db.schema.dropTable('submission_events').execute();
  await db.schema.dropTable('submissions').execute();
}
