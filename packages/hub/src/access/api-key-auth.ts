import type { IncomingHttpHeaders } from 'node:http';
import type { Store } from '../store/database.js';
import { type ApiKeyInfo, verifyApiKey } from './api-keys.js';

/** The key presented as `Authorization: Bearer <key>` or `X-API-Key: <key>`, if any. */
export function presentedApiKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1]) return match[1];
  }
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  return undefined;
}

export type AuthenticationResult =
  | { ok: true; key: ApiKeyInfo }
  | { ok: false; reason: 'missing' | 'invalid' };

/** Who is calling: an active API key, or why not (missing / invalid, revoked or unknown). */
export async function authenticateApiKey(
  store: Store,
  headers: IncomingHttpHeaders,
): Promise<AuthenticationResult> {
  const presented = presentedApiKey(headers);
  if (presented === undefined) return { ok: false, reason: 'missing' };
  const key = await verifyApiKey(store, presented);
  return key ? { ok: true, key } : { ok: false, reason: 'invalid' };
}
