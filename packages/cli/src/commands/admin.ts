import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  ADMIN_PASSWORD_MAX_LENGTH,
  ADMIN_PASSWORD_MIN_LENGTH,
  AdminAccountError,
  createAdminAccount,
  disableAdminAccount,
  listAdminAccounts,
} from '@junction/hub';
import { table } from '../format.js';
import { CliError, type CliIo, printJson } from '../io.js';
import type { StoreFlags } from '../store-flags.js';
import { withStore } from './store-commands.js';

/** What `junction admin create` needs of the terminal: stdin for `--password-file -`, a prompt otherwise. */
export interface AdminIo extends CliIo {
  stdin?: Readable;
  readLine?: (prompt: string) => Promise<string | undefined>;
  /** Reads without echo; `readLine` is used when absent. */
  readSecret?: (prompt: string) => Promise<string | undefined>;
}

export interface AdminCreateFlags extends StoreFlags {
  username?: string;
  /** A file whose first line is the password; `-` reads it from stdin. */
  passwordFile?: string;
}

/**
 * `junction admin create`: a hub admin account for the console. The password comes from
 * `--password-file` (a file, or `-` for stdin) or is typed at a prompt (twice); never from a flag,
 * which would leave it in the shell history and the process list.
 */
export async function adminCreate(io: AdminIo, flags: AdminCreateFlags): Promise<void> {
  if (!flags.username || flags.username.trim() === '') {
    throw new CliError('--username is required: the name the person signs in with');
  }
  const password = await passwordFrom(io, flags);
  const created = await withStore(io, flags, (store) =>
    plainly(() => createAdminAccount(store, { username: flags.username!, password, by: 'cli' })),
  );
  printJson(io, created);
}

/** `junction admin list`: a table (JSON with --json), never a password. */
export async function adminList(io: CliIo, flags: StoreFlags & { json?: boolean }): Promise<void> {
  const accounts = await withStore(io, flags, (store) => listAdminAccounts(store));
  if (flags.json) {
    printJson(io, accounts);
    return;
  }
  if (accounts.length === 0) {
    io.stdout('no admin accounts; `junction admin create --username <name>` makes one\n');
    return;
  }
  const rows = accounts.map((a) => [
    a.username,
    a.disabledAt ? `disabled ${a.disabledAt}` : 'active',
    a.createdAt,
    a.passwordChangedAt,
    a.lastSignInAt ?? 'never',
    a.id,
  ]);
  io.stdout(
    `${table(['username', 'status', 'created', 'password changed', 'last sign-in', 'id'], rows).join('\n')}\n`,
  );
}

/** `junction admin disable`: the account can no longer sign in and its sessions end now. */
export async function adminDisable(io: CliIo, username: string, flags: StoreFlags): Promise<void> {
  const found = await withStore(io, flags, (store) => disableAdminAccount(store, username, undefined, 'cli'));
  if (!found) throw new CliError(`no admin account '${username}' (see \`junction admin list\`)`);
  io.stdout(`disabled ${username.trim().toLowerCase()}\n`);
}

async function passwordFrom(io: AdminIo, flags: AdminCreateFlags): Promise<string> {
  let password: string | undefined;
  if (flags.passwordFile === '-') {
    if (!io.stdin) throw new CliError('no standard input to read the password from');
    password = firstLine(await readAll(io.stdin));
  } else if (flags.passwordFile !== undefined) {
    try {
      password = firstLine(await readFile(flags.passwordFile, 'utf8'));
    } catch (error) {
      throw new CliError(`cannot read --password-file ${flags.passwordFile}: ${(error as Error).message}`);
    }
  } else {
    const ask = io.readSecret ?? io.readLine;
    if (!ask) {
      throw new CliError('no terminal to ask for the password: use --password-file <file> (or - for stdin)');
    }
    password = await ask(`Password for ${flags.username} (${ADMIN_PASSWORD_MIN_LENGTH}+ characters): `);
    const again = await ask('The same password again: ');
    if (password !== undefined && again !== password) throw new CliError('the two passwords differ');
  }
  if (password === undefined || password === '') throw new CliError('no password given');
  const length = [...password.normalize('NFKC')].length;
  if (length < ADMIN_PASSWORD_MIN_LENGTH || length > ADMIN_PASSWORD_MAX_LENGTH) {
    throw new CliError(
      `a password is ${ADMIN_PASSWORD_MIN_LENGTH}–${ADMIN_PASSWORD_MAX_LENGTH} characters (this one is ${length})`,
    );
  }
  return password;
}

/** The first line without its line ending: what a password file holds (`echo … > file` adds a newline). */
function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? '';
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}

async function plainly<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AdminAccountError) throw new CliError(error.message);
    throw error;
  }
}
