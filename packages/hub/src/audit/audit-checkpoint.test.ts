import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cutAuditTail,
  dropAuditAppendOnlyTriggers,
  rewriteAuditChainFrom,
} from '../testing/audit-tampering.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { appendAuditEvent } from './append-audit-event.js';
import {
  AuditCheckpointError,
  auditCheckpointPublicKey,
  createAuditCheckpoint,
  loadAuditCheckpointKey,
  verifyAuditCheckpoint,
} from './audit-checkpoint.js';
import type { AuditEventInput } from './audit-hash.js';
import { verifyAuditChain } from './verify-audit-chain.js';

const event = (i: number): AuditEventInput => ({
  action: 'patient.read',
  actor: { kind: 'patient', userId: '555000000009', organisationOds: null },
  nhsNumbers: ['9000000009'],
  outcome: 'success',
  httpStatus: 200,
  correlationId: `corr-${i}`,
  requestId: `req-${i}`,
  decision: { allowed: true, rule: 'patient.self' },
});

const pair = () => generateKeyPairSync('ed25519');

describe.each(await testStores())('audit checkpoints on $dialect', (factory) => {
  let t: TestStore;
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
  });
  afterEach(async () => {
    await t?.cleanup();
  });

  const appendN = async (n: number) => {
    for (let i = 1; i <= n; i++) await appendAuditEvent(t.store, event(i));
  };

  it('signs the head and verifies while the chain grows past it', async () => {
    const keys = pair();
    await appendN(3);
    const at = new Date('2026-01-02T03:04:05.000Z');
    const { jws, checkpoint } = await createAuditCheckpoint(t.store, keys.privateKey, () => at);
    expect(checkpoint).toMatchObject({ seq: 3, count: 3, at: at.toISOString() });
    await appendN(2);
    expect(await verifyAuditCheckpoint(t.store, jws, keys.publicKey)).toMatchObject({
      ok: true,
      count: 5,
      checkpoint: { seq: 3 },
    });
  });

  it('catches every hash rewritten with the head row, which the chain alone does not', async () => {
    const keys = pair();
    await appendN(5);
    const { jws } = await createAuditCheckpoint(t.store, keys.privateKey);
    await dropAuditAppendOnlyTriggers(t.store);
    await rewriteAuditChainFrom(t.store, 2);
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 5 });
    expect(await verifyAuditCheckpoint(t.store, jws, keys.publicKey)).toMatchObject({
      ok: false,
      firstBroken: { id: 5, reason: /edited: .*rewritten/ },
    });
  });

  it('catches the tail deleted below the checkpoint with the head moved back', async () => {
    const keys = pair();
    await appendN(5);
    const { jws } = await createAuditCheckpoint(t.store, keys.privateKey);
    await dropAuditAppendOnlyTriggers(t.store);
    await cutAuditTail(t.store, 3);
    expect(await verifyAuditChain(t.store)).toEqual({ ok: true, count: 3 });
    expect(await verifyAuditCheckpoint(t.store, jws, keys.publicKey)).toMatchObject({
      ok: false,
      firstBroken: { id: 5, reason: /deleted: .*signed record 5.*ends at record 3/ },
    });
  });

  it('refuses a tampered checkpoint and one verified with another key', async () => {
    const keys = pair();
    await appendN(2);
    const { jws } = await createAuditCheckpoint(t.store, keys.privateKey);
    const [header, payload, signature] = jws.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), seq: 1 }),
    ).toString('base64url');
    await expect(
      verifyAuditCheckpoint(t.store, `${header}.${forgedPayload}.${signature}`, keys.publicKey),
    ).rejects.toThrow(/signature is invalid/);
    await expect(verifyAuditCheckpoint(t.store, jws, pair().publicKey)).rejects.toThrow(
      /signature is invalid/,
    );
    const es256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expect(verifyAuditCheckpoint(t.store, jws, es256.publicKey)).rejects.toThrow(AuditCheckpointError);
    await expect(verifyAuditCheckpoint(t.store, 'not a jws', keys.publicKey)).rejects.toThrow(/not a JWS/);
  });
});

describe('audit checkpoint keys', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'junction-checkpoint-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('makes an Ed25519 key readable by its owner only, with its public key beside it', async () => {
    const path = join(dir, 'audit-checkpoint.key');
    const made = await loadAuditCheckpointKey(path, { createIfMissing: true });
    expect(made.created).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const again = await loadAuditCheckpointKey(path, { createIfMissing: true });
    expect(again.created).toBe(false);
    const publicKey = auditCheckpointPublicKey(await readFile(`${path}.pub`, 'utf8'));
    expect(publicKey.asymmetricKeyType).toBe('ed25519');
    await expect(loadAuditCheckpointKey(join(dir, 'missing.key'))).rejects.toThrow(/cannot read/);
  });

  it('refuses an RSA key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() =>
      auditCheckpointPublicKey(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    ).toThrow(/Ed25519 or P-256/);
  });
});
