import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, overlayConfig, publishedBaseUrls, sourceOf } from './load-config.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

describe('loadConfig', () => {
  it('starts in the sandbox with no variables set', () => {
    const { input, ...config } = loadConfig({});
    expect(input).toEqual({ environment: expect.objectContaining({ pds: {}, mesh: {} }), overrides: {} });
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      nhsEnvironment: 'sandbox',
      sandboxPort: 9000,
      pds: { baseUrl: 'http://127.0.0.1:9000/personal-demographics/FHIR/R4' },
      apiPlatform: { tokenUrl: 'http://127.0.0.1:9000/oauth2/token' },
      dataDir: './data',
      logLevel: 'info',
      publicUrl: 'http://127.0.0.1:8080',
      nhsLogin: { issuer: 'http://127.0.0.1:9000/nhs-login' },
      cis2: { issuer: 'http://127.0.0.1:9000/openam/oauth2/realms/root/realms/oidc' },
      auth: { returnUrls: [], sessionTtlS: 3600, adminMayGrantPatientDataScopes: false },
      mesh: { mailboxes: [], trackIntervalMs: 60_000 },
      jobs: { retentionDays: 7 },
    });
  });

  it('reads the job retention from JUNCTION_JOBS_RETENTION_DAYS (0 keeps jobs forever) and refuses bad values', () => {
    expect(loadConfig({ JUNCTION_JOBS_RETENTION_DAYS: '30' }).jobs).toEqual({ retentionDays: 30 });
    expect(loadConfig({ JUNCTION_JOBS_RETENTION_DAYS: '0' }).jobs).toEqual({ retentionDays: 0 });
    expect(loadConfig({}, { jobs: { retentionDays: 2 } }).jobs.retentionDays).toBe(2);
    for (const bad of ['-1', '1.5', 'week']) {
      expect(() => loadConfig({ JUNCTION_JOBS_RETENTION_DAYS: bad }), bad).toThrow(
        /JUNCTION_JOBS_RETENTION_DAYS \(jobs\.retentionDays\)/,
      );
    }
  });

  it('reads MESH mailboxes from JUNCTION_MESH_MAILBOXES (JSON) or a file, upper-cases ids, and explains errors', async () => {
    const mailbox = {
      mailboxId: 'x26abc1',
      password: 'password',
      sharedKey: 'TestKey',
      baseUrl: 'http://127.0.0.1:9000/',
      workflows: ['GPFED_CONSULT_REPORT_ACK'],
    };
    const config = loadConfig({ JUNCTION_MESH_MAILBOXES: JSON.stringify([mailbox]) });
    expect(config.mesh.mailboxes).toEqual([
      {
        mailboxId: 'X26ABC1',
        password: 'password',
        sharedKey: 'TestKey',
        baseUrl: 'http://127.0.0.1:9000',
        pollIntervalMs: 60_000,
        workflows: ['GPFED_CONSULT_REPORT_ACK'],
      },
    ]);
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(await mkdtemp(join(tmpdir(), 'junction-mesh-config-')), 'mailboxes.json');
    await writeFile(file, JSON.stringify([{ ...mailbox, pollIntervalMs: 5000 }]));
    expect(loadConfig({ JUNCTION_MESH_MAILBOXES_FILE: file }).mesh.mailboxes[0]?.pollIntervalMs).toBe(5000);
    expect(() => loadConfig({ JUNCTION_MESH_MAILBOXES_FILE: `${file}.missing` })).toThrow(
      /JUNCTION_MESH_MAILBOXES_FILE: cannot read/,
    );
    expect(() => loadConfig({ JUNCTION_MESH_MAILBOXES: '[{"mailboxId":"X26ABC1"}]' })).toThrow(
      /JUNCTION_MESH_MAILBOXES \(mesh\.mailboxes\.0\.password\)/,
    );
    expect(() =>
      loadConfig({
        JUNCTION_MESH_MAILBOXES: JSON.stringify([mailbox, { ...mailbox, mailboxId: 'X26ABC1' }]),
      }),
    ).toThrow(/listed twice/);
    expect(() => loadConfig({ JUNCTION_MESH_MAILBOXES: 'not json' })).toThrow(/JUNCTION_MESH_MAILBOXES/);
  });

  it('reads the sign-in settings (NHS login, CIS2, return URLs) and wants them complete', () => {
    const config = loadConfig({
      JUNCTION_PUBLIC_URL: 'https://hub.example.com/',
      JUNCTION_NHS_LOGIN_CLIENT_ID: 'junction-hub',
      JUNCTION_NHS_LOGIN_PRIVATE_KEY: PEM,
      JUNCTION_NHS_LOGIN_KEY_ID: 'nhs-login-1',
      JUNCTION_CIS2_ISSUER: 'https://cis2.example/realm',
      JUNCTION_AUTH_RETURN_URLS: 'https://app.example.com/signed-in, junction-app://signed-in',
      JUNCTION_SESSION_TTL_S: '1800',
    });
    expect(config.publicUrl).toBe('https://hub.example.com');
    expect(config.nhsLogin).toEqual({
      issuer: 'http://127.0.0.1:9000/nhs-login',
      clientId: 'junction-hub',
      privateKeyPem: PEM,
      keyId: 'nhs-login-1',
    });
    expect(config.cis2).toEqual({ issuer: 'https://cis2.example/realm' });
    expect(config.auth).toEqual({
      returnUrls: ['https://app.example.com/signed-in', 'junction-app://signed-in'],
      sessionTtlS: 1800,
      adminMayGrantPatientDataScopes: false,
    });
    expect(
      loadConfig({ JUNCTION_ADMIN_MAY_GRANT_PATIENT_DATA_SCOPES: 'true' }).auth
        .adminMayGrantPatientDataScopes,
    ).toBe(true);
    expect(() => loadConfig({ JUNCTION_ADMIN_MAY_GRANT_PATIENT_DATA_SCOPES: 'yes' })).toThrow(
      /JUNCTION_ADMIN_MAY_GRANT_PATIENT_DATA_SCOPES/,
    );
    expect(() => loadConfig({ JUNCTION_CIS2_CLIENT_ID: 'x' })).toThrow(/JUNCTION_CIS2_KEY_ID/);
    expect(() => loadConfig({ JUNCTION_AUTH_RETURN_URLS: 'not a url' })).toThrow(/JUNCTION_AUTH_RETURN_URLS/);
    expect(
      loadConfig({
        JUNCTION_NHS_ENVIRONMENT: 'live',
        JUNCTION_NHS_API_KEY: 'k',
        JUNCTION_NHS_PRIVATE_KEY: PEM,
        JUNCTION_NHS_KEY_ID: 'x',
      }).nhsLogin.issuer,
    ).toBe('https://auth.login.nhs.uk');
  });

  it('reads JUNCTION_* variables and derives sandbox URLs from the sandbox port', () => {
    const config = loadConfig({
      JUNCTION_PORT: '3000',
      JUNCTION_SANDBOX_PORT: '9100',
      JUNCTION_DATABASE_URL: 'postgres://u@db:5432/junction',
      JUNCTION_LOG_LEVEL: 'warn',
      JUNCTION_DATA_DIR: '/var/lib/junction',
    });
    expect(config.port).toBe(3000);
    expect(config.pds.baseUrl).toBe('http://127.0.0.1:9100/personal-demographics/FHIR/R4');
    expect(config.databaseUrl).toBe('postgres://u@db:5432/junction');
    expect(config.logLevel).toBe('warn');
    expect(config.dataDir).toBe('/var/lib/junction');
  });

  it('uses the published INT URLs (personal-demographics.yaml servers) and requires key material outside the sandbox', () => {
    const config = loadConfig({
      JUNCTION_NHS_ENVIRONMENT: 'int',
      JUNCTION_NHS_API_KEY: 'app-key',
      JUNCTION_NHS_PRIVATE_KEY: PEM,
      JUNCTION_NHS_KEY_ID: 'int-1',
    });
    expect(config.pds.baseUrl).toBe('https://int.api.service.nhs.uk/personal-demographics/FHIR/R4');
    expect(config.apiPlatform).toEqual({
      tokenUrl: 'https://int.api.service.nhs.uk/oauth2/token',
      apiKey: 'app-key',
      privateKeyPem: PEM,
      keyId: 'int-1',
    });
    expect(() => loadConfig({ JUNCTION_NHS_ENVIRONMENT: 'live' })).toThrow(/JUNCTION_NHS_API_KEY/);
  });

  it('lists every bad variable by name', () => {
    let error: unknown;
    try {
      loadConfig({
        JUNCTION_PORT: 'eighty',
        JUNCTION_NHS_ENVIRONMENT: 'prod',
        JUNCTION_PDS_BASE_URL: 'not a url',
        JUNCTION_LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'JUNCTION_PORT',
      'JUNCTION_NHS_ENVIRONMENT',
      'JUNCTION_PDS_BASE_URL',
      'JUNCTION_LOG_LEVEL',
    ]) {
      expect(problems).toContain(name);
    }
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('in the sandbox, key material is optional but must be complete once started', () => {
    expect(() => loadConfig({ JUNCTION_NHS_API_KEY: 'k' })).toThrow(/JUNCTION_NHS_KEY_ID/);
    expect(() =>
      loadConfig({
        JUNCTION_NHS_PRIVATE_KEY: PEM,
        JUNCTION_NHS_PRIVATE_KEY_PATH: '/k.pem',
        JUNCTION_NHS_API_KEY: 'k',
        JUNCTION_NHS_KEY_ID: 'x',
      }),
    ).toThrow(/not both/);
  });

  it('applies overrides on top of the environment', () => {
    const config = loadConfig(
      { JUNCTION_PORT: '3000' },
      { port: 0, pds: { baseUrl: 'http://localhost:1/pds/' } },
    );
    expect(config.port).toBe(0);
    expect(config.pds.baseUrl).toBe('http://localhost:1/pds');
  });

  it('overlayConfig lays settings over what the config was loaded from, by the same rules (the console, src/settings)', () => {
    const base = loadConfig(
      { JUNCTION_NHS_ENVIRONMENT: 'sandbox', JUNCTION_SANDBOX_PORT: '9100' },
      { port: 0 },
    );
    const changed = overlayConfig(base, { pds: { baseUrl: 'https://proxy.example.com/pds/' } });
    expect(changed.pds.baseUrl).toBe('https://proxy.example.com/pds');
    // Everything else is still derived from the environment and the overrides.
    expect(changed.port).toBe(0);
    expect(changed.apiPlatform.tokenUrl).toBe('http://127.0.0.1:9100/oauth2/token');
    expect(base.pds.baseUrl).toBe('http://127.0.0.1:9100/personal-demographics/FHIR/R4');
    expect(() => overlayConfig(base, { pds: { baseUrl: 'ftp://x' } })).toThrow(ConfigError);
    try {
      overlayConfig(base, { pds: { baseUrl: 'not a url' } });
    } catch (error) {
      expect((error as ConfigError).issues).toEqual([{ field: 'pds.baseUrl', message: expect.any(String) }]);
    }
    expect(sourceOf(base.input, 'sandboxPort')).toBe('environment');
    expect(sourceOf(base.input, 'port')).toBe('startup');
    expect(sourceOf(base.input, 'pds.baseUrl')).toBe('default');
  });

  it('reads JUNCTION_SECRETS_KEY: 32 bytes in base64, nothing else', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ JUNCTION_SECRETS_KEY: key }).secretsKey).toBe(key);
    expect(loadConfig({}).secretsKey).toBeUndefined();
    for (const bad of ['short', Buffer.alloc(16).toString('base64'), `${key}!`]) {
      expect(() => loadConfig({ JUNCTION_SECRETS_KEY: bad }), bad).toThrow(
        /JUNCTION_SECRETS_KEY.*32 random bytes/,
      );
    }
  });

  it('publishes the base URLs of each environment (the defaults and what the console offers)', () => {
    expect(publishedBaseUrls('int', 9000)).toEqual({
      pds: { baseUrl: 'https://int.api.service.nhs.uk/personal-demographics/FHIR/R4' },
      apiPlatform: { tokenUrl: 'https://int.api.service.nhs.uk/oauth2/token' },
      nhsLogin: { issuer: 'https://auth.sandpit.signin.nhs.uk' },
      cis2: { issuer: expect.stringContaining('am.nhsint.auth-ptl.cis2.spineservices.nhs.uk') },
    });
    expect(publishedBaseUrls('sandbox', 9123).pds.baseUrl).toBe(
      'http://127.0.0.1:9123/personal-demographics/FHIR/R4',
    );
  });
});
