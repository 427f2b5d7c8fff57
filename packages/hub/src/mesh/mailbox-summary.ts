import type { MeshMailboxConfig } from '../config/load-config.js';
import type { Store } from '../store/database.js';

/** One of the hub's MESH mailboxes as the console shows it: settings (no secrets), last poll, counts. */
export interface MailboxSummary {
  mailboxId: string;
  baseUrl: string;
  pollIntervalMs: number;
  /** The last poll that finished (`mesh.poll` jobs), if any has. */
  lastPoll?: { at: string; status: 'succeeded' | 'failed'; error?: string };
  /** Messages of the log through this mailbox: received, sent, and failed (either way). */
  counts: { inbound: number; outbound: number; failed: number };
}

/**
 * A read-only summary of each configured mailbox from the store, so every hub instance answers
 * the same: the last finished `mesh.poll` job (enqueued with idempotency key
 * `mesh.poll:<mailbox>:<tick>`, one attempt) and message counts from the MESH log.
 * @example const mailboxes = await mailboxSummaries(store, config.mesh.mailboxes);
 */
export async function mailboxSummaries(
  store: Store,
  mailboxes: readonly MeshMailboxConfig[],
): Promise<MailboxSummary[]> {
  if (mailboxes.length === 0) return [];
  const counts = await store.db
    .selectFrom('mesh_messages')
    .select((eb) => [
      'mailbox_id',
      'direction',
      eb.fn.countAll<number | string>().as('n'),
      eb.fn
        .sum<number | string | null>(eb.case().when('status', '=', 'failed').then(1).else(0).end())
        .as('failed'),
    ])
    .where(
      'mailbox_id',
      'in',
      mailboxes.map((m) => m.mailboxId),
    )
    .groupBy(['mailbox_id', 'direction'])
    .execute();
  const out: MailboxSummary[] = [];
  for (const mailbox of mailboxes) {
    const summary: MailboxSummary = {
      mailboxId: mailbox.mailboxId,
      baseUrl: mailbox.baseUrl,
      pollIntervalMs: mailbox.pollIntervalMs,
      counts: { inbound: 0, outbound: 0, failed: 0 },
    };
    for (const row of counts.filter((c) => c.mailbox_id === mailbox.mailboxId)) {
      if (row.direction === 'inbound') summary.counts.inbound += Number(row.n);
      if (row.direction === 'outbound') summary.counts.outbound += Number(row.n);
      summary.counts.failed += Number(row.failed ?? 0);
    }
    const poll = await store.db
      .selectFrom('jobs')
      .select(['status', 'finished_at', 'updated_at', 'last_error'])
      .where('kind', '=', 'mesh.poll')
      // Keys `mesh.poll:<mailbox>:<tick>` of this mailbox: the range from `…:` up to `…;` (the next
      // character), read newest tick first along the (kind, idempotency_key) index.
      .where('idempotency_key', '>', `mesh.poll:${mailbox.mailboxId}:`)
      .where('idempotency_key', '<', `mesh.poll:${mailbox.mailboxId};`)
      .where('status', 'in', ['succeeded', 'failed', 'dead'])
      .orderBy('idempotency_key', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (poll) {
      summary.lastPoll = {
        at: poll.finished_at ?? poll.updated_at,
        status: poll.status === 'succeeded' ? 'succeeded' : 'failed',
        ...(poll.status !== 'succeeded' && poll.last_error !== null && { error: poll.last_error }),
      };
    }
    out.push(summary);
  }
  return out;
}
