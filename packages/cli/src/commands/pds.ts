import { readFile } from 'node:fs/promises';
import type { AccessTokenProvider, PdsSearchParams, RequestContext } from '@junction/client';
import { PdsClient } from '@junction/client/pds';
import { OperationOutcomeError } from '@junction/core';
import { CliError, type CliIo } from '../io.js';
import {
  cannotReach,
  DEFAULT_SANDBOX_URL,
  type FoundStart,
  findStart,
  networkFailure,
  PDS_PATH,
} from '../start-record.js';

export interface PdsConnectionOptions {
  /** Any PDS FHIR R4 base URL; without it, the sandbox PDS of the running `junction start`. */
  baseUrl?: string;
  /** Application-restricted auth: all four together, or none (the open sandbox). */
  tokenUrl?: string;
  apiKey?: string;
  privateKeyFile?: string;
  kid?: string;
  correlationId?: string;
  endUserOrganisation?: string;
  /** The data folder where `junction start` recorded its ports (default ./data). */
  dataDir?: string;
}

/** A PDS client and where it points, for error messages. */
export interface PdsConnection {
  client: PdsClient;
  baseUrl: string;
  /** How the running `junction start` was looked for, when the base URL was not given. */
  found?: FoundStart;
}

/**
 * Builds a PDS client for any base URL: the local sandbox, NHS INT or live. Without --base-url it is
 * the sandbox PDS of the `junction start` recorded in the data folder, signed in as the API platform
 * app that start registered for the CLI with that sandbox alone (as any PDS client signs in to INT:
 * a signed JWT for a token), or, with no record, start's default port.
 */
export async function pdsConnectionFrom(io: CliIo, options: PdsConnectionOptions): Promise<PdsConnection> {
  const flagged = await authFromFlags(options);
  if (options.baseUrl !== undefined) {
    return { client: pdsClient(options.baseUrl, flagged), baseUrl: options.baseUrl };
  }
  const found = await findStart(options.dataDir, io.env);
  if (found.stale) io.stderr(`junction: ${found.stale}\n`);
  const baseUrl = found.record?.pdsBaseUrl ?? `${DEFAULT_SANDBOX_URL}${PDS_PATH}`;
  const app = found.record?.sandboxApp;
  const auth =
    flagged ??
    (app &&
      (await signedJwtAuth({
        tokenUrl: app.tokenUrl,
        apiKey: app.apiKey,
        kid: app.kid,
        privateKey: app.privateKeyPem,
      })));
  return { client: pdsClient(baseUrl, auth), baseUrl, found };
}

function pdsClient(baseUrl: string, auth: AccessTokenProvider | undefined): PdsClient {
  return new PdsClient({ baseUrl, ...(auth && { auth }) });
}

/** Runs PDS calls; a PDS that does not answer is one line naming the URL tried. */
export async function withPds<T>(
  io: CliIo,
  options: PdsConnectionOptions,
  run: (client: PdsClient, ctx: RequestContext) => Promise<T>,
): Promise<T> {
  const { client, baseUrl, found } = await pdsConnectionFrom(io, options);
  try {
    return await run(client, requestContextFrom(options));
  } catch (error) {
    const reason = error instanceof OperationOutcomeError ? networkFailure(error) : undefined;
    if (reason === undefined) throw error;
    throw new CliError(cannotReach(found ? "the sandbox's PDS" : 'PDS', baseUrl, reason, found));
  }
}

export function requestContextFrom(options: PdsConnectionOptions): RequestContext {
  return {
    ...(options.correlationId !== undefined && { correlationId: options.correlationId }),
    ...(options.endUserOrganisation !== undefined && { endUserOrganisationOds: options.endUserOrganisation }),
  };
}

/** API platform signed-JWT auth, its JOSE library loaded only when a PDS wants a token. */
async function signedJwtAuth(options: {
  tokenUrl: string;
  apiKey: string;
  kid: string;
  privateKey: string;
}): Promise<AccessTokenProvider> {
  const { applicationRestrictedAuth } = await import('@junction/client/auth');
  return applicationRestrictedAuth(options);
}

async function authFromFlags(options: PdsConnectionOptions): Promise<AccessTokenProvider | undefined> {
  const parts = {
    tokenUrl: options.tokenUrl,
    apiKey: options.apiKey,
    privateKeyFile: options.privateKeyFile,
    kid: options.kid,
  };
  const given = Object.values(parts).filter((v) => v !== undefined).length;
  if (given === 0) return undefined;
  if (given < 4) {
    const missing = Object.entries(parts)
      .filter(([, v]) => v === undefined)
      .map(([k]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new CliError(
      `signed-JWT auth needs --token-url, --api-key, --private-key-file and --kid; missing ${missing.join(', ')}`,
    );
  }
  let privateKey: string;
  try {
    privateKey = await readFile(parts.privateKeyFile as string, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the private key: ${(error as Error).message}`);
  }
  return signedJwtAuth({
    tokenUrl: parts.tokenUrl as string,
    apiKey: parts.apiKey as string,
    kid: parts.kid as string,
    privateKey,
  });
}

export interface PdsSearchFlags {
  family?: string;
  given?: string[];
  gender?: string;
  birthdate?: string[];
  deathDate?: string[];
  postcode?: string;
  gp?: string;
  email?: string;
  phone?: string;
  fuzzy?: boolean;
  exact?: boolean;
  history?: boolean;
  maxResults?: number;
}

const GENDERS = ['male', 'female', 'other', 'unknown'] as const;

/** Maps CLI flags to the SDK's typed search parameters; PDS itself judges the combination. */
export function searchParamsFrom(flags: PdsSearchFlags): PdsSearchParams {
  if (flags.gender !== undefined && !(GENDERS as readonly string[]).includes(flags.gender)) {
    throw new CliError(`--gender must be one of ${GENDERS.join(', ')}`);
  }
  const params: PdsSearchParams = {};
  if (flags.family !== undefined) params.family = flags.family;
  if (flags.given?.length) params.given = flags.given;
  if (flags.gender !== undefined) params.gender = flags.gender as PdsSearchParams['gender'] & string;
  if (flags.birthdate?.length) params.birthdate = flags.birthdate;
  if (flags.deathDate?.length) params.deathDate = flags.deathDate;
  if (flags.postcode !== undefined) params.postalCode = flags.postcode;
  if (flags.gp !== undefined) params.generalPractitioner = flags.gp;
  if (flags.email !== undefined) params.email = flags.email;
  if (flags.phone !== undefined) params.phone = flags.phone;
  if (flags.fuzzy) params.fuzzyMatch = true;
  if (flags.exact) params.exactMatch = true;
  if (flags.history) params.history = true;
  if (flags.maxResults !== undefined) params.maxResults = flags.maxResults;
  if (Object.keys(params).length === 0)
    throw new CliError('give at least one search flag, e.g. --family Smith --birthdate eq2010-10-22');
  return params;
}
