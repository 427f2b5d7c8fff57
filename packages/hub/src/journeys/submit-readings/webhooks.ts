import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
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
 *   X-Junction-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>", keyed with the secret>
 *
 * Any 2xx is success; anything else, a timeout or a network error is retried with the job queue's
 * exponential backoff (12 attempts), then dead-lettered (visible in GET /jobs, retryable by hand).
 * The URL and secret are read when the job runs, so a re-registered webhook gets later attempts.
 *
 * The signature covers the time it was made (the scheme Stripe uses), so a captured request cannot
 * be replayed later: a receiver recomputes the HMAC over `<t>.<raw body>`, compares in constant time,
 * and refuses a `t` more than 5 minutes from its own clock (`verifyWebhookSignature`). Every attempt
 * is signed afresh with its own `t`; `X-Junction-Delivery` stays the same, for dropping repeats.
 */

export const SIGNATURE_HEADER = 'x-junction-signature';
/** How far a signature's `t` may be from the receiver's clock, either way (seconds). */
export const SIGNATURE_TOLERANCE_S = 300;
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

/**
 * The `X-Junction-Signature` value for a body sent at `at`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>" keyed with the secret>`.
 * @example signWebhookBody('whsec_…', '{"id":"…"}', new Date()) // 't=1767225600,v1=5f1c…'
 */
export function signWebhookBody(secret: string, body: string | Uint8Array, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

function hmacHex(secret: string, t: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${t}.`, 'utf8').update(body).digest('hex');
}

/** Why a webhook signature was refused. */
export type WebhookSignatureFailure =
  /** No header, or not `t=<digits>,v1=<64 hex>[,v1=…]`. */
  | 'malformed'
  /** `t` is more than the tolerance away from now (a replay, or a badly wrong clock). */
  | 'timestamp-out-of-tolerance'
  /** No `v1` matches the HMAC of `<t>.<raw body>` with this secret (tampered body or wrong secret). */
  | 'signature-mismatch';

/** `signedAt`: when the hub signed it (`t`). */
export type WebhookSignatureResult =
  | { ok: true; signedAt: Date }
  | { ok: false; reason: WebhookSignatureFailure };

export interface VerifyWebhookSignatureOptions {
  /** The receiver's clock (default the system clock). */
  now?: () => Date;
  /** Largest allowed distance between `t` and now, seconds (default 300). */
  toleranceS?: number;
}

/** `key=value`; keys other than `t` and `v1` (a later scheme) are skipped. */
const SIGNATURE_PART = /^([a-z][a-z0-9]{0,9})=(.*)$/;

/**
 * Checks an `X-Junction-Signature` header against the raw request body (the bytes as received,
 * before any JSON parsing) and the webhook secret: the HMAC-SHA256 of `<t>.<raw body>` must equal
 * one of the `v1` values (compared in constant time) and `t` must be within `toleranceS` (5 minutes)
 * of now. Then drop repeats by `X-Junction-Delivery`.
 * @example
 * const check = verifyWebhookSignature(secret, req.headers['x-junction-signature'], rawBody);
 * if (!check.ok) return res.status(400).send(check.reason);
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | readonly string[] | undefined | null,
  rawBody: string | Uint8Array,
  options: VerifyWebhookSignatureOptions = {},
): WebhookSignatureResult {
  const tolerance = options.toleranceS ?? SIGNATURE_TOLERANCE_S;
  if (typeof header !== 'string' || header.length > 1_000) return { ok: false, reason: 'malformed' };
  let t: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const match = SIGNATURE_PART.exec(part.trim());
    if (!match) return { ok: false, reason: 'malformed' };
    const value = match[2] ?? '';
    if (match[1] === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return { ok: false, reason: 'malformed' };
      t = Number(value);
    } else if (match[1] === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return { ok: false, reason: 'malformed' };
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (t === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(hmacHex(secret, t, rawBody), 'hex');
  // Every candidate is compared (no early exit), each in constant time.
  let matched = false;
  for (const candidate of signatures) matched = timingSafeEqual(candidate, expected) || matched;
  if (!matched) return { ok: false, reason: 'signature-mismatch' };
  const nowS = (options.now ?? (() => new Date()))().getTime() / 1000;
  if (!(Math.abs(nowS - t) <= tolerance)) return { ok: false, reason: 'timestamp-out-of-tolerance' };
  return { ok: true, signedAt: new Date(t * 1000) };
}

/** The `submission.webhook` job handler. */
export function webhookJobHandler(options: {
  store: Store;
  fetch?: typeof fetch;
  /** Clock for the signature's `t` (default the system clock). */
  now?: () => Date;
}): JobHandler {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
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
          [SIGNATURE_HEADER]: signWebhookBody(hook.secret, body, now()),
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
