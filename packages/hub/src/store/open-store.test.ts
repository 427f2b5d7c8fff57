import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from './open-store.js';

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('the SQLite store on disk', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'junction-open-store-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates the data folder 0700 and the database with its WAL files 0600 (owner-only)', async () => {
    const dataDir = join(root, 'nested', 'data');
    const store = await openStore({ dataDir });
    try {
      expect(await modeOf(join(root, 'nested'))).toBe(0o700);
      expect(await modeOf(dataDir)).toBe(0o700);
      expect(await modeOf(join(dataDir, 'junction.db'))).toBe(0o600);
      // Written by the migrations in WAL mode; SQLite gives them the database file's mode.
      expect(await modeOf(join(dataDir, 'junction.db-wal'))).toBe(0o600);
      expect(await modeOf(join(dataDir, 'junction.db-shm'))).toBe(0o600);
    } finally {
      await store.close();
    }
  });

  it('leaves an existing folder and database file with the modes their owner gave them', async () => {
    const dataDir = join(root, 'data');
    await mkdir(dataDir);
    await chmod(dataDir, 0o750);
    await (await openStore({ dataDir })).close();
    await chmod(join(dataDir, 'junction.db'), 0o640);
    const store = await openStore({ dataDir });
    await store.close();
    expect(await modeOf(dataDir)).toBe(0o750);
    expect(await modeOf(join(dataDir, 'junction.db'))).toBe(0o640);
  });

  it('creates a database named by a sqlite: URL owner-only too', async () => {
    const file = join(root, 'elsewhere.db');
    const store = await openStore({ databaseUrl: `sqlite:${file}` });
    await store.close();
    expect(await modeOf(file)).toBe(0o600);
  });
});
