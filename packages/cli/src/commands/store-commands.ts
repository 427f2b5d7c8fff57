import { readFile, writeFile } from 'node:fs/promises';
import {
  API_KEY_SCOPES,
  type ApiKeyInfo,
  type ApiKeyScope,
  AuditCheckpointError,
  auditCheckpointPublicKey,
  createApiKey,
  createAuditCheckpoint,
  grantProxyDelegation,
  listApiKeys,
  listProxyDelegations,
  loadAuditCheckpointKey,
  loadConfig,
  openStore,
  PROXY_ACCESS_KINDS,
  PROXY_RELATIONSHIPS,
  type ProxyAccess,
  ProxyDelegationError,
  type ProxyDelegationInfo,
  type ProxyRelationship,
  revokeApiKey,
  revokeProxyDelegation,
  type Store,
  verifyAuditChain,
  verifyAuditCheckpoint,
} from '@junction/hub';
import { table } from '../format.js';
import { CliError, type CliIo, printJson } from '../io.js';
import { type StoreFlags, storeOverrides } from '../store-flags.js';

/** Opens the hub's store where the hub itself would (flags, then JUNCTION_* variables), runs, closes. */
export async function withStore<T>(
  io: CliIo,
  flags: StoreFlags,
  run: (store: Store) => Promise<T>,
): Promise<T> {
  const config = loadConfig(io.env, storeOverrides(flags));
  const store = await openStore({
    dataDir: config.dataDir,
    ...(config.databaseUrl !== undefined && { databaseUrl: config.databaseUrl }),
  });
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

export interface KeyCreateFlags extends StoreFlags {
  name?: string;
  org?: string;
  scope?: string[];
}

/** `junction keys create`: the secret is printed once and stored only as a hash. */
export async function keysCreate(io: CliIo, flags: KeyCreateFlags): Promise<void> {
  if (!flags.name || flags.name.trim() === '')
    throw new CliError('--name is required: say which product the key is for');
  const scopes = (flags.scope ?? []).map(checkedScope);
  const created = await withStore(io, flags, (store) =>
    createApiKey(store, {
      name: flags.name!.trim(),
      ...(flags.org !== undefined && { organisationOds: flags.org }),
      ...(scopes.length > 0 && { scopes }),
    }),
  );
  printJson(io, created);
  io.stderr('The secret is shown only now: store it safely.\n');
}

function checkedScope(scope: string): ApiKeyScope {
  if ((API_KEY_SCOPES as readonly string[]).includes(scope)) return scope as ApiKeyScope;
  throw new CliError(`unknown scope '${scope}'; scopes are: ${API_KEY_SCOPES.join(', ')}`);
}

export async function keysRevoke(io: CliIo, id: string, flags: StoreFlags): Promise<void> {
  const found = await withStore(io, flags, (store) => revokeApiKey(store, id));
  if (!found) throw new CliError(`no API key with id ${id} (see \`junction keys list\`)`);
  io.stdout(`revoked ${id}\n`);
}

/** `junction keys list`: a table (JSON with --json), never a secret. */
export async function keysList(io: CliIo, flags: StoreFlags & { json?: boolean }): Promise<void> {
  const keys = await withStore(io, flags, (store) => listApiKeys(store));
  if (flags.json) {
    printJson(io, keys);
    return;
  }
  if (keys.length === 0) {
    io.stdout('no API keys; `junction keys create --name <product>` makes one\n');
    return;
  }
  const rows = keys.map((k) => [
    k.id,
    k.name,
    k.organisationOds ?? '',
    k.prefix,
    k.createdAt,
    k.revokedAt ? `revoked ${k.revokedAt}` : 'active',
    scopesOf(k),
  ]);
  io.stdout(`${table(['id', 'name', 'org', 'prefix', 'created', 'status', 'scopes'], rows).join('\n')}\n`);
}

/** A key's scopes for a table: every scope the hub knows is "all (21)", the demo key's; else the list. */
function scopesOf(key: ApiKeyInfo): string {
  const all = API_KEY_SCOPES.every((scope) => key.scopes.includes(scope));
  return all ? `all (${key.scopes.length})` : key.scopes.join(', ');
}

export interface AuditVerifyFlags extends StoreFlags {
  checkpoint?: string;
  publicKey?: string;
}

/**
 * `junction audit verify`: exit code 0 when the chain is whole, 1 naming the first broken record.
 * With `--checkpoint`, the chain must also still hold that signed checkpoint (see auditCheckpoint).
 */
export async function auditVerify(io: CliIo, flags: AuditVerifyFlags): Promise<number> {
  if (flags.checkpoint === undefined) {
    const result = await withStore(io, flags, (store) => verifyAuditChain(store));
    if (result.ok) {
      io.stdout(`audit chain verified: ${result.count} record(s), no edits or gaps\n`);
      return 0;
    }
    return reportBroken(io, result);
  }
  const jws = await readText(flags.checkpoint, 'checkpoint');
  const publicKey = auditCheckpointPublicKey(
    await readText(checkpointPublicKeyPath(io, flags), 'public key'),
  );
  const result = await withStore(io, flags, (store) =>
    checkpointErrors(() => verifyAuditCheckpoint(store, jws, publicKey)),
  );
  if (result.ok) {
    io.stdout(
      `audit chain verified: ${result.count} record(s), no edits or gaps; it holds the checkpoint of ${result.checkpoint.at} (record ${result.checkpoint.seq})\n`,
    );
    return 0;
  }
  return reportBroken(io, result);
}

function reportBroken(
  io: CliIo,
  result: { count: number; firstBroken: { id: string | number; reason: string } },
) {
  io.stdout(
    `audit chain BROKEN at record ${result.firstBroken.id}: ${result.firstBroken.reason} (${result.count} record(s) checked)\n`,
  );
  return 1;
}

/** The public key: `--public-key`, else the public half of the checkpoint private key the config names. */
function checkpointPublicKeyPath(io: CliIo, flags: AuditVerifyFlags): string {
  if (flags.publicKey !== undefined) return flags.publicKey;
  const keyPath = loadConfig(io.env, storeOverrides(flags)).auditCheckpointKeyPath;
  if (keyPath === undefined)
    throw new CliError(
      '--public-key is required (or JUNCTION_AUDIT_CHECKPOINT_KEY on the machine that signs)',
    );
  return keyPath;
}

export interface AuditCheckpointFlags extends StoreFlags {
  key?: string;
  out?: string;
}

/**
 * `junction audit checkpoint`: signs the chain's head with a key kept outside the store, so a later
 * `audit verify --checkpoint` catches a rewrite the hash chain alone cannot (every hash recomputed
 * with the head row, or the tail cut and the head moved back). A missing key file is made (Ed25519,
 * 0600) with its public key beside it as `<key>.pub`.
 */
export async function auditCheckpoint(io: CliIo, flags: AuditCheckpointFlags): Promise<void> {
  const keyPath = flags.key ?? loadConfig(io.env, storeOverrides(flags)).auditCheckpointKeyPath;
  if (keyPath === undefined)
    throw new CliError('--key is required (or set JUNCTION_AUDIT_CHECKPOINT_KEY): a PEM private key file');
  const { privateKey, created } = await checkpointErrors(() =>
    loadAuditCheckpointKey(keyPath, { createIfMissing: true }),
  );
  if (created) io.stderr(`made a new checkpoint key ${keyPath}; give ${keyPath}.pub to whoever verifies\n`);
  const { jws, checkpoint } = await withStore(io, flags, (store) => createAuditCheckpoint(store, privateKey));
  if (flags.out === undefined) {
    io.stdout(`${jws}\n`);
    return;
  }
  await writeFile(flags.out, `${jws}\n`);
  io.stdout(
    `checkpoint of record ${checkpoint.seq} (${checkpoint.count} record(s)) written to ${flags.out}\n`,
  );
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

async function checkpointErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AuditCheckpointError) throw new CliError(error.message);
    throw error;
  }
}

export interface ProxyGrantFlags extends StoreFlags {
  proxy?: string;
  patient?: string;
  relationship?: string;
  access?: string[];
  from?: string;
  until?: string;
}

/**
 * `junction proxies grant`: records proxy access the GP practice has verified. `--until` is the
 * last day of access (the delegation ends at the start of the next day, UTC).
 */
export async function proxiesGrant(io: CliIo, flags: ProxyGrantFlags): Promise<void> {
  if (!flags.proxy) throw new CliError("--proxy is required: the proxy's NHS number");
  if (!flags.patient) throw new CliError("--patient is required: the patient's NHS number");
  if (!flags.relationship) {
    throw new CliError(`--relationship is required: one of ${PROXY_RELATIONSHIPS.join(', ')}`);
  }
  if (!(PROXY_RELATIONSHIPS as readonly string[]).includes(flags.relationship)) {
    throw new CliError(
      `unknown relationship '${flags.relationship}'; relationships are: ${PROXY_RELATIONSHIPS.join(', ')}`,
    );
  }
  const access = (flags.access ?? []).map(checkedAccess);
  const validFrom = flags.from === undefined ? undefined : dayStart(flags.from, '--from');
  const validUntil =
    flags.until === undefined ? undefined : new Date(dayStart(flags.until, '--until').getTime() + DAY_MS);
  const granted = await withStore(io, flags, (store) =>
    refusedPlainly(() =>
      grantProxyDelegation(store, {
        proxyNhsNumber: flags.proxy!,
        patientNhsNumber: flags.patient!,
        relationship: flags.relationship as ProxyRelationship,
        ...(access.length > 0 && { access }),
        ...(validFrom && { validFrom }),
        ...(validUntil && { validUntil }),
        createdBy: 'cli',
      }),
    ),
  );
  printJson(io, granted);
}

export async function proxiesRevoke(io: CliIo, id: string, flags: StoreFlags): Promise<void> {
  const found = await withStore(io, flags, (store) => revokeProxyDelegation(store, id, { revokedBy: 'cli' }));
  if (!found) throw new CliError(`no proxy delegation with id ${id} (see \`junction proxies list\`)`);
  io.stdout(`revoked ${id}\n`);
}

/** `junction proxies list`: a table (JSON with --json), revoked and expired delegations included. */
export async function proxiesList(
  io: CliIo,
  flags: StoreFlags & { patient?: string; proxy?: string; json?: boolean },
): Promise<void> {
  const filter = {
    ...(flags.patient !== undefined && { patientNhsNumber: flags.patient }),
    ...(flags.proxy !== undefined && { proxyNhsNumber: flags.proxy }),
  };
  const delegations = await withStore(io, flags, (store) =>
    refusedPlainly(() => listProxyDelegations(store, filter)),
  );
  if (flags.json) {
    printJson(io, delegations);
    return;
  }
  if (delegations.length === 0) {
    io.stdout('no proxy delegations\n');
    return;
  }
  const now = new Date().toISOString();
  const rows = delegations.map((d) => [
    d.id,
    d.proxyNhsNumber,
    d.patientNhsNumber,
    d.relationship,
    statusOf(d, now),
    d.validFrom,
    d.validUntil ?? '',
    d.access.join(', '),
  ]);
  io.stdout(
    `${table(['id', 'proxy', 'patient', 'relationship', 'status', 'from', 'until', 'access'], rows).join('\n')}\n`,
  );
}

/** Whether a delegation lets the proxy act now, as the policy reads it (revoked, not yet, ended). */
function statusOf(d: ProxyDelegationInfo, now: string): string {
  if (d.revokedAt) return `revoked ${d.revokedAt}`;
  if (d.validFrom > now) return 'not yet';
  if (d.validUntil !== null && d.validUntil <= now) return 'ended';
  return 'active';
}

const DAY_MS = 86_400_000;

function checkedAccess(kind: string): ProxyAccess {
  if ((PROXY_ACCESS_KINDS as readonly string[]).includes(kind)) return kind as ProxyAccess;
  throw new CliError(`unknown access '${kind}'; access kinds are: ${PROXY_ACCESS_KINDS.join(', ')}`);
}

/** Midnight UTC of a `YYYY-MM-DD` date, refusing anything else (including 2025-02-30). */
function dayStart(value: string, flag: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00.000Z`) : undefined;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new CliError(`${flag} must be a date YYYY-MM-DD, not '${value}'`);
  }
  return date;
}

async function refusedPlainly<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ProxyDelegationError) throw new CliError(error.message);
    throw error;
  }
}
