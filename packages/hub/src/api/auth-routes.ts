import {
  AuthError,
  type Cis2AuthorizationRequest,
  type Cis2IdTokenClaims,
  type Cis2UserInfo,
  type CodeExchangeRequest,
  DEFAULT_NHS_LOGIN_VTR,
  generatePkce,
  type NhsLoginAuthorizationRequest,
  type NhsLoginIdTokenClaims,
  type OidcTokens,
  randomNonce,
  randomState,
  selectedRole,
  type VectorOfTrust,
} from '@junction/client';
import { isValidNhsNumber, OperationOutcomeError } from '@junction/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { signInAdmin } from '../access/admin-accounts.js';
import { type DelegationsFor, SESSION_COOKIE } from '../access/authenticate.js';
import { recordClinicianName } from '../access/clinician-names.js';
import { isSameOriginRequest } from '../access/csrf.js';
import {
  type AdminPrincipal,
  allowedActions,
  type ClinicianPrincipal,
  type IdentityProofingLevel,
  type PatientPrincipal,
  type Principal,
} from '../access/policy.js';
import { createSession, revokeSession, type SessionPrincipal } from '../access/sessions.js';
import { SignInThrottle } from '../access/sign-in-throttle.js';
import type { Store } from '../store/database.js';
import type { AccessControl } from './authorise.js';

/** What the hub needs of an NHS login relying party (`NhsLoginClient` from @junction/client). */
export interface NhsLoginPort {
  authorizationUrl(request: NhsLoginAuthorizationRequest): Promise<URL>;
  exchangeCode(request: CodeExchangeRequest): Promise<OidcTokens<NhsLoginIdTokenClaims>>;
}

/** What the hub needs of a CIS2 relying party (`Cis2Client` from @junction/client). */
export interface Cis2Port {
  authorizationUrl(request: Cis2AuthorizationRequest): Promise<URL>;
  exchangeCode(request: CodeExchangeRequest): Promise<OidcTokens<Cis2IdTokenClaims>>;
  userinfo(accessToken: string, expectedSubject?: string): Promise<Cis2UserInfo>;
}

export interface AuthRoutesOptions {
  store: Store;
  access: AccessControl;
  now: () => Date;
  publicUrl: string;
  /** Allowed `return_to` values (origin + path, exact). */
  returnUrls: readonly string[];
  sessionTtlS: number;
  nhsLogin?: NhsLoginPort;
  cis2?: Cis2Port;
  /** Patients a signed-in NHS login user may act for as a proxy, and for what; default none. */
  delegationsFor?: DelegationsFor;
}

type Provider = 'nhs-login' | 'cis2';
const PROVIDER_NAMES: Record<Provider, string> = { 'nhs-login': 'NHS login', cis2: 'CIS2' };
/**
 * Sign-ins under way expire like NHS login's authorisation codes (10 min, NHS login Interface
 * Specification – Federation).
 */
const AUTH_REQUEST_TTL_MS = 10 * 60_000;
/**
 * Admin sign-in attempts per client address, taken before any lookup or hash: a burst of 10, then
 * one every 6 s (10 a minute, far above a person's typing), for up to 10,000 addresses at once.
 */
const ADMIN_SIGN_IN_BURST = 10;
const ADMIN_SIGN_IN_REFILL_MS = 6000;
const ADMIN_SIGN_IN_ADDRESSES = 10_000;
const NHS_LOGIN_SCOPE = ['openid', 'profile'];
/**
 * `nhsperson` adds `nhsid_useruid` and the person's `title` to UserInfo (CIS2 "Scopes and claims",
 * https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/scopes-and-claims),
 * so the console can greet `Dr Alex Carter`; `nationalrbacaccess` lists the roles the selected one is found in.
 */
const CIS2_SCOPE = ['openid', 'profile', 'nhsperson', 'nationalrbacaccess'];
const LEVELS: IdentityProofingLevel[] = ['P0', 'P5', 'P9'];

interface LoginQuery {
  return_to?: string;
  /** `cookie` (default) or `token`: hand the session token back to a mobile app. */
  response?: string;
  /** NHS login only: the lowest identity proofing level accepted (default P9, NHS login's default vtr). */
  proofing?: string;
}

const jsonOnly = () => (data: unknown) => JSON.stringify(data);
const outcome = (description: string) => ({
  description,
  content: { 'application/fhir+json': { schema: { type: 'object', additionalProperties: true } } },
});

/**
 * Sign-in with NHS login (patients) and CIS2 (health and care workers), and the session they
 * create. Secrets (state, PKCE verifier, nonce) stay server-side in `auth_requests`; the id_token
 * stays server-side in the session, for token exchange. Nothing secret is logged or echoed.
 */
export async function authRoutes(app: FastifyInstance, options: AuthRoutesOptions): Promise<void> {
  const { store, access, now } = options;
  const secureCookie = !isPlainHttpLoopback(options.publicUrl);
  const allowedReturns = new Set(options.returnUrls.map(returnKey).filter((k) => k !== undefined));
  const hub = new URL(options.publicUrl);
  const adminThrottle = new SignInThrottle({
    capacity: ADMIN_SIGN_IN_BURST,
    refillIntervalMs: ADMIN_SIGN_IN_REFILL_MS,
    maxAddresses: ADMIN_SIGN_IN_ADDRESSES,
    now,
  });
  const consolePath = `${hub.pathname.replace(/\/+$/, '')}/console/`;
  /**
   * The hub's own console (`<publicUrl>/console/` and any page under it) is always a return URL:
   * same origin (scheme, host and port exactly, loopback included), path under /console/ once the
   * URL parser has resolved dot segments, so `/console/../x` cannot slip out. Answers the URL as
   * parsed (what was checked is what the browser is sent to), or undefined.
   */
  const ownConsoleUrl = (value: string): string | undefined => {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      return undefined;
    }
    if (u.origin !== hub.origin || u.username !== '' || u.password !== '') return undefined;
    return u.pathname.startsWith(consolePath) ? u.href : undefined;
  };

  const login =
    (provider: Provider) =>
    async (request: FastifyRequest<{ Querystring: LoginQuery }>, reply: FastifyReply) => {
      const q = request.query;
      const rp = provider === 'nhs-login' ? options.nhsLogin : options.cis2;
      if (!rp) throw notConfigured(provider);
      let returnTo: string | null = null;
      const consoleReturn = q.return_to === undefined ? undefined : ownConsoleUrl(q.return_to);
      if (consoleReturn !== undefined) {
        returnTo = consoleReturn;
      } else if (q.return_to !== undefined) {
        const key = returnKey(q.return_to);
        if (key === undefined || !allowedReturns.has(key)) {
          throw OperationOutcomeError.spine('INVALID_VALUE', {
            status: 400,
            diagnostics: "return_to is not one of the hub's allowed return URLs (JUNCTION_AUTH_RETURN_URLS)",
            expression: 'return_to',
          });
        }
        returnTo = q.return_to;
      }
      const handoff = q.response ?? 'cookie';
      if (handoff !== 'cookie' && handoff !== 'token') {
        throw OperationOutcomeError.spine('INVALID_VALUE', {
          status: 400,
          diagnostics: "response must be 'cookie' or 'token'",
          expression: 'response',
        });
      }
      const state = randomState();
      const nonce = randomNonce();
      const { codeVerifier } = await generatePkce();
      let url: URL;
      if (provider === 'nhs-login') {
        const level = q.proofing ?? 'P9';
        if (!LEVELS.includes(level as IdentityProofingLevel)) {
          throw OperationOutcomeError.spine('INVALID_VALUE', {
            status: 400,
            diagnostics: 'proofing must be P0, P5 or P9',
            expression: 'proofing',
          });
        }
        url = await upstream(provider, () =>
          (rp as NhsLoginPort).authorizationUrl({
            scope: NHS_LOGIN_SCOPE,
            vtr: vtrFrom(level as IdentityProofingLevel),
            state,
            nonce,
            codeVerifier,
          }),
        );
      } else {
        url = await upstream(provider, () =>
          (rp as Cis2Port).authorizationUrl({
            scope: CIS2_SCOPE,
            selectRole: true,
            state,
            nonce,
            codeVerifier,
          }),
        );
      }
      const at = now();
      await store.db.deleteFrom('auth_requests').where('expires_at', '<', at.toISOString()).execute();
      await store.db
        .insertInto('auth_requests')
        .values({
          state,
          provider,
          code_verifier: codeVerifier,
          nonce,
          return_to: returnTo,
          handoff,
          created_at: at.toISOString(),
          expires_at: new Date(at.getTime() + AUTH_REQUEST_TTL_MS).toISOString(),
        })
        .execute();
      return reply.code(302).header('cache-control', 'no-store').redirect(url.toString(), 302);
    };

  const callback =
    (provider: Provider) =>
    async (
      request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>,
      reply: FastifyReply,
    ) => {
      const rp = provider === 'nhs-login' ? options.nhsLogin : options.cis2;
      if (!rp) throw notConfigured(provider);
      const q = request.query;
      const pending =
        typeof q.state === 'string'
          ? await store.db
              .selectFrom('auth_requests')
              .selectAll()
              .where('state', '=', q.state)
              .where('provider', '=', provider)
              .executeTakeFirst()
          : undefined;
      // One use only, whatever happens next.
      if (pending) await store.db.deleteFrom('auth_requests').where('state', '=', pending.state).execute();
      const refuse = async (status: number, rule: string, diagnostics: string, principal?: Principal) => {
        await access.audit(request, {
          action: 'session.create',
          caller: principal
            ? { principal, decision: { allow: false, rule, reason: diagnostics } }
            : undefined,
          decision: { allow: false, rule, reason: diagnostics },
          nhsNumbers: [],
          outcome: 'denied',
          errorCode: 'ACCESS_DENIED',
          httpStatus: status,
        });
        request.log.info({ provider, rule, status }, 'sign-in refused');
        throw OperationOutcomeError.spine('ACCESS_DENIED', { status, diagnostics });
      };
      if (!pending || Date.parse(pending.expires_at) <= now().getTime()) {
        return refuse(400, 'sign-in.unknown-state', 'Unknown or expired sign-in: start again');
      }
      if (typeof q.error === 'string') {
        const code = /^[a-z_]{1,64}$/.test(q.error) ? q.error : 'error';
        return refuse(
          401,
          'sign-in.provider-error',
          `${PROVIDER_NAMES[provider]} did not sign the user in (${code})`,
        );
      }
      const callbackUrl = new URL(request.url, options.publicUrl);
      const exchange = {
        callbackUrl,
        state: pending.state,
        nonce: pending.nonce,
        codeVerifier: pending.code_verifier,
      };
      let principal: SessionPrincipal;
      let tokens: OidcTokens<NhsLoginIdTokenClaims | Cis2IdTokenClaims>;
      try {
        if (provider === 'nhs-login') {
          const t = await (rp as NhsLoginPort).exchangeCode(exchange);
          tokens = t;
          const patient = await patientOf(t.claims, options.delegationsFor);
          if (!patient) {
            return refuse(
              401,
              'sign-in.invalid-actor',
              'NHS login sign-in failed (the act claim does not hold a valid actor id token)',
            );
          }
          principal = patient;
        } else {
          const cis2 = rp as Cis2Port;
          const t = await cis2.exchangeCode(exchange);
          tokens = t;
          const info = await cis2.userinfo(t.accessToken, t.claims.sub);
          const chosen = clinicianOf(t.claims, info);
          if (!chosen) {
            return refuse(
              403,
              'sign-in.no-role',
              "No role was selected at CIS2 sign-in, or it is not among the user's roles",
            );
          }
          principal = chosen;
        }
      } catch (error) {
        if (error instanceof OperationOutcomeError) throw error;
        if (error instanceof AuthError) {
          if (error.code === 'provider_unreachable') throw unreachable(provider);
          return refuse(
            401,
            'sign-in.invalid-token',
            `${PROVIDER_NAMES[provider]} sign-in failed (${error.code})`,
          );
        }
        throw error;
      }
      const session = await createSession(store, {
        principal,
        idToken: tokens.idToken,
        ttlS: options.sessionTtlS,
        notAfter: new Date(tokens.claims.exp * 1000),
        now,
      });
      // Who the user id is, for audit readers; the audit records keep the id only.
      if (principal.kind === 'clinician' && principal.name !== undefined) {
        await recordClinicianName(store, principal.uid, principal.name, now);
      }
      const actingFor = principal.kind === 'patient' ? principal.actingFor : undefined;
      const decision = {
        allow: true,
        rule: `sign-in.${provider}`,
        reason: `Signed in with ${PROVIDER_NAMES[provider]}${actingFor ? ', acting for another person' : ''}`,
      };
      await access.audit(request, {
        action: 'session.create',
        caller: { principal, decision },
        nhsNumbers: [
          ...(principal.kind === 'patient' && principal.nhsNumber ? [principal.nhsNumber] : []),
          ...(actingFor ? [actingFor.nhsNumber] : []),
        ],
        outcome: 'success',
        httpStatus: pending.return_to ? 303 : 200,
      });
      reply.header('cache-control', 'no-store');
      const maxAgeS = Math.max(0, Math.floor((Date.parse(session.expiresAt) - now().getTime()) / 1000));
      if (pending.handoff === 'cookie')
        reply.header('set-cookie', cookie(session.token, maxAgeS, secureCookie));
      if (pending.return_to) {
        // A fragment never reaches a server log; the app reads it and then uses Authorization: Bearer.
        const target =
          pending.handoff === 'token'
            ? `${pending.return_to}#${new URLSearchParams({ session_token: session.token, expires_at: session.expiresAt })}`
            : pending.return_to;
        return reply.redirect(target, 303);
      }
      return reply.code(200).send({
        principal: publicPrincipal(principal),
        expiresAt: session.expiresAt,
        ...(pending.handoff === 'token' && { sessionToken: session.token }),
      });
    };

  for (const provider of ['nhs-login', 'cis2'] as const) {
    const name = PROVIDER_NAMES[provider];
    app.get<{ Querystring: LoginQuery }>(
      `/auth/${provider}/login`,
      {
        schema: {
          summary: `Sign in with ${name}: redirects to it (PKCE S256, state, nonce${provider === 'nhs-login' ? ', vtr' : ', selectedrole'})`,
          tags: ['Sign-in'],
          querystring: {
            type: 'object',
            properties: {
              return_to: {
                type: 'string',
                description:
                  "Where to go afterwards: one of the configured return URLs, or the hub's own console (<publicUrl>/console/…)",
              },
              response: {
                type: 'string',
                enum: ['cookie', 'token'],
                description: "'token' hands a mobile app its bearer session token",
              },
              ...(provider === 'nhs-login' && {
                proofing: {
                  type: 'string',
                  enum: LEVELS,
                  description: 'Lowest identity proofing level accepted (default P9)',
                },
              }),
            },
          },
          response: {
            302: { description: `Redirect to ${name}` },
            400: outcome('INVALID_VALUE'),
            404: outcome(`${name} sign-in not configured`),
          },
        },
        validatorCompiler: () => () => true,
      },
      login(provider),
    );
    app.get<{ Querystring: Record<string, string | undefined> }>(
      `/auth/${provider}/callback`,
      {
        schema: {
          summary: `${name} redirects back here: the code is exchanged and a session created`,
          tags: ['Sign-in'],
          response: {
            200: {
              description: 'Signed in (JSON: principal, expiresAt; sessionToken with response=token)',
              type: 'object',
              additionalProperties: true,
            },
            303: { description: 'Signed in: redirect to return_to' },
            400: outcome('Unknown or expired sign-in'),
            401: outcome('ACCESS_DENIED: sign-in failed'),
            403: outcome('ACCESS_DENIED: no CIS2 role selected'),
          },
        },
        validatorCompiler: () => () => true,
        serializerCompiler: jsonOnly,
      },
      callback(provider),
    );
  }

  app.post<{ Body: unknown }>(
    '/auth/admin/login',
    {
      schema: {
        summary:
          'Sign in with a hub admin account (JSON username, password): a session cookie as for CIS2; 429 after repeated failures',
        tags: ['Sign-in'],
        body: {
          type: 'object',
          required: ['username', 'password'],
          properties: { username: { type: 'string' }, password: { type: 'string', format: 'password' } },
        },
        response: {
          200: {
            description: 'Signed in (principal, actions, expiresAt) and Set-Cookie: junction_session',
            type: 'object',
            additionalProperties: true,
          },
          400: outcome('INVALID_VALUE'),
          401: outcome('ACCESS_DENIED: unknown username or wrong password'),
          403: outcome('ACCESS_DENIED: sent from another site'),
          429: outcome(
            'TOO_MANY_REQUESTS: too many attempts from this address, locked after repeated failures, or too many sign-ins at once (Retry-After)',
          ),
        },
      },
      validatorCompiler: () => () => true,
      serializerCompiler: jsonOnly,
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const headers = request.headers;
      // Login CSRF: a page of another site must not sign the browser in to an account of its choosing.
      if (
        (headers.origin !== undefined || headers['sec-fetch-site'] !== undefined) &&
        !isSameOriginRequest(request.method, headers, hub.origin)
      ) {
        throw unauthenticated('cross-site');
      }
      const body = request.body as { username?: unknown; password?: unknown } | null;
      if (typeof body?.username !== 'string' || typeof body.password !== 'string') {
        throw OperationOutcomeError.spine('INVALID_VALUE', {
          status: 400,
          diagnostics: 'Send JSON { "username": "…", "password": "…" }',
        });
      }
      const taken = adminThrottle.take(request.ip);
      if (!taken.ok) {
        // Refused before any lookup or hash; not audited one by one (a flood would fill the trail).
        request.log.info({ rule: 'sign-in.admin-throttled', status: 429 }, 'admin sign-in refused');
        reply.header('retry-after', String(taken.retryAfterS));
        throw OperationOutcomeError.spine('TOO_MANY_REQUESTS', {
          status: 429,
          diagnostics: 'Too many sign-in attempts from this address: try again later',
        });
      }
      const result = await signInAdmin(store, {
        username: body.username,
        password: body.password,
        clientAddress: request.ip,
        now,
      });
      if (!result.ok && result.reason === 'busy') {
        // Nothing was checked: not a failed sign-in, so not audited as one (a flood would fill the trail).
        request.log.info({ rule: 'sign-in.admin-busy', status: 429 }, 'admin sign-in refused');
        reply.header('retry-after', String(result.retryAfterS));
        throw OperationOutcomeError.spine('TOO_MANY_REQUESTS', {
          status: 429,
          diagnostics: 'Too many sign-ins at once: try again shortly',
        });
      }
      if (!result.ok) {
        const locked = result.reason === 'locked';
        const status = locked ? 429 : 401;
        const diagnostics = locked
          ? 'Too many failed sign-ins for this username from this address: try again later'
          : 'Unknown username or wrong password';
        const decision = {
          allow: false,
          rule: locked ? 'sign-in.admin-locked' : 'sign-in.admin-invalid',
          reason: diagnostics,
        };
        // Who tried is recorded when the username names an account (never the password).
        const principal = result.known ? await adminPrincipalOf(result.username) : undefined;
        await access.audit(request, {
          action: 'session.create',
          caller: principal ? { principal, decision } : undefined,
          decision,
          nhsNumbers: [],
          outcome: 'denied',
          errorCode: locked ? 'TOO_MANY_REQUESTS' : 'ACCESS_DENIED',
          httpStatus: status,
        });
        request.log.info({ rule: decision.rule, status }, 'admin sign-in refused');
        if (locked) reply.header('retry-after', String(result.retryAfterS));
        throw OperationOutcomeError.spine(locked ? 'TOO_MANY_REQUESTS' : 'ACCESS_DENIED', {
          status,
          diagnostics,
        });
      }
      const principal = result.principal;
      const session = await createSession(store, { principal, ttlS: options.sessionTtlS, now });
      await access.audit(request, {
        action: 'session.create',
        caller: {
          principal,
          decision: { allow: true, rule: 'sign-in.admin', reason: 'Signed in with a hub admin account' },
        },
        nhsNumbers: [],
        outcome: 'success',
        httpStatus: 200,
      });
      const maxAgeS = Math.max(0, Math.floor((Date.parse(session.expiresAt) - now().getTime()) / 1000));
      reply.header('set-cookie', cookie(session.token, maxAgeS, secureCookie));
      return reply.code(200).send({
        principal: publicPrincipal(principal),
        actions: allowedActions(principal),
        expiresAt: session.expiresAt,
      });
    },
  );

  /** The admin principal a known username stands for, for the audit record of a refused sign-in. */
  const adminPrincipalOf = async (username: string): Promise<AdminPrincipal | undefined> => {
    const row = await store.db
      .selectFrom('admin_accounts')
      .select(['id', 'username'])
      .where('username', '=', username)
      .executeTakeFirst();
    return row && { kind: 'admin', id: row.id, username: row.username };
  };

  app.get(
    '/auth/session',
    {
      schema: {
        summary:
          'Who am I: the signed-in principal (or API key), what it may do (actions) and session times; never a secret',
        tags: ['Sign-in'],
        response: { 200: { type: 'object', additionalProperties: true }, 401: outcome('ACCESS_DENIED') },
      },
      serializerCompiler: jsonOnly,
    },
    async (request) => {
      const auth = await access.authenticate(request);
      if (!auth.ok) throw unauthenticated(auth.reason);
      const out: Record<string, unknown> = {
        principal: publicPrincipal(auth.principal),
        actions: allowedActions(auth.principal),
      };
      if (auth.session) {
        const { createdAt, expiresAt, lastSeenAt } = auth.session;
        out.session = { createdAt, expiresAt, lastSeenAt };
      }
      return out;
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        summary: 'Ends the sign-in session (cookie or bearer) and clears the cookie',
        tags: ['Sign-in'],
        response: {
          204: { description: 'Signed out' },
          401: outcome('ACCESS_DENIED'),
          403: outcome('Not a session'),
        },
      },
    },
    async (request, reply) => {
      const auth = await access.authenticate(request);
      if (!auth.ok) throw unauthenticated(auth.reason);
      if (!auth.sessionToken) {
        throw OperationOutcomeError.spine('ACCESS_DENIED', {
          status: 403,
          diagnostics: 'Only a sign-in session can log out; API keys are revoked with `junction keys revoke`',
        });
      }
      await revokeSession(store, auth.sessionToken, now);
      await access.audit(request, {
        action: 'session.end',
        caller: {
          principal: auth.principal,
          decision: { allow: true, rule: 'session.own', reason: 'Signing out' },
        },
        nhsNumbers: [],
        outcome: 'success',
        httpStatus: 204,
      });
      return reply
        .header('set-cookie', cookie('', 0, secureCookie))
        .code(204)
        .send();
    },
  );
}

function vtrFrom(level: IdentityProofingLevel): VectorOfTrust[] {
  if (level === 'P9') return [...DEFAULT_NHS_LOGIN_VTR];
  const levels = LEVELS.slice(LEVELS.indexOf(level));
  return levels.flatMap((l): VectorOfTrust[] => [
    ...(l === 'P0' ? [`${l}.Cp` as const] : []),
    `${l}.Cp.Cd`,
    `${l}.Cp.Ck`,
    `${l}.Cm`,
  ]);
}

/**
 * The person who signed in. An id token with `act.sub` (the API platform's delegated-access
 * contract, validate-actor-token-claims.js) is about the person acted for, and `act.sub` is the
 * signed-in person's own id token: the principal is that actor, acting for the subject. Returns
 * undefined when `act` is present but unusable.
 */
async function patientOf(
  claims: NhsLoginIdTokenClaims,
  delegationsFor: AuthRoutesOptions['delegationsFor'],
): Promise<PatientPrincipal | undefined> {
  if (claims.act !== undefined) {
    const actor = actorOf(claims);
    if (!actor) return undefined;
    const principal = await patientOf(
      {
        ...actor,
        iss: claims.iss,
        aud: claims.aud,
        exp: claims.exp,
        iat: claims.iat,
        sub: actor.sub,
        // What the sign-in proved is the outer token's (the actor signed in).
        ...(claims.identity_proofing_level !== undefined && {
          identity_proofing_level: claims.identity_proofing_level,
        }),
        ...(claims.vot !== undefined && { vot: claims.vot }),
        act: undefined,
      },
      delegationsFor,
    );
    if (!principal?.nhsNumber) return undefined;
    return { ...principal, actingFor: { nhsNumber: String(claims.nhs_number), sub: claims.sub } };
  }
  const fromVot = typeof claims.vot === 'string' ? claims.vot.slice(0, 2) : undefined;
  const claimed = claims.identity_proofing_level ?? fromVot;
  const level: IdentityProofingLevel = LEVELS.includes(claimed as IdentityProofingLevel)
    ? (claimed as IdentityProofingLevel)
    : 'P0';
  const principal: PatientPrincipal = {
    kind: 'patient',
    sub: claims.sub,
    identityProofingLevel: level,
    delegations: [],
  };
  // An NHS number only counts once NHS login has traced the person (P5 and above).
  if (typeof claims.nhs_number === 'string' && isValidNhsNumber(claims.nhs_number) && level !== 'P0') {
    principal.nhsNumber = claims.nhs_number;
  }
  if (typeof claims.vot === 'string') principal.vot = claims.vot;
  if (delegationsFor) {
    const person = principal.nhsNumber
      ? { sub: claims.sub, nhsNumber: principal.nhsNumber }
      : { sub: claims.sub };
    principal.delegations = (await delegationsFor(person)).filter((d) => isValidNhsNumber(d.nhsNumber));
  }
  return principal;
}

/**
 * The claims of the actor id token in `act.sub`. Its integrity rests on the outer id token's
 * signature, which the relying party has verified (the provider signed the nested string too);
 * it must come from the same issuer, and both people must be traced (valid, different NHS numbers).
 */
function actorOf(claims: NhsLoginIdTokenClaims): { sub: string; nhs_number: string } | undefined {
  const act = claims.act as { sub?: unknown } | null;
  if (typeof act !== 'object' || act === null || typeof act.sub !== 'string') return undefined;
  const [, body] = act.sub.split('.');
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(Buffer.from(body ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { sub, nhs_number: nhsNumber, iss } = payload;
  if (iss !== claims.iss || typeof sub !== 'string' || sub === '') return undefined;
  if (typeof nhsNumber !== 'string' || !isValidNhsNumber(nhsNumber)) return undefined;
  if (typeof claims.nhs_number !== 'string' || !isValidNhsNumber(claims.nhs_number)) return undefined;
  if (claims.nhs_number === nhsNumber) return undefined;
  return { sub, nhs_number: nhsNumber };
}

/** The role picked at sign-in (`selected_roleid`), as UserInfo describes it (CIS2 scopes and claims). */
function clinicianOf(claims: Cis2IdTokenClaims, info: Cis2UserInfo): ClinicianPrincipal | undefined {
  const role = selectedRole(info, claims.selected_roleid);
  if (!role) return undefined;
  const principal: ClinicianPrincipal = {
    kind: 'clinician',
    uid: info.nhsid_useruid ?? claims.sub,
    roleId: role.person_roleid,
    roleCode: role.role_code,
    organisationOds: role.org_code,
  };
  if (role.role_name) principal.roleName = role.role_name;
  const name = displayNameOf(info) ?? displayNameOf(claims);
  if (name !== undefined) principal.name = name;
  return principal;
}

/** Longest display name kept: a name is for a header, not a store of free text. */
const MAX_DISPLAY_NAME = 200;

/**
 * A CIS2 user's name in reading order: `title`, `given_name`, `family_name` (the `profile` and
 * `nhsperson` scopes of CIS2's scopes and claims), e.g. `Dr Alex Carter`; else `name` as CIS2 sends it, which
 * puts the family name first (`USERQ RANDOM Mr` in CIS2's UserInfo examples).
 */
function displayNameOf(claims: { readonly [claim: string]: unknown }): string | undefined {
  const part = (value: unknown) => (typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() : '');
  const given = part(claims.given_name);
  const family = part(claims.family_name);
  const name =
    given !== '' || family !== ''
      ? [part(claims.title), given, family].filter((p) => p !== '').join(' ')
      : part(claims.name);
  return name === '' ? undefined : name.slice(0, MAX_DISPLAY_NAME);
}

/** The principal as shown to its owner: everything the policy uses, nothing secret. */
export function publicPrincipal(principal: Principal): Record<string, unknown> {
  return { ...principal };
}

function cookie(value: string, maxAgeS: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${maxAgeS}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

function isPlainHttpLoopback(publicUrl: string): boolean {
  return isLoopback(new URL(publicUrl));
}

/**
 * The part of a return URL that must match the allow-list: scheme, host and path (no query, no
 * fragment). On plain-http loopback the port is left out, as native apps listen on a port of the
 * moment (RFC 8252 §7.3).
 */
function returnKey(url: string): string | undefined {
  try {
    const u = new URL(url);
    const host = isLoopback(u) ? u.hostname : u.host;
    return `${u.protocol}//${host}${u.pathname}`;
  } catch {
    return undefined;
  }
}

function isLoopback(u: URL): boolean {
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

async function upstream<T>(provider: Provider, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AuthError) throw unreachable(provider);
    throw error;
  }
}

function unreachable(provider: Provider): OperationOutcomeError {
  return OperationOutcomeError.spine('UNABLE_TO_CALL_SERVICE', {
    status: 502,
    diagnostics: `${PROVIDER_NAMES[provider]} could not be reached`,
  });
}

function notConfigured(provider: Provider): OperationOutcomeError {
  return OperationOutcomeError.spine('UNSUPPORTED_SERVICE', {
    status: 404,
    diagnostics: `${PROVIDER_NAMES[provider]} sign-in is not configured on this hub`,
  });
}

function unauthenticated(
  reason: 'missing' | 'invalid' | 'expired' | 'revoked' | 'cross-site',
): OperationOutcomeError {
  if (reason === 'cross-site') {
    return OperationOutcomeError.spine('ACCESS_DENIED', {
      status: 403,
      diagnostics:
        "Cross-site request refused: a request signed in with the session cookie that changes something must come from the hub's own pages (Origin or Sec-Fetch-Site: same-origin)",
    });
  }
  return OperationOutcomeError.spine('ACCESS_DENIED', {
    status: 401,
    diagnostics:
      reason === 'missing'
        ? 'Not signed in'
        : reason === 'expired'
          ? 'The session has expired: sign in again'
          : 'Invalid or revoked credentials',
  });
}
