import type { Cis2TestUser, NhsLoginTestUser } from '@junction/sandbox';
import { CliError, type CliIo, printJson } from '../io.js';
import { cannotReach, DEFAULT_HUB_URL, type FoundStart, findStart, networkFailure } from '../start-record.js';
import { CookieJar } from './cookie-jar.js';

export type LoginProvider = 'nhs-login' | 'cis2';
export const LOGIN_PROVIDERS: readonly LoginProvider[] = ['nhs-login', 'cis2'];
const PROVIDER_NAMES: Record<LoginProvider, string> = { 'nhs-login': 'NHS login', cis2: 'CIS2' };
/** Hub → provider → sign-in page, and back: a handful of redirects; more means a loop. */
const MAX_REDIRECTS = 10;
const SESSION_TOKEN_PREFIX = 'jss_';

export interface LoginFlags {
  provider: LoginProvider;
  /** The hub; without it, the one of the `junction start` recorded in the data folder. */
  hub?: string;
  /** The data folder where `junction start` recorded its ports (default ./data). */
  dataDir?: string;
  /** A sandbox test user: drives the sandbox sign-in page over HTTP instead of a browser. */
  user?: string;
  /** CIS2: the role to select (role profile id, national RBAC code or R-code, or ODS code). */
  role?: string;
  /** NHS login: the NHS number of the person a proxy test user signs in for (default: themselves). */
  for?: string;
  /** NHS login: the lowest identity proofing level to accept (the hub's default is P9). */
  proofing?: string;
  json?: boolean;
}

export interface LoginIo extends CliIo {
  /** Reads one line the user types (the pasted session token); absent when there is no terminal. */
  readLine?: (prompt: string) => Promise<string | undefined>;
  fetch?: typeof fetch;
}

interface WhoAmI {
  principal: Record<string, unknown> & { kind?: string };
  session?: { createdAt?: string; expiresAt?: string; lastSeenAt?: string };
}

/**
 * `junction login`: a sign-in session at the hub for terminal use. The hub hands the session token
 * back (`response=token`), never a cookie, so it can go in `Authorization: Bearer` afterwards.
 * With `--user` the sandbox's sign-in page is driven over HTTP with a cookie jar (scripts, tests);
 * otherwise the user opens the sign-in URL in any browser and pastes the token it shows.
 */
export async function login(io: LoginIo, flags: LoginFlags): Promise<void> {
  let found: FoundStart | undefined;
  if (flags.hub === undefined) {
    found = await findStart(flags.dataDir, io.env);
    if (found.stale) io.stderr(`junction: ${found.stale}\n`);
  }
  const hub = hubUrlOf(flags.hub ?? found?.record?.hubUrl ?? DEFAULT_HUB_URL);
  const http = io.fetch ?? fetch;
  const signInUrl = new URL(`/auth/${flags.provider}/login`, hub);
  signInUrl.searchParams.set('response', 'token');
  if (flags.proofing !== undefined) {
    if (flags.provider !== 'nhs-login')
      throw new CliError('--proofing is for NHS login only: CIS2 users are all at AAL3');
    signInUrl.searchParams.set('proofing', flags.proofing);
  }
  if (flags.role !== undefined && flags.user === undefined)
    throw new CliError('--role goes with --user (in a browser, the role is chosen on the CIS2 page)');
  if (flags.role !== undefined && flags.provider !== 'cis2')
    throw new CliError('--role is for CIS2 only: NHS login users have no roles');
  if (flags.for !== undefined && flags.user === undefined)
    throw new CliError('--for goes with --user (in a browser, the person is chosen on the NHS login page)');
  if (flags.for !== undefined && flags.provider !== 'nhs-login')
    throw new CliError('--for is for NHS login only: a proxy signs in for someone with NHS login');

  let token: string;
  if (flags.user !== undefined) {
    token = await signInAsTestUser(http, signInUrl, flags.provider, flags.user, flags.role ?? flags.for, {
      hub,
      found,
    });
  } else {
    io.stderr(
      `Open this URL in a browser (on any device) and sign in with ${PROVIDER_NAMES[flags.provider]}:\n  ${signInUrl}\n` +
        'The hub then shows JSON with a sessionToken (jss_…).\n',
    );
    if (!io.readLine)
      throw new CliError(
        'no terminal to paste the session token into: run in a terminal, or use --user against a sandbox',
      );
    const pasted = (await io.readLine('Paste the sessionToken here: '))?.trim().replace(/^"|"$/g, '');
    if (!pasted) throw new CliError('no session token given: sign-in not completed');
    if (!pasted.startsWith(SESSION_TOKEN_PREFIX))
      throw new CliError(`that is not a session token (they start ${SESSION_TOKEN_PREFIX})`);
    token = pasted;
  }

  const who = await whoAmI(http, hub, token, found);
  if (flags.json) {
    printJson(io, { ...who, sessionToken: token });
    return;
  }
  io.stdout(
    [
      `Signed in with ${PROVIDER_NAMES[flags.provider]}.`,
      ...describePrincipal(who.principal),
      ...(who.session?.expiresAt ? [`  session expires: ${who.session.expiresAt}`] : []),
      `  session token:   ${token}`,
      '',
      'Use it as a bearer token, e.g.:',
      `  curl -H 'Authorization: Bearer ${token}' ${hub.origin}/auth/session`,
      '',
    ].join('\n'),
  );
}

function hubUrlOf(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--hub: '${value}' is not a URL (e.g. ${DEFAULT_HUB_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`--hub: '${value}' is not an http(s) URL`);
  return url;
}

/**
 * Walks the sign-in as a browser would: hub → provider → the sandbox sign-in page, the form
 * posted with the chosen user (and role), then back through the provider to the hub's callback,
 * which answers with the session token. Only the sandbox's page is ever driven.
 */
async function signInAsTestUser(
  http: typeof fetch,
  signInUrl: URL,
  provider: LoginProvider,
  userId: string,
  /** CIS2: the role; NHS login: the NHS number of the person acted for. */
  choice: string | undefined,
  where: Where,
): Promise<string> {
  // The sandbox's seed, loaded only here: a sign-in in a browser needs none of it.
  const { CIS2_TEST_USERS, NHS_LOGIN_TEST_USERS } = await import('@junction/sandbox');
  const users: TestUsers = { nhsLogin: NHS_LOGIN_TEST_USERS, cis2: CIS2_TEST_USERS };
  const form = new URLSearchParams(formFields(users, provider, userId, choice));
  const jar = new CookieJar();
  const page = await follow(http, jar, signInUrl, { method: 'GET' }, where);
  if (isHub(page.url, signInUrl)) throw hubRefused(provider, page.response, await page.response.text());
  const html = await page.response.text();
  const title = /<title>([^<]*)<\/title>/i.exec(html)?.[1] ?? '';
  if (!page.response.ok || !/\(sandbox\)/.test(title)) {
    throw new CliError(
      `--user only drives the Junction sandbox's sign-in page, and ${page.url.origin} did not show one (HTTP ${page.response.status}); open ${signInUrl} in a browser instead`,
    );
  }
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new CliError(`the sandbox sign-in page at ${page.url.origin} has no sign-in form`);
  if (!choicesOf(html, 'user').includes(form.get('user') ?? ''))
    throw new CliError(`the sandbox sign-in page does not offer user '${userId}'`);

  const done = await follow(
    http,
    jar,
    new URL(unescapeHtml(action), page.url),
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    },
    where,
  );
  if (!isHub(done.url, signInUrl)) {
    const body = await done.response.text();
    if (/<h1\b[^>]*>\s*Select your role\s*<\/h1>/.test(body))
      throw new CliError(`choose a role with --role: ${rolesOf(cis2User(users, userId))}`);
    const problem = firstError(body);
    throw new CliError(
      `the sandbox sign-in page refused the sign-in (HTTP ${done.response.status})${problem ? `: ${unescapeHtml(problem)}` : ''}`,
    );
  }
  const body = await done.response.text();
  if (!done.response.ok) throw hubRefused(provider, done.response, body);
  const token = (safeJson(body) as { sessionToken?: unknown } | undefined)?.sessionToken;
  if (typeof token !== 'string' || !token.startsWith(SESSION_TOKEN_PREFIX))
    throw new CliError('the hub signed the user in but handed back no session token');
  return token;
}

/**
 * The sandbox's form fields for the user (and role, or person acted for) named on the command line.
 * A proxy is asked "Whose record are you using?": `for` answers it (`self` unless --for).
 */
function formFields(
  users: TestUsers,
  provider: LoginProvider,
  userId: string,
  choice: string | undefined,
): [string, string][] {
  const roleId = choice;
  if (provider === 'nhs-login') {
    const wanted = userId.trim().toLowerCase();
    const user = users.nhsLogin.find(
      (u) => u.sub === wanted || u.nhsNumber === wanted.replace(/\s/g, '') || u.email === wanted,
    );
    if (!user) {
      const known = users.nhsLogin.map(
        (u) => `${u.nhsNumber ?? u.email} (${u.label}, ${u.identityProofingLevel})`,
      );
      throw new CliError(
        `no sandbox NHS login user '${userId}'; give an NHS number, email or sub: ${known.join('; ')}`,
      );
    }
    const actsFor = user.proxyFor ?? [];
    if (choice === undefined)
      return actsFor.length > 0
        ? [
            ['user', user.sub],
            ['for', 'self'],
          ]
        : [['user', user.sub]];
    const wantedFor = choice.replace(/\s/g, '');
    if (wantedFor === user.nhsNumber)
      return [['user', user.sub], ...(actsFor.length > 0 ? [['for', 'self'] as [string, string]] : [])];
    if (!actsFor.some((p) => p.nhsNumber === wantedFor)) {
      const known = actsFor.map((p) => `${p.nhsNumber} (${p.relationship.toLowerCase()})`);
      throw new CliError(
        known.length === 0
          ? `sandbox NHS login user ${user.label} does not act for anyone`
          : `sandbox NHS login user ${user.label} does not act for ${choice}; they act for: ${known.join('; ')}`,
      );
    }
    return [
      ['user', user.sub],
      ['for', wantedFor],
    ];
  }
  const user = cis2User(users, userId);
  if (roleId === undefined) {
    if (user.roles.length > 1) throw new CliError(`choose a role with --role: ${rolesOf(user)}`);
    return [['user', user.sub]];
  }
  const wanted = roleId.trim().toUpperCase();
  const matches = user.roles.filter(
    (r) =>
      r.personRoleId === wanted ||
      r.roleCode === wanted ||
      r.roleCode.split(':').pop() === wanted ||
      r.orgCode === wanted,
  );
  if (matches.length !== 1) {
    throw new CliError(
      `${matches.length === 0 ? 'no' : 'more than one'} role of ${user.title} ${user.givenName} ${user.familyName} matches '${roleId}': ${rolesOf(user)}`,
    );
  }
  return [
    ['user', user.sub],
    ['role', matches[0]?.personRoleId ?? ''],
  ];
}

/** The sandbox's synthetic test users, who `--user` names. */
interface TestUsers {
  nhsLogin: readonly NhsLoginTestUser[];
  cis2: readonly Cis2TestUser[];
}

function cis2User(users: TestUsers, userId: string): Cis2TestUser {
  const wanted = userId.trim().toLowerCase();
  const user = users.cis2.find((u) => u.sub === wanted || u.email === wanted);
  if (user) return user;
  const known = users.cis2.map((u) => `${u.sub} (${u.title} ${u.givenName} ${u.familyName})`);
  throw new CliError(`no sandbox CIS2 user '${userId}'; give a user id or email: ${known.join('; ')}`);
}

function rolesOf(user: Cis2TestUser): string {
  return user.roles
    .map((r) => `${r.personRoleId} (${r.roleCode.split(':').pop()} at ${r.orgName}, ${r.orgCode})`)
    .join('; ');
}

/** The hub signed in at, and how it was found when --hub did not name it (for errors naming the URL tried). */
interface Where {
  hub: URL;
  found: FoundStart | undefined;
}

/** Follows redirects by hand (as a browser, keeping cookies) until a page that is not one. */
async function follow(
  http: typeof fetch,
  jar: CookieJar,
  start: URL,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  where: Where,
): Promise<{ url: URL; response: Response }> {
  let url = start;
  let request = init;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const cookie = jar.headerFor(url);
    let response: Response;
    try {
      response = await http(url, {
        method: request.method,
        redirect: 'manual',
        headers: { ...request.headers, ...(cookie && { cookie }), accept: 'text/html, application/json' },
        ...(request.body !== undefined && { body: request.body }),
      });
    } catch (error) {
      const what = url.origin === where.hub.origin ? 'the hub' : 'the sign-in page';
      throw new CliError(cannotReach(what, url.origin, networkReason(error), where.found));
    }
    jar.store(url, response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) return { url, response };
    await response.body?.cancel();
    url = new URL(location, url);
    request = { method: 'GET' };
  }
  throw new CliError(`sign-in went round more than ${MAX_REDIRECTS} redirects; giving up`);
}

async function whoAmI(
  http: typeof fetch,
  hub: URL,
  token: string,
  found: FoundStart | undefined,
): Promise<WhoAmI> {
  const url = new URL('/auth/session', hub);
  let response: Response;
  try {
    response = await http(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  } catch (error) {
    throw new CliError(cannotReach('the hub', hub.origin, networkReason(error), found));
  }
  const body = safeJson(await response.text());
  if (!response.ok) {
    throw new CliError(
      `the hub did not accept the session token (HTTP ${response.status}${diagnosticsOf(body) ? `: ${diagnosticsOf(body)}` : ''})`,
    );
  }
  const who = body as WhoAmI | undefined;
  if (!who || typeof who.principal !== 'object' || who.principal === null)
    throw new CliError('the hub answered /auth/session without a principal');
  return who;
}

function describePrincipal(p: WhoAmI['principal']): string[] {
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  if (p.kind === 'patient') {
    // Each delegation: { nhsNumber, access: ['demographics', …] } (the hub's ProxyDelegation).
    const delegations = (Array.isArray(p.delegations) ? (p.delegations as unknown[]) : []).flatMap((d) => {
      const { nhsNumber, access } = (d ?? {}) as { nhsNumber?: unknown; access?: unknown };
      if (typeof nhsNumber !== 'string') return [];
      const kinds = Array.isArray(access) ? access.filter((a) => typeof a === 'string') : [];
      return [kinds.length > 0 ? `${nhsNumber} (${kinds.join(', ')})` : nhsNumber];
    });
    const actingFor = s((p.actingFor as { nhsNumber?: unknown } | undefined)?.nhsNumber);
    return [
      `  identity:        patient${s(p.nhsNumber) ? `, NHS number ${s(p.nhsNumber)}` : ' (no NHS number: not traced)'}`,
      `  proofing level:  ${s(p.identityProofingLevel) ?? 'unknown'}${s(p.vot) ? ` (vot ${s(p.vot)})` : ''}`,
      ...(delegations.length > 0 ? [`  proxy for:       ${delegations.join('; ')}`] : []),
      ...(actingFor ? [`  acting for:      NHS number ${actingFor} (signed in to use their record)`] : []),
      `  NHS login sub:   ${s(p.sub) ?? 'unknown'}`,
    ];
  }
  if (p.kind === 'clinician') {
    return [
      `  identity:        clinician, CIS2 user ${s(p.uid) ?? 'unknown'}`,
      `  role:            ${s(p.roleName) ?? s(p.roleCode) ?? 'unknown'} (${s(p.roleCode) ?? '?'}), role profile ${s(p.roleId) ?? '?'}`,
      `  organisation:    ${s(p.organisationOds) ?? 'unknown'}`,
    ];
  }
  return [`  identity:        ${s(p.kind) ?? 'unknown'}`];
}

function hubRefused(provider: LoginProvider, response: Response, body: string): CliError {
  const why = diagnosticsOf(safeJson(body));
  return new CliError(
    `the hub refused ${PROVIDER_NAMES[provider]} sign-in (HTTP ${response.status}${why ? `: ${why}` : ''})`,
  );
}

function isHub(url: URL, signInUrl: URL): boolean {
  return url.origin === signInUrl.origin && url.pathname.startsWith('/auth/');
}

function diagnosticsOf(body: unknown): string | undefined {
  const issue = (body as { issue?: { diagnostics?: unknown }[] } | undefined)?.issue?.[0];
  return typeof issue?.diagnostics === 'string' ? issue.diagnostics : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function networkReason(error: unknown): string {
  const failure = networkFailure(error);
  if (failure !== undefined) return failure;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The values of the radios (or buttons) named `name` a sandbox sign-in page offers. */
function choicesOf(html: string, name: string): string[] {
  return [...html.matchAll(/<(?:input|button)\b[^>]*>/g)]
    .filter((m) => m[0].includes(` name="${name}"`) && !m[0].includes('type="hidden"'))
    .map((m) => unescapeHtml(/\bvalue="([^"]*)"/.exec(m[0])?.[1] ?? ''));
}

/** The first problem in a sign-in page's error summary (NHS.UK design system), if it shows one. */
function firstError(html: string): string | undefined {
  const summary = /class="nhsuk-error-summary__list">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
  return /<a [^>]*>\s*([^<]*?)\s*<\/a>/.exec(summary)?.[1] || undefined;
}

function unescapeHtml(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'",
  );
}
