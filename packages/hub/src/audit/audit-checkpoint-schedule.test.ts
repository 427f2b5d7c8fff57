import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { createHub } from '../create-hub.js';
import { type TestStore, testStores } from '../testing/test-stores.js';
import { appendAuditEvent } from './append-audit-event.js';
import {
  auditCheckpointPublicKey,
  loadAuditCheckpointKey,
  verifyAuditCheckpoint,
} from './audit-checkpoint.js';

// The hub's own checkpoints: a durable `audit.checkpoint` job per tick, written into a folder.
describe.each(await testStores())('scheduled audit checkpoints on $dialect', (factory) => {
  let t: TestStore;
  let dir: string;
  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    dir = await mkdtemp(join(tmpdir(), 'junction-checkpoints-'));
  });
  afterEach(async () => {
    await t?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a verifiable checkpoint into the folder once per tick, however many hub instances', async () => {
    await appendAuditEvent(t.store, {
      action: 'patient.read',
      actor: null,
      nhsNumbers: ['9000000009'],
      outcome: 'success',
      httpStatus: 200,
      correlationId: 'corr-1',
      requestId: 'req-1',
    });
    const key = join(dir, 'checkpoint.key');
    await loadAuditCheckpointKey(key, { createIfMissing: true });
    const config = loadConfig({
      JUNCTION_DATA_DIR: dir,
      JUNCTION_LOG_LEVEL: 'silent',
      JUNCTION_AUDIT_CHECKPOINT_KEY: key,
      JUNCTION_AUDIT_CHECKPOINT_DIR: join(dir, 'checkpoints'),
    });
    const now = () => new Date('2026-01-02T03:04:05.000Z');
    const second = await t.openAnother();
    const hubs = [
      await createHub(config, { store: t.store, now, jobRunner: { pollMs: 20 } }),
      await createHub(config, { store: second, now, jobRunner: { pollMs: 20 } }),
    ];
    try {
      let files: string[] = [];
      for (let i = 0; i < 200 && files.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        files = await readdir(join(dir, 'checkpoints')).catch(() => []);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      files = await readdir(join(dir, 'checkpoints'));
      expect(files).toEqual(['audit-checkpoint-1-2026-01-02T030405.000Z.jws']);
      const jws = await readFile(join(dir, 'checkpoints', files[0]!), 'utf8');
      const publicKey = auditCheckpointPublicKey(await readFile(`${key}.pub`, 'utf8'));
      expect(await verifyAuditCheckpoint(t.store, jws, publicKey)).toMatchObject({
        ok: true,
        checkpoint: { seq: 1, count: 1 },
      });
    } finally {
      for (const hub of hubs) await hub.close();
      await second.close();
    }
  });

  it('refuses a checkpoint folder without a key', () => {
    expect(() => loadConfig({ JUNCTION_DATA_DIR: dir, JUNCTION_AUDIT_CHECKPOINT_DIR: dir })).toThrow(
      /JUNCTION_AUDIT_CHECKPOINT_KEY/,
    );
  });
});
