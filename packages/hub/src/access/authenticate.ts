import type { IncomingHttpHeaders } from 'node:http';
import type { Store } from '../store/database.js';
import { adminSessionValid } from './admin-accounts.js';
import { presentedApiKey } from './api-key-auth.js';
import { verifyApiKey } from './api-keys.js';
import type { Principal, ProxyDelegation } from './policy.js';
import { type ActiveSession, findSession, SESSION_TOKEN_PREFIX } from './sessions.js';

/** Name of the browser session cookie. */
export const SESSION_COOKIE = 'junction_session';

/** The patients a signed-in NHS login user may act for as a proxy, and for what. */
export type DelegationsFor = (person: {
  sub: string;
  nhsNumber?: string;
}) => Promise<readonly ProxyDelegation[]>;

export type Authentication =
  | {
      ok: true;
      principal: Principal;
      session?: ActiveSession;
      sessionToken?: string;
      /** How the credentials came: the browser's cookie (CSRF applies) or a header the caller set. */
      via: 'cookie' | 'header';
    }
  | {
      ok: false;
      reason: 'missing' | 'invalid' | 'expired' | 'revoked' | 'cross-site';
      /** With `cross-site`: whose cookie it was, for the audit record. */
      principal?: Principal;
    };

/**
 * Who is calling. Credentials, first found wins: `Authorization: Bearer jss_…` (mobile apps) or
 * `Bearer jct_…` / `X-API-Key` (API keys), then the `junction_session` cookie (browsers).
 * A patient's proxy delegations are looked up with `delegationsFor` on every request, not kept from
 * sign-in, so a revoked or expired delegation stops working at once.
 */
export async function authenticate(
  store: Store,
  headers: IncomingHttpHeaders,
  now: () => Date,
  delegationsFor?: DelegationsFor,
): Promise<Authentication> {
  const fromHeader = presentedApiKey(headers);
  const presented = fromHeader ?? sessionCookie(headers);
  if (presented === undefined) return { ok: false, reason: 'missing' };
  const via = fromHeader === undefined ? 'cookie' : 'header';
  if (presented.startsWith(SESSION_TOKEN_PREFIX)) {
    const found = await findSession(store, presented, now);
    if (found.status !== 'active') return { ok: false, reason: found.status };
    const session = found.session;
    // An admin's session ends when the account is disabled or its password reset.
    if (
      session.principal.kind === 'admin' &&
      !(await adminSessionValid(store, session.principal, session.createdAt))
    ) {
      return { ok: false, reason: 'revoked' };
    }
    if (session.principal.kind === 'patient' && delegationsFor) {
      const p = session.principal;
      const person = p.nhsNumber === undefined ? { sub: p.sub } : { sub: p.sub, nhsNumber: p.nhsNumber };
      session.principal = { ...p, delegations: await delegationsFor(person) };
    }
    return { ok: true, principal: session.principal, session, sessionToken: presented, via };
  }
  const key = await verifyApiKey(store, presented);
  if (!key) return { ok: false, reason: 'invalid' };
  return {
    ok: true,
    principal: {
      kind: 'api-key',
      id: key.id,
      name: key.name,
      organisationOds: key.organisationOds,
      scopes: key.scopes,
    },
    via,
  };
}

/** The `junction_session` cookie's value, if sent. */
export function sessionCookie(headers: IncomingHttpHeaders): string | undefined {
  const cookie = headers.cookie;
  if (typeof cookie !== 'string') return undefined;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}
