import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createSandboxServer, type RegisteredApp, registeredAppFromJwks } from '@junction/sandbox';
import type { FastifyInstance } from 'fastify';
import { CliError } from '../io.js';

export interface SandboxCommandOptions {
  port?: number;
  host?: string;
  stateless?: boolean;
  /** Require API platform tokens: the app's API key and a file holding its public JWKS. */
  appKey?: string;
  appJwks?: string;
  syntheticPatients?: number;
}

export interface RunningSandbox {
  url: string;
  server: FastifyInstance;
  close(): Promise<void>;
}

/** Runs the sandbox on its own, for teams that point their own code (or the SDK) at it. */
export async function runSandbox(options: SandboxCommandOptions): Promise<RunningSandbox> {
  const apps = await appsFromOptions(options);
  const server = await createSandboxServer({
    pds: {
      mode: options.stateless ? 'stateless' : 'stateful',
      ...(options.syntheticPatients !== undefined && { syntheticPatients: options.syntheticPatients }),
    },
    ...(apps && { auth: { apps } }),
  });
  const host = options.host ?? '127.0.0.1';
  await server.listen({ host, port: options.port ?? 9000 });
  const { port } = server.server.address() as AddressInfo;
  return { url: `http://${host}:${port}`, server, close: () => server.close() };
}

async function appsFromOptions(options: SandboxCommandOptions): Promise<RegisteredApp[] | undefined> {
  if (options.appKey === undefined && options.appJwks === undefined) return undefined;
  if (options.appKey === undefined || options.appJwks === undefined) {
    throw new CliError(
      '--app-key and --app-jwks go together: the API key of the app and its public JWKS file',
    );
  }
  let jwks: unknown;
  try {
    jwks = JSON.parse(await readFile(options.appJwks, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read a JWKS from ${options.appJwks}: ${(error as Error).message}`);
  }
  try {
    return [registeredAppFromJwks(options.appKey, jwks)];
  } catch (error) {
    throw new CliError(`${options.appJwks}: ${(error as Error).message}`);
  }
}
