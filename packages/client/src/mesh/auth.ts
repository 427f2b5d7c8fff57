import { createHmac, randomUUID } from 'node:crypto';

/** The custom scheme of the MESH `Authorization` header (mesh-api.yaml "MESH Authorization header"). */
export const MESH_AUTH_SCHEME = 'NHSMESH';

export interface MeshAuthorizationInput {
  /** The mailbox sending the request; upper-cased here ("Must be uppercase", mesh-api.yaml). */
  mailboxId: string;
  /** The mailbox password. */
  password: string;
  /** The environment's shared secret (NHS environments: issued at onboarding; NHS's mesh-sandbox: `TestKey`). */
  sharedKey: string | Uint8Array;
  /** A GUID; a new random UUID by default, so every token is different (each token is valid for one request only). */
  nonce?: string;
  /** "The number of times that the same nonce has been used"; default 0 (a fresh nonce each time). */
  nonceCount?: number;
  /** The clock; the token carries its UTC minute and MESH rejects one more than 2 hours from server time. */
  now?: Date;
}

/**
 * `yyyyMMddHHmm` in UTC, the token's timestamp element (mesh-api.yaml: "The current UTC date and time in
 * `yyyyMMddHHmm` format").
 *
 * @example
 * meshTimestamp(new Date('2020-05-04T13:05:59Z')); // '202005041305'
 */
export function meshTimestamp(now: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    pad(now.getUTCFullYear(), 4) +
    pad(now.getUTCMonth() + 1) +
    pad(now.getUTCDate()) +
    pad(now.getUTCHours()) +
    pad(now.getUTCMinutes())
  );
}

/**
 * The value of the `Authorization` header for one MESH request (mesh-api.yaml, "MESH Authorization header"):
 *
 * `NHSMESH <mailbox_id>:<nonce>:<nonce_count>:<timestamp>:<hash>` where
 * `hash = HMAC-SHA256(key = shared key, message = "<mailbox_id>:<nonce>:<nonce_count>:<password>:<timestamp>")`
 * in lower-case hex. A token is valid for one request only, so call this once per request (retries included).
 *
 * @example
 * const authorization = meshAuthorization({ mailboxId: 'X26ABC1', password: 'password', sharedKey: 'TestKey' });
 * // 'NHSMESH X26ABC1:2c0d…:0:202511251522:cb4a…'
 */
export function meshAuthorization(input: MeshAuthorizationInput): string {
  const mailboxId = input.mailboxId.toUpperCase();
  const nonce = input.nonce ?? randomUUID();
  const nonceCount = input.nonceCount ?? 0;
  if (!Number.isSafeInteger(nonceCount) || nonceCount < 0) {
    throw new RangeError('meshAuthorization: nonceCount must be a non-negative integer');
  }
  // The elements are joined with ':' so none may contain one (the server splits the header on ':').
  if (mailboxId.includes(':') || nonce.includes(':')) {
    throw new RangeError('meshAuthorization: the mailbox id and nonce may not contain ":"');
  }
  const timestamp = meshTimestamp(input.now ?? new Date());
  const hash = createHmac('sha256', input.sharedKey)
    .update(`${mailboxId}:${nonce}:${nonceCount}:${input.password}:${timestamp}`, 'utf8')
    .digest('hex');
  return `${MESH_AUTH_SCHEME} ${mailboxId}:${nonce}:${nonceCount}:${timestamp}:${hash}`;
}
