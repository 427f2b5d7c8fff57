import { createHmac, randomUUID } from 'node:crypto';

/**
 * A MESH `Authorization` header as mesh-api.yaml's example implementation builds it:
 * `NHSMESH <mailbox>:<nonce>:<nonce_count>:<yyyyMMddHHmm>:<HMAC-SHA256(shared key, mailbox:nonce:count:password:timestamp)>`.
 * Test helper only (the sandbox never imports the client).
 */
export function meshToken(
  mailbox: string,
  options: { password?: string; sharedKey?: string; nonce?: string; nonceCount?: number; at?: Date } = {},
): string {
  const nonce = options.nonce ?? randomUUID();
  const count = String(options.nonceCount ?? 0);
  const timestamp = (options.at ?? new Date()).toISOString().replace(/\D/g, '').slice(0, 12);
  const hash = createHmac('sha256', options.sharedKey ?? 'TestKey')
    .update(`${mailbox}:${nonce}:${count}:${options.password ?? 'password'}:${timestamp}`)
    .digest('hex');
  return `NHSMESH ${mailbox}:${nonce}:${count}:${timestamp}:${hash}`;
}
