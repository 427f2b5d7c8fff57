import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decide, type Principal } from '../access/policy.js';
import type { AuditAction } from '../audit/audit-hash.js';
import { environmentOf, type UpstreamServiceInfo } from '../observability/upstream-services.js';
import {
  BASE_URL_SETTINGS,
  type BaseUrlService,
  baseUrlOf,
  HubSettings,
  isBaseUrlService,
  type MailboxInput,
  SettingsError,
} from '../settings/hub-settings.js';
import type { Store } from '../store/database.js';
import type { AccessControl, Caller } from './authorise.js';
import { sendFhir } from './fhir-reply.js';
import { ANY_SCHEMA as ANY, BadRequest, guardedBy, outcome } from './json-routes.js';

/*
 * The console's Settings: what the hub is connected to, and — for hub admin accounts
 * (`settings.manage`) — changing it without a restart: an NHS API's base URL, MESH mailboxes.
 * Reading never shows a secret. Every change (and every refused one) is in the audit trail; the
 * store keeps who made the change in force and when.
 */

export interface SettingsRoutesOptions {
  store: Store;
  access: AccessControl;
  settings: HubSettings;
  /** The NHS APIs the hub uses now (as the overview lists them). */
  services: () => readonly UpstreamServiceInfo[];
  /** Whether NHS login and CIS2 sign-in are configured (their relying parties exist). */
  signIn: { nhsLogin: boolean; cis2: boolean };
}

const MAILBOX_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SETTING_NAME = /^[a-z0-9.-]+(\.[A-Za-z0-9_-]+)?$/;

export async function settingsRoutes(app: FastifyInstance, options: SettingsRoutesOptions): Promise<void> {
  const { store, access, settings } = options;
  // A change's own refusals (SettingsError, BadRequest) are audited and answered by change() below.
  const guarded = guardedBy(access);

  app.get(
    '/settings',
    {
      schema: {
        summary:
          "The hub's settings: NHS environment, public URL, store, each NHS API's base URL and where it comes from (default, environment, startup, console), MESH mailboxes, sign-in; never a password, key or secret",
        tags: ['Settings'],
        response: { 200: ANY },
      },
    },
    guarded('operations.read', async (_request, _reply, caller) =>
      view(decide(caller.principal, { action: 'settings.manage' }).allow),
    ),
  );

  /** What GET /settings answers, also the answer to a change. */
  const view = (canChange: boolean) => {
    const config = settings.current;
    const inUse = new Set(options.services().map((s) => s.id));
    return {
      nhsEnvironment: config.nhsEnvironment,
      publicUrl: config.publicUrl,
      store: { dialect: store.dialect },
      canChange,
      canStoreMailboxes: settings.canStoreSecrets,
      problems: settings.problems,
      environments: (Object.keys(BASE_URL_SETTINGS) as BaseUrlService[]).map((service) => {
        const baseUrl = baseUrlOf(config, service);
        const { source, changed } = settings.baseUrlSource(service);
        return {
          service,
          name: BASE_URL_SETTINGS[service].name,
          inUse: inUse.has(service),
          environment: environmentOf(baseUrl, config),
          baseUrl,
          setting: HubSettings.baseUrlSetting(service),
          source,
          variable: HubSettings.variableOf(service),
          ...(changed && { changedBy: changed.by, changedAt: changed.at }),
          published: settings.publishedBaseUrls(service),
        };
      }),
      // Listed field by field: the mailbox password, shared key and TLS passphrase never leave.
      mailboxes: config.mesh.mailboxes.map((m) => {
        const { source, changed, inEnvironment } = settings.mailboxSource(m.mailboxId);
        return {
          mailboxId: m.mailboxId,
          baseUrl: m.baseUrl,
          environment: environmentOf(m.baseUrl, config),
          pollIntervalMs: m.pollIntervalMs,
          ...(m.workflows && { workflows: m.workflows }),
          ...(m.inboxPageSize !== undefined && { inboxPageSize: m.inboxPageSize }),
          ...(m.chunkSize !== undefined && { chunkSize: m.chunkSize }),
          mutualTls: m.tls !== undefined,
          ...(m.tls && {
            tls: {
              certPath: m.tls.certPath,
              keyPath: m.tls.keyPath,
              ...(m.tls.caPath !== undefined && { caPath: m.tls.caPath }),
            },
          }),
          setting: HubSettings.mailboxSetting(m.mailboxId),
          source,
          inEnvironment,
          ...(changed && { changedBy: changed.by, changedAt: changed.at }),
        };
      }),
      removedMailboxes: settings.removedMailboxes().map((r) => ({
        mailboxId: r.mailboxId,
        setting: r.setting,
        changedBy: r.changed.by,
        changedAt: r.changed.at,
      })),
      signIn: {
        nhsLogin: { issuer: config.nhsLogin.issuer, configured: options.signIn.nhsLogin },
        cis2: { issuer: config.cis2.issuer, configured: options.signIn.cis2 },
      },
    };
  };

  /** Runs a change, audits it (success or refusal) and answers with the settings as they now are. */
  const change = (action: AuditAction, run: (request: FastifyRequest, by: string) => Promise<void>) =>
    guarded('settings.manage', async (request, reply, caller) => {
      const audit = (outcome: 'success' | 'error' | 'not-found', httpStatus: number) =>
        access.audit(request, { action, caller, nhsNumbers: [], outcome, httpStatus });
      try {
        await run(request, changedBy(caller));
        await audit('success', 200);
        reply.header('cache-control', 'no-store');
        return view(true);
      } catch (error) {
        if (error instanceof SettingsError || error instanceof BadRequest) {
          const status = error instanceof SettingsError ? error.status : 400;
          await audit(status === 404 ? 'not-found' : 'error', status);
          return refuse(reply, status, error.message);
        }
        throw error;
      }
    });

  app.put(
    '/settings/base-urls/:service',
    {
      schema: {
        summary:
          "Change the base URL of an NHS API the hub calls (pds, api-platform-auth, nhs-login, cis2): body {baseUrl}. Checked by the configuration's rules; in force on every instance without a restart. Audited.",
        tags: ['Settings'],
        response: { 200: ANY },
      },
    },
    change('settings.base-url.change', async (request, by) => {
      const service = serviceOf(request);
      const body = objectBody(request);
      if (typeof body.baseUrl !== 'string' || body.baseUrl.trim() === '') {
        throw new BadRequest('baseUrl must be an http or https URL');
      }
      await settings.setBaseUrl(service, body.baseUrl.trim(), by);
    }),
  );

  app.put(
    '/settings/mailboxes/:mailboxId',
    {
      schema: {
        summary:
          'Add a MESH mailbox or change one: body {baseUrl, password?, sharedKey?, pollIntervalMs?, workflows?, inboxPageSize?, chunkSize?, tls?}; a password or shared key left out is kept. Needs JUNCTION_SECRETS_KEY. Audited.',
        tags: ['Settings'],
        response: { 200: ANY },
      },
    },
    change('settings.mailbox.change', async (request, by) => {
      const id = mailboxIdOf(request);
      await settings.putMailbox(id, mailboxInput(objectBody(request)), by);
    }),
  );

  app.delete(
    '/settings/mailboxes/:mailboxId',
    {
      schema: {
        summary:
          "Stop using a MESH mailbox (one of the environment's is marked removed; reset brings it back). Audited.",
        tags: ['Settings'],
        response: { 200: ANY },
      },
    },
    change('settings.mailbox.remove', async (request, by) => {
      await settings.removeMailbox(mailboxIdOf(request), by);
    }),
  );

  app.delete(
    '/settings/changes/:setting',
    {
      schema: {
        summary:
          "Undo a change made in the console (a setting name from GET /settings, e.g. base-url.pds or mesh.mailbox.X26ABC1): the environment's value is used again. Audited.",
        tags: ['Settings'],
        response: { 200: ANY },
      },
    },
    change('settings.reset', async (request) => {
      const { setting } = request.params as { setting: string };
      if (!SETTING_NAME.test(setting)) throw new BadRequest(`'${setting}' is not a setting name`);
      if (!(await settings.reset(setting))) {
        throw new SettingsError(`The setting ${setting} was not changed in the console`, 404);
      }
    }),
  );
}

function refuse(reply: FastifyReply, status: number, message: string) {
  const code = status === 404 ? 'not-found' : status === 409 ? 'conflict' : 'invalid';
  return sendFhir(reply, status, outcome(code, message));
}

/** Who changed a setting, as the console shows it. */
function changedBy(caller: Caller): string {
  const p: Principal = caller.principal;
  switch (p.kind) {
    case 'admin':
      return `admin ${p.username}`;
    case 'clinician':
      return p.name ?? `CIS2 user ${p.uid}`;
    case 'api-key':
      return `API key ${p.name}`;
    case 'patient':
      return 'a patient'; // never allowed by the policy; named without identifying them
  }
}

function serviceOf(request: FastifyRequest): BaseUrlService {
  const { service } = request.params as { service: string };
  if (!isBaseUrlService(service)) {
    throw new SettingsError(
      `No NHS API '${service}'; the base URLs that can be changed are: ${Object.keys(BASE_URL_SETTINGS).join(', ')}`,
      404,
    );
  }
  return service;
}

function mailboxIdOf(request: FastifyRequest): string {
  const { mailboxId } = request.params as { mailboxId: string };
  if (!MAILBOX_ID.test(mailboxId)) throw new BadRequest('A mailbox id is letters, digits, - or _');
  return mailboxId;
}

function objectBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('The body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** The mailbox fields, each checked for its type here; their values by the configuration's rules. */
function mailboxInput(body: Record<string, unknown>): MailboxInput {
  const known = [
    'baseUrl',
    'password',
    'sharedKey',
    'pollIntervalMs',
    'workflows',
    'inboxPageSize',
    'chunkSize',
    'tls',
  ];
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new BadRequest(`Unknown mailbox field ${unknown.join(', ')}`);
  const str = (name: string, v: unknown) => {
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw new BadRequest(`${name} must be text`);
    return v;
  };
  const num = (name: string, v: unknown) => {
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new BadRequest(`${name} must be a whole number`);
    return v;
  };
  const baseUrl = str('baseUrl', body.baseUrl);
  if (baseUrl === undefined) throw new BadRequest('baseUrl: the MESH host is required');
  const input: MailboxInput = { baseUrl };
  const password = str('password', body.password);
  const sharedKey = str('sharedKey', body.sharedKey);
  if (password !== undefined) input.password = password;
  if (sharedKey !== undefined) input.sharedKey = sharedKey;
  for (const name of ['pollIntervalMs', 'inboxPageSize', 'chunkSize'] as const) {
    const v = num(name, body[name]);
    if (v !== undefined) input[name] = v;
  }
  if (body.workflows !== undefined) {
    if (!Array.isArray(body.workflows) || !body.workflows.every((w) => typeof w === 'string')) {
      throw new BadRequest('workflows must be a list of workflow ids');
    }
    input.workflows = body.workflows.map((w: string) => w.trim()).filter((w) => w !== '');
  }
  if (body.tls !== undefined && body.tls !== null) {
    if (typeof body.tls !== 'object' || Array.isArray(body.tls))
      throw new BadRequest('tls must be an object');
    const t = body.tls as Record<string, unknown>;
    const certPath = str('tls.certPath', t.certPath);
    const keyPath = str('tls.keyPath', t.keyPath);
    if (certPath === undefined || keyPath === undefined) {
      throw new BadRequest('tls needs certPath and keyPath (PEM files on the hub machine)');
    }
    input.tls = { certPath, keyPath };
    const caPath = str('tls.caPath', t.caPath);
    const passphrase = str('tls.passphrase', t.passphrase);
    if (caPath !== undefined) input.tls.caPath = caPath;
    if (passphrase !== undefined) input.tls.passphrase = passphrase;
  }
  return input;
}
