import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DMD_2019, DMD_2019_VPID_CHANGED, DMD_2021_WARDLE } from '../testing/reference.js';
import { readDmdFile } from './read-release.js';
import { DMD_SCHEMAS, type DmdFileKind, type DmdRecord, type DmdRow, type DmdSection } from './records.js';
import { type DmdRelease, DmdReleaseError, openDmdRelease, parseDmdFileName } from './release-files.js';
import { DmdFormatError } from './xml-reader.js';

// Real sample releases: reference/refdata/dmd/ (what each holds: reference/SOURCES.md).

async function readRelease(release: DmdRelease): Promise<Map<string, DmdRecord[]>> {
  const out = new Map<string, DmdRecord[]>();
  for (const file of release.files) {
    const records: DmdRecord[] = [];
    for await (const rec of readDmdFile(file)) records.push(rec);
    out.set(file.kind, records);
  }
  return out;
}

/** Independent count: occurrences of the record's start tag inside its section's element. */
function countInRaw(xml: string, section: string): number {
  const parts = section.split('/');
  const record = parts[parts.length - 1] as string;
  const tag = new RegExp(`<${record}[\\s>/]`, 'g');
  if (parts.length === 1) return xml.match(tag)?.length ?? 0;
  const wrapper = parts[0] as string;
  const block = new RegExp(`<${wrapper}>([\\s\\S]*?)</${wrapper}>`).exec(xml)?.[1] ?? '';
  return block.match(tag)?.length ?? 0;
}

async function rawFiles(dir: string): Promise<{ kind: string; path: string }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.flatMap((e) => {
    const parsed = e.isFile() ? parseDmdFileName(e.name) : undefined;
    return parsed ? [{ kind: parsed.kind, path: join(e.parentPath, e.name) }] : [];
  });
}

async function expectCountsMatchFiles(dir: string, read: Map<string, DmdRecord[]>): Promise<number> {
  const files = await rawFiles(dir);
  expect([...read.keys()].sort()).toEqual(files.map((f) => f.kind).sort());
  let total = 0;
  for (const { kind, path } of files) {
    const xml = await readFile(path, 'utf8');
    const records = read.get(kind) ?? [];
    const sections = Object.keys(DMD_SCHEMAS[kind as keyof typeof DMD_SCHEMAS]);
    const expected = Object.fromEntries(sections.map((s) => [s, countInRaw(xml, s)]));
    const got = Object.fromEntries(sections.map((s) => [s, records.filter((r) => r.section === s).length]));
    expect({ file: relative(dir, path), counts: got }).toEqual({
      file: relative(dir, path),
      counts: expected,
    });
    expect(records.length).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    total += records.length;
  }
  return total;
}

function find<K extends DmdFileKind, S extends DmdSection<K>>(
  read: Map<string, DmdRecord[]>,
  kind: K,
  section: S,
  pred: (row: DmdRow<K, S>) => boolean,
): DmdRow<K, S> | undefined {
  for (const rec of read.get(kind) ?? []) {
    if (rec.section !== section) continue;
    const row = rec.row as unknown as DmdRow<K, S>;
    if (pred(row)) return row;
  }
  return undefined;
}

describe('dm+d sample release openprescribing-2019-04-01 (folder)', () => {
  const dir = DMD_2019;
  let read: Map<string, DmdRecord[]>;
  beforeAll(async () => {
    const release = await openDmdRelease(dir);
    try {
      expect(release.missing).toEqual([]);
      expect(release.files.map((f) => f.kind)).toEqual([
        'lookup',
        'ingredient',
        'vtm',
        'vmp',
        'amp',
        'vmpp',
        'ampp',
        'gtin',
      ]);
      expect(new Set(release.files.map((f) => f.date))).toEqual(new Set(['2019-04-01']));
      read = await readRelease(release);
    } finally {
      await release.close();
    }
  });

  it('reads every record of every section, counted against the raw files', async () => {
    const total = await expectCountsMatchFiles(dir, read);
    expect(total).toBeGreaterThan(6000); // 2,859 VTMs + 3,482 ingredients + 3,000 lookup entries + products
    expect(read.get('vtm')).toHaveLength(2859);
    expect(read.get('lookup')).toHaveLength(3000);
  });

  it('keeps ids as strings, flags as booleans and prices as integer pence', () => {
    const quinine = find(read, 'vtm', 'VTM', (r) => r.VTMID === '47065008');
    expect(quinine).toMatchObject({ NM: 'Quinine', INVALID: true, ABBREVNM: null });
    const vmp = find(read, 'vmp', 'VMPS/VMP', (r) => r.VPID === '22480211000001104');
    expect(vmp).toMatchObject({
      NM: 'Diclofenac 2.32% gel',
      INVALID: false,
      PRES_STATCD: '0001',
      DF_INDCD: '2',
    });
    const price = find(
      read,
      'ampp',
      'MEDICINAL_PRODUCT_PRICE/PRICE_INFO',
      (r) => r.APPID === '1714711000001106',
    );
    expect(price).toEqual({
      APPID: '1714711000001106',
      PRICE: 485,
      PRICEDT: '2019-01-10',
      PRICE_PREV: 468,
      PRICE_BASISCD: '0001',
    });
    const prescrib = find(
      read,
      'ampp',
      'DRUG_PRODUCT_PRESCRIB_INFO/PRESCRIB_INFO',
      (r) => r.APPID === '1714711000001106',
    );
    expect(prescrib).toMatchObject({ ACBS: true, SCHED_2: false, NURSE_F: false });
    const supplier = find(read, 'lookup', 'SUPPLIER/INFO', (r) => r.CD === '3515901000001102');
    expect(supplier?.DESC).toBe('Cow & Gate Ltd');
    const gtins = read.get('gtin') ?? [];
    expect(gtins.every((g) => g.kind === 'gtin' && /^\d{13,14}$/.test(g.row.GTIN))).toBe(true);
  });

  it('reads the same release from the NHSBSA zip (GTIN in a nested zip) with the same records', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'junction-dmd-test-'));
    try {
      const files = await rawFiles(dir);
      const gtin = files.find((f) => f.kind === 'gtin');
      const inner = zip([
        { name: `${relative(dir, gtin?.path ?? '')}`, data: await readFile(gtin?.path ?? '') },
      ]);
      const outer: { name: string; data: Buffer }[] = [
        { name: 'nhsbsa_dmd_4.0.1_20190401000001/vtm_v2_3.xsd', data: Buffer.from('<xs:schema/>') },
      ];
      for (const f of files)
        if (f !== gtin)
          outer.push({
            name: `nhsbsa_dmd_4.0.1_20190401000001/${relative(dir, f.path)}`,
            data: await readFile(f.path),
          });
      outer.push({ name: 'nhsbsa_dmd_4.0.1_20190401000001/week142019-r2_3-GTIN.zip', data: inner });
      const zipPath = join(tmp, 'nhsbsa_dmd_4.0.1_20190401000001.zip');
      await writeFile(zipPath, zip(outer));

      const release = await openDmdRelease(zipPath);
      let fromZip: Map<string, DmdRecord[]>;
      try {
        expect(release.missing).toEqual([]);
        expect(release.files.find((f) => f.kind === 'gtin')?.name).toBe(
          'nhsbsa_dmd_4.0.1_20190401000001.zip!/nhsbsa_dmd_4.0.1_20190401000001/week142019-r2_3-GTIN.zip!/f_gtin2_0010419.xml',
        );
        fromZip = await readRelease(release);
      } finally {
        await release.close();
      }
      const strip = (m: Map<string, DmdRecord[]>) =>
        Object.fromEntries(
          [...m].map(([k, rs]) => [k, rs.map((r) => ({ section: r.section, line: r.line, row: r.row }))]),
        );
      expect(strip(fromZip)).toEqual(strip(read));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('dm+d sample release wardle-dmd-2021-08-26 (with bonus files)', () => {
  const dir = DMD_2021_WARDLE;
  let read: Map<string, DmdRecord[]>;
  beforeAll(async () => {
    const release = await openDmdRelease(dir);
    try {
      read = await readRelease(release);
    } finally {
      await release.close();
    }
  });

  it('reads every record of every file incl. BNF, history and VTM ingredients', async () => {
    await expectCountsMatchFiles(dir, read);
    expect([...read.keys()]).toEqual([
      'lookup',
      'ingredient',
      'vtm',
      'vmp',
      'amp',
      'vmpp',
      'ampp',
      'gtin',
      'bnf',
      'history',
      'vtm_ing',
    ]);
  });

  it('types known records', () => {
    const amp = find(read, 'amp', 'AMPS/AMP', (r) => r.APID === '37365811000001102');
    expect(amp).toMatchObject({
      VPID: '318136009',
      DESC: 'Co-amilofruse 5mg/40mg tablets (Mawdsley-Brooks & Company Ltd)',
      SUPPCD: '15125811000001100',
      PARALLEL_IMPORT: true, // written as 0001 in this file: presence is what counts
      EMA: false,
    });
    expect(find(read, 'bnf', 'VMPS/VMP', (r) => r.VPID === '318136009')).toEqual({
      VPID: '318136009',
      BNF: '02020400',
      ATC: 'C03EB01',
      DDD: 240,
      DDD_UOMCD: '258684004',
    });
    expect(find(read, 'history', 'VTMS/VTM', (r) => r.IDPREVIOUS === '354303007')).toEqual({
      IDCURRENT: '34186711000001102',
      IDPREVIOUS: '354303007',
      STARTDT: '2004-12-01',
      ENDDT: '2017-03-09',
    });
    const gtins = (read.get('gtin') ?? []).map((r) => r.row);
    expect(gtins).toContainEqual({
      AMPPID: '37365911000001107',
      GTIN: '5012617019844',
      STARTDT: '2015-06-01',
      ENDDT: '2019-03-12',
    });
  });
});

describe('dm+d sample openprescribing-2019-04-01-vpid-changed', () => {
  it('keeps the previous VPID of a product whose id changed', async () => {
    const dir = DMD_2019_VPID_CHANGED;
    const release = await openDmdRelease(dir);
    let read: Map<string, DmdRecord[]>;
    try {
      expect(release.missing).toEqual(['lookup', 'ingredient', 'vtm', 'ampp', 'gtin']);
      read = await readRelease(release);
    } finally {
      await release.close();
    }
    await expectCountsMatchFiles(dir, read);
    expect(find(read, 'vmp', 'VMPS/VMP', (r) => r.VPIDPREV === '22480211000001104')).toMatchObject({
      VPID: '12345',
      NM: 'Diclofenac 2.32% gel',
      NMPREV: 'Diclofenac 2% gel',
      NMCHANGECD: '0004',
    });
    // AMPs and VMPPs of the changed VMP already point at the new id.
    expect(find(read, 'amp', 'AMPS/AMP', (r) => r.VPID === '12345')).toBeDefined();
  });
});

describe('dm+d release errors name the file and line', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'junction-dmd-test-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('a record missing a mandatory element', async () => {
    const dir = join(tmp, 'missing');
    await mkdir(dir);
    await writeFile(
      join(dir, 'f_vtm2_3010419.xml'),
      '<?xml version="1.0"?>\n<VIRTUAL_THERAPEUTIC_MOIETIES>\n<VTM><VTMID>1</VTMID><NM>a</NM></VTM>\n<VTM>\n<VTMID>2</VTMID></VTM>\n</VIRTUAL_THERAPEUTIC_MOIETIES>',
    );
    const release = await openDmdRelease(dir);
    try {
      const file = release.files[0];
      if (!file) throw new Error('no file');
      const rows: unknown[] = [];
      const err = await (async () => {
        for await (const r of readDmdFile(file)) rows.push(r);
      })().catch((e: unknown) => e);
      expect(rows).toHaveLength(1);
      expect(err).toBeInstanceOf(DmdFormatError);
      expect((err as DmdFormatError).message).toBe('f_vtm2_3010419.xml:4: <VTM> lacks mandatory <NM>');
    } finally {
      await release.close();
    }
  });

  it('finds the GTIN file of an unpacked folder still in its nested zip', async () => {
    const dir = join(tmp, 'unpacked');
    await mkdir(dir);
    const vtm =
      '<VIRTUAL_THERAPEUTIC_MOIETIES><VTM><VTMID>1</VTMID><NM>a</NM></VTM></VIRTUAL_THERAPEUTIC_MOIETIES>';
    const gtin =
      '<GTIN_DETAILS><AMPPS><AMPP><AMPPID>9</AMPPID><GTINDATA><GTIN>5012617019844</GTIN><STARTDT>2015-06-01</STARTDT></GTINDATA></AMPP></AMPPS></GTIN_DETAILS>';
    await writeFile(join(dir, 'f_vtm2_3010419.xml'), vtm);
    await writeFile(join(dir, 'f_vtm2_3010419.xsd'), '<xs:schema/>');
    await writeFile(
      join(dir, 'week142019-r2_3-GTIN.zip'),
      zip([{ name: 'f_gtin2_0010419.xml', data: Buffer.from(gtin) }]),
    );
    const release = await openDmdRelease(dir);
    try {
      expect(release.files.map((f) => [f.kind, f.name, f.date])).toEqual([
        ['vtm', 'f_vtm2_3010419.xml', '2019-04-01'],
        ['gtin', 'week142019-r2_3-GTIN.zip!/f_gtin2_0010419.xml', '2019-04-01'],
      ]);
      const gtinFile = release.files[1];
      if (!gtinFile) throw new Error('no gtin file');
      const rows = [];
      for await (const r of readDmdFile(gtinFile)) rows.push(r.row);
      expect(rows).toEqual([{ AMPPID: '9', GTIN: '5012617019844', STARTDT: '2015-06-01', ENDDT: null }]);
    } finally {
      await release.close();
    }
  });

  it('refuses a release with two files of one kind', async () => {
    const dir = join(tmp, 'twice');
    await mkdir(join(dir, 'old'), { recursive: true });
    await writeFile(join(dir, 'f_vtm2_3010419.xml'), '<VIRTUAL_THERAPEUTIC_MOIETIES/>');
    await writeFile(join(dir, 'old', 'f_vtm2_3250319.xml'), '<VIRTUAL_THERAPEUTIC_MOIETIES/>');
    await expect(openDmdRelease(dir)).rejects.toThrow(/^dm\+d release .*twice: two vtm files: /);
  });

  it('refuses a file that is not a zip, and a path that does not exist', async () => {
    const notZip = join(tmp, 'not-a-zip.zip');
    await writeFile(notZip, 'hello');
    await expect(openDmdRelease(notZip)).rejects.toThrow(DmdReleaseError);
    await expect(openDmdRelease(notZip)).rejects.toThrow(/^dm\+d release .*not-a-zip\.zip: /);
    await expect(openDmdRelease(join(tmp, 'nowhere'))).rejects.toThrow(/^dm\+d release .*nowhere: .*ENOENT/);
  });

  it('a corrupt zip entry (fewer bytes than its header says)', async () => {
    const zipPath = join(tmp, 'corrupt.zip');
    const xml = Buffer.from(
      '<VIRTUAL_THERAPEUTIC_MOIETIES>\n<VTM><VTMID>1</VTMID><NM>a</NM></VTM>\n</VIRTUAL_THERAPEUTIC_MOIETIES>',
    );
    await writeFile(zipPath, zip([{ name: 'f_vtm2_3010419.xml', data: xml, declaredSize: xml.length + 10 }]));
    const release = await openDmdRelease(zipPath);
    try {
      const file = release.files[0];
      if (!file) throw new Error('no file');
      const err = await (async () => {
        for await (const _ of readDmdFile(file)) {
          // drain
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DmdFormatError);
      expect((err as DmdFormatError).message).toMatch(
        /^corrupt\.zip!\/f_vtm2_3010419\.xml:3:\d+: could not read the file: /,
      );
    } finally {
      await release.close();
    }
  });

  it('a hostile file inside a zip', async () => {
    const zipPath = join(tmp, 'hostile.zip');
    const xml =
      '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<LOOKUP>&e;</LOOKUP>';
    await writeFile(zipPath, zip([{ name: 'f_lookup2_3010419.xml', data: Buffer.from(xml) }]));
    const release = await openDmdRelease(zipPath);
    try {
      const file = release.files[0];
      if (!file) throw new Error('no file');
      await expect(readDmdFile(file).next()).rejects.toThrow(
        /^hostile\.zip!\/f_lookup2_3010419\.xml:2:\d+: DOCTYPE is not allowed/,
      );
    } finally {
      await release.close();
    }
  });
});

/** A minimal zip writer (deflate, no zip64) so the test needs no zip library. */
function zip(entries: { name: string; data: Buffer; declaredSize?: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data, declaredSize = data.length } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const packed = deflateRawSync(data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(declaredSize, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(declaredSize, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
