import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHub, loadConfig } from '@junction/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../program.js';
import { testRuntime } from '../test-runtime.js';

const PASSWORD = 'correct horse battery staple';

describe('junction admin', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-admin-'));
  });
  afterEach(async () => rm(dataDir, { recursive: true, force: true }));

  /** Signs in over HTTP to a hub on the same store, as the console does. */
  async function signInStatus(username: string, password: string): Promise<number> {
    const hub = await createHub(loadConfig({}, { dataDir, logLevel: 'silent' }), { startJobs: false });
    try {
      const res = await hub.app.inject({
        method: 'POST',
        url: '/auth/admin/login',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ username, password }),
      });
      return res.statusCode;
    } finally {
      await hub.close();
    }
  }

  it('creates an account from a password file, lists it without the password, and disables it', async () => {
    const file = join(dataDir, 'pw.txt');
    await writeFile(file, `${PASSWORD}\n`);
    const created = testRuntime();
    expect(
      await runCli(
        ['admin', 'create', '--username', 'Ops.Lead', '--password-file', file, '--data-dir', dataDir],
        created,
      ),
      created.err(),
    ).toBe(0);
    expect(JSON.parse(created.out())).toMatchObject({ username: 'ops.lead', disabledAt: null });
    expect(created.out() + created.err()).not.toContain(PASSWORD);
    expect(await signInStatus('ops.lead', PASSWORD)).toBe(200);

    const listed = testRuntime();
    expect(await runCli(['admin', 'list', '--json', '--data-dir', dataDir], listed)).toBe(0);
    const accounts = JSON.parse(listed.out());
    expect(accounts).toEqual([
      expect.objectContaining({ username: 'ops.lead', lastSignInAt: expect.any(String) }),
    ]);
    expect(listed.out()).not.toMatch(/scrypt|password_hash/);
    const table = testRuntime();
    expect(await runCli(['admin', 'list', '--data-dir', dataDir], table)).toBe(0);
    expect(table.out().trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^username +status +created +password changed +last sign-in +id$/),
      expect.stringMatching(new RegExp(`^ops\\.lead +active +\\S+ +\\S+ +\\d{4}-\\S+ +${accounts[0].id}$`)),
    ]);

    const disabled = testRuntime();
    expect(await runCli(['admin', 'disable', 'ops.lead', '--data-dir', dataDir], disabled)).toBe(0);
    expect(disabled.out()).toBe('disabled ops.lead\n');
    expect(await signInStatus('ops.lead', PASSWORD)).toBe(401);
    const unknown = testRuntime();
    expect(await runCli(['admin', 'disable', 'nobody', '--data-dir', dataDir], unknown)).toBe(1);
    expect(unknown.err()).toBe("junction: no admin account 'nobody' (see `junction admin list`)\n");
  });

  it('reads the password from stdin with --password-file -, or asks twice at a prompt', async () => {
    const piped = { ...testRuntime(), stdin: Readable.from([Buffer.from(`${PASSWORD}\r\nignored\n`)]) };
    expect(
      await runCli(
        ['admin', 'create', '--username', 'piped', '--password-file', '-', '--data-dir', dataDir],
        piped,
      ),
      piped.err(),
    ).toBe(0);
    expect(await signInStatus('piped', PASSWORD)).toBe(200);

    const typed = testRuntime({}, [PASSWORD, PASSWORD]);
    expect(
      await runCli(['admin', 'create', '--username', 'typed', '--data-dir', dataDir], typed),
      typed.err(),
    ).toBe(0);
    expect(typed.err()).toContain('Password for typed');
    expect(await signInStatus('typed', PASSWORD)).toBe(200);

    const differ = testRuntime({}, [PASSWORD, `${PASSWORD}!`]);
    expect(await runCli(['admin', 'create', '--username', 'differ', '--data-dir', dataDir], differ)).toBe(1);
    expect(differ.err()).toMatch(/ junction: the two passwords differ\n$/);
    const noTerminal = testRuntime();
    expect(await runCli(['admin', 'create', '--username', 'x1', '--data-dir', dataDir], noTerminal)).toBe(1);
    expect(noTerminal.err()).toMatch(/use --password-file/);
  });

  it('refuses plainly: no username, a short password, a bad or taken username', async () => {
    const run = async (args: string[], input?: string[]) => {
      const rt = testRuntime({}, input);
      const code = await runCli([...args, '--data-dir', dataDir], rt);
      return {
        code,
        err: (rt.err().match(/junction: [^\n]*/g) ?? []).join('\n'),
      };
    };
    expect(await run(['admin', 'create'])).toEqual({
      code: 1,
      err: 'junction: --username is required: the name the person signs in with',
    });
    expect(await run(['admin', 'create', '--username', 'short'], ['eleven char', 'eleven char'])).toEqual({
      code: 1,
      err: 'junction: a password is 12–128 characters (this one is 11)',
    });
    expect((await run(['admin', 'create', '--username', 'bad name'], [PASSWORD, PASSWORD])).err).toMatch(
      /^junction: a username is 2–64 characters/,
    );
    expect((await run(['admin', 'create', '--username', 'taken'], [PASSWORD, PASSWORD])).code).toBe(0);
    expect(await run(['admin', 'create', '--username', 'TAKEN'], [PASSWORD, PASSWORD])).toEqual({
      code: 1,
      err: "junction: an admin account 'taken' exists already",
    });
  });
});
