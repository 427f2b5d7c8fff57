import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_KEY_SCOPES, DEFAULT_API_KEY_SCOPES } from '@junction/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { testRuntime } from './test-runtime.js';

describe('junction keys', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-keys-'));
  });
  afterEach(async () => rm(dataDir, { recursive: true, force: true }));

  it('creates a key (secret shown once), lists it without the secret, and revokes it', async () => {
    const created = testRuntime();
    const code = await runCli(
      [
        'keys',
        'create',
        '--name',
        'Pharmacy app',
        '--org',
        'FAB12',
        '--scope',
        'patient:read',
        '--data-dir',
        dataDir,
      ],
      created,
    );
    expect(code, created.err()).toBe(0);
    const key = JSON.parse(created.out());
    expect(key.secret).toMatch(/^jct_/);
    expect(created.err()).toMatch(/shown only now/);

    const listed = testRuntime();
    expect(await runCli(['keys', 'list', '--data-dir', dataDir], listed)).toBe(0);
    // A table, like the other lists: a header, then one line per key.
    const [header, row, ...rest] = listed.out().trimEnd().split('\n');
    expect(header).toMatch(/^id +name +org +prefix +created +status +scopes$/);
    expect(row).toMatch(new RegExp(`^${key.id} +Pharmacy app +.* active +`));
    expect(rest).toEqual([]);
    expect(listed.out()).not.toContain(key.secret);

    const revoked = testRuntime();
    expect(await runCli(['keys', 'revoke', key.id, '--data-dir', dataDir], revoked)).toBe(0);
    const after = testRuntime();
    await runCli(['keys', 'list', '--json', '--data-dir', dataDir], after);
    expect(JSON.parse(after.out())[0].revokedAt).toBeTruthy();
    const table = testRuntime();
    await runCli(['keys', 'list', '--data-dir', dataDir], table);
    expect(table.out()).toMatch(new RegExp(`^${key.id} .* revoked \\d{4}-`, 'm'));
  });

  it('refuses a key without a name or with an unknown scope, in plain words', async () => {
    const noName = testRuntime();
    expect(await runCli(['keys', 'create', '--data-dir', dataDir], noName)).toBe(1);
    expect(noName.err()).toBe('junction: --name is required: say which product the key is for\n');

    const badScope = testRuntime();
    expect(
      await runCli(
        ['keys', 'create', '--name', 'x', '--scope', 'everything', '--data-dir', dataDir],
        badScope,
      ),
    ).toBe(1);
    expect(badScope.err()).toMatch(/^junction: unknown scope 'everything'/);
  });

  it("grants every scope the hub's policy knows (one per action), and lookups only by default", async () => {
    // The hub added journey scopes with its access policy; the CLI takes its list from there.
    expect(API_KEY_SCOPES).toEqual(
      expect.arrayContaining(['gp-record:read', 'prescription:dispense', 'appointment:book', 'audit:read']),
    );
    const all = testRuntime();
    const scopeFlags = API_KEY_SCOPES.flatMap((scope) => ['--scope', scope]);
    expect(await runCli(['keys', 'create', '--name', 'All', ...scopeFlags, '--data-dir', dataDir], all)).toBe(
      0,
    );
    expect(JSON.parse(all.out()).scopes).toEqual([...API_KEY_SCOPES]);

    const plain = testRuntime();
    expect(await runCli(['keys', 'create', '--name', 'Plain', '--data-dir', dataDir], plain)).toBe(0);
    expect(JSON.parse(plain.out()).scopes).toEqual([...DEFAULT_API_KEY_SCOPES]);

    const bad = testRuntime();
    await runCli(['keys', 'create', '--name', 'x', '--scope', 'gp-record:write', '--data-dir', dataDir], bad);
    expect(bad.err()).toBe(
      `junction: unknown scope 'gp-record:write'; scopes are: ${API_KEY_SCOPES.join(', ')}\n`,
    );

    const help = testRuntime();
    await runCli(['keys', 'create', '--help'], help);
    for (const scope of API_KEY_SCOPES) expect(help.out()).toContain(scope);
  });

  it('says plainly when the key to revoke does not exist', async () => {
    const rt = testRuntime();
    expect(await runCli(['keys', 'revoke', 'no-such-key', '--data-dir', dataDir], rt)).toBe(1);
    expect(rt.err()).toMatch(/^junction: /);
    expect(rt.err()).not.toMatch(/\n\s+at /);
  });
});
