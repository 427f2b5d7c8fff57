import { OperationOutcomeError } from '@junction/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Authentication, authenticate, type DelegationsFor } from '../access/authenticate.js';
import { isSameOriginRequest, originOf } from '../access/csrf.js';
import { type AccessAction, type Decision, decide, type Principal } from '../access/policy.js';
import type { ActiveSession } from '../access/sessions.js';
import { appendAuditEvent } from '../audit/append-audit-event.js';
import type { AuditAction, AuditActor, AuditEventInput, AuditOutcome } from '../audit/audit-hash.js';
import type { HubMetrics } from '../observability/metrics.js';
import type { Store } from '../store/database.js';
import { sendFhir } from './fhir-reply.js';

/** An authenticated caller the policy allowed, as the route goes on to serve and audit it. */
export interface Caller {
  principal: Principal;
  decision: Decision;
  session?: ActiveSession;
}

export interface AuditEntry {
  action: AuditAction;
  caller: Pick<Caller, 'principal' | 'decision'> | undefined;
  /** When there is no principal (unauthenticated), the decision still goes on the record. */
  decision?: Decision;
  nhsNumbers: string[];
  outcome: AuditOutcome;
  errorCode?: string | null;
  httpStatus: number;
}

export interface AccessControl {
  /**
   * Authenticates the request, asks the policy, and on denial audits it and answers 401/403
   * `ACCESS_DENIED`. Returns the caller, or undefined once it has replied.
   */
  authorise(
    request: FastifyRequest,
    reply: FastifyReply,
    action: AccessAction,
    target: { nhsNumber?: string; auditNhsNumbers: string[] },
  ): Promise<Caller | undefined>;
  /** Appends one audit record for this request; throws (and counts) when the store refuses. */
  audit(request: FastifyRequest, entry: AuditEntry): Promise<void>;
  authenticate(request: FastifyRequest): Promise<Authentication>;
}

const UNAUTHENTICATED: Record<Exclude<Authentication, { ok: true }>['reason'], string> = {
  missing:
    'Missing credentials: send Authorization: Bearer <API key or session token>, X-API-Key, or the junction_session cookie',
  invalid: 'Invalid or revoked credentials',
  revoked: 'Invalid or revoked credentials',
  expired: 'The session has expired: sign in again',
  'cross-site':
    "Cross-site request refused: a request signed in with the session cookie that changes something must come from the hub's own pages (Origin or Sec-Fetch-Site: same-origin)",
};

/** The policy's answer when the cookie came with a request from another site (CSRF). */
const CROSS_SITE: Decision = { allow: false, rule: 'csrf.cross-site', reason: UNAUTHENTICATED['cross-site'] };

/** Who acted, as audited: ids, role and organisation, never a secret. */
export function auditActorOf(principal: Principal): AuditActor {
  switch (principal.kind) {
    case 'api-key':
      return {
        kind: 'api-key',
        keyId: principal.id,
        keyName: principal.name,
        organisationOds: principal.organisationOds,
      };
    case 'patient':
      return { kind: 'patient', userId: principal.sub, organisationOds: null };
    case 'clinician':
      return {
        kind: 'clinician',
        userId: principal.uid,
        roleCode: principal.roleCode,
        organisationOds: principal.organisationOds,
      };
    case 'admin':
      // The username: unique and never reused (accounts are disabled, not deleted), and readable.
      return { kind: 'admin', userId: principal.username, organisationOds: null };
  }
}

export function accessControl(options: {
  store: Store;
  metrics: HubMetrics;
  now: () => Date;
  /** A patient's proxy delegations, looked up for every request (default: none). */
  delegationsFor?: DelegationsFor;
  /** The hub's public URL: cookie-authenticated unsafe requests must come from its origin (CSRF). */
  publicUrl?: string;
}): AccessControl {
  const { store, metrics, now, delegationsFor } = options;

  const audit = async (request: FastifyRequest, entry: AuditEntry) => {
    const decision = entry.caller?.decision ?? entry.decision;
    const event: AuditEventInput = {
      action: entry.action,
      actor: entry.caller ? auditActorOf(entry.caller.principal) : null,
      nhsNumbers: entry.nhsNumbers,
      outcome: entry.outcome,
      errorCode: entry.errorCode ?? null,
      httpStatus: entry.httpStatus,
      correlationId: request.correlationId,
      requestId: request.id,
      decision: decision ? { allowed: decision.allow, rule: decision.rule } : null,
    };
    try {
      await appendAuditEvent(store, event, now);
      metrics.auditWrites.inc({ outcome: 'ok' });
    } catch (error) {
      metrics.auditWrites.inc({ outcome: 'failed' });
      throw error;
    }
  };

  const publicOrigin = originOf(options.publicUrl ?? 'http://127.0.0.1');
  /** Who is calling; a cookie on an unsafe request from another site counts as no credentials (CSRF). */
  const authenticateRequest = async (request: FastifyRequest): Promise<Authentication> => {
    const auth = await authenticate(store, request.headers, now, delegationsFor);
    if (
      auth.ok &&
      auth.via === 'cookie' &&
      !isSameOriginRequest(request.method, request.headers, publicOrigin)
    ) {
      return { ok: false, reason: 'cross-site', principal: auth.principal };
    }
    return auth;
  };

  return {
    audit,
    authenticate: authenticateRequest,
    async authorise(request, reply, action, target) {
      const auth = await authenticateRequest(request);
      const principal = auth.principal;
      const request_ = target.nhsNumber === undefined ? { action } : { action, nhsNumber: target.nhsNumber };
      const crossSite = !auth.ok && auth.reason === 'cross-site';
      const decision = crossSite ? CROSS_SITE : decide(principal, request_);
      if (auth.ok && decision.allow) {
        const caller: Caller = { principal: auth.principal, decision };
        if (auth.session) caller.session = auth.session;
        return caller;
      }
      const status = auth.ok || crossSite ? 403 : 401;
      await audit(request, {
        action,
        caller: principal ? { principal, decision } : undefined,
        decision,
        nhsNumbers: target.auditNhsNumbers,
        outcome: 'denied',
        errorCode: 'ACCESS_DENIED',
        httpStatus: status,
      });
      request.log.info({ action, rule: decision.rule, status }, 'access denied');
      const error = OperationOutcomeError.spine('ACCESS_DENIED', {
        status,
        diagnostics: auth.ok ? decision.reason : UNAUTHENTICATED[auth.reason],
      });
      sendFhir(reply, error.status, error.outcome);
      return undefined;
    },
  };
}
