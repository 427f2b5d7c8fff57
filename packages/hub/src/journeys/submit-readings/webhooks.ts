import { createHmac, randomBytes } from 'node:crypto';
import type { JobHandler } from '../../jobs/runner.js';
import { PermanentJobError } from '../../jobs/runner.js';
import type { Store } from '../../store/database.js';
import type { WebhookEvent } from './submissions.js';

/**
 * Webhooks: one callback URL per API key (`PUT /submissions/webhook`). When a submission of that key
 * becomes delivered, acknowledged or failed, a `submission.webhook` job (enqueued in the same
 * transaction as the status change, idempotency key `<submission id>:<status>`) POSTs the event:
 *
 *   POST <url>
 *   Content-Type: application/json
 *   X-Junction-Event: submission.delivered
 *   X-Junction-Delivery: <submission id>:<status>      (the same on every retry: drop repeats by it)
 *   X-Junction-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook secret>
 *
 * Any 2xx is success; anything else, a timeout or a network error is retried with the job queue's
 * exponential backoff (12 attempts), then dead-lettered (visible in GET /jobs, retryable by hand).
 * The URL and secret are read when the job runs, so a re-registered webhook gets later attempts.
 */

export const SIGNATURE_HEADER = 'x-junction-signature';
const TIMEOUT_MS = 10_000;

export interface WebhookInfo {
  url: string;
  createdAt: string;
  updatedAt: string;
}

export class WebhookUrlError extends Error {
  override readonly name = 'WebhookUrlError';
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https, or http to a loopback address (local development and the sandbox). */
export function checkWebhookUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2000) throw new WebhookUrlError('url must be a string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WebhookUrlError('url is not an absolute URL');
  }
  if (url.username || url.password) throw new WebhookUrlError('url must not carry credentials');
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    return url.toString();
  }
  throw new WebhookUrlError('url must be https (plain http only to a loopback address)');
}

/** Sets (or replaces) the key's webhook and returns it with a new signing secret, shown this once. */
export async function setWebhook(
  store: Store,
  apiKeyId: string,
  url: string,
  now: () => Date,
): Promise<WebhookInfo & { secret: string }> {
  const checked = checkWebhookUrl(url);
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  const stamp = now().toISOString();
  await store.db
    .insertInto('submission_webhooks')
    .values({ api_key_id: apiKeyId, url: checked, secret, created_at: stamp, updated_at: stamp })
    .onConflict((oc) => oc.column('api_key_id').doUpdateSet({ url: checked, secret, updated_at: stamp }))
    .execute();
  const row = await store.db
    .selectFrom('submission_webhooks')
    .selectAll()
    .where('api_key_id', '=', apiKeyId)
    .executeTakeFirstOrThrow();
  return { url: row.url, secret: row.secret, createdAt: row.created_at, updatedAt: row.updated_at };
}

export async function getWebhook(store: Store, apiKeyId: string): Promise<WebhookInfo | undefined> {
  const row = await store.db
    .selectFrom('submission_webhooks')
    .selectAll()
    .where('api_key_id', '=', apiKeyId)
    .executeTakeFirst();
  return row ? { url: row.url, createdAt: row.created_at, updatedAt: row.updated_at } : undefined;
}

export async function deleteWebhook(store: Store, apiKeyId: string): Promise<boolean> {
  const result = await store.db
    .deleteFrom('submission_webhooks')
    .where('api_key_id', '=', apiKeyId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** `sha256=<hex>`: HMAC-SHA256 of the exact body bytes with the secret. */
export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** The `submission.webhook` job handler. */
export function webhookJobHandler(options: { store: Store; fetch?: typeof fetch }): JobHandler {
  const doFetch = options.fetch ?? fetch;
  return async (job, ctx) => {
    const event = (job.payload as { event?: WebhookEvent }).event;
    if (!event?.submission?.id) throw new PermanentJobError('the webhook job carries no event');
    const submission = await options.store.db
      .selectFrom('submissions')
      .select('api_key_id')
      .where('id', '=', event.submission.id)
      .executeTakeFirst();
    if (!submission) throw new PermanentJobError('the submission no longer exists');
    const hook = await options.store.db
      .selectFrom('submission_webhooks')
      .selectAll()
      .where('api_key_id', '=', submission.api_key_id)
      .executeTakeFirst();
    // Unregistered since: nothing to deliver to, which is not a failure.
    if (!hook) return { skipped: 'no webhook registered' };
    const body = JSON.stringify(event);
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(TIMEOUT_MS)]);
    let res: Response;
    try {
      res = await doFetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-junction-event': event.type,
          'x-junction-delivery': event.id,
          'x-correlation-id': ctx.correlationId,
          [SIGNATURE_HEADER]: signWebhookBody(hook.secret, body),
        },
        body,
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      throw new Error(`webhook POST failed: ${(error as Error).message}`);
    }
    await res.body?.cancel().catch(() => {});
    if (res.status < 200 || res.status > 299) throw new Error(`webhook answered HTTP ${res.status}`);
    return { status: res.status };
  };
}
