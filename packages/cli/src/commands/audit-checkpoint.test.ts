import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { appendAuditEvent } from '@junction/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cutAuditTail,
  dropAuditAppendOnlyTriggers,
  rewriteAuditChainFrom,
} from '../../../hub/src/testing/audit-tampering.js';
import { type TestStore, testStores } from '../../../hub/src/testing/test-stores.js';
import { runCli } from '../program.js';
import { testRuntime } from '../test-runtime.js';

// `junction audit checkpoint` and `junction audit verify --checkpoint` in-process over a store
// (SQLite and PostgreSQL) that the hub's appendAuditEvent wrote, then forged as someone with
// database access would.

describe.each(await testStores())('junction audit checkpoints on $dialect', (factory) => {
  let t: TestStore;
  let store: string[];
  let keyDir: string;
  let key: string;
  let checkpoint: string;

  const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const rt = testRuntime(env);
    const code = await runCli([...args, ...store], rt);
    return { code, out: rt.out(), err: rt.err() };
  };

  beforeEach(async (ctx) => {
    if (factory.skip) ctx.skip(factory.skip);
    t = await factory.create();
    store = factory.dialect === 'sqlite' ? ['--data-dir', dirname(t.url)] : ['--database-url', t.url];
    keyDir = await mkdtemp(join(tmpdir(), 'junction-checkpoint-key-'));
    key = join(keyDir, 'audit-checkpoint.key');
    checkpoint = join(keyDir, 'checkpoint.jws');
    for (let i = 1; i <= 5; i++) {
      await appendAuditEvent(t.store, {
        action: 'patient.read',
        actor: { kind: 'patient', userId: '555000000009', organisationOds: null },
        nhsNumbers: ['9000000009'],
        outcome: 'success',
        httpStatus: 200,
        correlationId: `corr-${i}`,
        requestId: `req-${i}`,
      });
    }
    const made = await run(['audit', 'checkpoint', '--key', key, '--out', checkpoint]);
    expect(made.code, made.err).toBe(0);
    expect(made.err).toContain(`made a new checkpoint key ${key}`);
    expect(made.out).toMatch(/checkpoint of record 5 \(5 record\(s\)\) written to /);
  });
  afterEach(async () => {
    await t?.cleanup();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  const verify = (extra: string[] = ['--public-key', `${key}.pub`]) =>
    run(['audit', 'verify', '--checkpoint', checkpoint, ...extra]);

  it('verifies a chain that holds the checkpoint, with the public key or the configured key', async () => {
    const ok = await verify();
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/verified: 5 record\(s\).*holds the checkpoint of .* \(record 5\)/);
    const byConfig = await run(['audit', 'verify', '--checkpoint', checkpoint], {
      JUNCTION_AUDIT_CHECKPOINT_KEY: key,
    });
    expect(byConfig.code, byConfig.err).toBe(0);
    // The same key signs again without being remade; stdout gets the JWS without --out.
    const again = await run(['audit', 'checkpoint'], { JUNCTION_AUDIT_CHECKPOINT_KEY: key });
    expect(again.err).toBe('');
    expect(again.out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it('names every hash rewritten with the head row, which plain verify passes', async () => {
    await dropAuditAppendOnlyTriggers(t.store);
    await rewriteAuditChainFrom(t.store, 2);
    expect((await run(['audit', 'verify'])).code).toBe(0);
    const caught = await verify();
    expect(caught.code).toBe(1);
    expect(caught.out).toMatch(/BROKEN at record 5: edited: .*hashes were rewritten/);
  });

  it('names the tail deleted below the checkpoint with the head moved back, which plain verify passes', async () => {
    await dropAuditAppendOnlyTriggers(t.store);
    await cutAuditTail(t.store, 3);
    expect((await run(['audit', 'verify'])).code).toBe(0);
    const caught = await verify();
    expect(caught.code).toBe(1);
    expect(caught.out).toMatch(/BROKEN at record 5: deleted: .*ends at record 3/);
  });

  it('refuses a tampered checkpoint, a wrong key and missing files with one line', async () => {
    const jws = (await readFile(checkpoint, 'utf8')).trim();
    const [header, , signature] = jws.split('.');
    const forged = Buffer.from(JSON.stringify({ seq: 3, hash: '0'.repeat(64), count: 3, at: 'x' })).toString(
      'base64url',
    );
    await writeFile(checkpoint, `${header}.${forged}.${signature}\n`);
    const tampered = await verify();
    expect(tampered.code).toBe(1);
    expect(tampered.err).toMatch(/signature is invalid/);
    await writeFile(checkpoint, jws);

    const other = join(keyDir, 'other.key');
    expect((await run(['audit', 'checkpoint', '--key', other])).code).toBe(0);
    const wrongKey = await verify(['--public-key', `${other}.pub`]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.err).toMatch(/signature is invalid: it was altered, or signed with another key/);

    const noKey = await verify([]);
    expect(noKey.code).toBe(1);
    expect(noKey.err).toMatch(/--public-key is required/);
    const missing = await run(['audit', 'verify', '--checkpoint', join(keyDir, 'nope.jws')]);
    expect(missing.err).toMatch(/cannot read the checkpoint .*nope\.jws: ENOENT/);
  });
});
