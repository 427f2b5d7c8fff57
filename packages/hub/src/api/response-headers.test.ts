import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiKeyScope, createApiKey } from '../access/api-keys.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { fakePds } from '../testing/fake-pds.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { DOCS_CSP } from './build-app.js';

// Headers are set by the one request pipeline, whatever the database: SQLite is enough here.
const sqlite = (await testStores()).find((f) => f.dialect === 'sqlite');
if (!sqlite) throw new Error('no SQLite test store');

async function hubAt(t: TestStore, root: string, publicUrl: string): Promise<Hub> {
  const dist = join(root, 'dist');
  await mkdir(join(dist, 'assets'), { recursive: true });
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>console</title>\n');
  await writeFile(join(dist, 'assets', 'index-Ab12Cd34.js'), 'console.log(1);\n');
  const config = loadConfig({ JUNCTION_PUBLIC_URL: publicUrl }, { logLevel: 'silent', dataDir: root });
  return createHub(config, { store: t.store, pds: fakePds(), startJobs: false, consoleDir: dist });
}

describe('response hygiene headers', () => {
  let t: TestStore;
  let root: string;
  let hub: Hub;
  let httpsHub: Hub;
  const keyWith = async (...scopes: ApiKeyScope[]) => ({
    'x-api-key': (await createApiKey(t.store, { name: `key ${scopes.join(' ')}`, scopes })).secret,
  });

  beforeAll(async () => {
    t = await sqlite.create();
    root = await mkdtemp(join(tmpdir(), 'junction-response-headers-'));
    hub = await hubAt(t, root, 'http://127.0.0.1:8080');
    httpsHub = await hubAt(t, root, 'https://hub.example.com');
  });
  afterAll(async () => {
    await hub?.close();
    await httpsHub?.close();
    await t?.cleanup();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.each([
    ['a patient read', '/fhir/R4/Patient/9000000009', 'patient:read'],
    ['an audit read', '/audit/events', 'audit:read'],
    ['a settings read', '/settings', 'operations:read'],
  ] as const)('%s is never stored by a cache and never sniffed', async (_name, url, scope) => {
    const res = await hub.app.inject({ url, headers: await keyWith(scope) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('errors carry them too (a 401 and an unknown route)', async () => {
    for (const url of ['/settings', '/no-such-route']) {
      const res = await hub.app.inject({ url });
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('a console static file keeps its own caching', async () => {
    const asset = await hub.app.inject({ url: '/console/assets/index-Ab12Cd34.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
    expect((await hub.app.inject({ url: '/console/' })).headers['cache-control']).toBe('no-cache');
  });

  it('/docs has its Content-Security-Policy', async () => {
    const res = await hub.app.inject({ url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBe(DOCS_CSP);
  });

  // RFC 6797: HSTS is only honoured over https, so it is sent when the hub's public URL is https.
  it('Strict-Transport-Security is sent when the configured public URL is https', async () => {
    const res = await httpsHub.app.inject({ url: '/healthz' });
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    expect((await hub.app.inject({ url: '/healthz' })).headers['strict-transport-security']).toBeUndefined();
  });
});
