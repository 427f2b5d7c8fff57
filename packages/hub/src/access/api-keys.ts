import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { isOdsCode, normaliseOdsCode } from '@junction/core';
import type { Store } from '../store/database.js';

/**
 * API keys for back-end products: `jct_<prefix>_<secret>`.
 *
 * The prefix (64 random bits, hex) is stored in clear and finds the row; the secret (256 random
 * bits, base64url) is stored only as its SHA-256. A slow password hash (scrypt, argon2) exists to
 * make guessing *low-entropy* human passwords expensive; a 256-bit random secret cannot be guessed
 * whatever the hash, so SHA-256 loses nothing — and it keeps every authenticated request cheap,
 * where scrypt would cost tens of milliseconds of CPU per request and hand attackers a DoS lever.
 */

/** One scope per policy action (`src/access/policy.ts` names the scope each action needs). */
export const API_KEY_SCOPES = [
  'patient:read',
  'patient:search',
  'patient:update',
  'gp-record:read',
  'scr:read',
  'prescription:read',
  'prescription:dispense',
  'appointment:read',
  'appointment:book',
  'document:send',
  'audit:read',
  'medicines:read',
  'messages:read',
  'jobs:read',
  'jobs:manage',
  'readings:submit',
  'readings:read',
  'operations:read',
  'keys:manage',
  'medicines:import',
  'settings:manage',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
/**
 * What a key gets when no scopes are named: lookups only; writing to PDS must be asked for. A dm+d
 * lookup is a lookup of reference data (no patient data), so it is in the default too.
 */
export const DEFAULT_API_KEY_SCOPES: readonly ApiKeyScope[] = [
  'patient:read',
  'patient:search',
  'medicines:read',
];

export interface ApiKeyInfo {
  id: string;
  name: string;
  organisationOds: string | null;
  scopes: ApiKeyScope[];
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** The full key. Shown once: only its hash is stored. */
  secret: string;
}

export interface CreateApiKeyInput {
  name: string;
  organisationOds?: string;
  /** Default {@link DEFAULT_API_KEY_SCOPES}. */
  scopes?: readonly ApiKeyScope[];
  /** Clock, for tests. */
  now?: () => Date;
}

const KEY_PATTERN = /^jct_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const PREFIX_BYTES = 8;
const SECRET_BYTES = 32;

/**
 * Creates an API key and returns it with its secret, which is never retrievable again.
 * @example
 * const { secret } = await createApiKey(store, { name: 'pharmacy-app', organisationOds: 'FA123' });
 */
export async function createApiKey(store: Store, input: CreateApiKeyInput): Promise<CreatedApiKey> {
  const name = input.name.trim();
  if (name === '' || name.length > 200) throw new RangeError('an API key name is 1–200 characters');
  let organisationOds: string | null = null;
  if (input.organisationOds !== undefined) {
    organisationOds = normaliseOdsCode(input.organisationOds);
    if (!isOdsCode(organisationOds)) throw new RangeError(`not an ODS code: ${input.organisationOds}`);
  }
  const scopes = [...new Set(input.scopes ?? DEFAULT_API_KEY_SCOPES)];
  for (const scope of scopes) {
    if (!API_KEY_SCOPES.includes(scope)) throw new RangeError(`unknown scope: ${String(scope)}`);
  }
  const prefix = randomBytes(PREFIX_BYTES).toString('hex');
  const secretPart = randomBytes(SECRET_BYTES).toString('base64url');
  const row = {
    id: randomUUID(),
    name,
    organisation_ods: organisationOds,
    scopes: JSON.stringify(scopes),
    prefix,
    secret_hash: hashSecret(secretPart),
    created_at: (input.now?.() ?? new Date()).toISOString(),
    revoked_at: null,
  };
  await store.db.insertInto('api_keys').values(row).execute();
  return { ...toInfo(row), secret: `jct_${prefix}_${secretPart}` };
}

/**
 * Revokes a key by id; later requests with it get 401. Returns false if no such key exists.
 * @example await revokeApiKey(store, key.id)
 */
export async function revokeApiKey(
  store: Store,
  id: string,
  now: () => Date = () => new Date(),
): Promise<boolean> {
  const existing = await store.db
    .selectFrom('api_keys')
    .select(['id'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!existing) return false;
  await store.db
    .updateTable('api_keys')
    .set({ revoked_at: now().toISOString() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
  return true;
}

/**
 * All keys, newest first, without secrets.
 * @example for (const k of await listApiKeys(store)) console.log(k.name, k.revokedAt ?? 'active')
 */
export async function listApiKeys(store: Store): Promise<ApiKeyInfo[]> {
  const rows = await store.db
    .selectFrom('api_keys')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toInfo);
}

/**
 * The active key a presented secret belongs to, or undefined (unknown, malformed, wrong secret or
 * revoked — callers should not tell these apart to the client).
 */
export async function verifyApiKey(store: Store, presented: string): Promise<ApiKeyInfo | undefined> {
  const match = KEY_PATTERN.exec(presented.trim());
  const prefix = match?.[1];
  const secretPart = match?.[2];
  const row =
    prefix === undefined
      ? undefined
      : await store.db.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst();
  // Compare even when there is no row, so timing does not reveal which prefixes exist.
  const expected = Buffer.from(row?.secret_hash ?? DUMMY_HASH, 'hex');
  const actual = Buffer.from(hashSecret(secretPart ?? ''), 'hex');
  const equal = expected.length === actual.length && timingSafeEqual(expected, actual);
  if (!row || !equal || row.revoked_at !== null) return undefined;
  return toInfo(row);
}

const DUMMY_HASH = 'f'.repeat(64);

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function toInfo(row: {
  id: string;
  name: string;
  organisation_ods: string | null;
  scopes: string;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    organisationOds: row.organisation_ods,
    scopes: JSON.parse(row.scopes) as ApiKeyScope[],
    prefix: row.prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
