import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { testRuntime } from './test-runtime.js';

// A new user's first run: `junction start`, a trace of 9000000009 through the hub with the demo
// key, and the access in a verifiable audit trail. Hub and sandbox are real servers on
// loopback; the hub reaches PDS through the SDK with a signed-JWT token from the sandbox platform.
describe('junction start: the PDS trace journey end to end', () => {
  let dataDir: string;
  let hubUrl: string;
  let apiKey: string;
  let startOut: string;
  const rt = testRuntime();
  let exited: Promise<number>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-start-'));
    exited = runCli(['start', '--port', '0', '--data-dir', dataDir], rt);
    const out = await Promise.race([
      rt.printed('Press Ctrl+C'),
      exited.then((code) => `exited ${code}: ${rt.err()}`),
    ]);
    startOut = out;
    hubUrl = /hub:\s+(\S+)/.exec(out)?.[1] ?? '';
    apiKey = /demo API key:\s+(\S+)/.exec(out)?.[1] ?? '';
    expect(hubUrl, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  afterAll(async () => {
    rt.stop();
    expect(await exited).toBe(0);
    await rm(dataDir, { recursive: true, force: true });
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${hubUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}`, ...headers } });

  it('prints the console address and serves the console there', async () => {
    expect(startOut).toContain(`console:      ${hubUrl}/console/`);
    const page = await fetch(`${hubUrl}/console/`);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    // The bundle exists once `npm run build` has run; before that the hub says so.
    const built = existsSync(join(import.meta.dirname, '../../console/dist/index.html'));
    expect(page.status).toBe(built ? 200 : 404);
    expect(await page.text()).toContain(built ? '<div id="root">' : 'npm run build');
    expect(startOut.includes('not built yet')).toBe(!built);
  });

  it('prints a console admin account whose password signs in, for operations but no patient data', async () => {
    const [, username, password] = /console admin:\s+(\S+) \/ (\S+)/.exec(startOut) ?? [];
    expect(username).toBe('admin');
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const login = await fetch(`${hubUrl}/auth/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: hubUrl },
      body: JSON.stringify({ username, password }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^junction_session=jss_/);
    expect((await fetch(`${hubUrl}/jobs`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${hubUrl}/fhir/R4/Patient/9000000009`, { headers: { cookie } })).status).toBe(403);
    // Printed once to the person who started it: not in any log line.
    expect(rt.err()).not.toContain(password);
  });

  it('keeps a secrets key beside the data, so the admin can add a MESH mailbox in Settings', async () => {
    const key = await stat(join(dataDir, 'secrets.key'));
    expect(key.mode & 0o777).toBe(0o600);
    const [, username, password] = /console admin:\s+(\S+) \/ (\S+)/.exec(startOut) ?? [];
    const sandboxUrl = /sandbox:\s+(\S+)/.exec(startOut)?.[1] ?? '';
    const login = await fetch(`${hubUrl}/auth/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: hubUrl },
      body: JSON.stringify({ username, password }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const added = await fetch(`${hubUrl}/settings/mailboxes/X26ABC2`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', origin: hubUrl, cookie },
      body: JSON.stringify({ baseUrl: sandboxUrl, password: 'password', sharedKey: 'TestKey' }),
    });
    expect(added.status, await added.clone().text()).toBe(200);
    const mailboxes = (await (await fetch(`${hubUrl}/mesh/mailboxes`, { headers: { cookie } })).json()) as {
      mailboxes: { mailboxId: string }[];
    };
    expect(mailboxes.mailboxes.map((m) => m.mailboxId)).toEqual(['X26ABC1', 'X26ABC2']);
    const removed = await fetch(`${hubUrl}/settings/mailboxes/X26ABC2`, {
      method: 'DELETE',
      headers: { origin: hubUrl, cookie },
    });
    expect(removed.status).toBe(200);
  });

  it('reads 9000000009 through the hub with the demo key, mirroring the correlation id', async () => {
    const res = await get('/fhir/R4/Patient/9000000009', { 'x-correlation-id': 'start-test-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBe('start-test-1');
    const patient = (await res.json()) as Patient;
    expect(patient).toMatchObject({ resourceType: 'Patient', id: '9000000009' });
    expect(patient.name?.[0]?.family).toBe('Smith');
  });

  it('never shows restricted patient 9000000025 address, telecom or GP', async () => {
    const res = await get('/fhir/R4/Patient/9000000025');
    expect(res.status).toBe(200);
    const patient = (await res.json()) as Patient;
    expect(patient.meta?.security?.[0]?.code).toBe('R');
    expect(patient.address).toBeUndefined();
    expect(patient.telecom).toBeUndefined();
    expect(patient.generalPractitioner).toBeUndefined();
  });

  it('answers a bad NHS number, an unknown patient and a missing key with the spec codes', async () => {
    const bad = await get('/fhir/R4/Patient/9000000000');
    expect(bad.status).toBe(400);
    expect(spineCode(await bad.json())).toBe('INVALID_RESOURCE_ID');

    const unknown = await get('/fhir/R4/Patient/9111231130');
    expect(unknown.status).toBe(404);
    expect(spineCode(await unknown.json())).toBe('RESOURCE_NOT_FOUND');

    const anonymous = await fetch(`${hubUrl}/fhir/R4/Patient/9000000009`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  it('traces by demographics (application-restricted: one match, _max-results=1)', async () => {
    const res = await get(
      '/fhir/R4/Patient?family=Smith&gender=female&birthdate=eq2010-10-22&_max-results=1',
    );
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle<Patient>;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(bundle.entry?.[0]?.resource?.id).toBe('9000000009');
  });

  it('prints a demo key holding the default scopes only: lookups, no jobs, audit or key management', async () => {
    expect((await get('/medicines/search?q=amox')).status).toBe(200);
    for (const path of ['/jobs', '/audit/events', '/api-keys']) {
      expect((await get(path)).status, path).toBe(403);
    }
  });

  it('passes PDS’s 403 INVALID_METHOD through for a PATCH: the hub signs in application-restricted', async () => {
    const read = await get('/fhir/R4/Patient/9000000009');
    const etag = read.headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\/"\d+"$/);
    // The demo key holds the default scopes only: the hub itself refuses its PATCH.
    const refused = await fetch(`${hubUrl}/fhir/R4/Patient/9000000009`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json-patch+json',
        'if-match': etag,
      },
      body: JSON.stringify({ patches: [{ op: 'replace', path: '/gender', value: 'male' }] }),
    });
    expect(refused.status).toBe(403);
    // A key that may update, made by the operator with the store, reaches PDS.
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
    const updater = (JSON.parse(made.out()) as { secret: string }).secret;
    const res = await fetch(`${hubUrl}/fhir/R4/Patient/9000000009`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${updater}`,
        'content-type': 'application/json-patch+json',
        'if-match': etag,
      },
      body: JSON.stringify({ patches: [{ op: 'replace', path: '/gender', value: 'male' }] }),
    });
    expect(res.status).toBe(403);
    expect(spineCode(await res.json())).toBe('INVALID_METHOD');
    expect(((await (await get('/fhir/R4/Patient/9000000009')).json()) as Patient).gender).toBe('female');
  });

  it('serves a synthetic demo dm+d on a first start, and finds amoxicillin by a typed prefix', async () => {
    const body = (await (await get('/medicines/search?q=amox')).json()) as {
      release: { id: number };
      hits: { type: string; name: string }[];
    };
    expect(body.release.id).toBe(1);
    expect(body.hits[0]?.name).toMatch(/^Amoxicillin /);
    const med = (await (await get(`/fhir/R4/Medication?_text=amox&_count=1`)).json()) as Bundle;
    expect(med.entry?.[0]?.resource?.resourceType).toBe('Medication');
  });

  it('does not seed the demo dm+d again on a later start (the store has seen an import)', async () => {
    const again = testRuntime();
    const second = runCli(['start', '--port', '0', '--data-dir', dataDir], again);
    const out = await Promise.race([
      again.printed('Press Ctrl+C'),
      second.then((c) => `exited ${c}: ${again.err()}`),
    ]);
    expect(out).toMatch(/Medicines \(dm\+d\): release 1 of 2025-11-10 \(a small synthetic demo/);
    again.stop();
    expect(await second).toBe(0);
    const releases = testRuntime();
    expect(await runCli(['dmd', 'releases', '--json', '--data-dir', dataDir], releases)).toBe(0);
    expect(JSON.parse(releases.out())).toHaveLength(1);
  });

  it('records every access in an audit chain that `junction audit verify` checks, and names an edited record', async () => {
    const ok = testRuntime();
    expect(await runCli(['audit', 'verify', '--data-dir', dataDir], ok)).toBe(0);
    expect(ok.out()).toMatch(/verified: \d+ record/);

    // Tamper as someone with file access would: drop the append-only trigger, edit one row.
    const db = new Database(join(dataDir, 'junction.db'));
    db.exec('drop trigger if exists audit_events_no_update');
    db.prepare("update audit_events set correlation_id = 'tampered' where seq = 2").run();
    db.close();

    const broken = testRuntime();
    expect(await runCli(['audit', 'verify', '--data-dir', dataDir], broken)).toBe(1);
    expect(broken.out()).toMatch(/BROKEN at record 2: edited/);

    // Delete the edited row instead: now the gap is what verify names.
    const db2 = new Database(join(dataDir, 'junction.db'));
    db2.exec('drop trigger if exists audit_events_no_delete');
    db2.prepare('delete from audit_events where seq = 2').run();
    db2.close();

    const gap = testRuntime();
    expect(await runCli(['audit', 'verify', '--data-dir', dataDir], gap)).toBe(1);
    expect(gap.out()).toMatch(/BROKEN at record 2: deleted/);
  });
});

function spineCode(body: unknown): string | undefined {
  return (body as OperationOutcome).issue[0]?.details?.coding?.[0]?.code;
}
