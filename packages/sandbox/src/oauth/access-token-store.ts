import { randomInt } from 'node:crypto';
import type { RegisteredApp } from './registered-app.js';

/** Lifetime of an access token; the platform answers `"expires_in": "599"`. */
export const ACCESS_TOKEN_TTL_S = 599;

// Apigee access tokens are 28 alphanumeric characters.
const TOKEN_LENGTH = 28;
const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

interface IssuedToken {
  readonly apiKey: string;
  readonly expiresAtMs: number;
}

/**
 * The access tokens issued by the sandbox's `/oauth2/token`, shared with the APIs that accept
 * them. Tokens are opaque random strings that live {@link ACCESS_TOKEN_TTL_S} seconds on the
 * injected clock; expired ones are dropped as new ones are issued, so memory stays bounded.
 */
export class AccessTokenStore {
  readonly #now: () => Date;
  // Insertion order is expiry order (one fixed lifetime), which makes sweeping cheap.
  readonly #tokens = new Map<string, IssuedToken>();

  constructor(options: { now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  /** Issues a new access token to `app`. */
  issue(app: RegisteredApp): { accessToken: string; expiresInS: number } {
    const nowMs = this.#now().getTime();
    this.#sweep(nowMs);
    let accessToken = randomToken();
    while (this.#tokens.has(accessToken)) accessToken = randomToken();
    this.#tokens.set(accessToken, { apiKey: app.apiKey, expiresAtMs: nowMs + ACCESS_TOKEN_TTL_S * 1000 });
    return { accessToken, expiresInS: ACCESS_TOKEN_TTL_S };
  }

  /** Who a token was issued to, or `undefined` when it is unknown or has expired. */
  verify(token: string): { apiKey: string; accessMode: 'application-restricted' } | undefined {
    const issued = this.#tokens.get(token);
    if (issued === undefined || this.#now().getTime() >= issued.expiresAtMs) return undefined;
    return { apiKey: issued.apiKey, accessMode: 'application-restricted' };
  }

  /** How many tokens are held (expired ones not yet swept included); for tests and metrics. */
  get size(): number {
    return this.#tokens.size;
  }

  #sweep(nowMs: number): void {
    for (const [token, issued] of this.#tokens) {
      if (nowMs < issued.expiresAtMs) break;
      this.#tokens.delete(token);
    }
  }
}

function randomToken(): string {
  let token = '';
  for (let i = 0; i < TOKEN_LENGTH; i++) token += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  return token;
}
