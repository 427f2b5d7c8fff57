import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  API_KEY_SCOPES,
  type ApiKeyInfo,
  type ApiKeyScope,
  createApiKey,
  DEFAULT_API_KEY_SCOPES,
  listApiKeys,
  revokeApiKey,
} from '../access/api-keys.js';
import { clinicianNames } from '../access/clinician-names.js';
import { type Principal, scopesBeyondGrant } from '../access/policy.js';
import type { AuditRecord } from '../audit/audit-hash.js';
import { type ListAuditEventsOptions, listAuditEvents } from '../audit/list-audit-events.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import type { MeshMailboxConfig } from '../config/load-config.js';
import { mailboxSummaries } from '../mesh/mailbox-summary.js';
import type { Store } from '../store/database.js';
import type { AccessControl, Caller } from './authorise.js';
import { sendFhir } from './fhir-reply.js';
import {
  ANY_SCHEMA as ANY,
  BadRequest,
  guardedBy,
  outcome,
  QUERY_SCHEMA as QUERY,
  type Query,
  text,
  whole,
} from './json-routes.js';

/*
 * What the console needs beyond the existing routes (its Settings are settings-routes.ts):
 * the hub's MESH mailboxes, products' API keys, and the audit trail (search, CSV export, chain check).
 * Every route asks the one policy through access.authorise. Creating and revoking keys are audited
 * (they change who may call the hub); so is every read of the audit trail (the trail says who looked
 * at whom, so reading it is itself an access to record); settings and mailboxes hold no patient
 * data, so only their denials are audited (by authorise).
 */

export interface ConsoleRoutesOptions {
  store: Store;
  access: AccessControl;
  now: () => Date;
  /** The MESH mailboxes in force (the console's settings may change them). */
  mailboxes: () => readonly MeshMailboxConfig[];
  /** Whether hub admin accounts may give products' keys patient-data scopes (default: no). */
  adminMayGrantPatientData?: boolean;
}

function beyondGrantMessage(principal: Principal, beyond: readonly ApiKeyScope[]): string {
  return principal.kind === 'api-key'
    ? `An API key may only give scopes it has itself; this one lacks ${beyond.join(', ')}`
    : `This account may not give or take away the scopes ${beyond.join(', ')}: they reach patient data, and this hub does not let admin accounts manage them (an operator grants them with junction keys create)`;
}

const AUDIT_OUTCOMES = ['success', 'not-found', 'denied', 'error'] as const;
/** `failure`: anything that was neither served nor denied (the contract's outcome filter). */
const OUTCOME_FILTERS: Record<string, readonly string[]> = {
  success: ['success'],
  denied: ['denied'],
  failure: ['error', 'not-found'],
  error: ['error'],
  'not-found': ['not-found'],
};
const AUDIT_PAGE_MAX = 500;
/** Rows read per query while streaming the CSV, so memory stays flat whatever the trail's size. */
const CSV_PAGE = 1_000;

export async function consoleRoutes(app: FastifyInstance, options: ConsoleRoutesOptions): Promise<void> {
  const { store, access, now } = options;
  const adminMayGrantPatientData = options.adminMayGrantPatientData ?? false;

  const guarded = guardedBy(access);

  app.get(
    '/mesh/mailboxes',
    {
      schema: {
        summary: "The hub's MESH mailboxes: poll interval, the last poll's result, message counts",
        tags: ['Operations'],
        response: { 200: ANY },
      },
    },
    guarded('messages.read', async () => ({
      mailboxes: await mailboxSummaries(store, options.mailboxes()),
    })),
  );

  app.get(
    '/api-keys',
    {
      schema: {
        summary: "Products' API keys, newest first (never a secret), with every scope and the default ones",
        tags: ['Operations'],
        response: { 200: ANY },
      },
    },
    guarded('keys.manage', async () => ({
      keys: (await listApiKeys(store)).map(publicKey),
      scopes: API_KEY_SCOPES,
      defaultScopes: DEFAULT_API_KEY_SCOPES,
    })),
  );

  app.post<{ Body: unknown }>(
    '/api-keys',
    {
      schema: {
        summary:
          'Create an API key (JSON name, organisationOds?, scopes?): the secret is in this answer only',
        tags: ['Operations'],
        body: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string' },
            organisationOds: { type: 'string' },
            scopes: { type: 'array', items: { type: 'string', enum: [...API_KEY_SCOPES] } },
          },
        },
        response: { 201: ANY },
      },
      validatorCompiler: () => () => true,
    },
    guarded('keys.manage', async (request, reply, caller) => {
      const body = request.body as { name?: unknown; organisationOds?: unknown; scopes?: unknown } | null;
      if (typeof body?.name !== 'string')
        throw new BadRequest('Send JSON { "name": "…" } naming the product');
      if (body.organisationOds !== undefined && typeof body.organisationOds !== 'string') {
        throw new BadRequest('organisationOds must be an ODS code');
      }
      if (
        body.scopes !== undefined &&
        (!Array.isArray(body.scopes) || !body.scopes.every((s) => typeof s === 'string'))
      ) {
        throw new BadRequest('scopes must be a list of scope names');
      }
      const scopes = body.scopes as string[] | undefined;
      for (const scope of scopes ?? []) {
        if (!(API_KEY_SCOPES as readonly string[]).includes(scope)) {
          throw new BadRequest(`Unknown scope '${scope}'; scopes are: ${API_KEY_SCOPES.join(', ')}`);
        }
      }
      // Separation of duties: a caller gives out only what it could grant (policy.ts scopesBeyondGrant).
      const beyond = scopesBeyondGrant(
        caller.principal,
        (scopes ?? DEFAULT_API_KEY_SCOPES) as ApiKeyScope[],
        {
          adminMayGrantPatientData,
        },
      );
      if (beyond.length > 0) {
        await access.audit(request, {
          action: 'api-key.create',
          caller,
          nhsNumbers: [],
          outcome: 'denied',
          errorCode: 'ACCESS_DENIED',
          httpStatus: 403,
        });
        return sendFhir(reply, 403, outcome('forbidden', beyondGrantMessage(caller.principal, beyond)));
      }
      const created = await createApiKey(store, {
        name: body.name,
        ...(body.organisationOds !== undefined && { organisationOds: body.organisationOds as string }),
        ...(scopes !== undefined && { scopes: scopes as ApiKeyScope[] }),
        now,
      });
      await access.audit(request, {
        action: 'api-key.create',
        caller,
        nhsNumbers: [],
        outcome: 'success',
        httpStatus: 201,
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ key: publicKey(created), secret: created.secret });
    }),
  );

  app.delete(
    '/api-keys/:id',
    {
      schema: {
        summary: 'Revoke an API key: its next request is refused (401)',
        tags: ['Operations'],
        response: { 204: { description: 'Revoked' } },
      },
    },
    guarded('keys.manage', async (request, reply, caller) => {
      const { id } = request.params as { id: string };
      // Revoking follows the rule for creating: only a key within what the caller could grant.
      const target = /^[0-9a-f-]{36}$/.test(id)
        ? (await listApiKeys(store)).find((key) => key.id === id)
        : undefined;
      const beyond = target
        ? scopesBeyondGrant(caller.principal, target.scopes, { adminMayGrantPatientData })
        : [];
      if (beyond.length > 0) {
        await access.audit(request, {
          action: 'api-key.revoke',
          caller,
          nhsNumbers: [],
          outcome: 'denied',
          errorCode: 'ACCESS_DENIED',
          httpStatus: 403,
        });
        return sendFhir(reply, 403, outcome('forbidden', beyondGrantMessage(caller.principal, beyond)));
      }
      const found = target !== undefined && (await revokeApiKey(store, id, now));
      await access.audit(request, {
        action: 'api-key.revoke',
        caller,
        nhsNumbers: [],
        outcome: found ? 'success' : 'not-found',
        httpStatus: found ? 204 : 404,
      });
      if (!found) return sendFhir(reply, 404, outcome('not-found', `No API key ${id}`));
      return reply.code(204).send();
    }),
  );

  const auditFilters =
    'filters nhsNumber, user, apiKey (id or name), organisation, action, outcome (success, denied, failure), from, to (ISO-8601 or YYYY-MM-DD)';

  app.get(
    '/audit/events',
    {
      schema: {
        summary: `The audit trail, newest first: ${auditFilters}; limit; page with before=<last seq>. Audited.`,
        tags: ['Operations'],
        querystring: QUERY,
        response: { 200: ANY },
      },
    },
    guarded('audit.read', async (request, _reply, caller) => {
      const q = request.query as Query;
      const filters = auditFiltersOf(q);
      const limit = whole(q, 'limit', 1, AUDIT_PAGE_MAX) ?? 50;
      const before = whole(q, 'before', 1, Number.MAX_SAFE_INTEGER);
      const records = await listAuditEvents(store, {
        ...filters,
        order: 'desc',
        limit,
        ...(before !== undefined && { beforeSeq: before }),
      });
      await auditRead(request, caller, filters, 200);
      const last = records.length === limit ? records[records.length - 1] : undefined;
      return { events: await publicEvents(store, records), ...(last && { next: String(last.seq) }) };
    }),
  );

  app.get(
    '/audit/events.csv',
    {
      schema: {
        summary: `The audit trail as CSV (RFC 4180, newest first), streamed: ${auditFilters}. Audited.`,
        tags: ['Operations'],
        querystring: QUERY,
        produces: ['text/csv'],
      },
    },
    guarded('audit.read', async (request, reply, caller) => {
      const filters = auditFiltersOf(request.query as Query);
      // The export is of the trail as it stood when asked: not this read's own record, nor later ones.
      const head = await store.db
        .selectFrom('audit_chain_head')
        .select('seq')
        .where('id', '=', 1)
        .executeTakeFirst();
      const upTo = Number(head?.seq ?? 0);
      await auditRead(request, caller, filters, 200);
      const stamp = now().toISOString().replace(/[:.]/g, '-');
      reply
        .code(200)
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="junction-audit-${stamp}.csv"`)
        .header('cache-control', 'no-store');
      return reply.send(Readable.from(csvLines(store, filters, upTo)));
    }),
  );

  app.post(
    '/audit/verify',
    {
      schema: {
        summary: 'Recompute every hash and link of the audit chain; names the first broken record. Audited.',
        tags: ['Operations'],
        response: { 200: ANY },
      },
    },
    guarded('audit.read', async (request, _reply, caller) => {
      const result = await verifyAuditChain(store);
      const verifiedAt = now().toISOString();
      await auditRead(request, caller, {}, 200);
      return result.ok
        ? { ok: true, checked: result.count, verifiedAt }
        : {
            ok: false,
            checked: result.count,
            firstBroken: { seq: Number(result.firstBroken.id), reason: result.firstBroken.reason },
            verifiedAt,
          };
    }),
  );

  /** A read of the trail, recorded: who, and which patient when the search named one. */
  const auditRead = (
    request: FastifyRequest,
    caller: Caller,
    filters: ListAuditEventsOptions,
    status: number,
  ) =>
    access.audit(request, {
      action: 'audit.read',
      caller,
      nhsNumbers: filters.nhsNumber === undefined ? [] : [filters.nhsNumber],
      outcome: 'success',
      httpStatus: status,
    });
}

/** A key as the console lists it: no secret, no hash. */
function publicKey(key: ApiKeyInfo) {
  return {
    id: key.id,
    name: key.name,
    organisationOds: key.organisationOds,
    scopes: key.scopes,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
  };
}

/**
 * Audit records as the console shows them: the actor's name beside their id (an API key's name, a
 * hub admin's username, a CIS2 user's name from their latest sign-in); never a patient's name.
 */
async function publicEvents(store: Store, records: readonly AuditRecord[]) {
  const clinicians = records.flatMap((r) =>
    r.actorKind === 'clinician' && r.actorUserId !== null ? [r.actorUserId] : [],
  );
  const names = await clinicianNames(store, clinicians);
  return records.map((r) => publicEvent(r, names));
}

function publicEvent(r: AuditRecord, clinicianNames: ReadonlyMap<string, string>) {
  const actor: Record<string, string> = {};
  if (r.actorKind !== null) actor.kind = r.actorKind;
  else actor.kind = r.actorKeyId !== null ? 'api-key' : 'unauthenticated';
  const id = r.actorKeyId ?? r.actorUserId;
  if (id !== null) actor.id = id;
  const name =
    r.actorKeyName ??
    (r.actorKind === 'admin' ? r.actorUserId : null) ??
    (r.actorKind === 'clinician' && r.actorUserId !== null ? clinicianNames.get(r.actorUserId) : null) ??
    null;
  if (name !== null) actor.name = name;
  if (r.actorRoleCode !== null) actor.role = r.actorRoleCode;
  if (r.actorOrganisationOds !== null) actor.organisation = r.actorOrganisationOds;
  return {
    seq: r.seq,
    at: r.occurredAt,
    action: r.action,
    outcome: r.outcome,
    actor,
    nhsNumbers: r.nhsNumbers,
    correlationId: r.correlationId,
    requestId: r.requestId,
    httpStatus: r.httpStatus,
    errorCode: r.errorCode,
    decision: r.decision === null ? null : { allow: r.decision === 'allowed', rule: r.decisionRule },
  };
}

function auditFiltersOf(q: Query): ListAuditEventsOptions {
  const filters: ListAuditEventsOptions = {};
  const nhsNumber = text(q, 'nhsNumber');
  if (nhsNumber !== undefined) {
    if (!/^\d{10}$/.test(nhsNumber)) throw new BadRequest("Parameter 'nhsNumber' must be 10 digits");
    filters.nhsNumber = nhsNumber;
  }
  const user = text(q, 'user');
  if (user !== undefined) filters.user = user;
  const apiKey = text(q, 'apiKey');
  if (apiKey !== undefined) filters.apiKey = apiKey;
  const organisation = text(q, 'organisation');
  if (organisation !== undefined) filters.organisation = organisation;
  const action = text(q, 'action');
  if (action !== undefined) filters.action = action;
  const outcomeFilter = text(q, 'outcome');
  if (outcomeFilter !== undefined) {
    const outcomes = OUTCOME_FILTERS[outcomeFilter];
    if (!outcomes) {
      throw new BadRequest(
        `Parameter 'outcome' must be one of success, denied, failure (or ${AUDIT_OUTCOMES.join(', ')})`,
      );
    }
    filters.outcomes = outcomes;
  }
  const from = time(q, 'from', 'start');
  if (from !== undefined) filters.from = from;
  const to = time(q, 'to', 'end');
  if (to !== undefined) filters.to = to;
  return filters;
}

/** An ISO-8601 time as stored (UTC, milliseconds); a bare date is that day's start or end (UTC). */
function time(q: Query, name: string, edge: 'start' | 'end'): string | undefined {
  const v = text(q, name);
  if (v === undefined) return undefined;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const at = new Date(day ? `${v}T${edge === 'start' ? '00:00:00.000' : '23:59:59.999'}Z` : v);
  if (Number.isNaN(at.getTime()) || (day && at.toISOString().slice(0, 10) !== v)) {
    throw new BadRequest(`Parameter '${name}' must be an ISO-8601 date or time`);
  }
  return at.toISOString();
}

const CSV_COLUMNS = [
  'seq',
  'at',
  'action',
  'outcome',
  'actor_kind',
  'actor_id',
  'actor_name',
  'actor_role',
  'actor_organisation',
  'nhs_numbers',
  'http_status',
  'error_code',
  'decision',
  'decision_rule',
  'correlation_id',
  'request_id',
] as const;

/**
 * The CSV, a line at a time, newest first, paging through the store by sequence number. RFC 4180:
 * CRLF line ends, a header row, fields with a comma, quote, CR or LF quoted with quotes doubled.
 * Formula injection (OWASP "CSV Injection"): a text field starting with =, +, -, @, tab or CR is
 * prefixed with a single quote so a spreadsheet shows it rather than running it.
 */
async function* csvLines(
  store: Store,
  filters: ListAuditEventsOptions,
  upTo: number,
): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  let before = upTo + 1;
  for (;;) {
    const page = await listAuditEvents(store, {
      ...filters,
      order: 'desc',
      limit: CSV_PAGE,
      beforeSeq: before,
    });
    if (page.length === 0) return;
    let chunk = '';
    const events = await publicEvents(store, page);
    for (const [i, r] of page.entries()) {
      const e = events[i] as ReturnType<typeof publicEvent>;
      chunk += `${[
        String(e.seq),
        csvText(e.at),
        csvText(e.action),
        csvText(e.outcome),
        csvText(e.actor.kind),
        csvText(e.actor.id),
        csvText(e.actor.name),
        csvText(e.actor.role),
        csvText(e.actor.organisation),
        csvText(e.nhsNumbers.join(' ')),
        // 0: written by the CLI or the hub's background work, not an HTTP answer: left empty.
        e.httpStatus === 0 ? '' : String(e.httpStatus),
        csvText(e.errorCode),
        csvText(r.decision),
        csvText(r.decisionRule),
        csvText(e.correlationId),
        csvText(e.requestId),
      ].join(',')}\r\n`;
    }
    yield chunk;
    if (page.length < CSV_PAGE) return;
    before = page[page.length - 1]?.seq ?? 0;
  }
}

/** One text field, formula-injection safe and RFC 4180 quoted when needed. */
export function csvText(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
