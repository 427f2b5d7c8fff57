import { randomInt } from 'node:crypto';
import type { RegisteredApp } from './registered-app.js';

/** Lifetime of an access token; the platform answers `"expires_in": "599"`. */
export const ACCESS_TOKEN_TTL_S = 599;

// Apigee access tokens are 28 alphanumeric characters.
const TOKEN_LENGTH = 28;
const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * What an access token lets its bearer do; PDS picks its access mode from it
 * (`reference/specs/pds/specification/personal-demographics.yaml`, "Access modes").
 * `healthcare-worker` comes from a CIS2 id_token, `patient` from an NHS login one (token exchange).
 */
export type AccessGrant =
  | { accessMode: 'application-restricted' }
  | {
      accessMode: 'healthcare-worker';
      /** The CIS2 `sub` (the user's UUID). */
      userId: string;
      /** The selected role profile id (`selected_roleid`), what `NHSD-Session-URID` must match. */
      roleProfileId?: string;
      roleCode?: string;
      odsCode?: string;
      /** The id_token's `authentication_assurance_level`; PDS's healthcare-worker mode needs 2 or 3. */
      authenticationAssuranceLevel?: number;
    }
  | {
      accessMode: 'patient';
      /** The signed-in person's NHS number ('' when the id_token has none, e.g. at P0). */
      nhsNumber: string;
      identityProofingLevel: 'P0' | 'P5' | 'P9';
      vot?: string;
      /** Delegated (proxy) access: the NHS number of the patient acted for. */
      proxyFor?: string;
    };

/** What {@link AccessTokenStore.verify} answers for a live token. */
export type VerifiedAccessToken = { apiKey: string } & AccessGrant;

const APPLICATION_RESTRICTED: AccessGrant = { accessMode: 'application-restricted' };

interface IssuedToken {
  readonly apiKey: string;
  readonly grant: AccessGrant;
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

  /** Issues a new access token to `app`, application-restricted unless a user's `grant` is given. */
  issue(
    app: RegisteredApp,
    grant: AccessGrant = APPLICATION_RESTRICTED,
  ): { accessToken: string; expiresInS: number } {
    const nowMs = this.#now().getTime();
    this.#sweep(nowMs);
    let accessToken = randomToken();
    while (this.#tokens.has(accessToken)) accessToken = randomToken();
    this.#tokens.set(accessToken, {
      apiKey: app.apiKey,
      grant: structuredClone(grant),
      expiresAtMs: nowMs + ACCESS_TOKEN_TTL_S * 1000,
    });
    return { accessToken, expiresInS: ACCESS_TOKEN_TTL_S };
  }

  /** Who a token was issued to and what it grants, or `undefined` when it is unknown or has expired. */
  verify(token: string): VerifiedAccessToken | undefined {
    const issued = this.#tokens.get(token);
    if (issued === undefined || this.#now().getTime() >= issued.expiresAtMs) return undefined;
    return { apiKey: issued.apiKey, ...structuredClone(issued.grant) };
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
