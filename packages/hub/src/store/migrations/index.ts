import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import type { StoreDialect } from '../database.js';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-access.js';
import * as m0003 from './0003-proxy-delegations.js';
import * as m0004 from './0004-dmd.js';
import * as m0005 from './0005-jobs.js';
import * as m0006 from './0006-mesh.js';
import * as m0007 from './0007-submissions.js';
import * as m0008 from './0008-console-admin.js';
import * as m0009 from './0009-mesh-chunk-progress.js';
import * as m0010 from './0010-operations-stats.js';
import * as m0011 from './0011-hub-settings.js';
import * as m0012 from './0012-periodic-jobs.js';
import * as m0013 from './0013-clinician-names.js';
import * as m0014 from './0014-admin-sign-in-failures-by-address.js';

interface DialectMigration {
  up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void>;
  down?(db: Kysely<unknown>, dialect: StoreDialect): Promise<void>;
}

/** Every migration, in order. Names are never changed once released (they are recorded in the DB). */
const MIGRATIONS: Record<string, DialectMigration> = {
  '0001-initial': m0001,
  '0002-access': m0002,
  '0003-proxy-delegations': m0003,
  '0004-dmd': m0004,
  '0005-jobs': m0005,
  '0006-mesh': m0006,
  '0007-submissions': m0007,
  '0008-console-admin': m0008,
  '0009-mesh-chunk-progress': m0009,
  '0010-operations-stats': m0010,
  '0011-hub-settings': m0011,
  '0012-periodic-jobs': m0012,
  '0013-clinician-names': m0013,
  '0014-admin-sign-in-failures-by-address': m0014,
};

/**
 * The same migrations for both databases, as TypeScript modules imported statically (no
 * directory scanning, so they work from `src` under vitest and from `dist` alike). The rare
 * dialect-specific statement (triggers) branches on `dialect` inside the migration.
 */
export function migrationProvider(dialect: StoreDialect): MigrationProvider {
  return {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(MIGRATIONS)) {
        const migration: Migration = { up: (db) => m.up(db, dialect) };
        const down = m.down;
        if (down) migration.down = (db) => down(db, dialect);
        out[name] = migration;
      }
      return out;
    },
  };
}
