import type { HubConfig } from '@junction/hub';

/** The flags of every command that uses the hub's store, so instances can run side by side. */
export interface StoreFlags {
  /** Folder of the embedded SQLite database (default `./data`). */
  dataDir?: string;
  /** `postgres://…` to use PostgreSQL instead of SQLite. */
  databaseUrl?: string;
}

/** The hub config fields the store flags set; flags win over JUNCTION_DATA_DIR / JUNCTION_DATABASE_URL. */
export function storeOverrides(flags: StoreFlags): Partial<Pick<HubConfig, 'dataDir' | 'databaseUrl'>> {
  return {
    ...(flags.dataDir !== undefined && { dataDir: flags.dataDir }),
    ...(flags.databaseUrl !== undefined && { databaseUrl: flags.databaseUrl }),
  };
}
