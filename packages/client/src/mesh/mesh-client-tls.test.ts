import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from './errors.js';
import { MeshClient } from './mesh-client.js';

// Mutual TLS as the real service requires it (mesh-api.yaml "Get a TLS certificate"): a private CA
// signs the server's certificate and the client's (CN <local_id>.<ods>.api.mesh-client.nhs.uk); the server
// refuses a connection without a client certificate from that CA. Certificates are made with openssl per run.
let dir: string;
let ca: Buffer;
let clientCert: Buffer;
let clientKey: Buffer;
let server: Server;
let baseUrl: string;
const seenClientCns: string[] = [];

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mesh-tls-'));
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Test MESH CA',
  );
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, cn, ext] of [
    ['server', 'localhost', ['-extfile', 'server.ext']],
    ['client', 'SERVER001.X26.api.mesh-client.nhs.uk', []],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      ...ext,
    );
  }
  ca = await readFile(join(dir, 'ca.pem'));
  clientCert = await readFile(join(dir, 'client.pem'));
  clientKey = await readFile(join(dir, 'client.key'));
  server = createServer(
    {
      key: await readFile(join(dir, 'server.key')),
      cert: await readFile(join(dir, 'server.pem')),
      ca,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seenClientCns.push(String(peer.subject?.CN));
      req.resume();
      req.on('end', () => {
        res.writeHead(200);
        res.end();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const credentials = { mailboxId: 'X26ABC1', password: 'password', sharedKey: 'TestKey' };

describe('MeshClient mutual TLS (undici Agent connect options)', () => {
  it('presents the client certificate and trusts the given CA bundle', async () => {
    const mesh = new MeshClient({ baseUrl, ...credentials, tls: { cert: clientCert, key: clientKey, ca } });
    try {
      await mesh.handshake();
    } finally {
      await mesh.close();
    }
    expect(seenClientCns).toEqual(['SERVER001.X26.api.mesh-client.nhs.uk']);
  });

  it('without a client certificate the server refuses the connection: a 502 MeshError, no hang', async () => {
    const mesh = new MeshClient({
      baseUrl,
      ...credentials,
      tls: { cert: '', key: '', ca },
      retry: { maxAttempts: 1 },
    });
    const error = await mesh.handshake().then(
      () => undefined,
      (e: unknown) => e,
    );
    await mesh.close();
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).status).toBe(502);
  });

  it('refuses a server whose certificate is not signed by the given CA', async () => {
    const mesh = new MeshClient({
      baseUrl,
      ...credentials,
      tls: { cert: clientCert, key: clientKey, ca: clientCert },
      retry: { maxAttempts: 1 },
    });
    const error = await mesh.handshake().then(
      () => undefined,
      (e: unknown) => e,
    );
    await mesh.close();
    expect((error as MeshError).status).toBe(502);
    expect((error as MeshError).message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable|CERT/i);
  });
});
