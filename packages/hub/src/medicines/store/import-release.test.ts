import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DMD_2019 as OP_2019,
  DMD_2019_VPID_CHANGED as OP_2019_CHANGED,
  DMD_2021_WARDLE as WARDLE_2021,
} from '../../testing/reference.js';
import { type TestStore, testStores } from '../../testing/test-stores.js';
import { DMD_SCHEMAS, type DmdFileKind } from '../records.js';
import { parseDmdFileName } from '../release-files.js';
import { DmdImportError, importDmdRelease } from './import-release.js';
import { activeDmdRelease, DmdReader, listDmdReleases } from './read-dmd.js';
import { DMD_TABLES, tableOf } from './tables.js';

const quick = { retainPreviousMs: 0 };

/**
 * The oracle for "every record counted against the file": the number of record start tags in
 * each file, counted with a regular expression rather than the XML reader under test.
 */
async function countTagsIn(folder: string): Promise<Record<string, number>> {
  const want: Record<string, number> = {};
  const files = await readdir(folder, { recursive: true, withFileTypes: true });
  for (const f of files) {
    const parsed = f.isFile() ? parseDmdFileName(f.name) : undefined;
    if (!parsed) continue;
    const text = await readFile(join(f.parentPath, f.name), 'utf8');
    // Sections sharing a table share a tag (the 26 lookup lists' INFO): count each tag once.
    const tags = new Map<string, string>();
    for (const section of Object.keys(DMD_SCHEMAS[parsed.kind])) {
      tags.set(section.split('/').pop() as string, tableOf({ kind: parsed.kind, section } as never).name);
    }
    for (const [tag, table] of tags) {
      want[table] = (want[table] ?? 0) + (text.match(new RegExp(`<${tag}>`, 'g'))?.length ?? 0);
    }
  }
  return want;
}

/** A copy of a release folder with some files replaced or rewritten. */
async function variant(
  from: string,
  change: { replaceWith?: string; rewrite?: Partial<Record<DmdFileKind, (xml: string) => string>> },
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-dmd-variant-'));
  for (const name of await readdir(from)) {
    const parsed = parseDmdFileName(name);
    if (!parsed) continue;
    const replacement = change.replaceWith && join(change.replaceWith, name);
    const source = replacement && existsSync(replacement) ? replacement : join(from, name);
    const rewrite = change.rewrite?.[parsed.kind];
    if (rewrite) await writeFile(join(dir, name), rewrite(await readFile(source, 'utf8')));
    else await copyFile(source, join(dir, name));
  }
  return dir;
}

async function rowsOfRelease(t: TestStore, releaseId: number): Promise<number> {
  let n = 0;
  for (const table of DMD_TABLES) {
    const r = await sql<{
      n: number | string;
    }>`select count(*) as n from ${sql.table(table.name)} where release_id = ${releaseId}`.execute(
      t.store.db,
    );
    n += Number(r.rows[0]?.n ?? 0);
  }
  return n;
}

describe.each(await testStores())('dm+d import ($dialect)', (factory) => {
  let t: TestStore;
  const temp: string[] = [];
  beforeAll(async () => {
    if (factory.skip) return;
    t = await factory.create();
  });
  afterAll(async () => {
    await t?.cleanup();
    for (const d of temp) await rm(d, { recursive: true, force: true });
  });
  const itDb = factory.skip ? it.skip : it;

  itDb(
    'imports the 2019 sample release completely: every record of every file, counted against the file',
    async () => {
      const summary = await importDmdRelease(t.store, OP_2019, quick);
      const want = await countTagsIn(OP_2019);
      for (const table of DMD_TABLES)
        expect([table.name, summary.tables[table.name]]).toEqual([table.name, want[table.name] ?? 0]);
      expect(summary.tables.dmd_vtm).toBe(2859); // NOTES §1.5: the full April 2019 VTM file
      expect(summary.tables.dmd_ingredient).toBe(3482);
      expect(summary.releaseDate).toBe('2019-04-01');
      expect(summary.warnings).toEqual([]);
      const active = await activeDmdRelease(t.store);
      expect(active?.id).toBe(summary.releaseId);
      expect(active?.summary?.tables).toEqual(summary.tables);
    },
  );

  itDb('reads a VMP back with every relationship, ids as strings and flags as booleans', async () => {
    const release = await activeDmdRelease(t.store);
    const reader = new DmdReader(t.store, release?.id ?? 0);
    const found = await reader.concept('22480211000001104');
    expect(found?.matchedBy).toBe('id');
    const detail = found?.detail;
    if (detail?.type !== 'VMP') throw new Error('expected a VMP');
    expect(detail.vmp.NM).toBe('Diclofenac 2.32% gel');
    expect(detail.vmp.VPID).toBe('22480211000001104');
    expect(typeof detail.vmp.SUG_F).toBe('boolean');
    expect(detail.vtm?.NM).toMatch(/Diclofenac/);
    expect(detail.ingredients.length).toBeGreaterThan(0);
    expect(detail.ingredients[0]?.ingredient?.NM).toMatch(/Diclofenac/i);
    const children = await reader.children(detail);
    expect(children.filter((c) => c.type === 'AMP').map((c) => c.name)).toContain(
      'Voltarol 12 Hour Emulgel P 2.32% gel',
    );
    expect(children.filter((c) => c.type === 'VMPP')).toHaveLength(3);
    const lookup = await reader.lookup();
    expect(lookup('CONTROL_DRUG_CATEGORY', '0000')).toBe('No Controlled Drug Status');
  });

  itDb('finds a pack by a GTIN and walks up to its product', async () => {
    const release = await activeDmdRelease(t.store);
    const reader = new DmdReader(t.store, release?.id ?? 0);
    const xml = await readFile(join(OP_2019, 'f_gtin2_0010419.xml'), 'utf8');
    const gtin = /<GTIN>(\d+)<\/GTIN>/.exec(xml)?.[1] as string;
    const amppid = /<AMPPID>(\d+)<\/AMPPID>/.exec(xml)?.[1] as string;
    const found = await reader.concept(gtin);
    expect(found?.matchedBy).toBe('gtin');
    expect(found?.detail.type).toBe('AMPP');
    if (found?.detail.type !== 'AMPP') return;
    expect(found.detail.ampp.APPID).toBe(amppid);
    expect(found.detail.gtins.map((g) => g.GTIN)).toContain(gtin);
    const parents = await reader.parents(found.detail);
    expect(parents.map((p) => p.type)).toEqual(['AMP', 'VMPP']);
  });

  itDb(
    'a release whose VPID changed replaces the old one, and the old id still resolves to the new product',
    async () => {
      const first = await activeDmdRelease(t.store);
      const changed = await variant(OP_2019, { replaceWith: OP_2019_CHANGED });
      temp.push(changed);
      const summary = await importDmdRelease(t.store, changed, quick);
      expect(summary.replaced).toBe(first?.id);
      const reader = new DmdReader(t.store, summary.releaseId);
      const found = await reader.concept('22480211000001104');
      expect(found?.matchedBy).toBe('previous-id');
      expect(found?.detail.type === 'VMP' && found.detail.vmp.VPID).toBe('12345');
      expect(found?.detail.type === 'VMP' && found.detail.vmp.VPIDPREV).toBe('22480211000001104');
      // The AMPs now hang off the new id.
      if (found?.detail.type !== 'VMP') return;
      expect((await reader.children(found.detail)).filter((c) => c.type === 'AMP')).toHaveLength(3);
      // The superseded release keeps its history row but not its rows.
      const releases = await listDmdReleases(t.store);
      expect(releases.find((r) => r.id === first?.id)?.status).toBe('superseded');
      expect(await rowsOfRelease(t, first?.id ?? 0)).toBe(0);
    },
  );

  itDb('imports the 2021 sample with its BNF, historic codes and VTM ingredients files', async () => {
    const summary = await importDmdRelease(t.store, WARDLE_2021, quick);
    const want = await countTagsIn(WARDLE_2021);
    for (const table of DMD_TABLES)
      expect([table.name, summary.tables[table.name]]).toEqual([table.name, want[table.name] ?? 0]);
    expect(summary.tables.dmd_history).toBeGreaterThan(0);
    expect(summary.tables.dmd_bnf_vmp).toBeGreaterThan(0);
    expect(summary.tables.dmd_vtm_ingredient).toBeGreaterThan(0);
    // HISTORIC_CODES: an old VMP id resolves to the current one.
    const history = await readFile(join(WARDLE_2021, 'HISTORIC_CODES/f_history1_0260821.xml'), 'utf8');
    const vmps = /<VMPS>([\s\S]*?)<\/VMPS>/.exec(history)?.[1] ?? '';
    const m = /<IDCURRENT>(\d+)<\/IDCURRENT><IDPREVIOUS>(\d+)<\/IDPREVIOUS>/.exec(vmps);
    const [current, previous] = [m?.[1] as string, m?.[2] as string];
    const reader = new DmdReader(t.store, summary.releaseId);
    const found = await reader.concept(previous);
    if (found) {
      expect(found.matchedBy).toBe('previous-id');
      expect(found.detail.type === 'VMP' && found.detail.vmp.VPID).toBe(current);
    } else {
      // The sample's VMP file need not hold every VMP the history file names.
      const vmpFile = await readFile(join(WARDLE_2021, 'f_vmp2_3260821.xml'), 'utf8');
      expect(vmpFile).not.toContain(`<VPID>${current}</VPID>`);
    }
  });

  describe('a failed import changes nothing', () => {
    async function expectUnchanged(before: { id: number; rows: number }): Promise<void> {
      const active = await activeDmdRelease(t.store);
      expect(active?.id).toBe(before.id);
      expect(await rowsOfRelease(t, before.id)).toBe(before.rows);
      const releases = await listDmdReleases(t.store);
      const failed = releases[0];
      expect(failed?.status).toBe('failed');
      expect(await rowsOfRelease(t, failed?.id ?? 0)).toBe(0);
    }
    async function snapshot(): Promise<{ id: number; rows: number }> {
      const active = await activeDmdRelease(t.store);
      if (!active) throw new Error('no active release');
      return { id: active.id, rows: await rowsOfRelease(t, active.id) };
    }

    itDb('malformed XML: the error names the file and the line', async () => {
      const before = await snapshot();
      const broken = await variant(OP_2019, {
        rewrite: { amp: (xml) => xml.replace(/<\/NM>/, '</NAME>') },
      });
      temp.push(broken);
      const line =
        (await readFile(join(broken, 'f_amp2_3010419.xml'), 'utf8'))
          .split('\n')
          .findIndex((l) => l.includes('</NAME>')) + 1;
      const error = await importDmdRelease(t.store, broken, quick).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DmdImportError);
      expect((error as DmdImportError).at).toMatchObject({ file: 'f_amp2_3010419.xml', line });
      expect((error as Error).message).toContain(`f_amp2_3010419.xml:${line}`);
      await expectUnchanged(before);
    });

    itDb('hostile XML (an external entity) is refused before it is expanded', async () => {
      const before = await snapshot();
      const hostile = await variant(OP_2019, {
        rewrite: {
          vmp: (xml) =>
            xml.replace(
              /<VIRTUAL_MED_PRODUCTS/,
              '<!DOCTYPE VIRTUAL_MED_PRODUCTS [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<VIRTUAL_MED_PRODUCTS',
            ),
        },
      });
      temp.push(hostile);
      const error = await importDmdRelease(t.store, hostile, quick).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DmdImportError);
      expect((error as DmdImportError).at?.file).toBe('f_vmp2_3010419.xml');
      expect((error as Error).message).toMatch(/DOCTYPE/);
      await expectUnchanged(before);
    });

    itDb('a billion-laughs entity bomb is refused', async () => {
      const before = await snapshot();
      const lol =
        '<!DOCTYPE LOOKUP [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>';
      const bomb = await variant(OP_2019, {
        rewrite: {
          lookup: (xml) =>
            xml.replace(/<LOOKUP/, `${lol}<LOOKUP`).replace(/<DESC>[^<]*<\/DESC>/, '<DESC>&c;</DESC>'),
        },
      });
      temp.push(bomb);
      const error = await importDmdRelease(t.store, bomb, quick).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DmdImportError);
      expect((error as DmdImportError).at?.file).toBe('f_lookup2_3010419.xml');
      await expectUnchanged(before);
    });

    itDb('a record that breaks the XSD (a VMP without its name) is refused with its line', async () => {
      const before = await snapshot();
      const invalid = await variant(OP_2019, {
        rewrite: { vmp: (xml) => xml.replace(/<NM>[^<]*<\/NM>/, '') },
      });
      temp.push(invalid);
      const error = await importDmdRelease(t.store, invalid, quick).catch((e: unknown) => e);
      expect((error as DmdImportError).at?.file).toBe('f_vmp2_3010419.xml');
      expect((error as Error).message).toMatch(/lacks mandatory <NM>/);
      await expectUnchanged(before);
    });

    itDb('a duplicated id is refused with the line of the second one', async () => {
      const before = await snapshot();
      const dup = await variant(OP_2019, {
        rewrite: { vtm: (xml) => xml.replace(/(<VTM>[\s\S]*?<\/VTM>)/, '$1\n$1') },
      });
      temp.push(dup);
      const error = await importDmdRelease(t.store, dup, quick).catch((e: unknown) => e);
      expect((error as DmdImportError).at?.file).toBe('f_vtm2_3010419.xml');
      expect((error as Error).message).toMatch(/appears twice/);
      await expectUnchanged(before);
    });
  });

  itDb('a release without all its main files is refused before anything is written', async () => {
    const partial = await mkdtemp(join(tmpdir(), 'junction-dmd-partial-'));
    temp.push(partial);
    await copyFile(join(OP_2019, 'f_vtm2_3010419.xml'), join(partial, 'f_vtm2_3010419.xml'));
    const count = (await listDmdReleases(t.store, 1000)).length;
    await expect(importDmdRelease(t.store, partial, quick)).rejects.toThrow(
      /lacks its lookup, ingredient, vmp/,
    );
    expect((await listDmdReleases(t.store, 1000)).length).toBe(count);
    await expect(importDmdRelease(t.store, join(partial, 'nothing-here'), quick)).rejects.toThrow(
      DmdImportError,
    );
  });

  itDb('refuses to start while another import is alive, and clears one that died', async () => {
    const now = new Date().toISOString();
    const max = await t.store.db
      .selectFrom('dmd_releases')
      .select((eb) => eb.fn.max('id').as('m'))
      .executeTakeFirst();
    const ghost = Number(max?.m ?? 0) + 1;
    await t.store.db
      .insertInto('dmd_releases')
      .values({ id: ghost, status: 'importing', source: 'elsewhere', started_at: now, heartbeat_at: now })
      .execute();
    await sql`insert into dmd_vtm (release_id, vtmid, invalid, nm) values (${ghost}, '1', 0, 'half-imported')`.execute(
      t.store.db,
    );
    await expect(importDmdRelease(t.store, OP_2019, quick)).rejects.toThrow(/another import is in progress/);
    // The same import, its heartbeat two minutes old: taken for dead, cleared, and replaced.
    await t.store.db
      .updateTable('dmd_releases')
      .set({ heartbeat_at: new Date(Date.now() - 120_000).toISOString() })
      .where('id', '=', ghost)
      .execute();
    const summary = await importDmdRelease(t.store, OP_2019, quick);
    const releases = await listDmdReleases(t.store, 1000);
    expect(releases.find((r) => r.id === ghost)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/interrupted/),
    });
    expect(await rowsOfRelease(t, ghost)).toBe(0);
    expect((await activeDmdRelease(t.store))?.id).toBe(summary.releaseId);
  });

  itDb('an aborted import leaves the previous release active', async () => {
    const before = await activeDmdRelease(t.store);
    const controller = new AbortController();
    const error = await importDmdRelease(t.store, OP_2019, {
      ...quick,
      batchRows: 100,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.kind === 'ingredient') controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DmdImportError);
    expect((await activeDmdRelease(t.store))?.id).toBe(before?.id);
  });

  itDb('reports progress by file and bytes', async () => {
    const seen: { file: string; done: number; total: number }[] = [];
    await importDmdRelease(t.store, OP_2019, {
      ...quick,
      progressIntervalMs: 0,
      onProgress: (p) => seen.push({ file: p.file, done: p.releaseBytesRead, total: p.releaseBytesTotal }),
    });
    const last = seen[seen.length - 1];
    expect(last?.done).toBe(last?.total);
    expect(new Set(seen.map((s) => s.file)).size).toBe(8);
    for (let i = 1; i < seen.length; i++) expect((seen[i]?.done ?? 0) >= (seen[i - 1]?.done ?? 0)).toBe(true);
  });

  itDb(
    'the live tables have exactly the columns of the XSD shapes (a schema change needs a migration)',
    async () => {
      for (const table of DMD_TABLES) {
        const r = await sql`select * from ${sql.table(table.name)} where 1 = 0`.execute(t.store.db);
        const want = [
          'release_id',
          ...(table.discriminator ? [table.discriminator.column] : []),
          ...table.columns.map((c) => c.name),
        ];
        if (t.store.dialect === 'postgres') {
          const cols = await sql<{
            column_name: string;
          }>`select column_name from information_schema.columns where table_name = ${table.name}`.execute(
            t.store.db,
          );
          expect(cols.rows.map((c) => c.column_name).sort()).toEqual([...want].sort());
        } else {
          const cols = await sql<{ name: string }>`select name from pragma_table_info(${table.name})`.execute(
            t.store.db,
          );
          expect(cols.rows.map((c) => c.name).sort()).toEqual([...want].sort());
        }
        expect(r.rows).toEqual([]);
      }
    },
  );
});

describe('dm+d tables', () => {
  it('every section of every file kind has a table', () => {
    for (const [kind, sections] of Object.entries(DMD_SCHEMAS)) {
      for (const section of Object.keys(sections)) {
        expect(tableOf({ kind, section } as never).sections).toContain(section);
      }
    }
  });
});
