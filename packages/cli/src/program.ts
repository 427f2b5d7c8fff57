import type { Readable, Writable } from 'node:stream';
import { isOperationOutcome, OperationOutcomeError } from '@junction/core';
import {
  API_KEY_SCOPES,
  DEFAULT_API_KEY_SCOPES,
  JOB_STATUSES,
  PROXY_ACCESS,
  PROXY_RELATIONSHIPS,
} from '@junction/hub/vocabulary';
import { Command, CommanderError, Option } from 'commander';
import type { AdminCreateFlags } from './commands/admin.js';
import type { DmdImportFlags, DmdSearchFlags } from './commands/dmd.js';
import type { JobsListFlags } from './commands/jobs.js';
import type { MeshConnectionFlags, MeshGetFlags, MeshInboxFlags, MeshSendFlags } from './commands/mesh.js';
import type { PdsConnectionOptions, PdsSearchFlags } from './commands/pds.js';
import type { RunningJunction } from './commands/start.js';
import type {
  AuditCheckpointFlags,
  AuditVerifyFlags,
  KeyCreateFlags,
  ProxyGrantFlags,
} from './commands/store-commands.js';
import { CliError, type CliIo, printJson } from './io.js';
import { LOGIN_PROVIDERS, type LoginFlags, login } from './login/login.js';
import { collect, parseChunkSize, parseCount, parseFromChunk, parsePort } from './option-parsers.js';
import { DEFAULT_HUB_PORT } from './start-record.js';
import type { StoreFlags } from './store-flags.js';

/*
 * Each command's code, and with it the hub, the sandbox and the store's database drivers, is loaded
 * only when that command runs: reading a command line or printing help loads commander and the
 * lists the help shows (`@junction/hub/vocabulary`), so `junction --help` and the PDS and MESH
 * client commands start in tens of milliseconds rather than seconds.
 */
const load = {
  admin: () => import('./commands/admin.js'),
  dmd: () => import('./commands/dmd.js'),
  jobs: () => import('./commands/jobs.js'),
  mesh: () => import('./commands/mesh.js'),
  pds: () => import('./commands/pds.js'),
  sandbox: () => import('./commands/sandbox.js'),
  start: () => import('./commands/start.js'),
  store: () => import('./commands/store-commands.js'),
};

export interface CliRuntime extends CliIo {
  /** Resolves when a long-running command (`start`, `sandbox`) should stop, e.g. on SIGINT. */
  untilStopped: () => Promise<void>;
  /** Reads a line the user types (`junction login` without `--user`); absent with no terminal. */
  readLine?: (prompt: string) => Promise<string | undefined>;
  /** Reads a line typed without echo (`junction admin create`'s password); readLine when absent. */
  readSecret?: (prompt: string) => Promise<string | undefined>;
  /** stderr is a terminal: long commands (`dmd import`) draw a progress bar rather than log lines. */
  stderrIsTTY?: boolean;
  /** Width of that terminal. */
  columns?: number;
  /** Standard input as bytes (`junction mesh send -`). */
  stdin?: Readable;
  /** Standard output for bytes (`junction mesh get` without `--out`); never ended. */
  stdoutBytes?: Writable;
}

/**
 * Runs one `junction` command line and returns its exit code. Usage errors and the errors a user
 * can fix are printed as one plain line, never a stack trace.
 */
export async function runCli(argv: string[], runtime: CliRuntime): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(runtime, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(runtime, error);
  }
}

/** The help of --data-dir on the commands that talk to a running `junction start`. */
const START_DATA_DIR_HELP =
  'the data folder of the `junction start` to talk to, where it records its ports (default ./data, or JUNCTION_DATA_DIR)';

function buildProgram(rt: CliRuntime, setExitCode: (code: number) => void): Command {
  const program = new Command('junction')
    .description('Junction: an NHS integration hub, its SDK and a local NHS sandbox')
    .exitOverride()
    .configureOutput({ writeOut: rt.stdout, writeErr: rt.stderr })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('start')
    .description('run the hub and the sandbox together on the embedded SQLite store')
    .addOption(
      new Option('-p, --port <port>', 'hub port (0 = any free port)')
        .argParser(parsePort)
        .default(DEFAULT_HUB_PORT),
    )
    .addOption(
      new Option('--sandbox-port <port>', 'sandbox port (default: hub port + 1)').argParser(parsePort),
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--stateless', 'sandbox PDS answers like NHS public sandbox (changes are not kept)')
    .option(
      '--open-sandbox',
      'sandbox PDS needs no API platform token, like NHS public sandbox (so PATCH is allowed)',
    )
    .option('--data-dir <dir>', 'folder of the embedded SQLite store (default ./data)')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL instead of SQLite')
    .action(
      async ({
        openSandbox,
        ...opts
      }: {
        port: number;
        sandboxPort?: number;
        host: string;
        stateless?: boolean;
        openSandbox?: boolean;
      } & StoreFlags) => {
        const { DEMO_DMD_FOLDER, startJunction } = await load.start();
        const running = await startJunction(rt.env, { ...opts, sandboxAuth: openSandbox !== true });
        rt.stdout(
          [
            'Junction is running.',
            `  hub:          ${running.hubUrl}`,
            `  API docs:     ${running.hubUrl}/docs`,
            `  console:      ${running.console.url}${running.console.built ? '' : ' (not built yet: run npm run build)'}`,
            `  sandbox:      ${running.sandboxUrl}`,
            `  sandbox PDS:  ${running.pdsBaseUrl}${running.sandboxAuth ? '' : ' (open: no API platform auth)'}`,
            `  demo API key: ${running.demoApiKey}`,
            `  console admin: ${running.admin.username} / ${running.admin.password} (a new password every start)`,
            '',
            'Sign in (synthetic test users on the sandbox sign-in pages):',
            `  patients, NHS login: ${running.signInUrls.nhsLogin}`,
            `  clinicians, CIS2:    ${running.signInUrls.cis2}`,
            `  from a terminal:     junction login --provider nhs-login --hub ${running.hubUrl}`,
            '',
            'Trace a patient through the hub:',
            `  curl -H 'Authorization: Bearer ${running.demoApiKey}' ${running.hubUrl}/fhir/R4/Patient/9000000009`,
            '',
            ...dmdLines(running, DEMO_DMD_FOLDER),
            `The junction pds, mesh and login commands find this run in ${running.startRecordFile}.`,
            'Press Ctrl+C to stop.',
            '',
          ].join('\n'),
        );
        await rt.untilStopped();
        await running.close();
      },
    );

  program
    .command('sandbox')
    .description('run the NHS sandbox alone (PDS FHIR R4, API platform OAuth2, MESH)')
    .addOption(new Option('-p, --port <port>', 'port (0 = any free port)').argParser(parsePort).default(9000))
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option(
      '--stateless',
      'answer like NHS public sandbox: PATCH returns the patched record and keeps nothing',
    )
    .option('--app-key <key>', 'require API platform tokens for this app (with --app-jwks)')
    .option('--app-jwks <file>', "the app's public JWKS file")
    .addOption(
      new Option('--synthetic-patients <n>', 'generated patients beside the spec ones').argParser(parseCount),
    )
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option(
      '--tls-client-ca <file>',
      'mutual TLS, as the real MESH: refuse clients without a certificate from this CA',
    )
    .option(
      '--mesh-seed <file>',
      "MESH mailboxes and workflows: a JSON seed, or a folder in NHS mesh-sandbox's layout",
    )
    .option(
      '--any-workflow',
      'MESH accepts unregistered workflow ids, as NHS mesh-sandbox (default: SEND 17)',
    )
    .action(async (opts) => {
      const running = await (await load.sandbox()).runSandbox(opts);
      rt.stdout(
        `Sandbox is running at ${running.url}\n  PDS:   ${running.url}/personal-demographics/FHIR/R4\n  OAuth: ${running.url}/oauth2/token\n  MESH:  ${running.url}/messageexchange\nPress Ctrl+C to stop.\n`,
      );
      await rt.untilStopped();
      await running.close();
    });

  const pds = program.command('pds').description('talk to any PDS FHIR R4 base URL (sandbox, INT, live)');
  const withPdsOptions = (cmd: Command) =>
    cmd
      .option(
        '--base-url <url>',
        'PDS base URL (default: the sandbox PDS of the running `junction start`, signed in as its local app)',
      )
      .option('--token-url <url>', 'API platform token URL (signed-JWT auth)')
      .option('--api-key <key>', 'API platform application key')
      .option('--private-key-file <file>', 'RS512 private key (PEM) registered with the app')
      .option('--kid <kid>', 'key id of that key in the JWKS')
      .option('--correlation-id <id>', 'X-Correlation-ID to send')
      .option('--end-user-organisation <ods>', 'NHSD-End-User-Organisation-ODS to send')
      .option('--data-dir <dir>', START_DATA_DIR_HELP);

  withPdsOptions(pds.command('get <nhsNumber>').description('read a patient by NHS number')).action(
    async (nhsNumber: string, opts: PdsConnectionOptions) => {
      const { withPds } = await load.pds();
      const { patient } = await withPds(rt, opts, (client, ctx) => client.getPatient(nhsNumber, ctx));
      printJson(rt, patient);
    },
  );

  withPdsOptions(
    pds
      .command('search')
      .description('trace a patient by demographics')
      .option('--family <name>', 'family name (* wildcard after 2 characters)')
      .option('--given <name>', 'given name (repeat for several)', collect, [])
      .option('--gender <gender>', 'male | female | other | unknown')
      .option('--birthdate <date>', 'eq|ge|le + yyyy-mm-dd (repeat for a range)', collect, [])
      .option('--death-date <date>', 'eq|ge|le + yyyy-mm-dd', collect, [])
      .option('--postcode <postcode>', 'address-postalcode')
      .option('--gp <ods>', 'general-practitioner ODS code')
      .option('--email <email>')
      .option('--phone <phone>')
      .option('--fuzzy', '_fuzzy-match=true')
      .option('--exact', '_exact-match=true')
      .option('--history', '_history=true')
      .addOption(new Option('--max-results <n>', '_max-results (1..50)').argParser(parseCount)),
  ).action(async (opts: PdsConnectionOptions & PdsSearchFlags) => {
    const { searchParamsFrom, withPds } = await load.pds();
    const params = searchParamsFrom(opts);
    const result = await withPds(rt, opts, (client, ctx) => client.searchPatients(params, ctx));
    if (result.tooManyMatches) {
      rt.stderr('PDS: too many matches (TOO_MANY_MATCHES); narrow the search.\n');
      setExitCode(2);
    }
    printJson(rt, result.bundle);
  });

  program
    .command('login')
    .description(
      'sign in at the hub with NHS login or CIS2 from a terminal; prints the identity, role and a session token',
    )
    .addOption(
      new Option('--provider <provider>', 'nhs-login (patients) or cis2 (health and care staff)')
        .choices(LOGIN_PROVIDERS)
        .makeOptionMandatory(),
    )
    .option('--hub <url>', "the hub to sign in at (default: the running `junction start`'s)")
    .option('--data-dir <dir>', START_DATA_DIR_HELP)
    .option(
      '--user <id>',
      'SANDBOX ONLY: sign in as this synthetic test user without a browser (NHS login: NHS number, email or sub; CIS2: user id or email)',
    )
    .option(
      '--role <id>',
      'SANDBOX ONLY, CIS2: the role to select (role profile id, RBAC code such as R8008, or the ODS code)',
    )
    .option(
      '--for <nhsNumber>',
      'SANDBOX ONLY, NHS login: sign a proxy test user in for this person they act for (default: themselves)',
    )
    .addOption(
      new Option(
        '--proofing <level>',
        'NHS login: lowest identity proofing level accepted (hub default P9)',
      ).choices(['P0', 'P5', 'P9']),
    )
    .option('--json', 'print the principal, session times and token as JSON')
    .addHelpText(
      'after',
      `
Without --user, the command prints the hub's sign-in URL: open it in any browser, sign in, then
paste the sessionToken the hub shows. --user, --role and --for drive the Junction sandbox's sign-in page
over HTTP instead (for scripts and tests); they refuse any other sign-in page, real NHS login and
CIS2 included. Use the token as "Authorization: Bearer jss_…".`,
    )
    .action((opts: LoginFlags) => login(rt, opts));

  const keys = program.command('keys').description("manage products' API keys for the hub");
  const withStoreOptions = (cmd: Command) =>
    cmd
      .option('--data-dir <dir>', 'folder of the embedded SQLite store (default ./data)')
      .option('--database-url <url>', 'postgres://… to use PostgreSQL instead of SQLite');
  withStoreOptions(
    keys
      .command('create')
      .description('create an API key; the secret is printed once')
      .option('--name <name>', 'which product the key is for')
      .option('--org <ods>', "the product's organisation ODS code")
      .option(
        '--scope <scope>',
        `a scope the key grants (repeat for several; default ${DEFAULT_API_KEY_SCOPES.join(' + ')})`,
        collect,
        [],
      )
      .addHelpText('after', `\nScopes: ${API_KEY_SCOPES.join(', ')}`),
  ).action(async (opts: KeyCreateFlags) => (await load.store()).keysCreate(rt, opts));
  withStoreOptions(keys.command('revoke <id>').description('revoke an API key')).action(
    async (id: string, opts: StoreFlags) => (await load.store()).keysRevoke(rt, id, opts),
  );
  withStoreOptions(
    keys
      .command('list')
      .description('list API keys (never their secrets)')
      .option('--json', 'print the keys as JSON'),
  ).action(async (opts: StoreFlags & { json?: boolean }) => (await load.store()).keysList(rt, opts));

  const admin = program
    .command('admin')
    .description('hub admin accounts: people who run the hub, signing in to the console with a password');
  withStoreOptions(
    admin
      .command('create')
      .description('create an admin account (audited as admin.create)')
      .option('--username <name>', 'the name the person signs in with')
      .option('--password-file <file>', "a file whose first line is the password; '-' reads it from stdin")
      .addHelpText(
        'after',
        '\nWithout --password-file the password is asked for at a prompt. Passwords are 12–128 characters.',
      ),
  ).action(async (opts: AdminCreateFlags) => (await load.admin()).adminCreate(rt, opts));
  withStoreOptions(
    admin
      .command('list')
      .description('list admin accounts (never their passwords)')
      .option('--json', 'print the accounts as JSON'),
  ).action(async (opts: StoreFlags & { json?: boolean }) => (await load.admin()).adminList(rt, opts));
  withStoreOptions(
    admin
      .command('disable <username>')
      .description('disable an account: no more sign-ins, its sessions end now'),
  ).action(async (username: string, opts: StoreFlags) =>
    (await load.admin()).adminDisable(rt, username, opts),
  );

  const proxies = program
    .command('proxies')
    .description('proxy access (a parent for a child, a carer for an adult) as the GP practice recorded it');
  withStoreOptions(
    proxies
      .command('grant')
      .description('record that a person may act for a patient (audited as proxy.grant)')
      .option('--proxy <nhsNumber>', "the proxy's NHS number (they sign in with NHS login)")
      .option('--patient <nhsNumber>', "the patient's NHS number")
      .option('--relationship <relationship>', `one of ${PROXY_RELATIONSHIPS.join(', ')}`)
      .option('--access <kind>', 'what the proxy may access (repeat for several; default all)', collect, [])
      .option('--from <date>', 'first day of access, YYYY-MM-DD (default now)')
      .option('--until <date>', 'last day of access, YYYY-MM-DD (default until revoked)')
      .addHelpText(
        'after',
        `\nAccess kinds: ${Object.entries(PROXY_ACCESS)
          .map(([kind, actions]) => `${kind} (${actions.join(', ')})`)
          .join('; ')}.
The proxy also needs the identity proofing level each action needs (P9 for the GP record).`,
      ),
  ).action(async (opts: ProxyGrantFlags) => (await load.store()).proxiesGrant(rt, opts));
  withStoreOptions(
    proxies.command('revoke <id>').description('end a proxy delegation now (audited as proxy.revoke)'),
  ).action(async (id: string, opts: StoreFlags) => (await load.store()).proxiesRevoke(rt, id, opts));
  withStoreOptions(
    proxies
      .command('list')
      .description('list proxy delegations, revoked and expired ones included')
      .option('--patient <nhsNumber>', 'only those for this patient')
      .option('--proxy <nhsNumber>', 'only those of this proxy')
      .option('--json', 'print the delegations as JSON'),
  ).action(async (opts: StoreFlags & { patient?: string; proxy?: string; json?: boolean }) =>
    (await load.store()).proxiesList(rt, opts),
  );

  const audit = program.command('audit').description('the audit trail of patient data access');
  withStoreOptions(
    audit
      .command('verify')
      .description('check the hash chain and name the first broken record')
      .option('--checkpoint <file>', 'also prove the chain still holds this signed checkpoint')
      .option(
        '--public-key <file>',
        "the checkpoint key's PEM public key (default: JUNCTION_AUDIT_CHECKPOINT_KEY's)",
      ),
  ).action(async (opts: AuditVerifyFlags) => setExitCode(await (await load.store()).auditVerify(rt, opts)));
  withStoreOptions(
    audit
      .command('checkpoint')
      .description("sign the chain's head with a key kept outside the store, to verify against later")
      .option('--key <file>', 'PEM private key (default JUNCTION_AUDIT_CHECKPOINT_KEY; made if missing)')
      .option('--out <file>', 'write the checkpoint (a JWS) here rather than to stdout'),
  ).action(async (opts: AuditCheckpointFlags) => (await load.store()).auditCheckpoint(rt, opts));

  const dmd = program
    .command('dmd')
    .description('the NHS Dictionary of medicines and devices (dm+d): import releases, search, look up');
  withStoreOptions(
    dmd
      .command('import <source>')
      .description(
        'import an NHSBSA dm+d release (the zip, or its unpacked folder) and make it the active one; on any failure or Ctrl+C the active release is unchanged',
      )
      .option(
        '--take-over',
        'treat an import still marked as running as dead (its process was killed); if it is alive after all, it fails rather than switch',
      ),
  ).action(async (source: string, opts: DmdImportFlags) => (await load.dmd()).dmdImport(rt, source, opts));
  withStoreOptions(
    dmd
      .command('search <text...>')
      .description('typeahead search of the active release (a code: id, previous id or GTIN lookup)')
      .option(
        '--type <types>',
        'VTM, VMP, AMP, VMPP, AMPP (comma-separated or repeated; default VTM,VMP,AMP)',
        collect,
        [],
      )
      .addOption(new Option('--kind <kind>', 'medicines or devices only').choices(['medicine', 'device']))
      .option('--prescribable', 'only what NHS primary care may prescribe')
      .option('--available', 'only what can still be obtained')
      .option('--include-invalid', 'include invalid concepts')
      .option('--controlled', 'only controlled drugs (a CONTROL_DRUG_CATEGORY other than 0000)')
      .option('--form <code>', 'DRUG_FORM code, e.g. 385055001 (tablet)')
      .option('--route <code>', 'DRUG_ROUTE code, e.g. 26643006 (oral)')
      .addOption(new Option('--limit <n>', 'most matches (1–100, default 20)').argParser(parseCount))
      .option('--json', 'print the matches as JSON'),
  ).action(async (words: string[], opts: DmdSearchFlags) => (await load.dmd()).dmdSearch(rt, words, opts));
  withStoreOptions(
    dmd
      .command('show <code>')
      .description('one concept by id, previous id or GTIN, with its parents and children')
      .option('--json', 'print the concept as JSON'),
  ).action(async (code: string, opts: StoreFlags & { json?: boolean }) =>
    (await load.dmd()).dmdShow(rt, code, opts),
  );
  withStoreOptions(
    dmd
      .command('releases')
      .description('import history, newest first (active, superseded, failed)')
      .option('--json', 'print the history as JSON'),
  ).action(async (opts: StoreFlags & { json?: boolean }) => (await load.dmd()).dmdReleases(rt, opts));

  const mesh = program
    .command('mesh')
    .description('send and receive MESH messages as one mailbox, on any MESH (the local sandbox, INT, live)');
  const withMeshOptions = (cmd: Command) =>
    cmd
      .option(
        '--base-url <url>',
        'MESH host, with or without /messageexchange (default: the sandbox of the running `junction start`)',
      )
      .option('--data-dir <dir>', START_DATA_DIR_HELP)
      .option('--mailbox <id>', 'your mailbox id (default on loopback: X26ABC1)')
      .option('--password <password>', 'the mailbox password (default on loopback: password)')
      .option(
        '--shared-key <key>',
        "the environment's shared key for the NHSMESH token (default on loopback: TestKey)",
      )
      .option('--cert <file>', 'PEM client certificate for mutual TLS (the real service)')
      .option('--key <file>', 'PEM private key of that certificate')
      .option('--ca <file>', 'PEM CA bundle of the environment (with --cert and --key)');
  const meshEnvHelp = `
Each connection flag can come from the environment instead: JUNCTION_MESH_BASE_URL, JUNCTION_MESH_MAILBOX,
JUNCTION_MESH_PASSWORD, JUNCTION_MESH_SHARED_KEY, JUNCTION_MESH_CERT, JUNCTION_MESH_KEY, JUNCTION_MESH_CA.
The sandbox credentials are defaults only for a loopback base URL; any other MESH needs all three.`;
  withMeshOptions(
    mesh
      .command('send <file>')
      .description('send a file, or - for stdin, of any size; prints the message id (progress on stderr)')
      .option('--to <mailbox>', 'the recipient mailbox id (mex-To)')
      .option('--workflow <id>', 'the workflow id (mex-WorkflowID), e.g. TEST_WORKFLOW')
      .option('--subject <text>', 'mex-Subject')
      .option('--local-id <id>', 'mex-LocalID: your reference (no patient data)')
      .option('--file-name <name>', "mex-FileName (default: the file's name)")
      .option('--content-type <type>', 'the content type of the data')
      .addOption(
        new Option('--chunk-size <bytes>', 'uncompressed bytes per chunk, e.g. 20M (default 75M)').argParser(
          parseChunkSize,
        ),
      )
      .option('--no-gzip', "send chunks uncompressed (default: each chunk gzip'd)")
      .option('--resume <messageId>', 'finish an upload cut short: post the rest of that incomplete message')
      .addOption(
        new Option('--from-chunk <k>', 'with --resume: the first chunk to post (default 2)').argParser(
          parseFromChunk,
        ),
      )
      .addHelpText('after', meshEnvHelp),
  ).action(async (file: string, opts: MeshSendFlags) => (await load.mesh()).meshSend(rt, file, opts));
  withMeshOptions(
    mesh
      .command('inbox')
      .description('list the ids of the messages waiting in the inbox, one per line')
      .option('--workflow <filter>', 'workflow_filter: WORKFLOW1, !WORKFLOW1, WORKFL*, !*_ACK*')
      .option('--json', 'print {mailboxId, messages} as JSON')
      .addHelpText('after', meshEnvHelp),
  ).action(async (opts: MeshInboxFlags) => (await load.mesh()).meshInbox(rt, opts));
  withMeshOptions(
    mesh
      .command('get <messageId>')
      .description('download a message to stdout or --out, metadata on stderr (it is not acknowledged)')
      .option('--out <file>', 'write the content to this file (complete, or not at all)')
      .option('--verify-checksum', 'check the content against an MD5 mex-Content-Checksum')
      .option('--json', 'print the metadata as JSON (on stderr)')
      .addHelpText('after', meshEnvHelp),
  ).action(async (id: string, opts: MeshGetFlags) => (await load.mesh()).meshGet(rt, id, opts));
  withMeshOptions(
    mesh
      .command('ack <messageId...>')
      .description('acknowledge downloaded messages, removing them from the inbox')
      .addHelpText('after', meshEnvHelp),
  ).action(async (ids: string[], opts: MeshConnectionFlags) => (await load.mesh()).meshAck(rt, ids, opts));
  withMeshOptions(
    mesh
      .command('track <messageId>')
      .description('the delivery status of a message you sent')
      .option('--json', "print MESH's tracking answer as JSON")
      .addHelpText('after', meshEnvHelp),
  ).action(async (id: string, opts: MeshConnectionFlags & { json?: boolean }) =>
    (await load.mesh()).meshTrack(rt, id, opts),
  );

  const jobs = program
    .command('jobs')
    .description("the hub's durable job queue: list, history, manual retry");
  withStoreOptions(
    jobs
      .command('list')
      .description('jobs, newest first, with a count per status')
      .addOption(new Option('--status <status>', 'only jobs in this status').choices(JOB_STATUSES))
      .option('--kind <kind>', 'only jobs of this kind, e.g. mesh.send')
      .option('--correlation-id <id>', 'only jobs of this correlation id')
      .option(
        '--include-periodic',
        'also list successful runs of periodic jobs (mesh.poll), left out by default (a --kind or --correlation-id lists them too)',
      )
      .addOption(new Option('--limit <n>', 'most jobs (1–1000, default 50)').argParser(parseCount))
      .option('--json', 'print the jobs as JSON'),
  ).action(async (opts: JobsListFlags) => (await load.jobs()).jobsList(rt, opts));
  withStoreOptions(
    jobs
      .command('show <id>')
      .description('one job with its payload, result and full history')
      .option('--json', 'print the job and its events as JSON'),
  ).action(async (id: string, opts: StoreFlags & { json?: boolean }) =>
    (await load.jobs()).jobsShow(rt, id, opts),
  );
  withStoreOptions(
    jobs
      .command('retry <id>')
      .description('queue a failed or dead job again (recorded in its history as retried by cli)')
      .addOption(
        new Option('--attempts <n>', 'attempts a dead job gets beyond those used (default 1)').argParser(
          parseCount,
        ),
      )
      .option('--json', 'print the job as JSON'),
  ).action(async (id: string, opts: StoreFlags & { attempts?: number; json?: boolean }) =>
    (await load.jobs()).jobsRetry(rt, id, opts),
  );

  return program;
}

function reportError(io: CliIo, error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has printed the usage error or help already.
    return error.exitCode === 0 ||
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version'
      ? 0
      : 1;
  }
  if (error instanceof CliError) {
    io.stderr(`junction: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof OperationOutcomeError) {
    io.stderr(`junction: HTTP ${error.status} ${error.message}\n`);
    if (isOperationOutcome(error.outcome)) printJson({ ...io, stdout: io.stderr }, error.outcome);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`junction: ${message}\n`);
  return 1;
}

/** What `start` says about the medicines dictionary it serves. */
function dmdLines(running: RunningJunction, demoFolder: string): string[] {
  const release = running.dmdRelease;
  if (!release) return ['Medicines (dm+d): none imported; run `junction dmd import <zip|folder>`', ''];
  const demo = release.source.endsWith(demoFolder);
  return [
    `Medicines (dm+d): release ${release.id} of ${release.releaseDate ?? 'unknown date'}${
      demo ? ' (a small synthetic demo; import the NHSBSA release with `junction dmd import <zip>`)' : ''
    }`,
    `  curl -H 'Authorization: Bearer ${running.demoApiKey}' '${running.hubUrl}/medicines/search?q=amox'`,
    '',
  ];
}
