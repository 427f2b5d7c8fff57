import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { MeshStatus, MeshValidationError } from './errors.js';
import type { MessageStatus } from './model.js';
import type { MeshStore } from './store.js';
import { messageDetailsView } from './views.js';

/** Options of one mount of the admin routes. */
export interface MeshAdminRoutesOptions {
  store: MeshStore;
  /**
   * Whether this mount has `POST report`: NHS's sandbox serves it at `/messageexchange/admin/report`
   * only, not at `/admin/report` (mesh-sandbox `routers/admin.py` `create_report`).
   */
  report: boolean;
}

type Req = FastifyRequest<{ Params: Record<string, string> }>;

/**
 * The test-only routes of NHS's MESH sandbox (github.com/NHSDigital/mesh-sandbox
 * `src/mesh_sandbox/routers/admin.py`, "not part of the real api"), mounted at each prefix NHS's
 * sandbox serves them under (`/admin` and `/messageexchange/admin`), with its methods, bodies and
 * answers: reset all or one mailbox, inspect a mailbox or a message, put a report in an inbox, add
 * an event to a message. No authorisation, as there.
 */
export const meshAdminRoutes: FastifyPluginAsync<MeshAdminRoutesOptions> = async (app, { store, report }) => {
  app.delete('/reset', async () => {
    await store.reset();
    return { message: 'all mailboxes reset' };
  });
  app.delete('/reset/:mailbox', async (request: Req) => {
    const mailbox = store.mailbox(request.params.mailbox ?? '');
    if (!mailbox) throw new MeshStatus(404, 'mailbox does not exist');
    await store.resetMailbox(mailbox.mailbox_id);
    return { message: `mailbox ${mailbox.mailbox_id} reset` };
  });
  app.get('/mailbox/:mailbox', async (request: Req) => mailboxDetails(store, request.params.mailbox));
  app.get('/message/:messageId', async (request: Req) => {
    const message = store.message(request.params.messageId ?? '');
    if (!message) throw new MeshStatus(404);
    return messageDetailsView(message);
  });
  app.post('/message/:messageId/event', async (request: Req, reply) => {
    const message = store.message(request.params.messageId ?? '');
    if (!message) throw new MeshStatus(404);
    const body = await jsonBody(request);
    const statuses: MessageStatus[] = ['uploading', 'accepted', 'acknowledged', 'undeliverable', 'error'];
    if (!statuses.includes(body.status as MessageStatus)) {
      throw new MeshValidationError(['body', 'status'], `status must be one of ${statuses.join(', ')}`);
    }
    await store.addEvent(message, {
      status: body.status as MessageStatus,
      ...stringFields(body, ['code', 'event', 'description', 'linked_message_id']),
    });
    return reply.code(200).send();
  });
  if (!report) return;
  app.post('/report', async (request: Req) => {
    const body = await jsonBody(request);
    const recipient = store.mailbox(String(body.mailbox_id ?? ''));
    if (!recipient) throw new MeshStatus(404, 'mailbox does not exist');
    for (const field of ['code', 'description', 'workflow_id']) {
      if (typeof body[field] !== 'string') throw new MeshValidationError(['body', field], 'field required');
    }
    const status = body.status ?? 'undeliverable';
    if (status !== 'undeliverable' && status !== 'error') {
      throw new MeshValidationError(['body', 'status'], 'status must be undeliverable or error');
    }
    const optional = stringFields(body, ['subject', 'local_id', 'file_name', 'linked_message_id']);
    const created = await store.createReport({
      recipient,
      workflowId: body.workflow_id as string,
      code: body.code as string,
      description: body.description as string,
      status,
      ...(optional.subject !== undefined && { subject: optional.subject }),
      ...(optional.local_id !== undefined && { localId: optional.local_id }),
      ...(optional.file_name !== undefined && { fileName: optional.file_name }),
      ...(optional.linked_message_id !== undefined && { linkedMessageId: optional.linked_message_id }),
    });
    return { message_id: created.message_id };
  });
};

/**
 * mesh-sandbox `MailboxDetails` (`views/admin.py`), plus the ids in the mailbox's inbox and outbox.
 * NHS's sandbox also answers it, unauthenticated, at `GET /messageexchange/mailbox/{mailbox_id}`.
 */
export function mailboxDetails(store: MeshStore, id: string | undefined): Record<string, unknown> {
  const mailbox = store.mailbox(id ?? '');
  if (!mailbox) throw new MeshStatus(404);
  return {
    mailbox_id: mailbox.mailbox_id,
    mailbox_name: mailbox.mailbox_name,
    billing_entity: mailbox.billing_entity,
    ods_code: mailbox.ods_code,
    org_code: mailbox.org_code,
    org_name: mailbox.org_name ?? '',
    active: true,
    inbox: store.inbox(mailbox.mailbox_id).map((m) => m.message_id),
    outbox: store
      .all()
      .filter((m) => m.sender.mailbox_id === mailbox.mailbox_id)
      .map((m) => m.message_id),
  };
}

function stringFields<K extends string>(
  body: Record<string, unknown>,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const found: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = body[key];
    if (typeof value === 'string') found[key] = value;
  }
  return found;
}

/** Reads a small JSON body (64 kB at most; the MESH plugin leaves bodies unparsed). */
async function jsonBody(request: FastifyRequest): Promise<Record<string, unknown>> {
  let text = '';
  for await (const data of request.raw) {
    text += String(data);
    if (text.length > 65_536) throw new MeshValidationError(['body'], 'body too large');
  }
  try {
    const parsed: unknown = JSON.parse(text || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new MeshValidationError(['body'], 'body must be a JSON object', 'value_error.jsondecode');
}
