import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../access/api-keys.js';
import { verifyAuditChain } from '../../audit/verify-audit-chain.js';
import { loadConfig } from '../../config/load-config.js';
import { createHub, type Hub } from '../../create-hub.js';
import { countJobs, listJobs } from '../../jobs/queue.js';
import { FakeMesh } from '../../testing/fake-mesh.js';
import { fakePds } from '../../testing/fake-pds.js';
import { pdfText } from '../../testing/pdf-text.js';
import { type TestStore, testStores } from '../../testing/test-stores.js';
import { buildItkAck } from './itk-ack.js';
import { verifyWebhookSignature } from './webhooks.js';

/**
 * The whole journey in the hub with H1's MESH layer (MeshService, message log, send/track/poll/
 * inbound/status jobs) over the in-memory FakeMesh: POST → queued → sent → delivered (the practice
 * downloads and acknowledges in MESH) → acknowledged (ITK3 business response back on
 * GPFED_CONSULT_REPORT_ACK). The wire protocol itself is tested in packages/cli against the sandbox.
 */
const HUB = 'X26ABC1';
const PRACTICE = 'Y12345HC001'; // fake PDS: JANE's practice Y12345
const silent = { warn: () => {}, error: () => {} };

const reading = () => ({
  resourceType: 'Observation',
  status: 'final',
  category: [
    {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
    },
  ],
  code: {
    coding: [
      { system: 'http://loinc.org', code: '29463-7' },
      { system: 'http://snomed.info/sct', code: '27113001' },
    ],
  },
  subject: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } },
  effectiveDateTime: '2025-05-06T06:30:00+00:00',
  valueQuantity: { value: 71.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
});

describe.each(await testStores())(
  'submitting-data journey through the hub MESH layer on $dialect',
  (factory) => {
    let t: TestStore;
    let hub: Hub;
    let mesh: FakeMesh;
    let clock: Date;
    let key: string;
    let hooks: { url: string; headers: Headers; body: string }[];

    beforeEach(async (ctx) => {
      if (factory.skip) ctx.skip(factory.skip);
      t = await factory.create();
      mesh = new FakeMesh([HUB, PRACTICE]);
      hooks = [];
      clock = new Date('2025-05-06T07:08:09.000Z');
      hub = await startHub();
      key = (
        await createApiKey(t.store, { name: 'scales-app', scopes: ['readings:submit', 'readings:read'] })
      ).secret;
    });
    afterEach(async () => {
      await hub?.close();
      await t?.cleanup();
    });

    async function startHub(): Promise<Hub> {
      const config = loadConfig(
        {
          JUNCTION_MESH_TRACK_INTERVAL_MS: '1000',
          JUNCTION_MESH_MAILBOXES: JSON.stringify([
            { mailboxId: HUB, password: 'password', sharedKey: 'TestKey', baseUrl: 'http://127.0.0.1:1' },
          ]),
        },
        { logLevel: 'silent' },
      );
      return createHub(config, {
        store: t.store,
        pds: fakePds(),
        now: () => clock,
        startJobs: false,
        // Webhook POSTs land here (the product's endpoint).
        fetch: async (url, init) => {
          hooks.push({
            url: String(url),
            headers: new Headers(init?.headers),
            body: String(init?.body),
          });
          return new Response(null, { status: 204 });
        },
        jobRunner: { random: () => 0, backoff: { baseMs: 1, maxMs: 1 }, logger: silent },
        meshPortFor: (m) => mesh.port(m.mailboxId),
        meshLookupFor: () => ({
          endpointLookup: async (ods, workflowId) =>
            workflowId === 'GPFED_CONSULT_REPORT' && mesh.mailboxes.has(`${ods}HC001`)
              ? [{ mailbox_id: `${ods}HC001`, mailbox_name: `GP practice ${ods}` }]
              : [],
        }),
      });
    }

    async function drain(rounds = 30) {
      for (let i = 0; i < rounds; i++) {
        const { claimed } = await hub.jobs.runner.runOnce();
        clock = new Date(clock.getTime() + 2_000);
        if (claimed === 0) break;
      }
    }
    const status = async (id: string) =>
      (
        await hub.app.inject({
          method: 'GET',
          url: `/submissions/${id}`,
          headers: { authorization: `Bearer ${key}` },
        })
      ).json();
    const submit = (idempotencyKey?: string) =>
      hub.app.inject({
        method: 'POST',
        url: '/fhir/R4/Observation',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/fhir+json',
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        payload: JSON.stringify(reading()),
      });

    it('queued → sent → delivered (in the inbox) → downloaded → acknowledged, one message in the practice inbox', async () => {
      const res = await submit('weigh-in-1');
      expect(res.statusCode).toBe(202);
      const s = res.json();
      expect(s.status).toBe('queued');
      await drain();
      expect(mesh.inboxOf(PRACTICE)).toHaveLength(1);
      const sent = mesh.inboxOf(PRACTICE)[0];
      expect(sent).toMatchObject({ from: HUB, workflowId: 'GPFED_CONSULT_REPORT', localId: s.id });
      const xml = sent?.body.toString() ?? '';
      expect(xml).toContain(`<id value="${s.itkMessageId}"/>`);
      // The readable document: a PDF Binary, the first section entry (GPCM-SD-124), with the reading in it.
      const binary = /<Binary>[\s\S]*?<contentType value="([^"]+)"\/>\s*<content value="([^"]+)"\/>/.exec(
        xml,
      );
      expect(binary?.[1]).toBe('application/pdf');
      const pdf = await pdfText(Buffer.from(binary?.[2] ?? '', 'base64'));
      expect(pdf.pages.join(' ')).toMatch(
        /06-May-2025 07:30 Body weight 27113001 Body weight 71\.5 kg final/,
      );
      expect(pdf.pages.join(' ')).toContain('NHS no. 900 000 0009');
      expect(pdf.info).toMatchObject({ CreationDate: 'D:20250506070809Z' });
      // In the practice's inbox (MESH tracking Accepted): delivered.
      expect((await status(s.id)).status).toBe('delivered');

      // The practice downloads and acknowledges it in MESH: noted in the history, still delivered.
      await mesh.port(PRACTICE).acknowledge(sent?.id as string);
      await drain();
      const downloaded = await status(s.id);
      expect(downloaded.status).toBe('delivered');
      expect(downloaded.history.at(-1)).toMatchObject({ status: 'downloaded' });

      // The GP system answers with an ITK3 business response on GPFED_CONSULT_REPORT_ACK.
      mesh.deliver(HUB, {
        from: PRACTICE,
        workflowId: 'GPFED_CONSULT_REPORT_ACK',
        body: buildItkAck({
          kind: 'business',
          itkCode: '30001',
          itkDisplay: 'Success',
          code: 'ok',
          referencedMessageId: s.itkMessageId,
          senderReference: s.id,
          responderOds: 'Y12345',
          responderMailbox: PRACTICE,
          ids: {
            bundleId: 'd0000000-0000-4000-8000-000000000001',
            messageId: 'd0000000-0000-4000-8000-000000000002',
            headerId: 'd0000000-0000-4000-8000-000000000003',
            organizationId: 'd0000000-0000-4000-8000-000000000004',
            outcomeId: 'd0000000-0000-4000-8000-000000000005',
            timestamp: '2025-05-06T08:00:00+00:00',
          },
        }),
      });
      await hub.mesh.enqueuePoll(hub.mesh.mailboxes[0] as never);
      await drain();
      const done = await status(s.id);
      expect(done.status).toBe('acknowledged');
      expect(done.history.map((h: { status: string }) => h.status)).toEqual(
        expect.arrayContaining([
          'received',
          'validated',
          'queued',
          'delivered',
          'downloaded',
          'acknowledged',
        ]),
      );
      // Repeating the POST changes nothing and sends nothing.
      expect((await submit('weigh-in-1')).json().id).toBe(s.id);
      await drain();
      expect(mesh.messages.filter((m) => m.to === PRACTICE)).toHaveLength(1);
      expect(await verifyAuditChain(t.store)).toMatchObject({ ok: true });
    });

    it('the answer to the MESH POST lost (a crash after MESH stored it): retried, still one message', async () => {
      let lose = true;
      mesh.hooks.afterPost = () => {
        if (lose) {
          lose = false;
          throw new Error('connection reset after MESH stored the message');
        }
      };
      const s = (await submit()).json();
      await drain();
      expect(mesh.messages.filter((m) => m.to === PRACTICE)).toHaveLength(1);
      expect((await status(s.id)).status).toBe('delivered');
    });

    it('an unregistered recipient in MESH fails the submission with the DTS code', async () => {
      mesh.mailboxes.delete(PRACTICE); // endpoint lookup finds no mailbox
      const lookupOk = await submit();
      expect(lookupOk.statusCode).toBe(422);
      mesh.mailboxes.add(PRACTICE);
      const s = (await submit()).json();
      mesh.mailboxes.delete(PRACTICE); // gone by the time the send job runs: MESH answers 417 SEND 12
      await drain();
      const failed = await status(s.id);
      expect(failed.status).toBe('failed');
      expect(failed.errors.issue[0].diagnostics).toMatch(/SEND 12/);
    });
    it('the hub stops right after the 202, before the send: another instance on the same store sends it, once', async () => {
      const s = (await submit('after-202')).json();
      expect(s.status).toBe('queued');
      await hub.close(); // nothing of the submission is kept only in this process's memory
      hub = await startHub();
      expect((await submit('after-202')).json().id).toBe(s.id);
      await drain();
      expect(mesh.messages.filter((m) => m.to === PRACTICE && m.localId === s.id)).toHaveLength(1);
      expect((await status(s.id)).status).toBe('delivered');
    });

    it('webhooks carry X-Junction-Signature t=…,v1=… that the product verifies, and a replay 6 minutes on fails', async () => {
      const put = await hub.app.inject({
        method: 'PUT',
        url: '/submissions/webhook',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        payload: { url: 'https://product.example/junction-hooks' },
      });
      expect(put.statusCode).toBe(200);
      const { secret } = put.json();
      const s = (await submit()).json();
      await drain();
      expect((await status(s.id)).status).toBe('delivered');
      const delivered = hooks.find((h) => h.headers.get('x-junction-event') === 'submission.delivered');
      expect(delivered?.url).toBe('https://product.example/junction-hooks');
      const header = delivered?.headers.get('x-junction-signature') ?? '';
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      const body = delivered?.body ?? '';
      const signedAt = Number(/^t=(\d+)/.exec(header)?.[1]) * 1000;
      const later = (ms: number) => ({ now: () => new Date(signedAt + ms) });
      expect(verifyWebhookSignature(secret, header, body, later(1_000))).toMatchObject({ ok: true });
      expect(verifyWebhookSignature(secret, header, body, later(6 * 60_000))).toEqual({
        ok: false,
        reason: 'timestamp-out-of-tolerance',
      });
      expect(verifyWebhookSignature(secret, header, body.replace('delivered', 'failed'), later(0))).toEqual({
        ok: false,
        reason: 'signature-mismatch',
      });
    });

    it('retention (JUNCTION_JOBS_RETENTION_DAYS, default 7): a dead mesh.poll goes once a later poll succeeded, finished jobs after 7 days; the submission stays', async () => {
      const s = (await submit()).json();
      await drain();
      expect((await status(s.id)).status).toBe('delivered');
      // A poll that dies mid-download (maxAttempts 1: the next tick polls again).
      mesh.deliver(HUB, { from: PRACTICE, workflowId: 'GPFED_CONSULT_REPORT_ACK', body: 'not an ack' });
      mesh.hooks.duringDownload = () => {
        throw new Error('connection reset');
      };
      await hub.mesh.enqueuePoll(hub.mesh.mailboxes[0] as never);
      await drain();
      const [deadPoll] = await listJobs(t.store, { kind: 'mesh.poll', status: 'dead' });
      expect(deadPoll).toMatchObject({ periodic: true }); // as MeshService's poll schedule enqueues it
      expect(await hub.jobs.sweep()).toMatchObject({ superseded: 0 });
      mesh.hooks = {};
      clock = new Date(clock.getTime() + 60_000); // the next tick
      await hub.mesh.enqueuePoll(hub.mesh.mailboxes[0] as never);
      await drain();
      expect(await hub.jobs.sweep()).toMatchObject({ superseded: 1 });
      expect((await listJobs(t.store, { kind: 'mesh.poll' })).map((j) => j.id)).not.toContain(deadPoll?.id);

      const before = await countJobs(t.store);
      expect(before.succeeded).toBeGreaterThan(3);
      clock = new Date(clock.getTime() + 8 * 86_400_000);
      const swept = await hub.jobs.sweep();
      expect(swept.succeeded).toBe(before.succeeded);
      expect((await countJobs(t.store)).succeeded).toBe(0);
      // The ITK body that was not an ack dead-lettered its mesh.inbound job: not periodic, so it stays.
      expect(await listJobs(t.store, { status: 'dead' })).toEqual([
        expect.objectContaining({ kind: 'mesh.inbound' }),
      ]);
      expect((await status(s.id)).status).toBe('delivered');
    });
  },
);
