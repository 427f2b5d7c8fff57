import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { type TestRuntime, testRuntime } from './test-runtime.js';

/** Starts `junction sandbox` on a free port, as a user would, and returns its base URL. */
async function startSandbox(
  args: string[],
): Promise<{ rt: TestRuntime; url: string; exited: Promise<number> }> {
  const rt = testRuntime();
  const exited = runCli(['sandbox', '--port', '0', ...args], rt);
  const out = await Promise.race([
    rt.printed('Press Ctrl+C'),
    exited.then((code) => `exited ${code}: ${rt.err()}`),
  ]);
  const url = /running at (\S+)/.exec(out)?.[1];
  if (!url) throw new Error(out);
  return { rt, url, exited };
}

describe('junction sandbox + junction pds (open sandbox)', () => {
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let baseUrl: string;
  beforeAll(async () => {
    sandbox = await startSandbox([]);
    baseUrl = `${sandbox.url}/personal-demographics/FHIR/R4`;
  });
  afterAll(async () => {
    sandbox.rt.stop();
    expect(await sandbox.exited).toBe(0);
  });

  it('gets a patient as FHIR JSON, accepting the spaced NHS number form', async () => {
    const rt = testRuntime();
    expect(await runCli(['pds', 'get', '900 000 0009', '--base-url', baseUrl], rt), rt.err()).toBe(0);
    expect(JSON.parse(rt.out())).toMatchObject({ resourceType: 'Patient', id: '9000000009' });
  });

  it('searches with repeated birthdate flags for a range', async () => {
    const rt = testRuntime();
    const code = await runCli(
      [
        'pds',
        'search',
        '--family',
        'Smith',
        '--gender',
        'female',
        '--birthdate',
        'ge2010-10-21',
        '--birthdate',
        'le2010-10-23',
        '--base-url',
        baseUrl,
      ],
      rt,
    );
    expect(code, rt.err()).toBe(0);
    const bundle = JSON.parse(rt.out());
    expect(bundle.type).toBe('searchset');
    expect(bundle.entry.map((e: { resource: { id: string } }) => e.resource.id)).toContain('9000000009');
  });

  it('reports PDS errors and bad input as plain messages with exit code 1', async () => {
    const invalid = testRuntime();
    expect(await runCli(['pds', 'get', '9000000000', '--base-url', baseUrl], invalid)).toBe(1);
    expect(invalid.err()).toMatch(/^junction: HTTP 400 INVALID_RESOURCE_ID/);

    const missing = testRuntime();
    expect(await runCli(['pds', 'get', '9111231130', '--base-url', baseUrl], missing)).toBe(1);
    expect(missing.err()).toMatch(/^junction: HTTP 404 RESOURCE_NOT_FOUND/);

    const noFlags = testRuntime();
    expect(await runCli(['pds', 'search', '--base-url', baseUrl], noFlags)).toBe(1);
    expect(noFlags.err()).toMatch(/^junction: give at least one search flag/);

    const badGender = testRuntime();
    expect(
      await runCli(
        ['pds', 'search', '--family', 'Smith', '--gender', 'mal', '--base-url', baseUrl],
        badGender,
      ),
    ).toBe(1);
    expect(badGender.err()).toMatch(/--gender must be one of/);
  });

  it('says plainly when nothing listens at the base URL', async () => {
    const rt = testRuntime();
    expect(await runCli(['pds', 'get', '9000000009', '--base-url', 'http://127.0.0.1:9/x'], rt)).toBe(1);
    expect(rt.err()).toMatch(/^junction: HTTP 50\d UNABLE_TO_CALL_SERVICE/);
  });
});

describe('junction sandbox with an API platform app + junction pds with signed-JWT auth', () => {
  let dir: string;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  const apiKey = 'cli-test-app';
  const kid = 'cli-test-key-1';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'junction-pds-auth-'));
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'private.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await writeFile(
      join(dir, 'jwks.json'),
      JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS512', use: 'sig' }] }),
    );
    sandbox = await startSandbox(['--app-key', apiKey, '--app-jwks', join(dir, 'jwks.json')]);
  });
  afterAll(async () => {
    sandbox.rt.stop();
    await sandbox.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused without a token and served with one from /oauth2/token', async () => {
    const baseUrl = `${sandbox.url}/personal-demographics/FHIR/R4`;
    const anonymous = testRuntime();
    expect(await runCli(['pds', 'get', '9000000009', '--base-url', baseUrl], anonymous)).toBe(1);
    expect(anonymous.err()).toMatch(/HTTP 401 ACCESS_DENIED/);

    const signed = testRuntime();
    const args = ['--base-url', baseUrl, '--token-url', `${sandbox.url}/oauth2/token`, '--api-key', apiKey];
    const code = await runCli(
      ['pds', 'get', '9000000009', ...args, '--private-key-file', join(dir, 'private.pem'), '--kid', kid],
      signed,
    );
    expect(code, signed.err()).toBe(0);
    expect(JSON.parse(signed.out()).id).toBe('9000000009');
  });

  it('names the missing auth flags', async () => {
    const rt = testRuntime();
    expect(await runCli(['pds', 'get', '9000000009', '--api-key', apiKey], rt)).toBe(1);
    expect(rt.err()).toMatch(/missing --token-url, --private-key-file, --kid/);
  });

  it('refuses a sandbox app without its JWKS', async () => {
    const rt = testRuntime();
    expect(await runCli(['sandbox', '--port', '0', '--app-key', 'x'], rt)).toBe(1);
    expect(rt.err()).toMatch(/--app-key and --app-jwks go together/);
  });
});
