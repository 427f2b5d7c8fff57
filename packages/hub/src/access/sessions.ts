import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { Store } from '../store/database.js';
import type { AdminPrincipal, ClinicianPrincipal, PatientPrincipal } from './policy.js';

/**
 * Server-side sign-in sessions: `jss_<secret>`, 256 random bits. Only the SHA-256 of the secret is
 * stored (as for API keys, a hash suffices for a random 256-bit secret), so a copy of the database
 * holds no usable session.
 *
 * The id_token, needed later for token exchange with the API platform, is encrypted at rest with
 * AES-256-GCM under a key derived (HKDF-SHA256) from the session secret itself. The hub can only
 * decrypt it while the browser or app presents the session, and a stolen database yields neither
 * sessions nor id_tokens, with no encryption key to manage.
 */
export type SessionPrincipal = PatientPrincipal | ClinicianPrincipal | AdminPrincipal;

export const SESSION_TOKEN_PREFIX = 'jss_';
const TOKEN_PATTERN = /^jss_([A-Za-z0-9_-]{43})$/;
const SECRET_BYTES = 32;
/** last_seen_at is written at most this often per session, so reads do not all become writes. */
const LAST_SEEN_RESOLUTION_MS = 60_000;

export interface SessionInfo {
  principal: SessionPrincipal;
  createdAt: string;
  expiresAt: string;
  lastSeenAt: string;
}

export interface ActiveSession extends SessionInfo {
  /** The decrypted id_token, when one was kept. Never logged, never sent to the client. */
  idToken?: string;
}

export interface CreatedSession extends SessionInfo {
  /** The session token (cookie value / bearer). Shown once: only its hash is stored. */
  token: string;
}

export interface CreateSessionInput {
  principal: SessionPrincipal;
  idToken?: string;
  /** Lifetime in seconds; the session also ends when `notAfter` (e.g. the id_token's `exp`) passes. */
  ttlS: number;
  notAfter?: Date;
  now: () => Date;
}

export type SessionLookup =
  | { status: 'active'; session: ActiveSession }
  | { status: 'invalid' | 'expired' | 'revoked' };

/**
 * Creates a session and returns its token (the only time it exists outside the client).
 * @example const { token } = await createSession(store, { principal, idToken, ttlS: 3600, now });
 */
export async function createSession(store: Store, input: CreateSessionInput): Promise<CreatedSession> {
  const now = input.now();
  const secret = randomBytes(SECRET_BYTES);
  const secretText = secret.toString('base64url');
  const idHash = hashOf(secretText);
  let expires = now.getTime() + input.ttlS * 1000;
  if (input.notAfter) expires = Math.min(expires, input.notAfter.getTime());
  const row = {
    id_hash: idHash,
    kind: input.principal.kind,
    principal: JSON.stringify(input.principal),
    id_token_enc: input.idToken === undefined ? null : encrypt(secret, idHash, input.idToken),
    created_at: now.toISOString(),
    expires_at: new Date(expires).toISOString(),
    last_seen_at: now.toISOString(),
    revoked_at: null,
  };
  await store.db.deleteFrom('sessions').where('expires_at', '<', now.toISOString()).execute();
  await store.db.insertInto('sessions').values(row).execute();
  return { ...infoOf(row), token: `${SESSION_TOKEN_PREFIX}${secretText}` };
}

/** The session a presented token belongs to, or why not. */
export async function findSession(store: Store, token: string, now: () => Date): Promise<SessionLookup> {
  const secretText = TOKEN_PATTERN.exec(token.trim())?.[1];
  if (secretText === undefined) return { status: 'invalid' };
  const idHash = hashOf(secretText);
  const row = await store.db
    .selectFrom('sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .executeTakeFirst();
  // The row was found by the hash; compare again in constant time for good measure.
  if (!row || !timingSafeEqual(Buffer.from(row.id_hash), Buffer.from(idHash))) return { status: 'invalid' };
  if (row.revoked_at !== null) return { status: 'revoked' };
  const at = now();
  if (Date.parse(row.expires_at) <= at.getTime()) return { status: 'expired' };
  if (at.getTime() - Date.parse(row.last_seen_at) >= LAST_SEEN_RESOLUTION_MS) {
    await store.db
      .updateTable('sessions')
      .set({ last_seen_at: at.toISOString() })
      .where('id_hash', '=', idHash)
      .execute();
    row.last_seen_at = at.toISOString();
  }
  const session: ActiveSession = infoOf(row);
  const idToken =
    row.id_token_enc === null
      ? undefined
      : decrypt(Buffer.from(secretText, 'base64url'), idHash, row.id_token_enc);
  if (idToken !== undefined) session.idToken = idToken;
  return { status: 'active', session };
}

/** Ends a session (logout). Returns false when the token names no live session. */
export async function revokeSession(store: Store, token: string, now: () => Date): Promise<boolean> {
  const secretText = TOKEN_PATTERN.exec(token.trim())?.[1];
  if (secretText === undefined) return false;
  const result = await store.db
    .updateTable('sessions')
    .set({ revoked_at: now().toISOString(), id_token_enc: null })
    .where('id_hash', '=', hashOf(secretText))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

function hashOf(secretText: string): string {
  return createHash('sha256').update(secretText, 'utf8').digest('hex');
}

function keyOf(secret: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'junction-session-id-token-v1', 32));
}

// Format: v1.<iv>.<ciphertext>.<tag>, base64url; the row's id hash is the additional data, so a
// ciphertext cannot be moved to another session row.
function encrypt(secret: Buffer, idHash: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), iv);
  cipher.setAAD(Buffer.from(idHash));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, ct, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

function decrypt(secret: Buffer, idHash: string, stored: string): string | undefined {
  const [version, iv, ct, tag] = stored.split('.');
  if (version !== 'v1' || iv === undefined || ct === undefined || tag === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(idHash));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function infoOf(row: {
  principal: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
}): SessionInfo {
  return {
    principal: JSON.parse(row.principal) as SessionPrincipal,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastSeenAt: row.last_seen_at,
  };
}
