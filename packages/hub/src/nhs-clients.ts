import { readFile } from 'node:fs/promises';
import {
  applicationRestrictedAuth,
  Cis2Client,
  NhsLoginClient,
  type NhsLoginClientOptions,
  PdsClient,
  type PdsClientOptions,
  tokenExchangeAuth,
} from '@junction/client';
import { OperationOutcomeError } from '@junction/core';
import type { ActiveSession } from './access/sessions.js';
import type { Cis2Port, NhsLoginPort } from './api/auth-routes.js';
import type { HubConfig } from './config/load-config.js';
import type { PdsPort } from './journeys/patient-lookup.js';
import { recordedRelyingParty, recordedTokenFetch } from './observability/recorded-ports.js';
import type { UpstreamCalls } from './observability/upstream-calls.js';

/** What building the clients may be given instead of config (tests, integrations): see HubDeps. */
export interface NhsClientDeps {
  pds?: PdsPort;
  nhsLogin?: NhsLoginPort;
  cis2?: Cis2Port;
  pdsForSession?: (session: ActiveSession) => PdsPort | undefined;
  fetch?: typeof fetch;
  now?: () => Date;
}

/** The hub's clients of the NHS APIs, built from one configuration (rebuilt when settings change). */
export interface NhsClients {
  /** PDS as the hub (application-restricted). */
  pds: PdsPort;
  /** PDS as a signed-in person (token exchange), when the hub has API platform key material. */
  pdsForSession?: (session: ActiveSession) => PdsPort | undefined;
  /** Relying parties, recorded, when their sign-in is configured. */
  nhsLogin?: NhsLoginPort;
  cis2?: Cis2Port;
}

/**
 * Builds every NHS API client the hub uses from `config`, with each call going through the one
 * recorder (`calls`). Anything given in `deps` is used as it is.
 */
export async function buildNhsClients(
  config: HubConfig,
  deps: NhsClientDeps,
  calls: UpstreamCalls,
): Promise<NhsClients> {
  const clients: NhsClients = { pds: deps.pds ?? (await defaultPdsClient(config, deps, calls)) };
  const nhsLogin = deps.nhsLogin ?? (await relyingParty(config, 'nhs-login', deps));
  const cis2 = deps.cis2 ?? (await relyingParty(config, 'cis2', deps));
  if (nhsLogin) clients.nhsLogin = recordedRelyingParty(nhsLogin, 'nhs-login', calls);
  if (cis2) clients.cis2 = recordedRelyingParty(cis2, 'cis2', calls);
  const pdsForSession = deps.pdsForSession ?? (await userRestrictedPds(config, deps, calls));
  if (pdsForSession) clients.pdsForSession = pdsForSession;
  return clients;
}

async function readKey(
  pem: string | undefined,
  path: string | undefined,
  variable: string,
): Promise<string | undefined> {
  if (pem !== undefined || path === undefined) return pem;
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${variable} (${path}): ${(error as Error).message}`);
  }
}

/** An NHS login or CIS2 client from config, or undefined when that sign-in is not configured. */
async function relyingParty(
  config: HubConfig,
  provider: 'nhs-login' | 'cis2',
  deps: NhsClientDeps,
): Promise<NhsLoginClient | Cis2Client | undefined> {
  const p = provider === 'nhs-login' ? config.nhsLogin : config.cis2;
  const prefix = provider === 'nhs-login' ? 'JUNCTION_NHS_LOGIN' : 'JUNCTION_CIS2';
  const privateKey = await readKey(p.privateKeyPem, p.privateKeyPath, `${prefix}_PRIVATE_KEY_PATH`);
  if (p.clientId === undefined || p.keyId === undefined || privateKey === undefined) return undefined;
  const options: NhsLoginClientOptions = {
    issuer: p.issuer,
    clientId: p.clientId,
    privateKey,
    kid: p.keyId,
    redirectUri: `${config.publicUrl}/auth/${provider}/callback`,
  };
  // Plain http only for the local sandbox (a loopback issuer); NHS login and CIS2 are https.
  const issuer = new URL(p.issuer);
  if (issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname)) {
    options.allowInsecureHttp = true;
  }
  if (deps.fetch) options.fetch = deps.fetch;
  if (deps.now) options.now = deps.now;
  return provider === 'nhs-login' ? new NhsLoginClient(options) : new Cis2Client(options);
}

const SESSION_PDS_CACHE_MAX = 1_000;

/**
 * User-restricted PDS for signed-in people: each session's id_token is exchanged at the API
 * platform ("separate authentication and authorisation",
 * https://digital.nhs.uk/developer/guides-and-documentation/security-and-authorisation/user-restricted-restful-apis-nhs-login-separate-authentication-and-authorisation).
 * One client per session (its token is cached by the client), in a
 * bounded map keyed by the id_token, which never leaves the process.
 */
async function userRestrictedPds(
  config: HubConfig,
  deps: NhsClientDeps,
  calls: UpstreamCalls,
): Promise<((session: ActiveSession) => PdsPort | undefined) | undefined> {
  const a = config.apiPlatform;
  const privateKey = await readKey(a.privateKeyPem, a.privateKeyPath, 'JUNCTION_NHS_PRIVATE_KEY_PATH');
  if (a.apiKey === undefined || a.keyId === undefined || privateKey === undefined) return undefined;
  const { apiKey, keyId } = a;
  const clients = new Map<string, PdsClient>();
  return (session) => {
    const idToken = session.idToken;
    // Never fall back to the hub's application-restricted access for a signed-in person.
    if (idToken === undefined) {
      throw OperationOutcomeError.spine('ACCESS_DENIED', {
        status: 401,
        diagnostics: 'The session holds no identity token for the NHS API platform: sign in again',
      });
    }
    let client = clients.get(idToken);
    if (!client) {
      const authOptions: Parameters<typeof tokenExchangeAuth>[0] = {
        tokenUrl: a.tokenUrl,
        apiKey,
        privateKey,
        kid: keyId,
        subjectToken: () => idToken,
        fetch: recordedTokenFetch(deps.fetch ?? globalThis.fetch.bind(globalThis), 'token-exchange', calls),
      };
      if (deps.now) authOptions.now = deps.now;
      const options: PdsClientOptions = { baseUrl: config.pds.baseUrl, auth: tokenExchangeAuth(authOptions) };
      if (deps.fetch) options.fetch = deps.fetch;
      if (deps.now) options.now = deps.now;
      client = new PdsClient(options);
      if (clients.size >= SESSION_PDS_CACHE_MAX) clients.delete(clients.keys().next().value as string);
      clients.set(idToken, client);
    }
    return client;
  };
}

async function defaultPdsClient(
  config: HubConfig,
  deps: NhsClientDeps,
  calls: UpstreamCalls,
): Promise<PdsClient> {
  const options: PdsClientOptions = { baseUrl: config.pds.baseUrl };
  if (deps.fetch) options.fetch = deps.fetch;
  if (deps.now) options.now = deps.now;
  const a = config.apiPlatform;
  const privateKey = await readKey(a.privateKeyPem, a.privateKeyPath, 'JUNCTION_NHS_PRIVATE_KEY_PATH');
  if (a.apiKey !== undefined && a.keyId !== undefined && privateKey !== undefined) {
    const authOptions: Parameters<typeof applicationRestrictedAuth>[0] = {
      tokenUrl: a.tokenUrl,
      apiKey: a.apiKey,
      privateKey,
      kid: a.keyId,
      fetch: recordedTokenFetch(deps.fetch ?? globalThis.fetch.bind(globalThis), 'client-credentials', calls),
    };
    if (deps.now) authOptions.now = deps.now;
    options.auth = applicationRestrictedAuth(authOptions);
  }
  return new PdsClient(options);
}
