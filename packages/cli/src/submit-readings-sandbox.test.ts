import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshClient } from '@junction/client';
import { buildItkAck } from '@junction/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningJunction, startJunction } from './commands/start.js';
import { runCli } from './program.js';
import { testRuntime } from './test-runtime.js';

/*
 * The submitting-data journey end to end, as `junction start` runs it: the hub (real MeshClient, its
 * mailbox X26ABC1 on the sandbox MESH, job runner and poller on) and the sandbox (PDS: 9000000009 is
 * registered at Y12345; MESH: practice mailbox Y12345HC001 registered for GPFED_CONSULT_REPORT).
 * A product posts a reading → the hub reads PDS, looks the practice's mailbox up (mesh-api.yaml
 * get_receiving_mailbox_ids), sends the ITK3 message (send_message) and tracks it
 * (tracking_by_message_id) → delivered; the practice downloads it (list_messages, retrieve_message,
 * acknowledge_message) and sends an ITK3 business response on GPFED_CONSULT_REPORT_ACK → the hub's
 * poller stores it and the submission becomes acknowledged.
 */
const PRACTICE_MAILBOX = 'Y12345HC001';
/** Polls the hub's status (its job runner and MESH poller work on their own schedule: 5 s). */
const WAIT_MS = 60_000;

describe('submitting readings through junction start (hub + sandbox MESH)', () => {
  let dataDir: string;
  let running: RunningJunction;
  let practice: MeshClient;
  /** The product's key: the demo key only looks up, so an operator makes one that submits readings. */
  let productKey: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-submit-'));
    running = await startJunction({}, { port: 0, dataDir, logLevel: 'silent' });
    const made = testRuntime();
    const create = ['keys', 'create', '--name', 'Readings product', '--scope', 'readings:submit'];
    create.push('--scope', 'readings:read', '--data-dir', dataDir);
    expect(await runCli(create, made), made.err()).toBe(0);
    productKey = (JSON.parse(made.out()) as { secret: string }).secret;
    practice = new MeshClient({
      baseUrl: running.sandboxUrl,
      mailboxId: PRACTICE_MAILBOX,
      password: 'password',
      sharedKey: 'TestKey',
    });
  });
  afterAll(async () => {
    await practice?.close();
    await running?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const hub = (path: string, init: RequestInit = {}) =>
    fetch(`${running.hubUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${productKey}`, ...init.headers },
    });
  const status = async (id: string) =>
    (await (await hub(`/submissions/${id}`)).json()) as {
      status: string;
      itkMessageId: string;
      history: { status: string }[];
    };
  /** Until the submission reaches `want` (or fails, or WAIT_MS passes: then the last status shows). */
  async function waitFor(id: string, want: string): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    let last = '';
    while (Date.now() < deadline) {
      last = (await status(id)).status;
      if (last === want || last === 'failed') return last;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return last;
  }

  it('posts a blood pressure reading for 9000000009: delivered to Y12345HC001, then acknowledged by an ITK3 business response', async () => {
    const key = randomUUID();
    const post = () =>
      hub('/fhir/R4/Observation', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', 'idempotency-key': key },
        body: JSON.stringify({
          resourceType: 'Observation',
          status: 'final',
          category: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' },
              ],
            },
          ],
          code: {
            coding: [
              { system: 'http://loinc.org', code: '85354-9' },
              { system: 'http://snomed.info/sct', code: '75367002' },
            ],
          },
          subject: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } },
          effectiveDateTime: new Date(Date.now() - 60_000).toISOString().replace('Z', '+00:00'),
          component: [
            {
              code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
              valueQuantity: {
                value: 131,
                unit: 'mmHg',
                system: 'http://unitsofmeasure.org',
                code: 'mm[Hg]',
              },
            },
            {
              code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
              valueQuantity: { value: 84, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
            },
          ],
        }),
      });
    const res = await post();
    const body = (await res.json()) as { id: string; practiceOds: string; mailboxId: string };
    expect(res.status, JSON.stringify(body)).toBe(202);
    expect(res.headers.get('location')).toBe(`/submissions/${body.id}`);
    expect(body).toMatchObject({ practiceOds: 'Y12345', mailboxId: PRACTICE_MAILBOX });

    expect(await waitFor(body.id, 'delivered')).toBe('delivered');

    // The practice finds exactly one message for this submission in its inbox.
    const found: string[] = [];
    for await (const id of practice.inbox({ workflowFilter: 'GPFED_CONSULT_REPORT' })) found.push(id);
    const ours = [];
    for (const id of found) {
      const { metadata, body: content } = await practice.receive(id);
      const chunks: Buffer[] = [];
      for await (const c of content) chunks.push(Buffer.from(c));
      if (metadata.localId === body.id)
        ours.push({ id, metadata, xml: Buffer.concat(chunks).toString('utf8') });
    }
    expect(ours).toHaveLength(1);
    const message = ours[0] as (typeof ours)[number];
    expect(message.metadata).toMatchObject({ from: 'X26ABC1', workflowId: 'GPFED_CONSULT_REPORT' });
    const submission = await status(body.id);
    expect(message.xml).toContain(`<id value="${submission.itkMessageId}"/>`);
    expect(message.xml).toContain('131/84');
    await practice.acknowledge(message.id);

    // A repeat of the POST (same Idempotency-Key) is the same submission; nothing more is sent.
    const again = await post();
    expect(((await again.json()) as { id: string }).id).toBe(body.id);

    // The GP system's ITK3 business response, from the practice mailbox back to the hub's.
    const stamp = new Date().toISOString().replace('Z', '+00:00');
    await practice.send({
      to: 'X26ABC1',
      workflowId: 'GPFED_CONSULT_REPORT_ACK',
      contentType: 'application/fhir+xml',
      body: buildItkAck({
        kind: 'business',
        itkCode: '30001',
        itkDisplay: 'Success',
        code: 'ok',
        referencedMessageId: submission.itkMessageId,
        senderReference: body.id,
        responderOds: 'Y12345',
        responderMailbox: PRACTICE_MAILBOX,
        ids: {
          bundleId: randomUUID(),
          messageId: randomUUID(),
          headerId: randomUUID(),
          organizationId: randomUUID(),
          outcomeId: randomUUID(),
          timestamp: stamp,
        },
      }),
    });
    expect(await waitFor(body.id, 'acknowledged')).toBe('acknowledged');
    const done = await status(body.id);
    expect(done.history.map((h) => h.status)).toEqual(
      expect.arrayContaining(['received', 'validated', 'queued', 'delivered', 'acknowledged']),
    );
    let more = 0;
    for await (const id of practice.inbox({ workflowFilter: 'GPFED_CONSULT_REPORT' })) if (id) more++;
    expect(more).toBe(0);
  }, 120_000);
});
