import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { MeshClient, MeshError, type MeshTlsOptions } from '@junction/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { type TestRuntime, testRuntime } from './test-runtime.js';

// `junction sandbox` as a stand-in for NHS's mesh-sandbox (github.com/NHSDigital/mesh-sandbox) and for the real
// MESH's mutual TLS (mesh-api.yaml "Get a TLS certificate": a client certificate, CN
// <local_id>.<ods_code>.api.mesh-client.nhs.uk, issued by the environment's CA). Certificates are made per run
// with openssl; the seed folder has NHS's sandbox layout (mailboxes.jsonl, workflows.jsonl) with synthetic mailboxes.
let dir: string;
let sandbox: { rt: TestRuntime; url: string; exited: Promise<number> };
let trusted: MeshTlsOptions;
const files = (name: string) => join(dir, name);

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A certificate (`<name>.pem`, `<name>.key`) for `cn`, issued by the CA `<ca>-ca.pem`. */
async function issue(name: string, cn: string, ca: string, altNames?: string) {
  const ext = altNames ? ['-extfile', `${name}.ext`] : [];
  if (altNames) await writeFile(files(`${name}.ext`), `subjectAltName=${altNames}\n`);
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
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
    `${ca}-ca.pem`,
    '-CAkey',
    `${ca}-ca.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    ...ext,
  );
}

/** A self-signed test CA, `<name>-ca.pem` and `<name>-ca.key`. */
function newCa(name: string) {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}-ca.key`,
    '-out',
    `${name}-ca.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name} test CA`,
  );
}

/** Starts `junction sandbox` as a user would; resolves once it prints its URL. */
async function startSandbox(args: string[]) {
  const rt = testRuntime();
  const exited = runCli(['sandbox', '--port', '0', '--synthetic-patients', '0', ...args], rt);
  const out = await Promise.race([
    rt.printed('Press Ctrl+C'),
    exited.then((code) => `exited ${code}: ${rt.err()}`),
  ]);
  const url = /running at (\S+)/.exec(out)?.[1];
  if (!url) throw new Error(out);
  return { rt, url, exited };
}

function mesh(mailboxId: string, tls: MeshTlsOptions | undefined) {
  return new MeshClient({
    baseUrl: sandbox.url,
    mailboxId,
    password: 'password',
    sharedKey: 'TestKey',
    retry: { maxAttempts: 1 },
    ...(tls && { tls }),
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sandbox-mesh-tls-'));
  newCa('mesh');
  newCa('other');
  await issue('server', 'localhost', 'mesh', 'DNS:localhost,IP:127.0.0.1');
  await issue('client', 'SERVER001.X26.api.mesh-client.nhs.uk', 'mesh');
  await issue('stranger', 'SERVER001.X26.api.mesh-client.nhs.uk', 'other');
  await writeFile(
    files('mailboxes.jsonl'),
    [
      '{"mailbox_id": "X26TLS1", "mailbox_name": "TLS one", "billing_entity": "England", "ods_code": "X26", "org_code": "X26", "password": "password"}',
      '{"mailbox_id": "X26TLS2", "mailbox_name": "TLS two", "billing_entity": "England", "ods_code": "X26", "org_code": "X26", "password": "password"}',
    ].join('\n'),
  );
  await writeFile(
    files('workflows.jsonl'),
    '{"workflow_id": "TLS_WORKFLOW", "senders": ["X26TLS1"], "receivers": ["X26TLS2"]}\n',
  );
  trusted = {
    cert: await readFile(files('client.pem')),
    key: await readFile(files('client.key')),
    ca: await readFile(files('mesh-ca.pem')),
  };
  sandbox = await startSandbox([
    '--tls-cert',
    files('server.pem'),
    '--tls-key',
    files('server.key'),
    '--tls-client-ca',
    files('mesh-ca.pem'),
    '--mesh-seed',
    dir,
    '--any-workflow',
  ]);
});

afterAll(async () => {
  sandbox?.rt.stop();
  if (sandbox) expect(await sandbox.exited).toBe(0);
  await rm(dir, { recursive: true, force: true });
});

describe('junction sandbox --tls-cert --tls-key --tls-client-ca --mesh-seed --any-workflow', () => {
  it('serves HTTPS and prints the MESH base URL', () => {
    expect(sandbox.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.rt.out()).toContain(`MESH:  ${sandbox.url}/messageexchange`);
  });

  it('MeshClient over mutual TLS: handshake, send on an unregistered workflow, receive, acknowledge', async () => {
    const one = mesh('X26TLS1', trusted);
    const two = mesh('X26TLS2', trusted);
    try {
      await one.handshake();
      const { messageId } = await one.send({
        to: 'X26TLS2',
        workflowId: 'NOT_REGISTERED',
        body: 'over mTLS',
      });
      const inbox: string[] = [];
      for await (const id of two.inbox()) inbox.push(id);
      expect(inbox).toEqual([messageId]);
      const { metadata, body } = await two.receive(messageId);
      expect(metadata).toMatchObject({ from: 'X26TLS1', to: 'X26TLS2', workflowId: 'NOT_REGISTERED' });
      expect(await text(body)).toBe('over mTLS');
      await two.acknowledge(messageId);
      expect((await one.track(messageId)).status).toBe('acknowledged');
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('refuses at the TLS layer a client with no certificate, or one another CA issued: a 502 MeshError', async () => {
    const stranger: MeshTlsOptions = {
      cert: await readFile(files('stranger.pem')),
      key: await readFile(files('stranger.key')),
      ca: trusted.ca as Buffer,
    };
    for (const tls of [{ cert: '', key: '', ca: trusted.ca as Buffer }, stranger]) {
      const client = mesh('X26TLS1', tls);
      const error = await client.handshake().then(
        () => undefined,
        (e: unknown) => e,
      );
      await client.close();
      expect(error).toBeInstanceOf(MeshError);
      expect((error as MeshError).status).toBe(502);
    }
  });
});

describe('junction sandbox flag errors (one plain line, exit 1)', () => {
  const refused = async (args: string[]) => {
    const rt = testRuntime();
    expect(await runCli(['sandbox', '--port', '0', '--synthetic-patients', '0', ...args], rt)).toBe(1);
    return rt.err();
  };

  it('TLS files: both or neither, the client CA only with them, a missing file named', async () => {
    expect(await refused(['--tls-cert', files('server.pem')])).toBe(
      'junction: --tls-cert and --tls-key go together: the PEM certificate and its private key\n',
    );
    expect(await refused(['--tls-client-ca', files('mesh-ca.pem')])).toMatch(
      /--tls-client-ca needs --tls-cert and --tls-key/,
    );
    expect(await refused(['--tls-cert', files('absent.pem'), '--tls-key', files('server.key')])).toBe(
      `junction: --tls-cert ${files('absent.pem')}: no such file\n`,
    );
    expect(await refused(['--tls-cert', files('server.key'), '--tls-key', files('server.key')])).toMatch(
      /^junction: --tls-cert .* \/ --tls-key .*: .+\n$/,
    );
  });

  it('a seed that cannot be read names the file (and line)', async () => {
    expect(await refused(['--mesh-seed', files('absent.json')])).toBe(
      `junction: MESH seed ${files('absent.json')}: no such file or directory\n`,
    );
    await writeFile(files('broken.json'), '{"mailboxes": [');
    expect(await refused(['--mesh-seed', files('broken.json')])).toMatch(
      /^junction: MESH seed .*broken\.json: .*JSON.*\n$/,
    );
  });
});
