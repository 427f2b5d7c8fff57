import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { fakePds } from '../testing/fake-pds.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { prefersHtml } from './root-route.js';

// The root route reads nothing from the database: SQLite is enough here.
const sqlite = (await testStores()).find((f) => f.dialect === 'sqlite');
if (!sqlite) throw new Error('no SQLite test store');

/** What Chromium and Firefox send for a page they navigate to. */
const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('the hub root / (a browser to the console, an API client to the API description)', () => {
  let t: TestStore;
  let hub: Hub;
  let dataDir: string;

  beforeAll(async () => {
    t = await sqlite.create();
    dataDir = await mkdtemp(join(tmpdir(), 'junction-root-'));
    hub = await createHub(loadConfig({}, { logLevel: 'silent', dataDir }), {
      store: t.store,
      pds: fakePds(),
      startJobs: false,
    });
  });
  afterAll(async () => {
    await hub?.close();
    await t?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('a browser (Accept: text/html first) is sent to /console/ with 303 See Other, GET and HEAD alike', async () => {
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await hub.app.inject({ method, url: '/', headers: { accept: BROWSER_ACCEPT } });
      expect(res.statusCode, method).toBe(303);
      expect(res.headers.location).toBe('/console/');
      expect(res.headers.vary).toMatch(/accept/i);
    }
  });

  it('curl (Accept: */*), no Accept at all and application/json get the JSON index of entry points', async () => {
    for (const headers of [{ accept: '*/*' }, {}, { accept: 'application/json' }]) {
      const res = await hub.app.inject({ url: '/', headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers.vary).toMatch(/accept/i);
      expect(res.json()).toEqual({
        name: 'Junction hub',
        version: expect.any(String),
        links: {
          console: '/console/',
          openapi: '/openapi.json',
          docs: '/docs',
          health: '/healthz',
          metrics: '/metrics',
        },
      });
    }
  });

  it('says the same in Link headers with the RFC 8631 relations, and every link answers', async () => {
    const res = await hub.app.inject({ url: '/', headers: { accept: '*/*' } });
    const link = String(res.headers.link);
    expect(link).toContain('</openapi.json>; rel="service-desc"; type="application/vnd.oai.openapi+json"');
    expect(link).toContain('</docs>; rel="service-doc"');
    expect(link).toContain('</healthz>; rel="status"');
    expect(link).toContain('</console/>; rel="alternate"; type="text/html"');
    for (const url of Object.values(res.json().links as Record<string, string>)) {
      const target = await hub.app.inject({ url });
      // The console answers 404 "not built" here (no bundle given): a page, not the FHIR 404.
      if (url === '/console/') expect(target.headers['content-type']).toMatch(/^text\/html/);
      else expect([200, 302], url).toContain(target.statusCode);
    }
  });

  it('HEAD for an API client: the same status and headers, no body', async () => {
    const res = await hub.app.inject({ method: 'HEAD', url: '/', headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.link).toContain('rel="service-desc"');
    expect(res.body).toBe('');
  });

  it('is described in the OpenAPI description like every other route', async () => {
    const doc = (await hub.app.inject({ url: '/openapi.json' })).json();
    expect(doc.paths['/'].get.tags).toEqual(['Operations']);
    expect(Object.keys(doc.paths['/'].get.responses).sort()).toEqual(['200', '303']);
  });

  it('other paths still answer the FHIR 404 OperationOutcome', async () => {
    const res = await hub.app.inject({ url: '/nothing-here', headers: { accept: BROWSER_ACCEPT } });
    expect(res.statusCode).toBe(404);
    expect(res.json().resourceType).toBe('OperationOutcome');
  });

  it.each([
    [BROWSER_ACCEPT, true],
    ['text/html', true],
    ['TEXT/HTML; q=0.9, application/json; q=0.5', true],
    ['*/*', false],
    [undefined, false],
    ['', false],
    ['application/json', false],
    ['application/fhir+json', false],
    // Equal q: the order the client listed them in decides (negotiator's rule).
    ['text/html, application/json', true],
    ['application/json, text/html', false],
    ['text/html;q=0.5, application/json', false],
    ['text/html;q=0', false],
    ['text/html;q=abc', false],
  ])('prefersHtml(%j) is %s', (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});
