import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from './access/api-keys.js';
import { verifyAuditChain } from './audit/verify-audit-chain.js';
import { loadConfig } from './config/load-config.js';
import { createHub } from './create-hub.js';
import { openStore } from './store/open-store.js';

describe('createHub with the real PdsClient', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'junction-hub-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens its own SQLite store under dataDir and calls PDS at the configured base URL', async () => {
    const requests: { url: string; headers: Headers }[] = [];
    const fakeFetch: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      requests.push({ url, headers: new Headers(init?.headers) });
      return new Response(
        JSON.stringify({ resourceType: 'Patient', id: '9000000009', meta: { versionId: '3' } }),
        { status: 200, headers: { 'content-type': 'application/fhir+json', etag: 'W/"3"' } },
      );
    };
    const config = loadConfig({
      JUNCTION_DATA_DIR: dir,
      JUNCTION_LOG_LEVEL: 'silent',
      JUNCTION_SANDBOX_PORT: '9555',
    });
    const hub = await createHub(config, { fetch: fakeFetch });
    try {
      expect(hub.store.dialect).toBe('sqlite');
      const { secret } = await createApiKey(hub.store, { name: 'p' });
      const res = await hub.app.inject({
        url: '/fhir/R4/Patient/9000000009',
        headers: { 'x-api-key': secret, 'x-correlation-id': 'c-1' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers.etag).toBe('W/"3"');
      expect(requests[0]?.url).toBe('http://127.0.0.1:9555/personal-demographics/FHIR/R4/Patient/9000000009');
      expect(requests[0]?.headers.get('x-correlation-id')).toBe('c-1');
      expect(requests[0]?.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(await verifyAuditChain(hub.store)).toEqual({ ok: true, count: 1 });
    } finally {
      await hub.close();
    }
    // closed in order, and idempotently
    await hub.close();
    await expect(hub.store.db.selectFrom('api_keys').selectAll().execute()).rejects.toThrow();
    // the data survived in <dataDir>/junction.db
    const reopened = await openStore({ dataDir: dir });
    try {
      expect(await verifyAuditChain(reopened)).toEqual({ ok: true, count: 1 });
    } finally {
      await reopened.close();
    }
  });

  it('signs in to the API platform with the configured key and sends the bearer token to PDS', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyPath = join(dir, 'test-key.pem');
    await writeFile(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const calls: { url: string; auth: string | null; body: string }[] = [];
    const fakeFetch: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      calls.push({
        url,
        auth: new Headers(init?.headers).get('authorization'),
        body: String(init?.body ?? ''),
      });
      if (url.endsWith('/oauth2/token')) {
        return Response.json({ access_token: 'tok-1', expires_in: '599', token_type: 'Bearer' });
      }
      return new Response(
        JSON.stringify({ resourceType: 'Patient', id: '9000000009', meta: { versionId: '1' } }),
        {
          headers: { 'content-type': 'application/fhir+json', etag: 'W/"1"' },
        },
      );
    };
    const config = loadConfig({
      JUNCTION_DATA_DIR: dir,
      JUNCTION_LOG_LEVEL: 'silent',
      JUNCTION_NHS_API_KEY: 'test-app-key',
      JUNCTION_NHS_KEY_ID: 'test-1',
      JUNCTION_NHS_PRIVATE_KEY_PATH: keyPath,
    });
    const hub = await createHub(config, { fetch: fakeFetch });
    try {
      const { secret } = await createApiKey(hub.store, { name: 'p' });
      const res = await hub.app.inject({
        url: '/fhir/R4/Patient/9000000009',
        headers: { 'x-api-key': secret },
      });
      expect(res.statusCode).toBe(200);
      expect(calls.map((c) => c.url)).toEqual([
        'http://127.0.0.1:9000/oauth2/token',
        'http://127.0.0.1:9000/personal-demographics/FHIR/R4/Patient/9000000009',
      ]);
      expect(calls[0]?.body).toContain('grant_type=client_credentials');
      expect(calls[1]?.auth).toBe('Bearer tok-1');
    } finally {
      await hub.close();
    }
  });

  it('re-running migrations on an existing database is a no-op', async () => {
    const a = await openStore({ dataDir: dir });
    await a.close();
    const b = await openStore({ dataDir: dir });
    const tables = await b.db.introspection.getTables();
    expect(tables.map((t) => t.name).sort()).toEqual(
      expect.arrayContaining(['api_keys', 'audit_chain_head', 'audit_events']),
    );
    await b.close();
  });

  it('refuses to start with an unreadable private key file', async () => {
    const config = loadConfig({
      JUNCTION_DATA_DIR: dir,
      JUNCTION_LOG_LEVEL: 'silent',
      JUNCTION_NHS_API_KEY: 'k',
      JUNCTION_NHS_KEY_ID: 'kid',
      JUNCTION_NHS_PRIVATE_KEY_PATH: join(dir, 'missing.pem'),
    });
    await expect(createHub(config)).rejects.toThrow(/JUNCTION_NHS_PRIVATE_KEY_PATH/);
  });
});
