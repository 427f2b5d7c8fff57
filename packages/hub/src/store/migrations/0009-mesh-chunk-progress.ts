import type { Kysely } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * Resumable MESH uploads (`src/mesh`): `mesh_messages.chunks_sent`, how many chunks of an
 * outbound message MESH has accepted, committed after each one before the next is posted. With
 * `mesh_message_id` (set as soon as chunk 1 is accepted) it is where an interrupted upload resumes: chunk
 * `chunks_sent + 1` of the same MESH message. Null until chunk 1 is accepted, and for inbound messages.
 */
export async function up(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.alterTable('mesh_messages').addColumn('chunks_sent', 'integer').execute();
}

export async function down(db: Kysely<unknown>, _dialect: StoreDialect): Promise<void> {
  await db.schema.alterTable('mesh_messages').dropColumn('chunks_sent').execute();
}
