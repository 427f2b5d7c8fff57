import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { START_RECORD_FILE } from './start-record.js';
import { testRuntime } from './test-runtime.js';

// PDS PATCH errors end to end: a bad NHS number, a missing header, an unknown patient, a stale
// If-Match and a malformed body each give the spec's status and code through the hub
// (specification/components/paths/patient-patch.yaml). The sandbox runs open, like NHS's public
// sandbox, so PDS allows the update; it is stateful, so the change is kept.
describe('junction start --open-sandbox: PDS PATCH through the hub', () => {
  let dataDir: string;
  let hubUrl: string;
  let apiKey: string;
  let updaterKey: string;
  let out: string;
  // Stray key material in the shell must not reach the hub: the open sandbox has no app to sign in
  // as, and an unreadable key file would stop the hub starting at all.
  const rt = testRuntime({
    JUNCTION_NHS_API_KEY: 'stray-app-key',
    JUNCTION_NHS_KEY_ID: 'stray-kid',
    JUNCTION_NHS_PRIVATE_KEY_PATH: '/nonexistent/junction-test-key.pem',
  });
  let exited: Promise<number>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-start-patch-'));
    exited = runCli(['start', '--port', '0', '--open-sandbox', '--data-dir', dataDir], rt);
    out = await Promise.race([
      rt.printed('Press Ctrl+C'),
      exited.then((code) => `exited ${code}: ${rt.err()}`),
    ]);
    hubUrl = /hub:\s+(\S+)/.exec(out)?.[1] ?? '';
    apiKey = /demo API key:\s+(\S+)/.exec(out)?.[1] ?? '';
    expect(hubUrl, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The demo key reads only; an operator with the store makes the key that may update.
    const made = testRuntime();
    const createArgs = [
      'keys',
      'create',
      '--name',
      'Updater',
      '--scope',
      'patient:update',
      '--data-dir',
      dataDir,
    ];
    expect(await runCli(createArgs, made), made.err()).toBe(0);
    updaterKey = (JSON.parse(made.out()) as { secret: string }).secret;
  });

  afterAll(async () => {
    rt.stop();
    expect(await exited).toBe(0);
    await rm(dataDir, { recursive: true, force: true });
  });

  const read = (nhsNumber: string) =>
    fetch(`${hubUrl}/fhir/R4/Patient/${nhsNumber}`, { headers: { authorization: `Bearer ${apiKey}` } });
  const patch = (nhsNumber: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${hubUrl}/fhir/R4/Patient/${nhsNumber}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${updaterKey}`,
        'content-type': 'application/json-patch+json',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const toMale = { patches: [{ op: 'replace', path: '/gender', value: 'male' }] };

  it('records no app for the CLI, and junction pds reads the open PDS without a token', async () => {
    const record = JSON.parse(await readFile(join(dataDir, START_RECORD_FILE), 'utf8'));
    expect(record.sandboxApp).toBeUndefined();
    const pds = testRuntime();
    expect(await runCli(['pds', 'get', '9000000009', '--data-dir', dataDir], pds), pds.err()).toBe(0);
    expect(JSON.parse(pds.out())).toMatchObject({ resourceType: 'Patient', id: '9000000009' });
  });

  it('says the sandbox is open', () => {
    expect(out).toMatch(/sandbox PDS:.*open/);
  });

  let staleEtag = '';

  it('updates 9000000009 with the version just read; the next read shows the change', async () => {
    const before = await read('9000000009');
    expect(before.status).toBe(200);
    const etag = before.headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\/"\d+"$/);
    expect(((await before.json()) as Patient).gender).toBe('female');

    const res = await patch('9000000009', toMale, { 'if-match': etag, 'x-correlation-id': 'patch-e2e-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBe('patch-e2e-1');
    const newEtag = res.headers.get('etag') ?? '';
    const version = Number(/\d+/.exec(etag)?.[0]);
    expect(newEtag).toBe(`W/"${version + 1}"`);
    const patched = (await res.json()) as Patient;
    expect(patched).toMatchObject({
      id: '9000000009',
      gender: 'male',
      meta: { versionId: String(version + 1) },
    });

    const after = await read('9000000009');
    expect(after.headers.get('etag')).toBe(newEtag);
    expect(((await after.json()) as Patient).gender).toBe('male');
    staleEtag = etag;
  });

  it('answers a stale If-Match with 409 RESOURCE_VERSION_MISMATCH', async () => {
    expect(staleEtag).not.toBe('');
    const res = await patch('9000000009', toMale, { 'if-match': staleEtag });
    expect(res.status).toBe(409);
    expect(spineCode(await res.json())).toBe('RESOURCE_VERSION_MISMATCH');
  });

  it('answers a missing If-Match with 412 PRECONDITION_FAILED', async () => {
    const res = await patch('9000000009', toMale);
    expect(res.status).toBe(412);
    expect(spineCode(await res.json())).toBe('PRECONDITION_FAILED');
  });

  it('answers a malformed body with 400 INVALID_UPDATE', async () => {
    const current = (await read('9000000009')).headers.get('etag') ?? '';
    for (const body of [{ patches: [] }, '{"patches": [', toMale.patches]) {
      const res = await patch('9000000009', body, { 'if-match': current });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
      expect(spineCode(await res.json())).toBe('INVALID_UPDATE');
    }
  });

  it('answers a bad NHS number with 400 INVALID_RESOURCE_ID', async () => {
    const res = await patch('9000000000', toMale, { 'if-match': 'W/"1"' });
    expect(res.status).toBe(400);
    expect(spineCode(await res.json())).toBe('INVALID_RESOURCE_ID');
  });

  it('answers an unknown patient with 404 RESOURCE_NOT_FOUND', async () => {
    const res = await patch('9111231130', toMale, { 'if-match': 'W/"1"' });
    expect(res.status).toBe(404);
    expect(spineCode(await res.json())).toBe('RESOURCE_NOT_FOUND');
  });

  it('passes a PDS business rule through: removing gender is 403 FORBIDDEN_UPDATE', async () => {
    const current = (await read('9000000009')).headers.get('etag') ?? '';
    const res = await patch(
      '9000000009',
      { patches: [{ op: 'remove', path: '/gender' }] },
      { 'if-match': current },
    );
    expect(res.status).toBe(403);
    expect(spineCode(await res.json())).toBe('FORBIDDEN_UPDATE');
  });

  it('audits every update attempt in a chain that verifies', async () => {
    const verify = testRuntime();
    expect(await runCli(['audit', 'verify', '--data-dir', dataDir], verify)).toBe(0);
    expect(verify.out()).toMatch(/verified: \d+ record/);
  });
});

function spineCode(body: unknown): string | undefined {
  return (body as OperationOutcome).issue[0]?.details?.coding?.[0]?.code;
}
