import { createHmac, timingSafeEqual } from 'node:crypto';
import { MESH_MESSAGES, MeshError } from './errors.js';
import type { MeshMailbox } from './model.js';

/**
 * The `NHSMESH` authorisation of mesh-api.yaml ("MESH Authorization header"):
 * `NHSMESH <MAILBOX_ID>:<nonce>:<nonce_count>:<yyyyMMddHHmm>:<hmac>` where
 * `hmac = HMAC-SHA256(shared key, "<MAILBOX_ID>:<nonce>:<nonce_count>:<password>:<timestamp>")`.
 * Each token is valid for one request only (a repeat is 403), and the timestamp must be within
 * 2 hours of server time. Failures answer as NHS's sandbox does (`common/messaging.py`
 * `_validate_auth_token`): 403 with its texts.
 */
export const MESH_AUTH_SCHEME = 'NHSMESH';
/** mesh-api.yaml: "the API rejects the request if the timestamp supplied is not within 2 hours of the server time". */
export const TOKEN_WINDOW_MS = 2 * 60 * 60 * 1000;

export interface ParsedMeshToken {
  scheme: string;
  mailboxId: string;
  nonce: string;
  nonceCount: string;
  timestamp: string;
  hash: string;
  parts: number;
}

/** mesh-sandbox `try_parse_authorisation_token`. */
export function parseMeshToken(header: string | undefined): ParsedMeshToken | undefined {
  let token = (header ?? '').trim();
  if (!token) return undefined;
  const scheme = token.toUpperCase().startsWith(MESH_AUTH_SCHEME) ? MESH_AUTH_SCHEME : '';
  if (scheme) token = token.slice(MESH_AUTH_SCHEME.length + 1);
  const parts = token.split(':');
  const at = (i: number) => parts[i] ?? '';
  return {
    scheme,
    mailboxId: at(0),
    nonce: at(1),
    nonceCount: at(2),
    timestamp: at(3),
    hash: at(4),
    parts: parts.length,
  };
}

/** The HMAC of a token (mesh-sandbox `generate_cipher_text`), lower-case hex. */
export function meshTokenHash(
  sharedKey: string,
  mailboxId: string,
  nonce: string,
  nonceCount: string,
  password: string,
  timestamp: string,
): string {
  return createHmac('sha256', sharedKey)
    .update(`${mailboxId}:${nonce}:${nonceCount}:${password}:${timestamp}`)
    .digest('hex');
}

/** `yyyyMMddHHmm` (UTC) → epoch ms, or undefined when malformed. */
export function parseTokenTimestamp(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi] = match.map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi);
  const check = new Date(ms);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59) return undefined;
  return ms;
}

/** Remembers the tokens already used, for as long as their timestamp could still be accepted. */
export class TokenReplayCache {
  private readonly seen = new Map<string, number>();

  /** True the first time a token is offered; false on every repeat. */
  use(token: string, timestampMs: number, nowMs: number): boolean {
    this.prune(nowMs);
    if (this.seen.has(token)) return false;
    this.seen.set(token, timestampMs);
    return true;
  }

  private prune(nowMs: number): void {
    if (this.seen.size < 1024) return;
    for (const [token, ts] of this.seen) if (Math.abs(nowMs - ts) > TOKEN_WINDOW_MS) this.seen.delete(token);
  }
}

export interface AuthoriseOptions {
  sharedKey: string;
  mailboxOf: (id: string) => MeshMailbox | undefined;
  replay: TokenReplayCache;
  nowMs: number;
}

/**
 * Checks the `Authorization` header for a request to the mailbox in the path (upper-cased, as
 * mesh-sandbox `normalise_mailbox_id_path`), in mesh-sandbox's order, then the two checks it leaves
 * out and the spec demands (timestamp window, one use per token). Throws a 403 MeshError.
 */
export function authoriseMailbox(pathMailbox: string, header: string | undefined, options: AuthoriseOptions) {
  const mailboxId = pathMailbox.toUpperCase();
  const parsed = parseMeshToken(header);
  if (!parsed) throw new MeshError(403, { description: MESH_MESSAGES.readingAuthHeader });
  // The token's mailbox must equal the path's, and the spec says it "Must be uppercase".
  if (parsed.mailboxId !== mailboxId)
    throw new MeshError(403, { description: MESH_MESSAGES.mailboxTokenMismatch });
  const malformed =
    parsed.parts !== 5 ||
    !/^\d+$/.test(parsed.nonceCount) ||
    parsed.scheme !== MESH_AUTH_SCHEME ||
    /\s/.test(mailboxId);
  if (malformed) throw new MeshError(403, { description: MESH_MESSAGES.readingAuthHeader });
  const mailbox = options.mailboxOf(mailboxId);
  if (!mailbox) throw new MeshError(403, 'noMailboxMatches');
  const expected = meshTokenHash(
    options.sharedKey,
    parsed.mailboxId,
    parsed.nonce,
    parsed.nonceCount,
    mailbox.password,
    parsed.timestamp,
  );
  const given = Buffer.from(parsed.hash.toLowerCase());
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
    throw new MeshError(403, { description: MESH_MESSAGES.invalidAuthToken });
  }
  const timestampMs = parseTokenTimestamp(parsed.timestamp);
  if (timestampMs === undefined || Math.abs(options.nowMs - timestampMs) > TOKEN_WINDOW_MS) {
    throw new MeshError(403, { description: MESH_MESSAGES.invalidAuthToken });
  }
  const tokenKey = `${parsed.mailboxId}:${parsed.nonce}:${parsed.nonceCount}:${parsed.timestamp}:${parsed.hash.toLowerCase()}`;
  if (!options.replay.use(tokenKey, timestampMs, options.nowMs)) {
    throw new MeshError(403, { description: MESH_MESSAGES.duplicatedAuthToken });
  }
  return mailbox;
}
