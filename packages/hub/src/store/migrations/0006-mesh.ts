import { type Kysely, sql } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * Hub MESH mailboxes (`src/mesh`): the message log. One `mesh_messages` row per message
 * sent or received through a configured mailbox, its history in `mesh_message_events`
 * (append-only by convention), and small bodies in `mesh_message_bodies` (large inbound ones are
 * files under the data dir, named by `body_path`). Timestamps are ISO-8601 UTC text.
 */
export async function up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('mesh_messages')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    // `outbound` (sent by the hub) or `inbound` (received from MESH).
    .addColumn('direction', 'varchar(8)', (c) => c.notNull())
    // The hub's mailbox: the sender of an outbound message, the recipient of an inbound one.
    .addColumn('mailbox_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('from_mailbox', 'varchar(100)')
    .addColumn('to_mailbox', 'varchar(100)')
    .addColumn('workflow_id', 'varchar(300)')
    .addColumn('subject', 'varchar(500)')
    .addColumn('local_id', 'varchar(300)')
    .addColumn('content_type', 'varchar(200)')
    // `DATA`, or `REPORT` for a MESH delivery/error report (mex-MessageType).
    .addColumn('message_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('mesh_message_id', 'varchar(100)')
    .addColumn('linked_message_id', 'varchar(100)')
    // outbound: queued → sending → sent → delivered → acknowledged | failed;
    // inbound: received → acked.
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('dts_event', 'varchar(50)')
    .addColumn('dts_code', 'varchar(50)')
    .addColumn('error', 'text')
    .addColumn('bytes', 'bigint')
    .addColumn('chunks', 'integer')
    .addColumn('body_path', 'text')
    .addColumn('correlation_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('idempotency_key', 'varchar(200)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  // An inbound message is stored once whatever the number of polls that see it (dedupe by MESH id);
  // an outbound one once per idempotency key; an outbound local id names one message, so that a send
  // whose answer was lost can be found again by it (tracking by local id).
  await db.schema
    .createIndex('mesh_messages_mesh_id')
    .on('mesh_messages')
    .columns(['direction', 'mailbox_id', 'mesh_message_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('mesh_messages_idempotency_key')
    .on('mesh_messages')
    .columns(['mailbox_id', 'idempotency_key'])
    .unique()
    .where(sql.ref('direction'), '=', 'outbound')
    .execute();
  await db.schema
    .createIndex('mesh_messages_local_id')
    .on('mesh_messages')
    .columns(['mailbox_id', 'local_id'])
    .unique()
    .where(sql.ref('direction'), '=', 'outbound')
    .execute();
  await db.schema
    .createIndex('mesh_messages_created')
    .on('mesh_messages')
    .columns(['created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('mesh_messages_correlation')
    .on('mesh_messages')
    .column('correlation_id')
    .execute();
  await db.schema
    .createIndex('mesh_messages_linked')
    .on('mesh_messages')
    .column('linked_message_id')
    .execute();

  await db.schema
    .createTable('mesh_message_events')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('message_id', 'varchar(36)', (c) =>
      c.notNull().references('mesh_messages.id').onDelete('cascade'),
    )
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addColumn('event', 'varchar(32)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('mesh_message_events_message')
    .on('mesh_message_events')
    .columns(['message_id', 'id'])
    .execute();

  await db.schema
    .createTable('mesh_message_bodies')
    .addColumn('message_id', 'varchar(36)', (c) =>
      c.primaryKey().references('mesh_messages.id').onDelete('cascade'),
    )
    .addColumn('body', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.dropTable('mesh_message_bodies').execute();
  await db.schema.dropTable('mesh_message_events').execute();
  await db.schema.dropTable('mesh_messages').execute();
}
