import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { fakePds } from '../testing/fake-pds.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { CONSOLE_CSP } from './console-static.js';

// Serving static files does not depend on the database: SQLite is enough here.
const sqlite = (await testStores()).find((f) => f.dialect === 'sqlite');
if (!sqlite) throw new Error('no SQLite test store');

const INDEX_HTML =
  '<!doctype html><html lang="en-GB"><head><script type="module" src="/console/assets/index-Ab12Cd34.js"></script></head><body><div id="root"></div></body></html>\n';
const APP_JS = `console.log(${JSON.stringify('junction console '.repeat(200))});\n`;
const SECRET = 'not for the web: a file beside the bundle';

/** A fake `vite build` output: index.html, a hashed asset with .br/.gz twins, and a secret next door. */
async function fakeBundle(root: string): Promise<string> {
  const dist = join(root, 'dist');
  await mkdir(join(dist, 'assets'), { recursive: true });
  await writeFile(join(dist, 'index.html'), INDEX_HTML);
  await writeFile(join(dist, 'assets', 'index-Ab12Cd34.js'), APP_JS);
  await writeFile(join(dist, 'assets', 'index-Ab12Cd34.js.br'), brotliCompressSync(APP_JS));
  await writeFile(join(dist, 'assets', 'index-Ab12Cd34.js.gz'), gzipSync(APP_JS));
  await writeFile(join(root, 'secret.txt'), SECRET);
  await writeFile(join(dist, '.env'), SECRET);
  return dist;
}

async function hubWith(t: TestStore, dataDir: string, consoleDir: string | undefined): Promise<Hub> {
  const config = loadConfig({}, { logLevel: 'silent', dataDir });
  return createHub(config, {
    store: t.store,
    pds: fakePds(),
    startJobs: false,
    ...(consoleDir !== undefined && { consoleDir }),
  });
}

describe('the console served by the hub at /console/', () => {
  let t: TestStore;
  let hub: Hub;
  let root: string;

  beforeAll(async () => {
    t = await sqlite.create();
    root = await mkdtemp(join(tmpdir(), 'junction-console-static-'));
    hub = await hubWith(t, root, await fakeBundle(root));
  });
  afterAll(async () => {
    await hub?.close();
    await t?.cleanup();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('/console redirects to /console/, keeping the query', async () => {
    const res = await hub.app.inject({ url: '/console?x=1' });
    expect(res.statusCode).toBe(301);
    expect(res.headers.location).toBe('/console/?x=1');
  });

  it('/console/ is index.html, revalidated on every use (no-cache, ETag), with the strict CSP', async () => {
    const res = await hub.app.inject({ url: '/console/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toBe(INDEX_HTML);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const etag = res.headers.etag;
    expect(etag).toBeTruthy();
    const again = await hub.app.inject({ url: '/console/', headers: { 'if-none-match': String(etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('a page of the app (client-side route) is index.html too, so a reload works', async () => {
    for (const url of [
      '/console/patients/9000000009',
      '/console/messages?status=failed',
      '/console/sign-in',
    ]) {
      const res = await hub.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(INDEX_HTML);
      expect(res.headers['cache-control'], url).toBe('no-cache');
      expect(res.headers['content-security-policy'], url).toBe(CONSOLE_CSP);
    }
  });

  it('hashed assets are immutable for a year and sent precompressed as the browser accepts', async () => {
    const url = '/console/assets/index-Ab12Cd34.js';
    const br = await hub.app.inject({ url, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.statusCode).toBe(200);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(String(br.headers.vary)).toMatch(/accept-encoding/i);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(APP_JS);
    expect(br.rawPayload.length).toBeLessThan(APP_JS.length / 5);

    const gz = await hub.app.inject({ url, headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(APP_JS);

    const plain = await hub.app.inject({ url, headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(APP_JS);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('a missing asset is a plain 404, not the app page', async () => {
    for (const url of ['/console/assets/index-Gone0000.js', '/console/favicon.ico']) {
      const res = await hub.app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('<html');
      expect(res.headers['cache-control'], url).toBe('no-store');
    }
  });

  it('refuses paths out of the bundle and dotfiles (path traversal)', async () => {
    for (const url of [
      '/console/../secret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/..%2fsecret.txt',
      '/console/assets/..%2f..%2fsecret.txt',
      '/console/assets/%2e%2e/%2e%2e/secret.txt',
      '/console//etc/passwd',
      '/console/.env',
    ]) {
      const res = await hub.app.inject({ url });
      expect(res.body, url).not.toContain(SECRET);
      expect(res.body, url).not.toContain('root:');
      expect([301, 302, 403, 404], url).toContain(res.statusCode);
    }
  });

  it('leaves the rest of the hub alone: no console CSP on the API, unknown routes stay OperationOutcomes', async () => {
    const health = await hub.app.inject({ url: '/healthz' });
    expect(health.headers['content-security-policy']).toBeUndefined();
    const unknown = await hub.app.inject({ url: '/consoles' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });
});

describe('the console before it is built', () => {
  let t: TestStore;
  let root: string;
  beforeAll(async () => {
    t = await sqlite.create();
    root = await mkdtemp(join(tmpdir(), 'junction-console-missing-'));
  });
  afterAll(async () => {
    await t?.cleanup();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.for([
    ['no consoleDir given', undefined],
    ['a consoleDir without index.html', 'empty'],
  ] as const)('%s: /console/ is a 404 page saying to run npm run build', async ([, dir]) => {
    const consoleDir = dir === undefined ? undefined : join(root, dir);
    if (consoleDir) await mkdir(consoleDir, { recursive: true });
    const hub = await hubWith(t, root, consoleDir);
    try {
      for (const url of ['/console/', '/console/overview']) {
        const res = await hub.app.inject({ url });
        expect(res.statusCode, url).toBe(404);
        expect(res.headers['content-type'], url).toMatch(/^text\/html/);
        expect(res.body, url).toContain('npm run build');
        expect(res.headers['content-security-policy'], url).toBe(CONSOLE_CSP);
      }
      expect((await hub.app.inject({ url: '/console' })).statusCode).toBe(301);
    } finally {
      await hub.close();
    }
  });
});
