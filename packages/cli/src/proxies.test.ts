import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROXY_ACCESS_KINDS } from '@junction/hub';
import { NHS_LOGIN_TEST_USERS } from '@junction/sandbox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { testRuntime } from './test-runtime.js';

const PARENT = '9000000017';
const CHILD = '9000000025';

describe('junction proxies', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-proxies-'));
  });
  afterEach(async () => rm(dataDir, { recursive: true, force: true }));

  const cli = async (...args: string[]) => {
    const rt = testRuntime();
    const code = await runCli([...args, '--data-dir', dataDir], rt);
    return { code, out: rt.out(), err: rt.err() };
  };

  it('grants, lists (by patient) and revokes a delegation; both are in the verified audit trail', async () => {
    const granted = await cli(
      'proxies',
      'grant',
      '--proxy',
      PARENT,
      '--patient',
      CHILD,
      '--relationship',
      'parent',
      '--access',
      'demographics',
      '--access',
      'gp-record',
      '--until',
      '2099-12-31',
    );
    expect(granted.code, granted.err).toBe(0);
    const delegation = JSON.parse(granted.out);
    expect(delegation).toMatchObject({
      proxyNhsNumber: PARENT,
      patientNhsNumber: CHILD,
      relationship: 'parent',
      access: ['demographics', 'gp-record'],
      // --until is the last day of access
      validUntil: '2100-01-01T00:00:00.000Z',
      createdBy: 'cli',
      revokedAt: null,
    });

    const all = await cli(
      'proxies',
      'grant',
      '--proxy',
      CHILD,
      '--patient',
      PARENT,
      '--relationship',
      'carer',
    );
    expect(all.code, all.err).toBe(0);
    expect(JSON.parse(all.out).access).toEqual(PROXY_ACCESS_KINDS);

    const forChild = await cli('proxies', 'list', '--patient', CHILD, '--json');
    expect(forChild.code).toBe(0);
    expect(JSON.parse(forChild.out)).toEqual([delegation]);
    expect(JSON.parse((await cli('proxies', 'list', '--json')).out)).toHaveLength(2);
    // Without --json, a table like the other lists.
    const table = (await cli('proxies', 'list', '--patient', CHILD)).out.trimEnd().split('\n');
    expect(table).toEqual([
      expect.stringMatching(/^id +proxy +patient +relationship +status +from +until +access$/),
      expect.stringMatching(new RegExp(`^${delegation.id} +${PARENT} +${CHILD} +parent +active `)),
    ]);

    const revoked = await cli('proxies', 'revoke', delegation.id);
    expect(revoked).toEqual({ code: 0, out: `revoked ${delegation.id}\n`, err: '' });
    expect(JSON.parse((await cli('proxies', 'list', '--patient', CHILD, '--json')).out)[0].revokedAt).toMatch(
      /^\d{4}-/,
    );
    expect((await cli('proxies', 'list', '--patient', CHILD)).out).toMatch(/ revoked \d{4}-/);

    const audit = await cli('audit', 'verify');
    expect(audit).toMatchObject({ code: 0, out: expect.stringContaining('3 record(s)') });
  });

  it('refuses bad input in one plain line', async () => {
    const refused = async (args: string[], message: string | RegExp) => {
      const { code, err } = await cli('proxies', ...args);
      expect(code, err).toBe(1);
      expect(err).toMatch(typeof message === 'string' ? `junction: ${message}\n` : message);
      expect(err).not.toMatch(/\n\s+at /);
    };
    const grant = (...extra: string[]) => ['grant', '--relationship', 'parent', ...extra];
    await refused(grant('--patient', CHILD), "--proxy is required: the proxy's NHS number");
    await refused(grant('--proxy', PARENT), "--patient is required: the patient's NHS number");
    await refused(
      ['grant', '--proxy', PARENT, '--patient', CHILD],
      '--relationship is required: one of parent, legal-guardian, carer, power-of-attorney',
    );
    await refused(
      grant('--proxy', '9000000000', '--patient', CHILD),
      "the proxy's NHS number is not valid: 9000000000",
    );
    await refused(grant('--proxy', PARENT, '--patient', PARENT), 'a person cannot be their own proxy');
    await refused(
      ['grant', '--proxy', PARENT, '--patient', CHILD, '--relationship', 'friend'],
      "unknown relationship 'friend'; relationships are: parent, legal-guardian, carer, power-of-attorney",
    );
    await refused(
      grant('--proxy', PARENT, '--patient', CHILD, '--access', 'everything'),
      `unknown access 'everything'; access kinds are: ${PROXY_ACCESS_KINDS.join(', ')}`,
    );
    await refused(
      grant('--proxy', PARENT, '--patient', CHILD, '--until', '2025-02-30'),
      "--until must be a date YYYY-MM-DD, not '2025-02-30'",
    );
    await refused(
      grant('--proxy', PARENT, '--patient', CHILD, '--until', '2001-01-01'),
      'the delegation would end before it starts',
    );
    await refused(
      ['revoke', 'no-such-id'],
      'no proxy delegation with id no-such-id (see `junction proxies list`)',
    );
    await refused(['list', '--patient', '123'], "the patient's NHS number is not valid: 123");

    expect((await cli('proxies', ...grant('--proxy', PARENT, '--patient', CHILD))).code).toBe(0);
    await refused(
      grant('--proxy', PARENT, '--patient', CHILD),
      new RegExp(
        `^junction: ${PARENT} is already a proxy for ${CHILD} \\(delegation [0-9a-f-]+\\); revoke it first`,
      ),
    );
  });

  it('lists the access kinds and relationships in its help', async () => {
    const rt = testRuntime();
    await runCli(['proxies', 'grant', '--help'], rt);
    for (const word of [...PROXY_ACCESS_KINDS, 'legal-guardian', 'gp-record.read']) {
      expect(rt.out()).toContain(word);
    }
  });
});

// The sandbox's P9 parent is a proxy out of the box: `start` records the delegation once.
describe('junction start records the sandbox parent as a proxy', () => {
  const parent = NHS_LOGIN_TEST_USERS.find((u) => u.proxyFor && u.nhsNumber);
  const child = parent?.proxyFor?.[0]?.nhsNumber ?? '';
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-start-proxies-'));
  });
  afterEach(async () => rm(dataDir, { recursive: true, force: true }));

  async function whileRunning(
    check: (hubUrl: string, startOut: string) => Promise<void>,
    startFlags: string[] = ['--open-sandbox'],
  ) {
    const rt = testRuntime();
    const exited = runCli(['start', '--port', '0', ...startFlags, '--data-dir', dataDir], rt);
    const out = await Promise.race([
      rt.printed('Press Ctrl+C'),
      exited.then((code) => `exited ${code}: ${rt.err()}`),
    ]);
    const hubUrl = /hub:\s+(\S+)/.exec(out)?.[1] ?? '';
    try {
      expect(hubUrl, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await check(hubUrl, out);
    } finally {
      rt.stop();
      expect(await exited).toBe(0);
    }
  }

  const list = async () => {
    const rt = testRuntime();
    expect(await runCli(['proxies', 'list', '--json', '--data-dir', dataDir], rt)).toBe(0);
    return JSON.parse(rt.out()) as { id: string; proxyNhsNumber: string; patientNhsNumber: string }[];
  };

  it('so the parent signs in and reads the child, not others; a second start adds nothing', async () => {
    expect(parent?.nhsNumber).toBeDefined();
    await whileRunning(async (hubUrl, startOut) => {
      expect(startOut).not.toMatch(/proxy/i);
      const login = testRuntime();
      const code = await runCli(
        ['login', '--hub', hubUrl, '--provider', 'nhs-login', '--user', parent!.nhsNumber!],
        login,
      );
      expect(code, login.err()).toBe(0);
      expect(login.out()).toContain(`proxy for:       ${child} (${PROXY_ACCESS_KINDS.join(', ')})`);
      const token = /session token:\s+(jss_\S+)/.exec(login.out())?.[1] ?? '';
      const read = (n: string) =>
        fetch(`${hubUrl}/fhir/R4/Patient/${n}`, { headers: { authorization: `Bearer ${token}` } });
      expect((await read(child)).status).toBe(200);
      expect((await read('9000000009')).status).toBe(403);
    });
    const first = await list();
    expect(first).toEqual([
      expect.objectContaining({
        proxyNhsNumber: parent!.nhsNumber,
        patientNhsNumber: child,
        relationship: 'parent',
        createdBy: 'junction-start',
      }),
    ]);

    // Revoked by an operator: the next start leaves it revoked.
    const revoke = testRuntime();
    expect(await runCli(['proxies', 'revoke', first[0]!.id, '--data-dir', dataDir], revoke)).toBe(0);
    await whileRunning(async () => {});
    const second = await list();
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ id: first[0]!.id, revokedAt: expect.any(String) });
  });

  // Default start: the sandbox's PDS wants API-platform tokens. The parent signs in FOR the child
  // (NHS login id token about the child, the parent's own in act.sub); the hub's token exchange
  // passes it on, so PDS sees the proxy relationship. The hub's delegation still decides.
  it('under the default start, the parent signed in for the child reads the child until revoked', async () => {
    expect(parent?.nhsNumber).toBeDefined();
    await whileRunning(async (hubUrl) => {
      const login = testRuntime();
      const code = await runCli(
        ['login', '--hub', hubUrl, '--provider', 'nhs-login', '--user', parent!.nhsNumber!, '--for', child],
        login,
      );
      expect(code, login.err()).toBe(0);
      expect(login.out()).toContain(`acting for:      NHS number ${child}`);
      expect(login.out()).toContain(`identity:        patient, NHS number ${parent!.nhsNumber}`);
      const token = /session token:\s+(jss_\S+)/.exec(login.out())?.[1] ?? '';
      const read = (n: string) =>
        fetch(`${hubUrl}/fhir/R4/Patient/${n}`, { headers: { authorization: `Bearer ${token}` } });
      const childRead = await read(child);
      expect(childRead.status, await childRead.clone().text()).toBe(200);
      expect(await childRead.json()).toMatchObject({ resourceType: 'Patient', id: child });
      expect((await read('9000000009')).status).toBe(403);

      const [delegation] = await list();
      const revoke = testRuntime();
      expect(await runCli(['proxies', 'revoke', delegation!.id, '--data-dir', dataDir], revoke)).toBe(0);
      expect((await read(child)).status).toBe(403);
    }, []);
  });

  it('refuses --for a person the test user does not act for, and --for without --user', async () => {
    const run = async (...args: string[]) => {
      const rt = testRuntime();
      const code = await runCli(
        ['login', '--hub', 'http://127.0.0.1:9', '--provider', 'nhs-login', ...args],
        rt,
      );
      return { code, err: rt.err() };
    };
    expect(await run('--user', parent!.nhsNumber!, '--for', '9000000009')).toEqual({
      code: 1,
      err: expect.stringContaining(`does not act for 9000000009; they act for: ${child} (parent)`),
    });
    expect(await run('--for', child)).toEqual({
      code: 1,
      err: expect.stringContaining('--for goes with --user'),
    });
  });
});
