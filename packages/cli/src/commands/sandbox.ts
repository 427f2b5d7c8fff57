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
  /** Serve HTTPS: PEM certificate and key files. */
  tlsCert?: string;
  tlsKey?: string;
  /** Mutual TLS: clients must present a certificate issued by this CA (PEM file), as on the real MESH. */
  tlsClientCa?: string;
  /** MESH mailboxes and workflows: a JSON seed file or a folder in NHS's mesh-sandbox layout. */
  meshSeed?: string;
  /** MESH accepts unregistered workflow ids, as NHS's mesh-sandbox does (default: SEND 17). */
  anyWorkflow?: boolean;
}

export interface RunningSandbox {
  url: string;
  server: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Runs the sandbox on its own, for teams that point their own code (or the SDK) at it. MESH's test-only
 * admin routes are on, as in NHS's mesh-sandbox (and `junction start`), so tools that reset it between
 * tests (mesh-client's `DELETE /admin/reset`) work unchanged.
 */
export async function runSandbox(options: SandboxCommandOptions): Promise<RunningSandbox> {
  const apps = await appsFromOptions(options);
  const tls = await tlsFromOptions(options);
  let server: FastifyInstance;
  try {
    server = await createSandboxServer({
      pds: {
        mode: options.stateless ? 'stateless' : 'stateful',
        ...(options.syntheticPatients !== undefined && { syntheticPatients: options.syntheticPatients }),
      },
      ...(apps && { auth: { apps } }),
      mesh: {
        admin: true,
        ...(options.meshSeed !== undefined && { seedFile: options.meshSeed }),
        ...(options.anyWorkflow && { anyWorkflow: true }),
      },
      ...(tls && { tls }),
    });
  } catch (error) {
    // OpenSSL's refusal of a PEM (not a certificate, key not matching) names neither file.
    if (tls && String((error as NodeJS.ErrnoException).code ?? '').startsWith('ERR_OSSL')) {
      throw new CliError(
        `--tls-cert ${options.tlsCert} / --tls-key ${options.tlsKey}: ${(error as Error).message}`,
      );
    }
    throw error;
  }
  const host = options.host ?? '127.0.0.1';
  await server.listen({ host, port: options.port ?? 9000 });
  const { port } = server.server.address() as AddressInfo;
  const scheme = tls ? 'https' : 'http';
  return { url: `${scheme}://${host}:${port}`, server, close: () => server.close() };
}

async function tlsFromOptions(
  options: SandboxCommandOptions,
): Promise<{ cert: Buffer; key: Buffer; clientCa?: Buffer } | undefined> {
  const { tlsCert, tlsKey, tlsClientCa } = options;
  if (tlsCert === undefined && tlsKey === undefined) {
    if (tlsClientCa !== undefined)
      throw new CliError('--tls-client-ca needs --tls-cert and --tls-key (HTTPS)');
    return undefined;
  }
  if (tlsCert === undefined || tlsKey === undefined) {
    throw new CliError('--tls-cert and --tls-key go together: the PEM certificate and its private key');
  }
  const read = async (flag: string, file: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new CliError(
        `${flag} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
      );
    }
  };
  return {
    cert: await read('--tls-cert', tlsCert),
    key: await read('--tls-key', tlsKey),
    ...(tlsClientCa !== undefined && { clientCa: await read('--tls-client-ca', tlsClientCa) }),
  };
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
