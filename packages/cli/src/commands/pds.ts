import { readFile } from 'node:fs/promises';
import {
  type AccessTokenProvider,
  applicationRestrictedAuth,
  PdsClient,
  type PdsSearchParams,
  type RequestContext,
} from '@junction/client';
import { CliError } from '../io.js';

/** The local sandbox's PDS, where `junction sandbox` listens by default. */
export const DEFAULT_PDS_BASE_URL = 'http://127.0.0.1:9000/personal-demographics/FHIR/R4';

export interface PdsConnectionOptions {
  baseUrl?: string;
  /** Application-restricted auth: all four together, or none (the open sandbox). */
  tokenUrl?: string;
  apiKey?: string;
  privateKeyFile?: string;
  kid?: string;
  correlationId?: string;
  endUserOrganisation?: string;
}

/** Builds a PDS client for any base URL: the local sandbox, NHS INT or live. */
export async function pdsClientFrom(options: PdsConnectionOptions): Promise<PdsClient> {
  const auth = await authFrom(options);
  return new PdsClient({ baseUrl: options.baseUrl ?? DEFAULT_PDS_BASE_URL, ...(auth && { auth }) });
}

export function requestContextFrom(options: PdsConnectionOptions): RequestContext {
  return {
    ...(options.correlationId !== undefined && { correlationId: options.correlationId }),
    ...(options.endUserOrganisation !== undefined && { endUserOrganisationOds: options.endUserOrganisation }),
  };
}

async function authFrom(options: PdsConnectionOptions): Promise<AccessTokenProvider | undefined> {
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
  return applicationRestrictedAuth({
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
