/**
 * The console's one way to the hub: same-origin fetch with the session cookie, JSON in and out,
 * and every failure (an OperationOutcome, a network error, an unexpected body) turned into an
 * `ApiError` whose `messages` a person can read. The browser adds `Origin` itself to every POST,
 * PUT and DELETE, which is what the hub's CSRF check looks at.
 */

export interface OperationOutcomeIssue {
  severity?: string;
  code?: string;
  diagnostics?: string;
  details?: { text?: string; coding?: { code?: string; display?: string }[] };
  expression?: string[];
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: OperationOutcomeIssue[];
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status, or 0 when the hub could not be reached. */
    readonly status: number,
    /** One readable sentence per OperationOutcome issue (at least one). */
    readonly messages: string[],
    readonly path: string,
  ) {
    super(messages.join(' '));
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

/** `?a=1&b=x` from the defined, non-empty values of `query` ('' when none). */
export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(name, String(value));
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  /** A plain value is sent as JSON; a Blob (e.g. a File) as it is, with its own type. */
  body?: unknown;
  signal?: AbortSignal;
  accept?: string;
  /** Extra request headers (e.g. Content-Disposition of an upload). */
  headers?: Record<string, string>;
}

function isOutcome(value: unknown): value is OperationOutcome {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { resourceType?: unknown }).resourceType === 'OperationOutcome' &&
    Array.isArray((value as { issue?: unknown }).issue)
  );
}

/** The readable messages of an OperationOutcome (diagnostics, else details, else the code). */
export function outcomeMessages(outcome: OperationOutcome): string[] {
  const messages = outcome.issue
    .map(
      (i) => i.diagnostics ?? i.details?.text ?? i.details?.coding?.[0]?.display ?? i.code ?? 'Unknown error',
    )
    .filter((m) => m.trim() !== '');
  return messages.length > 0 ? messages : ['The hub refused the request'];
}

function statusMessage(status: number, path: string): string {
  if (status === 401) return 'You are not signed in, or your session has ended. Sign in again.';
  if (status === 403) return 'You do not have permission to do this.';
  if (status === 404) return `The hub has nothing at ${path}.`;
  if (status === 429) return 'Too many requests: wait a moment and try again.';
  if (status >= 500) return `The hub could not complete the request (HTTP ${status}).`;
  return `The hub answered HTTP ${status}.`;
}

/**
 * Calls the hub. Resolves with the parsed JSON body (undefined for 204); rejects with `ApiError`.
 * @example
 * const { messages } = await api<{ messages: MeshMessage[] }>('/mesh/messages', { query: { status: 'failed' } });
 */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = {
    accept: options.accept ?? 'application/json',
    ...options.headers,
  };
  let body: BodyInit | undefined;
  if (options.body instanceof Blob) {
    body = options.body;
    headers['content-type'] = options.body.type || 'application/octet-stream';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const url = `${path}${queryString(options.query)}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      credentials: 'same-origin',
      headers,
      ...(body !== undefined && { body }),
      ...(options.signal && { signal: options.signal }),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, ['The hub could not be reached. Check that it is running.'], path);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    let messages = isOutcome(parsed) ? outcomeMessages(parsed) : [statusMessage(response.status, path)];
    // The hub's answer for a route it does not have (an older hub, or a route still to come).
    if (response.status === 404 && messages[0]?.startsWith('Unknown route')) {
      messages = [`This hub does not offer ${options.method ?? 'GET'} ${path} (is it an older version?).`];
    }
    throw new ApiError(response.status, messages, path);
  }
  if (parsed === undefined && text !== '') {
    throw new ApiError(response.status, [`The hub answered ${path} with something other than JSON.`], path);
  }
  return parsed as T;
}

/** An error of any kind as an `ApiError` (for showing in an error summary). */
export function asApiError(error: unknown, path = ''): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, [(error as Error)?.message ?? String(error)], path);
}

// ---- Shapes of the hub's answers (docs: /tmp console-api contract; /openapi.json) ----

export type Principal =
  | { kind: 'api-key'; id: string; name: string; organisationOds: string | null; scopes: string[] }
  | { kind: 'patient'; sub: string; nhsNumber?: string; identityProofingLevel: string }
  | {
      kind: 'clinician';
      uid: string;
      roleId: string;
      roleCode: string;
      roleName?: string;
      organisationOds: string;
      name?: string;
    }
  | { kind: 'admin'; id: string; username: string };

export interface SessionInfo {
  principal: Principal;
  session?: { createdAt: string; expiresAt: string; lastSeenAt: string };
  /** What this principal may do (absent from hubs before the console's routes). */
  actions?: string[];
}

export interface ServiceStats {
  id: string;
  name: string;
  environment: 'sandbox' | 'int' | 'live' | 'custom' | string;
  baseUrl: string;
  health: 'reachable' | 'unreachable' | 'unknown';
  lastCallAt?: string | null;
  calls: number;
  failures: number;
  errorRate: number;
  latencyMs: { p50: number; p95: number; max: number } | null;
  series: { at: string; calls: number; failures: number; p95Ms: number | null }[];
}

export interface Overview {
  generatedAt: string;
  window: { from: string; to: string; bucketSeconds: number };
  services: ServiceStats[];
  hub: {
    requests: number;
    errors: number;
    series: { at: string; requests: number; clientErrors: number; serverErrors: number }[];
  };
}

export interface MeshMessage {
  id: string;
  direction: 'outbound' | 'inbound';
  mailboxId: string;
  from: string | null;
  to: string | null;
  workflowId: string | null;
  subject: string | null;
  localId: string | null;
  contentType: string | null;
  messageType: string;
  meshMessageId: string | null;
  linkedMessageId: string | null;
  status: string;
  dts: { event: string | null; code: string | null } | null;
  error: string | null;
  bytes: number | null;
  chunks: number | null;
  /** Outbound chunked messages: chunks MESH has accepted so far. */
  chunksSent?: number | null;
  correlationId: string;
  createdAt: string;
  updatedAt: string;
  events?: { id: number; at: string; event: string; status: string; detail: string | null }[];
}

export interface Mailbox {
  mailboxId: string;
  baseUrl: string;
  pollIntervalMs: number;
  lastPoll?: { at: string; status: 'succeeded' | 'failed'; error?: string };
  counts?: { inbound: number; outbound: number; failed: number };
}

export interface Job {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'dead';
  attempts: number;
  maxAttempts: number;
  runAfter: string;
  lastError: string | null;
  correlationId: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** One run of a recurring series (a MESH poll): its successful runs are left out of lists unless asked for. */
  periodic?: boolean;
  events?: { at: string; event: string; attempt: number; owner: string | null; detail: string | null }[];
}

/** `GET /jobs`: the jobs, a count per status, and the successful periodic runs left out, per series. */
export interface JobList {
  jobs: Job[];
  counts: Record<Job['status'], number>;
  hiddenPeriodic?: {
    succeeded: number;
    series: { kind: string; payload: unknown; succeeded: number; lastSucceededAt: string | null }[];
  };
}

export interface AuditEvent {
  seq: number;
  at: string;
  action: string;
  outcome: string;
  actor: { kind: string; id?: string; name?: string; role?: string; organisation?: string };
  nhsNumbers: string[];
  correlationId: string;
  httpStatus: number | null;
  decision?: { allow?: boolean; rule?: string; reason?: string } | null;
}

export interface ApiKey {
  id: string;
  name: string;
  organisationOds: string | null;
  scopes: string[];
  createdAt: string;
  revokedAt: string | null;
}

export interface DmdHit {
  type: string;
  id: string;
  name: string;
  /** AMP and AMPP: the supplier's name; null for the other classes. */
  supplier?: string | null;
  kind: 'medicine' | 'device';
  prescribable: boolean;
  available: boolean;
  invalid: boolean;
}

export interface DmdConceptRef {
  type: string;
  id: string;
  name: string;
  invalid?: boolean;
  /** AMP and AMPP: the supplier's name (what tells apart the AMPs of one VMP). */
  supplier?: string;
}

export interface DmdConcept {
  release: { id: number; releaseDate: string | null };
  matchedBy: string;
  type: string;
  id: string;
  name: string;
  supplier?: string;
  detail: Record<string, unknown>;
  /** The lookup-coded elements of the concept's own record, decoded (e.g. BASISCD). */
  codes?: Record<string, { list: string; code: string; description: string | null }>;
  parents: DmdConceptRef[];
  children: DmdConceptRef[];
}

export interface DmdRelease {
  id: number;
  status: string;
  source: string;
  releaseDate: string | null;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  summary?: Record<string, unknown> | null;
}

export interface DmdImport {
  id: string;
  status: 'queued' | 'importing' | 'active' | 'superseded' | 'failed';
  fileName?: string;
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  progress?: { file?: string; filesDone: number; filesTotal: number; records: number; percent?: number };
  counts?: Record<string, number>;
}

/**
 * Where a setting in force comes from: the built-in default, an environment variable, a value given
 * when the hub was started (`junction start`, a command-line flag), or a change made in the console.
 */
export type SettingSource = 'default' | 'environment' | 'startup' | 'console';

/** An NHS API's base URL in `GET /settings`, and where it comes from. */
export interface ServiceBaseUrl {
  service: 'pds' | 'api-platform-auth' | 'nhs-login' | 'cis2' | string;
  name: string;
  /** Whether the hub calls it (e.g. the token endpoint only with API platform keys). */
  inUse: boolean;
  environment: 'sandbox' | 'int' | 'live' | 'custom' | string;
  baseUrl: string;
  /** The setting's name (`base-url.pds`): what `resetSetting` undoes. */
  setting: string;
  source: SettingSource;
  /** The environment variable behind it (`JUNCTION_PDS_BASE_URL`). */
  variable: string;
  changedBy?: string;
  changedAt?: string;
  /** The service's published base URL in the hub's NHS environment (the only published one it accepts). */
  published: Partial<Record<'sandbox' | 'int' | 'live', string>>;
}

/** A MESH mailbox in `GET /settings` (never its password, shared key or TLS passphrase). */
export interface SettingsMailbox {
  mailboxId: string;
  baseUrl: string;
  environment: string;
  pollIntervalMs: number;
  workflows?: string[];
  inboxPageSize?: number;
  chunkSize?: number;
  mutualTls: boolean;
  tls?: { certPath: string; keyPath: string; caPath?: string };
  setting: string;
  source: Exclude<SettingSource, 'default'>;
  /** The hub was started with a mailbox of this id: undoing a console change gives that one back. */
  inEnvironment: boolean;
  changedBy?: string;
  changedAt?: string;
}

/** One of the environment's mailboxes that the console stopped using. */
export interface RemovedMailbox {
  mailboxId: string;
  setting: string;
  changedBy: string;
  changedAt: string;
}

/** `GET /settings`, also the answer to every change. */
export interface HubSettings {
  nhsEnvironment: string;
  publicUrl: string;
  store: { dialect: string };
  /** Whether the caller may change settings (`settings.manage`: hub admin accounts). */
  canChange?: boolean;
  /** Whether mailboxes can be stored (the hub has `JUNCTION_SECRETS_KEY`). */
  canStoreMailboxes?: boolean;
  /** Settings changed in the console that the hub cannot use, in plain words. */
  problems?: string[];
  environments: ServiceBaseUrl[];
  mailboxes: SettingsMailbox[];
  removedMailboxes?: RemovedMailbox[];
  signIn: {
    nhsLogin: { issuer: string; configured: boolean };
    cis2: { issuer: string; configured: boolean };
  };
}

/** `PUT /settings/mailboxes/{id}`: a password or shared key left out keeps the current one. */
export interface MailboxChange {
  baseUrl: string;
  password?: string;
  sharedKey?: string;
  pollIntervalMs?: number;
  workflows?: string[];
  inboxPageSize?: number;
  chunkSize?: number;
  tls?: { certPath: string; keyPath: string; caPath?: string };
}

/**
 * Changes the base URL of an NHS API the hub calls, on every hub instance (hub admin accounts).
 * @example const settings = await changeBaseUrl('pds', 'https://int.api.service.nhs.uk/personal-demographics/FHIR/R4');
 */
export function changeBaseUrl(service: string, baseUrl: string): Promise<HubSettings> {
  return api<HubSettings>(`/settings/base-urls/${encodeURIComponent(service)}`, {
    method: 'PUT',
    body: { baseUrl },
  });
}

/**
 * Adds a MESH mailbox or changes one (needs the hub's `JUNCTION_SECRETS_KEY`).
 * @example await putMailbox('X26ABC2', { baseUrl: 'https://msg.intspineservices.nhs.uk', password, sharedKey });
 */
export function putMailbox(mailboxId: string, change: MailboxChange): Promise<HubSettings> {
  return api<HubSettings>(`/settings/mailboxes/${encodeURIComponent(mailboxId)}`, {
    method: 'PUT',
    body: change,
  });
}

/**
 * Stops using a MESH mailbox (one of the environment's can be used again with `resetSetting`).
 * @example await stopMailbox('X26ABC2');
 */
export function stopMailbox(mailboxId: string): Promise<HubSettings> {
  return api<HubSettings>(`/settings/mailboxes/${encodeURIComponent(mailboxId)}`, { method: 'DELETE' });
}

/**
 * Undoes a change made in the console: the value the hub was started with (an environment variable,
 * `junction start` or a flag, or the default) is used again.
 * @example await resetSetting('base-url.pds');
 */
export function resetSetting(setting: string): Promise<HubSettings> {
  return api<HubSettings>(`/settings/changes/${encodeURIComponent(setting)}`, { method: 'DELETE' });
}

/** `GET /access/holders`: who holds each policy action (the hub's access policy, as a table). */
export interface ActionHolders {
  action: string;
  adminAccounts: boolean;
  /** National RBAC job roles: code (`R8000`) and display name. */
  roles: { code: string; name: string }[];
}
