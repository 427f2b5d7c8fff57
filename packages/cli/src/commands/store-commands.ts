import {
  API_KEY_SCOPES,
  type ApiKeyScope,
  createApiKey,
  listApiKeys,
  loadConfig,
  openStore,
  revokeApiKey,
  type Store,
  verifyAuditChain,
} from '@junction/hub';
import { CliError, type CliIo, printJson } from '../io.js';
import { type StoreFlags, storeOverrides } from '../store-flags.js';

/** Opens the hub's store where the hub itself would (flags, then JUNCTION_* variables), runs, closes. */
async function withStore<T>(io: CliIo, flags: StoreFlags, run: (store: Store) => Promise<T>): Promise<T> {
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

export async function keysList(io: CliIo, flags: StoreFlags): Promise<void> {
  printJson(io, await withStore(io, flags, (store) => listApiKeys(store)));
}

/** `junction audit verify`: exit code 0 when the chain is whole, 1 naming the first broken record. */
export async function auditVerify(io: CliIo, flags: StoreFlags): Promise<number> {
  const result = await withStore(io, flags, (store) => verifyAuditChain(store));
  if (result.ok) {
    io.stdout(`audit chain verified: ${result.count} record(s), no edits or gaps\n`);
    return 0;
  }
  io.stdout(
    `audit chain BROKEN at record ${result.firstBroken.id}: ${result.firstBroken.reason} (${result.count} record(s) checked)\n`,
  );
  return 1;
}
