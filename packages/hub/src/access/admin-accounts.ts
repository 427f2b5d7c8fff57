import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { appendAuditEvent } from '../audit/append-audit-event.js';
import type { AdminAccountsTable, Store } from '../store/database.js';
import { HashingBusyError } from './hashing-gate.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './password-hash.js';
import type { AdminPrincipal } from './policy.js';
import { addressKey } from './sign-in-throttle.js';

/**
 * Hub admin accounts: people who run the hub and sign in to the console with a username and
 * password (`POST /auth/admin/login`), managed with `junction admin create|list|disable`.
 *
 * Passwords: 12 to 128 characters, any characters (OWASP ASVS 4.0 V2.1.1, V2.1.2: at least 12,
 * at most 128; no composition rules, V2.1.9), hashed with scrypt (`password-hash.ts`). Repeated
 * failures lock the username for a while (V2.2.1), counted in the store so every hub instance agrees,
 * and per client address, so that someone elsewhere cannot lock the account's owner out.
 */

export interface AdminAccountInfo {
  id: string;
  username: string;
  createdAt: string;
  passwordChangedAt: string;
  lastSignInAt: string | null;
  disabledAt: string | null;
}

export type AdminAccountErrorCode = 'invalid-username' | 'invalid-password' | 'exists';

/** A refusal a person can act on; `code` is stable. */
export class AdminAccountError extends Error {
  override readonly name = 'AdminAccountError';
  constructor(
    readonly code: AdminAccountErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface AdminAccountInput {
  username: string;
  password: string;
  now?: () => Date;
  /** Who made the change, for the audit trail (default `cli`). */
  by?: string;
}

/** Lower-case letters, digits, `.`, `_`, `-`; 2 to 64 long, starting with a letter. */
const USERNAME_PATTERN = /^[a-z][a-z0-9._-]{1,63}$/;
export const ADMIN_PASSWORD_MIN_LENGTH = 12;
export const ADMIN_PASSWORD_MAX_LENGTH = 128;
/** Failures within the window that lock the username, and for how long. */
export const ADMIN_SIGN_IN_MAX_FAILURES = 5;
const FAILURE_WINDOW_MS = 15 * 60_000;
export const ADMIN_LOCKOUT_MS = 15 * 60_000;
/**
 * Most failure rows kept: beyond it the oldest rows without a running lock go first, so attempts on
 * ever new names from ever new addresses cannot grow the table without end.
 */
export const ADMIN_SIGN_IN_FAILURE_ROWS = 10_000;

/** Usernames are compared in lower case, trimmed. */
export function normaliseAdminUsername(username: string): string {
  return username.trim().toLowerCase();
}

function checkedUsername(username: string): string {
  const name = normaliseAdminUsername(username);
  if (!USERNAME_PATTERN.test(name)) {
    throw new AdminAccountError(
      'invalid-username',
      'a username is 2–64 characters: a letter, then letters, digits, dots, dashes or underscores',
    );
  }
  return name;
}

function checkedPassword(password: string): string {
  const length = [...password.normalize('NFKC')].length;
  if (length < ADMIN_PASSWORD_MIN_LENGTH || length > ADMIN_PASSWORD_MAX_LENGTH) {
    throw new AdminAccountError(
      'invalid-password',
      `a password is ${ADMIN_PASSWORD_MIN_LENGTH}–${ADMIN_PASSWORD_MAX_LENGTH} characters`,
    );
  }
  return password;
}

/**
 * Creates an admin account. Refuses a username that exists (enabled or disabled: usernames name
 * one person in the audit trail for ever).
 * @example await createAdminAccount(store, { username: 'ops.lead', password, now: () => new Date() });
 */
export async function createAdminAccount(store: Store, input: AdminAccountInput): Promise<AdminAccountInfo> {
  const username = checkedUsername(input.username);
  const password = checkedPassword(input.password);
  // Before the (deliberately slow) hash: an existing name costs no scrypt.
  if (await findRow(store, username)) {
    throw new AdminAccountError('exists', `an admin account '${username}' exists already`);
  }
  const passwordHash = await hashPassword(password);
  const now = input.now ?? (() => new Date());
  const at = now().toISOString();
  const row: AdminAccountsTable = {
    id: randomUUID(),
    username,
    password_hash: passwordHash,
    created_at: at,
    password_changed_at: at,
    sessions_valid_after: at,
    last_sign_in_at: null,
    disabled_at: null,
  };
  try {
    await store.db.insertInto('admin_accounts').values(row).execute();
  } catch (error) {
    // Two creates at once: the unique username decides.
    if (await findRow(store, username)) {
      throw new AdminAccountError('exists', `an admin account '${username}' exists already`);
    }
    throw error;
  }
  await auditChange(store, 'admin.create', username, input.by ?? 'cli', now);
  return infoOf(row);
}

/**
 * Sets the password of an account, creating the account if there is none, enables it, and ends
 * its sessions and any lock (`junction start` does this for `admin` on every start).
 * @example const password = randomAdminPassword(); await resetAdminAccount(store, { username: 'admin', password });
 */
export async function resetAdminAccount(store: Store, input: AdminAccountInput): Promise<AdminAccountInfo> {
  const username = checkedUsername(input.username);
  const existing = await findRow(store, username);
  if (!existing) return createAdminAccount(store, input);
  const now = input.now ?? (() => new Date());
  const at = now().toISOString();
  const passwordHash = await hashPassword(checkedPassword(input.password));
  await store.db
    .updateTable('admin_accounts')
    .set({
      password_hash: passwordHash,
      password_changed_at: at,
      sessions_valid_after: at,
      disabled_at: null,
    })
    .where('id', '=', existing.id)
    .execute();
  await store.db.deleteFrom('admin_sign_in_failures').where('username', '=', username).execute();
  await auditChange(store, 'admin.reset', username, input.by ?? 'cli', now);
  return infoOf({ ...existing, password_changed_at: at, disabled_at: null });
}

/**
 * Disables an account: it can no longer sign in and its sessions end at once. False when there is
 * no such account.
 * @example await disableAdminAccount(store, 'ops.lead')
 */
export async function disableAdminAccount(
  store: Store,
  username: string,
  now: () => Date = () => new Date(),
  by = 'cli',
): Promise<boolean> {
  const row = await findRow(store, normaliseAdminUsername(username));
  if (!row) return false;
  const at = now().toISOString();
  await store.db
    .updateTable('admin_accounts')
    .set({ disabled_at: row.disabled_at ?? at, sessions_valid_after: at })
    .where('id', '=', row.id)
    .execute();
  await auditChange(store, 'admin.disable', row.username, by, now);
  return true;
}

/** Every admin account, oldest first, without password hashes. */
export async function listAdminAccounts(store: Store): Promise<AdminAccountInfo[]> {
  const rows = await store.db
    .selectFrom('admin_accounts')
    .selectAll()
    .orderBy('created_at')
    .orderBy('username')
    .execute();
  return rows.map(infoOf);
}

export type AdminSignIn =
  | { ok: true; principal: AdminPrincipal }
  /** Unknown username, wrong password or a disabled account: callers must not tell these apart. */
  | { ok: false; reason: 'invalid'; username: string; known: boolean }
  | { ok: false; reason: 'locked'; username: string; known: boolean; retryAfterS: number }
  /** Too many password checks running and queued in this process: nothing was checked or counted. */
  | { ok: false; reason: 'busy'; username: string; known: boolean; retryAfterS: number };

/**
 * Checks a username and password tried from `clientAddress`. The password is hashed whatever
 * happens (against a dummy hash for an unknown username), so the time taken does not tell whether
 * the account exists. Failures are counted per username and client address (an IPv6 client by its
 * /64), known and unknown names alike (so a lock does not tell either); while that pair is locked
 * nothing is checked.
 * @example const result = await signInAdmin(store, { username, password, clientAddress: request.ip, now });
 */
export async function signInAdmin(
  store: Store,
  input: { username: string; password: string; clientAddress: string; now: () => Date },
): Promise<AdminSignIn> {
  const username = normaliseAdminUsername(input.username).slice(0, 64);
  const client = addressKey(input.clientAddress).slice(0, 64);
  const row = USERNAME_PATTERN.test(username) ? await findRow(store, username) : undefined;
  const known = row !== undefined;
  const at = input.now();
  const lock = await store.db
    .selectFrom('admin_sign_in_failures')
    .select('locked_until')
    .where('username', '=', username)
    .where('client_address', '=', client)
    .executeTakeFirst();
  if (lock?.locked_until && Date.parse(lock.locked_until) > at.getTime()) {
    const retryAfterS = Math.ceil((Date.parse(lock.locked_until) - at.getTime()) / 1000);
    return { ok: false, reason: 'locked', username, known, retryAfterS };
  }
  const password = input.password.length > ADMIN_PASSWORD_MAX_LENGTH * 4 ? '' : input.password;
  let matches: boolean;
  try {
    matches = await verifyPassword(password, row?.password_hash ?? dummyPasswordHash());
  } catch (error) {
    if (!(error instanceof HashingBusyError)) throw error;
    return { ok: false, reason: 'busy', username, known, retryAfterS: error.retryAfterS };
  }
  if (!row || !matches || row.disabled_at !== null) {
    const locked = await recordFailure(store, username, client, at);
    return locked === undefined
      ? { ok: false, reason: 'invalid', username, known }
      : { ok: false, reason: 'locked', username, known, retryAfterS: Math.ceil(ADMIN_LOCKOUT_MS / 1000) };
  }
  await store.db
    .deleteFrom('admin_sign_in_failures')
    .where('username', '=', username)
    .where('client_address', '=', client)
    .execute();
  await store.db
    .updateTable('admin_accounts')
    .set({ last_sign_in_at: at.toISOString() })
    .where('id', '=', row.id)
    .execute();
  return { ok: true, principal: { kind: 'admin', id: row.id, username: row.username } };
}

/**
 * Whether a session of this admin made at `sessionCreatedAt` still counts: the account exists, is
 * enabled, and its password has not been reset (nor the account disabled) since.
 */
export async function adminSessionValid(
  store: Store,
  principal: AdminPrincipal,
  sessionCreatedAt: string,
): Promise<boolean> {
  const row = await store.db
    .selectFrom('admin_accounts')
    .select(['disabled_at', 'sessions_valid_after'])
    .where('id', '=', principal.id)
    .executeTakeFirst();
  return row !== undefined && row.disabled_at === null && sessionCreatedAt >= row.sessions_valid_after;
}

/** A random password for a new account (`junction start`): 144 bits, base64url, 24 characters. */
export function randomAdminPassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Counts one failure atomically (an upsert, so instances racing each other all count) and locks
 * the username for this client once there are enough in the window. Returns the lock's end when
 * it locked.
 */
async function recordFailure(
  store: Store,
  username: string,
  client: string,
  at: Date,
): Promise<string | undefined> {
  const now = at.toISOString();
  const windowStart = new Date(at.getTime() - FAILURE_WINDOW_MS).toISOString();
  // Old rows of usernames nobody tries any more (attackers try many): kept no longer than needed.
  await store.db
    .deleteFrom('admin_sign_in_failures')
    .where('first_failed_at', '<', windowStart)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .execute();
  await store.db
    .insertInto('admin_sign_in_failures')
    .values({ username, client_address: client, failures: 1, first_failed_at: now, locked_until: null })
    .onConflict((oc) =>
      oc.columns(['username', 'client_address']).doUpdateSet({
        failures: sql<number>`case when admin_sign_in_failures.first_failed_at < ${windowStart} then 1 else admin_sign_in_failures.failures + 1 end`,
        first_failed_at: sql<string>`case when admin_sign_in_failures.first_failed_at < ${windowStart} then ${now} else admin_sign_in_failures.first_failed_at end`,
      }),
    )
    .execute();
  const until = new Date(at.getTime() + ADMIN_LOCKOUT_MS).toISOString();
  // Whoever brings the count to the limit locks it, and the count starts again for after the lock.
  const locked = await store.db
    .updateTable('admin_sign_in_failures')
    .set({ locked_until: until, failures: 0, first_failed_at: now })
    .where('username', '=', username)
    .where('client_address', '=', client)
    .where('failures', '>=', ADMIN_SIGN_IN_MAX_FAILURES)
    .executeTakeFirst();
  await pruneFailures(store, now);
  return Number(locked.numUpdatedRows) > 0 ? until : undefined;
}

/**
 * Keeps at most `ADMIN_SIGN_IN_FAILURE_ROWS` rows: the newest that many by first failure stay, and
 * of the older ones those whose lock still runs (a lock is never lifted early by a flood).
 */
async function pruneFailures(store: Store, now: string): Promise<void> {
  const boundary = await store.db
    .selectFrom('admin_sign_in_failures')
    .select('first_failed_at')
    .orderBy('first_failed_at', 'desc')
    .limit(1)
    .offset(ADMIN_SIGN_IN_FAILURE_ROWS - 1)
    .executeTakeFirst();
  if (!boundary) return;
  await store.db
    .deleteFrom('admin_sign_in_failures')
    .where('first_failed_at', '<', boundary.first_failed_at)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .execute();
}

/**
 * One audit record for a change to an account, made by someone running the CLI on the store
 * (`operator`, `by` naming the tool); the account is named in the correlation id. Never a password.
 */
async function auditChange(
  store: Store,
  action: 'admin.create' | 'admin.reset' | 'admin.disable',
  username: string,
  by: string,
  now: () => Date,
): Promise<void> {
  await appendAuditEvent(
    store,
    {
      action,
      actor: { kind: 'operator', userId: by, organisationOds: null },
      nhsNumbers: [],
      outcome: 'success',
      httpStatus: 0,
      correlationId: `admin-account:${username}`,
      requestId: randomUUID(),
      decision: { allowed: true, rule: action },
    },
    now,
  );
}

function findRow(store: Store, username: string): Promise<AdminAccountsTable | undefined> {
  return store.db
    .selectFrom('admin_accounts')
    .selectAll()
    .where('username', '=', username)
    .executeTakeFirst();
}

function infoOf(row: AdminAccountsTable): AdminAccountInfo {
  return {
    id: row.id,
    username: row.username,
    createdAt: row.created_at,
    passwordChangedAt: row.password_changed_at,
    lastSignInAt: row.last_sign_in_at,
    disabledAt: row.disabled_at,
  };
}
