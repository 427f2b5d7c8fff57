import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { sql, type Transaction } from 'kysely';
import {
  ConfigError,
  type ConfigSource,
  type DeepPartial,
  ENV_VARS,
  getPath,
  type HubConfig,
  type MeshMailboxConfig,
  type MeshTlsFiles,
  type NhsEnvironment,
  overlayConfig,
  publishedBaseUrls,
  setPath,
  sourceOf,
} from '../config/load-config.js';
import { environmentOf } from '../observability/upstream-services.js';
import type { Database, Store } from '../store/database.js';
import { SecretBox } from './secret-box.js';

/**
 * Settings changed in the console, laid over the hub's environment configuration.
 *
 * The environment (`JUNCTION_*`, `src/config`) stays the base and the one set of validation rules;
 * what a hub admin changes in the console is kept in the store (`hub_settings`) and laid over it
 * with {@link overlayConfig}, so a value set there is checked exactly as the variable would be.
 * Every instance reads the same rows: a change made on one is picked up by the others at their
 * next look (`start()`, every 5 s by default), and the hub rebuilds its NHS clients and MESH
 * schedule from the new configuration without a restart (`onChange`).
 *
 * What may be changed (the rest — keys, client ids, the NHS environment itself — stays in the
 * environment, where a deployment's secrets and its choice of live or test belong):
 * - the base URL of each NHS API the hub calls ({@link BASE_URL_SETTINGS});
 * - MESH mailboxes: add one, change one (its password and shared key are kept when not given
 *   again), stop using one of the environment's. Their secrets are sealed with
 *   `JUNCTION_SECRETS_KEY` ({@link SecretBox}); without that key mailboxes cannot be stored.
 * Removing a change (`reset`) gives the environment's value back.
 */

/** The NHS APIs whose base URL can be changed, with the config field and variable behind each. */
export const BASE_URL_SETTINGS = {
  pds: { field: 'pds.baseUrl', name: 'Personal Demographics Service (PDS FHIR API)' },
  'api-platform-auth': { field: 'apiPlatform.tokenUrl', name: 'NHS API platform token endpoint' },
  'nhs-login': { field: 'nhsLogin.issuer', name: 'NHS login' },
  cis2: { field: 'cis2.issuer', name: 'CIS2 Authentication' },
} as const;
export type BaseUrlService = keyof typeof BASE_URL_SETTINGS;

export function isBaseUrlService(value: string): value is BaseUrlService {
  return Object.hasOwn(BASE_URL_SETTINGS, value);
}

/** The base URL of an NHS API in a configuration. */
export function baseUrlOf(config: HubConfig, service: BaseUrlService): string {
  return readField(config, BASE_URL_SETTINGS[service].field);
}

/** A change refused: the value breaks a rule of the configuration (400), or cannot be kept (409). */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super(message);
  }
}

/** A mailbox as the console sends it; `password` / `sharedKey` omitted keep the current ones. */
export interface MailboxInput {
  baseUrl: string;
  password?: string;
  sharedKey?: string;
  pollIntervalMs?: number;
  workflows?: string[];
  inboxPageSize?: number;
  chunkSize?: number;
  tls?: MeshTlsFiles;
}

/** Who made a change, as the console shows it (the audit trail has the full record). */
export interface ChangedBy {
  by: string;
  at: string;
}

export type SettingSource = ConfigSource | 'console';

/** A stored mailbox: everything but its secrets in clear, the secrets sealed. */
interface StoredMailbox {
  mailbox: Omit<MeshMailboxConfig, 'password' | 'sharedKey' | 'tls'> & {
    tls?: Omit<MeshTlsFiles, 'passphrase'>;
  };
  /** JWE of {@link MailboxSecrets}. */
  secrets: string;
}
interface MailboxSecrets {
  password: string;
  sharedKey: string;
  tlsPassphrase?: string;
}
/** An environment mailbox the console stopped using. */
interface RemovedMailbox {
  removed: true;
}

interface SettingRow {
  name: string;
  value: unknown;
  changed: ChangedBy;
}

const BASE_URL_PREFIX = 'base-url.';
const MAILBOX_PREFIX = 'mesh.mailbox.';
const DEFAULT_REFRESH_MS = 5_000;

export interface HubSettingsOptions {
  store: Store;
  /** The configuration from the environment (and CLI flags). */
  base: HubConfig;
  now?: () => Date;
  /** Told when a stored setting cannot be used (the hub logs it; the console lists it). */
  onProblem?: (problem: string) => void;
}

export class HubSettings {
  readonly base: HubConfig;
  private readonly store: Store;
  private readonly now: () => Date;
  private readonly box: SecretBox | undefined;
  private readonly onProblem: (problem: string) => void;
  private config: HubConfig;
  private rows: SettingRow[] = [];
  /** What the stored rows lay over the environment (mailboxes opened): the base of a change's check. */
  private overlay: DeepPartial<HubConfig> = {};
  private problemList: string[] = [];
  private revision = -1;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<boolean> | undefined;
  private readonly listeners: ((config: HubConfig) => Promise<void>)[] = [];

  constructor(options: HubSettingsOptions) {
    this.store = options.store;
    this.base = options.base;
    this.config = options.base;
    this.now = options.now ?? (() => new Date());
    this.box = options.base.secretsKey === undefined ? undefined : new SecretBox(options.base.secretsKey);
    this.onProblem = options.onProblem ?? (() => {});
  }

  /** The configuration in force: the environment's with the console's changes over it. */
  get current(): HubConfig {
    return this.config;
  }

  /** Stored settings that cannot be used (a mailbox sealed with another key…), in plain words. */
  get problems(): readonly string[] {
    return this.problemList;
  }

  /** Whether mailbox secrets can be stored (`JUNCTION_SECRETS_KEY` is set). */
  get canStoreSecrets(): boolean {
    return this.box !== undefined;
  }

  /**
   * Calls `listener` with the new configuration after every change (this instance's or another's),
   * one change at a time; a change made here is answered only once its listeners have finished.
   */
  onChange(listener: (config: HubConfig) => Promise<void>): void {
    this.listeners.push(listener);
  }

  /** Looks again every `intervalMs` for changes made by any instance. */
  start(intervalMs = DEFAULT_REFRESH_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.onProblem(`settings could not be read: ${(error as Error).message}`),
      );
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Reads the store's settings if they changed since the last look (one small read otherwise) and
   * tells the `onChange` listeners. True when something changed.
   */
  refresh(): Promise<boolean> {
    // One look at a time: a slow store must not let two rebuild the clients at once.
    this.refreshing ??= this.look().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async look(): Promise<boolean> {
    const head = await this.store.db
      .selectFrom('hub_settings_head')
      .select('revision')
      .where('id', '=', 1)
      .executeTakeFirst();
    const revision = Number(head?.revision ?? 0);
    if (revision === this.revision) return false;
    const rows = await this.store.db.selectFrom('hub_settings').selectAll().orderBy('name').execute();
    this.rows = rows.map((r) => ({
      name: r.name,
      value: JSON.parse(r.value) as unknown,
      changed: { by: r.updated_by, at: r.updated_at },
    }));
    const problems: string[] = [];
    const overlay = await this.overlayOf(this.rows, problems);
    this.overlay = overlay;
    let config: HubConfig;
    try {
      config = overlayConfig(this.base, overlay);
    } catch (error) {
      // Only reachable if the rules changed under stored values: keep the environment's.
      problems.push(`the settings changed in the console break a rule and are not used: ${messageOf(error)}`);
      config = this.base;
    }
    for (const p of problems) if (!this.problemList.includes(p)) this.onProblem(p);
    this.problemList = problems;
    const first = this.revision === -1;
    this.revision = revision;
    this.config = config;
    if (first) return false;
    for (const listener of this.listeners) {
      try {
        await listener(config);
      } catch (error) {
        this.onProblem(`the hub could not apply the changed settings: ${(error as Error).message}`);
      }
    }
    return true;
  }

  /** The overlay the stored rows make (mailboxes that cannot be opened are left out, with a problem). */
  private async overlayOf(rows: SettingRow[], problems: string[]): Promise<DeepPartial<HubConfig>> {
    const overlay: Record<string, unknown> = {};
    for (const row of rows) {
      if (!row.name.startsWith(BASE_URL_PREFIX)) continue;
      const service = row.name.slice(BASE_URL_PREFIX.length);
      if (!isBaseUrlService(service)) continue;
      const { baseUrl } = row.value as { baseUrl: string };
      // Set when the hub ran in another environment (JUNCTION_NHS_ENVIRONMENT changed since).
      const mismatch = this.otherEnvironment(baseUrl);
      if (mismatch) {
        problems.push(
          `${BASE_URL_SETTINGS[service].name}: the URL set in the console is not used: ${mismatch}`,
        );
        continue;
      }
      setPath(overlay, BASE_URL_SETTINGS[service].field, baseUrl);
    }
    const mailboxRows = rows.filter((r) => r.name.startsWith(MAILBOX_PREFIX));
    if (mailboxRows.length > 0) {
      const byId = new Map<string, MeshMailboxConfig | RemovedMailbox>();
      for (const row of mailboxRows) {
        const id = row.name.slice(MAILBOX_PREFIX.length);
        const value = row.value as StoredMailbox | RemovedMailbox;
        if ('removed' in value) {
          byId.set(id, value);
          continue;
        }
        const opened = await this.openMailbox(value);
        if (opened) byId.set(id, opened);
        else {
          problems.push(
            `MESH mailbox ${id} was set in the console but its password cannot be read: ${
              this.box
                ? 'JUNCTION_SECRETS_KEY is not the key it was stored with'
                : 'JUNCTION_SECRETS_KEY is not set'
            }; ${this.base.mesh.mailboxes.some((m) => m.mailboxId === id) ? "the environment's settings are used" : 'it is not used'}`,
          );
        }
      }
      const list: MeshMailboxConfig[] = [];
      for (const m of this.base.mesh.mailboxes) {
        const over = byId.get(m.mailboxId);
        if (over === undefined) list.push(m);
        else if (!('removed' in over)) list.push(over);
        byId.delete(m.mailboxId);
      }
      for (const over of byId.values()) if (!('removed' in over)) list.push(over);
      overlay.mesh = { mailboxes: list };
    }
    return overlay as DeepPartial<HubConfig>;
  }

  private async openMailbox(stored: StoredMailbox): Promise<MeshMailboxConfig | undefined> {
    if (!this.box) return undefined;
    let secrets: MailboxSecrets;
    try {
      secrets = (await this.box.open(stored.secrets)) as MailboxSecrets;
    } catch {
      return undefined;
    }
    const out: MeshMailboxConfig = {
      ...stored.mailbox,
      password: secrets.password,
      sharedKey: secrets.sharedKey,
    } as MeshMailboxConfig;
    if (stored.mailbox.tls) {
      out.tls = { ...stored.mailbox.tls };
      if (secrets.tlsPassphrase !== undefined) out.tls.passphrase = secrets.tlsPassphrase;
    }
    return out;
  }

  // ---- what the console shows -------------------------------------------------------------------

  /** Where a base URL in force comes from, and who changed it in the console. */
  baseUrlSource(service: BaseUrlService): { source: SettingSource; changed?: ChangedBy } {
    const row = this.row(`${BASE_URL_PREFIX}${service}`);
    if (row) return { source: 'console', changed: row.changed };
    return {
      source: sourceOf(this.base.input, BASE_URL_SETTINGS[service].field),
    };
  }

  /**
   * The published base URL of a service in the hub's NHS environment (the local sandbox's for
   * `sandbox`): the one published choice, as the others are refused (see setBaseUrl).
   */
  publishedBaseUrls(service: BaseUrlService): Partial<Record<NhsEnvironment, string>> {
    const env = this.base.nhsEnvironment;
    return {
      [env]: readField(publishedBaseUrls(env, this.base.sandboxPort), BASE_URL_SETTINGS[service].field),
    };
  }

  /** The environment's variable behind a base URL. */
  static variableOf(service: BaseUrlService): string {
    const field = BASE_URL_SETTINGS[service].field;
    return Object.entries(ENV_VARS).find(([, f]) => f === field)?.[0] ?? field;
  }

  /** Where a mailbox in force comes from; and the environment's mailboxes the console stopped using. */
  mailboxSource(mailboxId: string): {
    source: SettingSource;
    changed?: ChangedBy;
    /** The environment (or start) has a mailbox of this id: resetting a console change gives it back. */
    inEnvironment: boolean;
  } {
    const row = this.row(`${MAILBOX_PREFIX}${mailboxId}`);
    const inEnvironment = this.base.mesh.mailboxes.some((m) => m.mailboxId === mailboxId);
    if (row) return { source: 'console', changed: row.changed, inEnvironment };
    return { source: sourceOf(this.base.input, 'mesh.mailboxes'), inEnvironment };
  }

  removedMailboxes(): { mailboxId: string; setting: string; changed: ChangedBy }[] {
    return this.rows
      .filter((r) => r.name.startsWith(MAILBOX_PREFIX) && 'removed' in (r.value as object))
      .map((r) => ({ mailboxId: r.name.slice(MAILBOX_PREFIX.length), setting: r.name, changed: r.changed }));
  }

  // ---- changes ----------------------------------------------------------------------------------

  /** Sets the base URL of an NHS API; checked by the configuration's rules first. */
  async setBaseUrl(service: BaseUrlService, baseUrl: string, by: string): Promise<void> {
    const name = `${BASE_URL_PREFIX}${service}`;
    const mismatch = this.otherEnvironment(baseUrl);
    if (mismatch) throw new SettingsError(mismatch);
    const candidate = structuredClone(this.overlay);
    setPath(candidate as Record<string, unknown>, BASE_URL_SETTINGS[service].field, baseUrl);
    const config = this.check(candidate, `${BASE_URL_SETTINGS[service].field}`, 'baseUrl');
    await this.write(name, { baseUrl: readField(config, BASE_URL_SETTINGS[service].field) }, by);
  }

  /**
   * Why `baseUrl` cannot be used, when it is a published host of another NHS environment than the
   * hub's: its API platform app and NHS login/CIS2 client ids are registered in one environment, so
   * every call would be refused, or test traffic sent to live. A proxy or test double is 'custom'.
   */
  private otherEnvironment(baseUrl: string): string | undefined {
    const environment = environmentOf(baseUrl, this.base);
    if (environment === 'custom' || environment === this.base.nhsEnvironment) return undefined;
    const hub = label(this.base.nhsEnvironment);
    return `${baseUrl} is in NHS ${label(environment)}, but this hub runs against ${hub} (JUNCTION_NHS_ENVIRONMENT), and its keys and client ids are registered there. To use ${label(environment)}, start the hub with JUNCTION_NHS_ENVIRONMENT=${environment} and that environment's keys.`;
  }

  /**
   * Adds a mailbox or changes one (the environment's or the console's). A password or shared key
   * not given is kept from the mailbox in force.
   */
  async putMailbox(mailboxId: string, input: MailboxInput, by: string): Promise<void> {
    if (!this.box) {
      throw new SettingsError(
        "Storing a MESH mailbox needs JUNCTION_SECRETS_KEY in the hub's environment (32 random bytes in base64, the same on every instance: openssl rand -base64 32), so its password is kept encrypted",
        409,
      );
    }
    const id = mailboxId.toUpperCase();
    const existing = this.config.mesh.mailboxes.find((m) => m.mailboxId === id);
    const password = input.password ?? existing?.password;
    const sharedKey = input.sharedKey ?? existing?.sharedKey;
    if (password === undefined || sharedKey === undefined) {
      throw new SettingsError('A new mailbox needs its password and the environment shared key');
    }
    const mailbox: Record<string, unknown> = {
      mailboxId: id,
      baseUrl: input.baseUrl,
      password,
      sharedKey,
      ...(input.pollIntervalMs !== undefined && { pollIntervalMs: input.pollIntervalMs }),
      ...(input.workflows !== undefined && input.workflows.length > 0 && { workflows: input.workflows }),
      ...(input.inboxPageSize !== undefined && { inboxPageSize: input.inboxPageSize }),
      ...(input.chunkSize !== undefined && { chunkSize: input.chunkSize }),
      ...(input.tls !== undefined && {
        tls: { ...input.tls, passphrase: input.tls.passphrase ?? existing?.tls?.passphrase },
      }),
    };
    const current = this.config.mesh.mailboxes;
    const list = current.some((m) => m.mailboxId === id)
      ? current.map((m) => (m.mailboxId === id ? mailbox : m))
      : [...current, mailbox];
    const overlay = { ...this.overlay, mesh: { mailboxes: list } };
    const config = this.check(overlay as DeepPartial<HubConfig>, 'mesh.mailboxes', '');
    const checked = config.mesh.mailboxes.find((m) => m.mailboxId === id) as MeshMailboxConfig;
    await readableTlsFiles(checked.tls);
    const { password: p, sharedKey: k, tls, ...clear } = checked;
    const secrets: MailboxSecrets = { password: p, sharedKey: k };
    const stored: StoredMailbox = { mailbox: clear, secrets: '' };
    if (tls) {
      const { passphrase, ...files } = tls;
      stored.mailbox.tls = files;
      if (passphrase !== undefined) secrets.tlsPassphrase = passphrase;
    }
    stored.secrets = await this.box.seal(secrets);
    await this.write(`${MAILBOX_PREFIX}${id}`, stored, by);
  }

  /** Stops using a mailbox: the console's is forgotten, the environment's is marked removed. */
  async removeMailbox(mailboxId: string, by: string): Promise<void> {
    const id = mailboxId.toUpperCase();
    if (!this.config.mesh.mailboxes.some((m) => m.mailboxId === id)) {
      throw new SettingsError(`No MESH mailbox ${id} is in use`, 404);
    }
    const name = `${MAILBOX_PREFIX}${id}`;
    if (this.base.mesh.mailboxes.some((m) => m.mailboxId === id))
      await this.write(name, { removed: true }, by);
    else await this.remove(name);
  }

  /**
   * Forgets a change made in the console (`base-url.pds`, `mesh.mailbox.X26ABC1`): the
   * environment's value is used again. False when there was no such change.
   */
  async reset(name: string): Promise<boolean> {
    // Nothing to check: what is left is a part of settings already checked, over the environment's.
    if (!this.row(name)) return false;
    await this.remove(name);
    return true;
  }

  /** The setting names a change can be reset by. */
  static baseUrlSetting(service: BaseUrlService): string {
    return `${BASE_URL_PREFIX}${service}`;
  }
  static mailboxSetting(mailboxId: string): string {
    return `${MAILBOX_PREFIX}${mailboxId.toUpperCase()}`;
  }

  private row(name: string): SettingRow | undefined {
    return this.rows.find((r) => r.name === name);
  }

  /**
   * The configuration an overlay makes, or a SettingsError in the request body's own terms: a
   * problem with the changed config path `field` is named `bodyName`; one with a part of it by the
   * rest of its path, less a list index (`mesh.mailboxes.1.pollIntervalMs` → `pollIntervalMs`).
   */
  private check(overlay: DeepPartial<HubConfig>, field: string, bodyName: string): HubConfig {
    try {
      return overlayConfig(this.base, overlay);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new SettingsError(
        error.issues
          .map((i) => {
            const rest =
              field !== '' && i.field.startsWith(field)
                ? i.field.slice(field.length).replace(/^\.\d+\.?/, '')
                : i.field;
            const name = rest === '' ? bodyName : rest;
            return name === '' ? i.message : `${name}: ${i.message}`;
          })
          .join('; '),
      );
    }
  }

  private async write(name: string, value: unknown, by: string): Promise<void> {
    const at = this.now().toISOString();
    const json = JSON.stringify(value);
    await this.change((trx) =>
      trx
        .insertInto('hub_settings')
        .values({ name, value: json, updated_at: at, updated_by: by })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value: json, updated_at: at, updated_by: by }))
        .execute(),
    );
  }

  private async remove(name: string): Promise<void> {
    await this.change((trx) => trx.deleteFrom('hub_settings').where('name', '=', name).execute());
  }

  /**
   * One change of `hub_settings` with the revision bumped in the same transaction (so every
   * instance sees it), then a look once the commit is in: a look begun before it may have read the
   * old revision.
   */
  private async change(write: (trx: Transaction<Database>) => Promise<unknown>): Promise<void> {
    await this.store.db.transaction().execute(async (trx) => {
      await write(trx);
      await trx
        .updateTable('hub_settings_head')
        .set({ revision: sql`revision + 1` as never })
        .where('id', '=', 1)
        .execute();
    });
    await this.refreshing?.catch(() => false);
    await this.refresh();
  }
}

/** A typo in a certificate path shows now, not at the next poll (the files must be on every instance). */
async function readableTlsFiles(tls: MeshTlsFiles | undefined): Promise<void> {
  if (!tls) return;
  for (const name of ['certPath', 'keyPath', 'caPath'] as const) {
    const path = tls[name];
    if (path === undefined) continue;
    try {
      await access(path, constants.R_OK);
    } catch {
      throw new SettingsError(`tls.${name}: the hub cannot read ${path} (a PEM file on the hub's machine)`);
    }
  }
}

function label(environment: NhsEnvironment): string {
  return environment === 'sandbox' ? 'sandbox' : environment.toUpperCase();
}

function messageOf(error: unknown): string {
  return error instanceof ConfigError ? error.problems.join('; ') : (error as Error).message;
}

/** A base URL field of a configuration (always a string there). */
function readField(config: object, field: string): string {
  return getPath(config, field) as string;
}
