import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { testRuntime } from './test-runtime.js';

// `junction login` against a real `junction start`: the sign-in walks hub → sandbox provider →
// sign-in page → hub callback over HTTP, and the token it prints works as a bearer at the hub.
describe('junction login', () => {
  let dataDir: string;
  let hubUrl: string;
  // Sign-in credentials in the shell must not reach the hub `start` runs: it registers its own.
  const rt = testRuntime({
    JUNCTION_NHS_LOGIN_CLIENT_ID: 'stray-client',
    JUNCTION_CIS2_PRIVATE_KEY_PATH: '/nonexistent/junction-cis2-key.pem',
    JUNCTION_CIS2_ISSUER: 'https://cis2.example.invalid/oidc',
  });
  let exited: Promise<number>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-login-'));
    exited = runCli(['start', '--port', '0', '--data-dir', dataDir], rt);
    const out = await Promise.race([
      rt.printed('Press Ctrl+C'),
      exited.then((code) => `exited ${code}: ${rt.err()}`),
    ]);
    hubUrl = /hub:\s+(\S+)/.exec(out)?.[1] ?? '';
    expect(hubUrl, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  afterAll(async () => {
    rt.stop();
    expect(await exited).toBe(0);
    await rm(dataDir, { recursive: true, force: true });
  });

  async function login(args: string[], input?: string[]) {
    const run = testRuntime({}, input);
    const code = await runCli(['login', '--hub', hubUrl, ...args], run);
    return { code, out: run.out(), err: run.err() };
  }

  const tokenIn = (out: string) => /session token:\s+(jss_\S+)/.exec(out)?.[1] ?? '';
  const read = (token: string, nhsNumber: string) =>
    fetch(`${hubUrl}/fhir/R4/Patient/${nhsNumber}`, { headers: { authorization: `Bearer ${token}` } });

  it('signs a P9 patient in with --user and prints identity, level and a working bearer token', async () => {
    const { code, out, err } = await login(['--provider', 'nhs-login', '--user', '9000000009']);
    expect(code, err).toBe(0);
    expect(out).toContain('Signed in with NHS login.');
    expect(out).toMatch(/identity:\s+patient, NHS number 9000000009/);
    expect(out).toMatch(/proofing level:\s+P9 \(vot P9\./);
    const token = tokenIn(out);
    expect(token).toMatch(/^jss_/);
    expect((await read(token, '9000000009')).status).toBe(200);
    expect((await read(token, '9000000017')).status).toBe(403);
  });

  it('prints JSON with --json (principal, session times, token)', async () => {
    const { code, out, err } = await login([
      '--provider',
      'nhs-login',
      '--user',
      '9000000017',
      '--proofing',
      'P5',
      '--json',
    ]);
    expect(code, err).toBe(0);
    const body = JSON.parse(out);
    expect(body.principal).toMatchObject({
      kind: 'patient',
      nhsNumber: '9000000017',
      identityProofingLevel: 'P5',
    });
    expect(body.session.expiresAt).toMatch(/^\d{4}-/);
    expect(body.sessionToken).toMatch(/^jss_/);
  });

  it('passes on NHS login refusing a P5 user when the hub asks for P9 (its default)', async () => {
    const { code, err } = await login(['--provider', 'nhs-login', '--user', '9000000017']);
    expect(code).toBe(1);
    expect(err).toBe(
      'junction: the hub refused NHS login sign-in (HTTP 401: NHS login did not sign the user in (access_denied))\n',
    );
  });

  it('signs the two-role clinician in with the role chosen by --role', async () => {
    const admin = await login(['--provider', 'cis2', '--user', '555000000001', '--role', 'R8008']);
    expect(admin.code, admin.err).toBe(0);
    expect(admin.out).toMatch(/identity:\s+clinician, CIS2 user 555000000001/);
    expect(admin.out).toMatch(/role:\s+.*\(S8001:G8002:R8008\), role profile 555000000102/);
    expect(admin.out).toMatch(/organisation:\s+Y23456/);

    const clinical = await login(['--provider', 'cis2', '--user', '555000000001', '--role', '555000000101']);
    expect(clinical.code, clinical.err).toBe(0);
    expect(clinical.out).toMatch(/\(S8000:G8000:R8000\), role profile 555000000101/);
    expect(clinical.out).toMatch(/organisation:\s+Y12345/);
    expect((await read(tokenIn(clinical.out), '9000000017')).status).toBe(200);
  });

  it('signs a one-role clinician in without --role', async () => {
    const { code, out, err } = await login(['--provider', 'cis2', '--user', 'sam.patel@example.com']);
    expect(code, err).toBe(0);
    expect(out).toMatch(/\(S8000:G8000:R8003\)/);
    expect(out).toMatch(/organisation:\s+FA001/);
  });

  it('asks for --role when the clinician has several, naming them', async () => {
    const { code, err } = await login(['--provider', 'cis2', '--user', '555000000001']);
    expect(code).toBe(1);
    expect(err).toMatch(
      /^junction: choose a role with --role: 555000000101 \(R8000 at SANDBOX GP PRACTICE, Y12345\); 555000000102/,
    );
    const wrong = await login(['--provider', 'cis2', '--user', '555000000001', '--role', 'R8003']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^junction: no role of Dr Alex Carter matches 'R8003'/);
  });

  it('refuses unknown users and misplaced flags in plain words', async () => {
    const unknown = await login(['--provider', 'nhs-login', '--user', '9111231130']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^junction: no sandbox NHS login user '9111231130'; give an NHS number/);
    const unknownCis2 = await login(['--provider', 'cis2', '--user', 'nobody']);
    expect(unknownCis2.err).toMatch(/^junction: no sandbox CIS2 user 'nobody'/);
    const roleForPatient = await login([
      '--provider',
      'nhs-login',
      '--user',
      '9000000009',
      '--role',
      'R8000',
    ]);
    expect(roleForPatient.err).toBe('junction: --role is for CIS2 only: NHS login users have no roles\n');
    const proofingForStaff = await login(['--provider', 'cis2', '--proofing', 'P5']);
    expect(proofingForStaff.err).toMatch(/^junction: --proofing is for NHS login only/);
    const roleAlone = await login(['--provider', 'cis2', '--role', 'R8000']);
    expect(roleAlone.err).toMatch(/^junction: --role goes with --user/);
    const badProvider = await login(['--provider', 'google']);
    expect(badProvider.code).toBe(1);
    expect(badProvider.err).toMatch(/Allowed choices are nhs-login, cis2/);
    const noProvider = testRuntime();
    expect(await runCli(['login'], noProvider)).toBe(1);
    expect(noProvider.err()).toMatch(/--provider <provider>' not specified/);
  });

  it('without --user prints the sign-in URL and takes the pasted session token', async () => {
    const first = await login(['--provider', 'nhs-login', '--user', '9000000009']);
    const token = tokenIn(first.out);
    const { code, out, err } = await login(['--provider', 'nhs-login'], [` ${token}\n`]);
    expect(code, err).toBe(0);
    expect(err).toContain(`${hubUrl}/auth/nhs-login/login?response=token`);
    expect(err).toContain('Paste the sessionToken here: ');
    expect(out).toMatch(/identity:\s+patient, NHS number 9000000009/);
  });

  it('says why a pasted token is refused, or why none could be pasted', async () => {
    const notToken = await login(['--provider', 'cis2'], ['hello']);
    expect(notToken.err).toMatch(/junction: that is not a session token \(they start jss_\)\n$/);
    const stale = await login(['--provider', 'cis2'], [`jss_${'x'.repeat(43)}`]);
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/junction: the hub did not accept the session token \(HTTP 401: /);
    const nothing = await login(['--provider', 'cis2'], []);
    expect(nothing.err).toMatch(/junction: no session token given: sign-in not completed\n$/);
    const noTerminal = testRuntime();
    expect(await runCli(['login', '--provider', 'cis2', '--hub', hubUrl], noTerminal)).toBe(1);
    expect(noTerminal.err()).toMatch(/junction: no terminal to paste the session token into/);
  });

  it('names an unreachable hub or a URL that is not one', async () => {
    const closed = await closedPort();
    const down = testRuntime();
    const code = await runCli(
      ['login', '--provider', 'nhs-login', '--user', '9000000009', '--hub', `http://127.0.0.1:${closed}`],
      down,
    );
    expect(code).toBe(1);
    expect(down.err()).toBe(
      `junction: cannot reach the hub at http://127.0.0.1:${closed} (connection refused)\n`,
    );
    const notUrl = testRuntime();
    expect(await runCli(['login', '--provider', 'cis2', '--hub', 'localhost'], notUrl)).toBe(1);
    expect(notUrl.err()).toMatch(/^junction: --hub: 'localhost' is not a URL/);
  });

  describe('against a hub whose sign-in page is not the sandbox’s', () => {
    let fake: Server;
    let fakeUrl: string;
    beforeAll(async () => {
      // A stand-in hub that sends the browser to a real-looking NHS login page, and one route it lacks.
      fake = createServer((req, res) => {
        if (req.url?.startsWith('/auth/nhs-login/login')) {
          res.writeHead(302, { location: '/idp/authorize' }).end();
        } else if (req.url === '/idp/authorize') {
          res
            .writeHead(200, { 'content-type': 'text/html' })
            .end(
              '<title>NHS login</title><form method="post" action="/idp/x"><button name="user" value="u">x</button></form>',
            );
        } else {
          res.writeHead(404, { 'content-type': 'application/fhir+json' }).end(
            JSON.stringify({
              resourceType: 'OperationOutcome',
              issue: [
                {
                  severity: 'error',
                  code: 'not-supported',
                  diagnostics: 'CIS2 sign-in is not configured on this hub',
                },
              ],
            }),
          );
        }
      });
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => fake.close(() => resolve())));

    it('refuses to drive any sign-in page but the sandbox’s with --user', async () => {
      const run = testRuntime();
      const code = await runCli(
        ['login', '--provider', 'nhs-login', '--user', '9000000009', '--hub', fakeUrl],
        run,
      );
      expect(code).toBe(1);
      expect(run.err()).toBe(
        `junction: --user only drives the Junction sandbox's sign-in page, and ${fakeUrl} did not show one (HTTP 200); open ${fakeUrl}/auth/nhs-login/login?response=token in a browser instead\n`,
      );
    });

    it('passes on why the hub refused the sign-in', async () => {
      const run = testRuntime();
      const code = await runCli(
        ['login', '--provider', 'cis2', '--user', '555000000002', '--hub', fakeUrl],
        run,
      );
      expect(code).toBe(1);
      expect(run.err()).toBe(
        'junction: the hub refused CIS2 sign-in (HTTP 404: CIS2 sign-in is not configured on this hub)\n',
      );
    });
  });
});

/** A loopback port nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
