import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../access/api-keys.js';
import { loadConfig } from '../config/load-config.js';
import { createHub, type Hub } from '../create-hub.js';
import { enqueueJob, getJob } from '../jobs/queue.js';
import type { DmdImportView } from '../medicines/imports.js';
import { fakePds } from '../testing/fake-pds.js';
import { DMD_2019 as SAMPLE } from '../testing/reference.js';
import { clinician, sessionFor } from '../testing/sessions.js';
import { type TestStore, testStores } from '../testing/test-stores.js';

/*
 * dm+d imports over HTTP (the console's Medicines page): the real 2019 sample release
 * (openprescribing's test data, NHSBSA release 4.0.1 of 2019-04-01), zipped as NHSBSA ships it,
 * uploaded, imported by the job runner, watched through GET /medicines/imports/{id}.
 */

const RELEASE_NAME = 'nhsbsa_dmd_4.0.1_20190401000001.zip';

/** A minimal zip writer (deflate, no zip64), as read-release.test.ts's, so the test needs no zip library. */
function zip(entries: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const packed = deflateRawSync(data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** The sample release as a zip; `change` may alter a file's text (to break it). */
async function releaseZip(change?: (name: string, text: string) => string): Promise<Buffer> {
  const entries: { name: string; data: Buffer }[] = [];
  for (const name of (await readdir(SAMPLE)).sort()) {
    if (!name.endsWith('.xml') && !name.endsWith('.xsd')) continue;
    const text = await readFile(join(SAMPLE, name), 'utf8');
    entries.push({
      name: `nhsbsa_dmd_4.0.1_20190401000001/${name}`,
      data: Buffer.from(change ? change(name, text) : text),
    });
  }
  return zip(entries);
}

describe.each(await testStores())('dm+d imports over HTTP on $dialect', (factory) => {
  let t: TestStore;
  let hub: Hub;
  let dataDir: string;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    if (factory.skip) return;
    t = await factory.create();
    dataDir = await mkdtemp(join(tmpdir(), 'junction-dmd-upload-'));
    hub = await createHub(loadConfig({}, { logLevel: 'silent', dataDir }), {
      store: t.store,
      pds: fakePds(),
      startJobs: false,
      // Small batches and a progress write per report, so a ~1 MB release takes long enough to watch.
      dmdImport: { maxUploadBytes: 4 * 1024 ** 2, retainPreviousMs: 0, batchRows: 40, progressEveryMs: 0 },
      jobRunner: { backoff: { baseMs: 1, maxMs: 1 } },
    });
    keys.importer = (await createApiKey(t.store, { name: 'importer', scopes: ['medicines:import'] })).secret;
    keys.reader = (await createApiKey(t.store, { name: 'reader', scopes: ['medicines:read'] })).secret;
  });
  afterAll(async () => {
    await hub?.close();
    await t?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const upload = (body: Buffer, headers: Record<string, string> = {}, key = keys.importer) =>
    hub.app.inject({
      method: 'POST',
      url: '/medicines/imports',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/zip',
        'content-disposition': `attachment; filename="${RELEASE_NAME}"`,
        ...headers,
      },
      payload: body,
    });
  const get = async (url: string, key = keys.importer) =>
    hub.app.inject({ url, headers: { authorization: `Bearer ${key}` } });
  const uploads = async () => readdir(join(dataDir, 'dmd', 'uploads')).catch(() => []);
  const auditRows = () =>
    t.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'medicines.import').execute();

  it.skipIf(factory.skip)(
    'uploads the sample release: 202 + Location, queued until a runner takes it, progress moves, then active with counts; the upload is deleted',
    async () => {
      const res = await upload(await releaseZip());
      expect(res.statusCode).toBe(202);
      const { import: queued } = res.json() as { import: DmdImportView };
      expect(res.headers.location).toBe(`/medicines/imports/${queued.id}`);
      expect(queued).toMatchObject({ status: 'queued', fileName: RELEASE_NAME, progress: { records: 0 } });
      expect(queued.bytes).toBeGreaterThan(100_000);
      expect(await uploads()).toEqual([expect.any(String)]);
      expect((await get(`/medicines/imports/${queued.id}`)).json()).toMatchObject({ status: 'queued' });

      // A second import while the first waits: refused (one at a time), its upload not kept.
      const second = await upload(await releaseZip());
      expect(second.statusCode).toBe(409);
      expect(second.json()).toMatchObject({ issue: [{ code: 'conflict' }] });
      expect(await uploads()).toHaveLength(1);

      const running = hub.jobs.runner.runOnce();
      const seen: DmdImportView[] = [];
      let view: DmdImportView;
      do {
        view = (await get(`/medicines/imports/${queued.id}`)).json() as DmdImportView;
        if (view.status === 'importing') seen.push(view);
        await new Promise((resolve) => setTimeout(resolve, 5));
      } while (view.status === 'queued' || view.status === 'importing');
      expect((await running).outcomes.succeeded).toBe(1);

      expect(view.status).toBe('active');
      // Progress moved: several different readings while it imported, never going back.
      // (Before the importer's first report, an importing job shows no files yet.)
      const reported = seen.filter((v) => v.progress.filesTotal > 0);
      const readings = [...new Set(reported.map((v) => JSON.stringify(v.progress)))].map(
        (p) => JSON.parse(p) as DmdImportView['progress'],
      );
      expect(readings.length).toBeGreaterThanOrEqual(2);
      for (const [i, p] of readings.entries()) {
        expect(p.filesTotal).toBe(8);
        if (i > 0) {
          const before = readings[i - 1] as DmdImportView['progress'];
          expect(p.filesDone).toBeGreaterThanOrEqual(before.filesDone);
          expect(p.percent ?? 0).toBeGreaterThanOrEqual(before.percent ?? 0);
        }
      }
      expect(seen.some((v) => v.progress.file?.startsWith(`${RELEASE_NAME}!/`))).toBe(true);
      expect(view.progress).toMatchObject({ filesDone: 8, filesTotal: 8, percent: 100 });
      expect(view.releaseDate).toBe('2019-04-01');
      expect(view.startedAt).toBeDefined();
      expect(view.finishedAt).toBeDefined();
      expect(view.counts).toMatchObject({ dmd_vtm: expect.any(Number), dmd_vmp: expect.any(Number) });
      expect(Object.values(view.counts ?? {}).reduce((n, c) => n + c, 0)).toBe(view.progress.records);

      // The release is what the medicines routes now serve; the upload is gone.
      const releases = await hub.app.inject({
        url: '/medicines/releases',
        headers: { authorization: `Bearer ${keys.reader}` },
      });
      expect(releases.json()).toMatchObject({ active: { releaseDate: '2019-04-01' } });
      expect(await uploads()).toEqual([]);

      const list = (await get('/medicines/imports')).json() as { imports: DmdImportView[] };
      expect(list.imports.map((i) => [i.id, i.status])).toEqual([[queued.id, 'active']]);
      // Starting imports is audited: the one accepted (202) and the one refused (409).
      expect((await auditRows()).map((r) => r.http_status).sort()).toEqual([202, 409]);
    },
  );

  it.skipIf(factory.skip)(
    'while another importer runs (a CLI import, or an instance that raced past the check): POST is 409; a job already queued waits, then supersedes',
    async () => {
      const before = (await get('/medicines/imports')).json() as { imports: DmdImportView[] };
      const previous = before.imports[0] as DmdImportView;
      // What a running `junction dmd import` (or another instance's importer) leaves in the store.
      const stamp = new Date().toISOString();
      await t.store.db
        .insertInto('dmd_releases')
        .values({ id: 99, status: 'importing', source: 'cli.zip', started_at: stamp, heartbeat_at: stamp })
        .execute();
      const refused = await upload(await releaseZip());
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({
        issue: [{ code: 'conflict', diagnostics: expect.stringMatching(/release 99/) }],
      });

      // A job queued a moment before that import started, as another instance would have.
      const dir = join(dataDir, 'dmd', 'uploads', 'raced');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, RELEASE_NAME), await releaseZip());
      const { job } = await enqueueJob(t.store, {
        kind: 'dmd.import',
        payload: { path: join(dir, RELEASE_NAME), fileName: RELEASE_NAME, bytes: 1 },
      });
      const raced = await hub.jobs.runner.runOnce();
      expect(raced.outcomes.failed).toBe(1); // another import is in progress: try again later
      expect((await get(`/medicines/imports/${job.id}`)).json()).toMatchObject({ status: 'queued' });
      expect(await uploads()).toEqual(['raced']); // kept for the next attempt

      // The other import ends; the waiting one runs on its next attempt.
      await t.store.db
        .updateTable('dmd_releases')
        .set({ status: 'failed', error: 'cancelled', finished_at: new Date().toISOString() })
        .where('id', '=', 99)
        .execute();
      for (let i = 0; i < 50 && (await getJob(t.store, job.id))?.status !== 'succeeded'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await hub.jobs.runner.runOnce();
      }
      expect((await get(`/medicines/imports/${job.id}`)).json()).toMatchObject({
        status: 'active',
        progress: { filesDone: 8, percent: 100 },
      });
      expect((await get(`/medicines/imports/${previous.id}`)).json()).toMatchObject({ status: 'superseded' });
      expect(await uploads()).toEqual([]);
    },
  );

  it.skipIf(factory.skip)(
    'a malformed release fails with the file:line of the error; the active release stays; the upload is deleted',
    async () => {
      const broken = await releaseZip((name, text) =>
        name.startsWith('f_vmp2') ? text.replace('</VMP>', '</VMPX>') : text,
      );
      const res = await upload(broken);
      expect(res.statusCode).toBe(202);
      const { import: queued } = res.json() as { import: DmdImportView };
      expect((await hub.jobs.runner.runOnce()).outcomes.dead).toBe(1);
      const view = (await get(`/medicines/imports/${queued.id}`)).json() as DmdImportView;
      expect(view.status).toBe('failed');
      expect(view.error).toMatch(/f_vmp2_3010419\.xml:\d+(:\d+)?: /);
      expect(view.error).not.toContain(dataDir);
      expect(view.finishedAt).toBeDefined();
      expect(await uploads()).toEqual([]);
      const list = (await get('/medicines/imports')).json() as { imports: DmdImportView[] };
      expect(list.imports.map((i) => i.status)).toEqual(['failed', 'active', 'superseded']);

      // Not a zip at all: the job fails for good with the reader's reason.
      const garbage = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(2_000, 7)]);
      const bad = (await upload(garbage)).json() as { import: DmdImportView };
      await hub.jobs.runner.runOnce();
      const failed = (await get(`/medicines/imports/${bad.import.id}`)).json() as DmdImportView;
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(/^dm\+d release nhsbsa_dmd_4\.0\.1_20190401000001\.zip: /);
      expect(failed.error).not.toContain(dataDir);
    },
  );

  it.skipIf(factory.skip)(
    'refuses what is not a zip: 415 for another media type, 400 without the zip signature, 413 over the limit',
    async () => {
      const json = await upload(Buffer.from('{"a":1}'), { 'content-type': 'application/json' });
      expect(json.statusCode).toBe(415);
      expect(json.json()).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ code: 'not-supported' }],
      });
      // Over a socket: inject's request stream never closes once its body is buffered, and on Node 24
      // the route's pipeline waits for that close when the zip check refuses mid-stream (on 20 it did not).
      const origin = await hub.app.listen({ port: 0, host: '127.0.0.1' });
      const text = await fetch(`${origin}/medicines/imports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.importer}`, 'content-type': 'application/zip' },
        body: Buffer.from('hello, not a zip'),
      });
      expect(text.status).toBe(400);
      expect(await text.json()).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ code: 'invalid' }],
      });
      const big = await upload(
        Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(5 * 1024 ** 2)]),
      );
      expect(big.statusCode).toBe(413);
      expect(big.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'too-long' }] });
      expect(await uploads()).toEqual([]);
      const none = await get('/medicines/imports/00000000-0000-4000-8000-000000000000');
      expect(none.statusCode).toBe(404);
    },
  );

  it.skipIf(factory.skip)(
    'denied without medicines.import (a medicines reader, a clinician, nobody), and the denial is audited',
    async () => {
      const before = (await auditRows()).length;
      const reader = await upload(await releaseZip(), {}, keys.reader);
      expect(reader.statusCode).toBe(403);
      expect(reader.json()).toMatchObject({ resourceType: 'OperationOutcome' });
      const gp = await sessionFor(t.store, clinician('R8008'), () => new Date());
      expect((await upload(Buffer.from('PK'), {}, gp)).statusCode).toBe(403);
      expect((await get('/medicines/imports', keys.reader)).statusCode).toBe(403);
      const anonymous = await hub.app.inject({
        method: 'POST',
        url: '/medicines/imports',
        payload: Buffer.from('x'),
      });
      expect(anonymous.statusCode).toBe(401);
      expect((await auditRows()).length - before).toBe(4);
      expect(await uploads()).toEqual([]);
    },
  );
});
