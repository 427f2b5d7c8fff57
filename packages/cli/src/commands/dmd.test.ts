import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDmdRelease } from '@junction/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DMD_2019 as SAMPLE } from '../../../hub/src/testing/reference.js';
import { runCli } from '../program.js';
import { type TestRuntime, testRuntime } from '../test-runtime.js';

// The real 2019-04-01 sample release (reference/refdata/dmd/; README.txt there lists its VMPs).

const DICLOFENAC_GEL = '22480211000001104'; // VMP, README.txt
const DICLOFENAC_VTM = '32889211000001103';
const VOLTAROL_AMP = '22479611000001102';
const INVALID_GENERIC_AMP = '29915211000001103'; // <INVALID>1</INVALID> in f_amp2_3010419.xml

async function cli(args: string[], rt: TestRuntime = testRuntime()): Promise<TestRuntime & { code: number }> {
  const code = await runCli(args, rt);
  return Object.assign(rt, { code });
}

describe('junction dmd on the 2019 sample release', () => {
  let dataDir: string;
  let store: string[];
  const temp: string[] = [];
  let imported: TestRuntime & { code: number };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-dmd-cli-'));
    store = ['--data-dir', dataDir];
    imported = await cli(['dmd', 'import', SAMPLE, ...store]);
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    for (const d of temp) await rm(d, { recursive: true, force: true });
  });

  it('imports the release and prints counts per file and section, per table, and no warnings', () => {
    expect(imported.code, imported.err()).toBe(0);
    const out = imported.out();
    expect(out).toMatch(/^dm\+d release 1 \(2019-04-01\) is now active; imported in \d+\.\d s from /);
    // Counts as in the files (NOTES §1.5: the full April 2019 VTM and ingredient files).
    expect(out).toMatch(/^f_vtm2_3010419\.xml +VTM +2,859$/m);
    expect(out).toMatch(/^f_ingredient2_3010419\.xml +ING +3,482$/m);
    expect(out).toMatch(/^f_vmp2_3010419\.xml +VMPS\/VMP +7$/m);
    expect(out).toMatch(/^ +VIRTUAL_PRODUCT_INGREDIENT\/VPI +8$/m);
    expect(out).toMatch(/^f_gtin2_0010419\.xml +AMPPS\/AMPP\/GTINDATA +16$/m);
    expect(out).toMatch(/^dmd_vtm +2,859$/m);
    expect(out).toMatch(/^dmd_amp +15$/m);
    expect(out).toMatch(/^dmd_ampp +26$/m);
    expect(out).toMatch(/^warnings: none$/m);
    // stderr is not a terminal here: one plain line per file, in load order (NHSBSA spec §3).
    const lines = imported.err().trimEnd().split('\n');
    expect(lines.map((l) => /\[(\d)\/8\] (\S+)/.exec(l)?.slice(1, 3).join(' '))).toEqual([
      '1 f_lookup2_3010419.xml',
      '2 f_ingredient2_3010419.xml',
      '3 f_vtm2_3010419.xml',
      '4 f_vmp2_3010419.xml',
      '5 f_amp2_3010419.xml',
      '6 f_vmpp2_3010419.xml',
      '7 f_ampp2_3010419.xml',
      '8 f_gtin2_0010419.xml',
    ]);
    // Each file's size in IEC units, as `junction mesh` prints sizes (209,141 and 2,847 bytes).
    expect(lines[0]).toMatch(
      /^dm\+d import: \[1\/8\] f_lookup2_3010419\.xml \(204\.2 KiB\), \d+% of the release read, /,
    );
    expect(lines[7]).toMatch(/^dm\+d import: \[8\/8\] f_gtin2_0010419\.xml \(2\.8 KiB\), /);
    expect(imported.err()).not.toContain('\r');
  });

  it('searches names and prints type, id, name and flags', async () => {
    const rt = await cli(['dmd', 'search', 'diclofenac', 'gel', ...store]);
    expect(rt.code, rt.err()).toBe(0);
    expect(rt.out()).toMatch(/^release 1, 2019-04-01: \d+ match(es)? for "diclofenac gel"$/m);
    expect(rt.out()).toMatch(/^type +id +name +flags$/m);
    expect(rt.out()).toMatch(new RegExp(`^VMP +${DICLOFENAC_GEL} +Diclofenac 2\\.32% gel *$`, 'm'));
    // Default types are VTM, VMP and AMP: no packs.
    expect(rt.out()).not.toMatch(/^VMPP /m);

    const packs = await cli(['dmd', 'search', 'diclofenac', 'gel', '--type', 'vmpp', ...store]);
    expect(packs.out()).toMatch(/^VMPP +22479511000001101 +Diclofenac 2\.32% gel 30 gram/m);
    expect(packs.out()).not.toMatch(/^VMP /m);
  });

  it('leaves invalid concepts out unless --include-invalid, and filters by type', async () => {
    // The generic diclofenac gel AMPs are both invalid; Voltarol's name does not say diclofenac.
    const valid = await cli(['dmd', 'search', 'diclofenac', '--type', 'AMP', ...store]);
    expect(valid.out()).toBe('release 1, 2019-04-01: no matches for "diclofenac"\n');
    const all = await cli(['dmd', 'search', 'diclofenac', '--type', 'AMP', '--include-invalid', ...store]);
    expect(all.out()).toMatch(
      new RegExp(`^AMP +${INVALID_GENERIC_AMP} +Diclofenac 2\\.32% gel +invalid`, 'm'),
    );
    expect(all.out()).toMatch(/^AMP +30926911000001106 +Diclofenac 2\.32% gel +invalid/m);
    expect(all.out()).not.toMatch(/^VTM /m);
  });

  it('says "first N of M" when --limit cuts the list, and gives the total in JSON', async () => {
    const all = await cli(['dmd', 'search', 'diclofenac', '--json', ...store]);
    const { total, hits } = JSON.parse(all.out());
    expect(hits.length).toBeGreaterThan(2);
    expect(total).toBe(hits.length);
    const cut = await cli(['dmd', 'search', 'diclofenac', '--limit', '2', ...store]);
    expect(cut.out().split('\n')[0]).toBe(
      `release 1, 2019-04-01: first 2 of ${total} matches for "diclofenac" (--limit shows up to 100)`,
    );
    expect(cut.out().trimEnd().split('\n')).toHaveLength(1 + 1 + 2);
    const whole = await cli(['dmd', 'search', 'diclofenac', ...store]);
    expect(whole.out().split('\n')[0]).toBe(`release 1, 2019-04-01: ${total} matches for "diclofenac"`);
  });

  it('prints JSON with --json, and looks a digits-only text up as an id or GTIN', async () => {
    const json = await cli(['dmd', 'search', 'voltarol', '--json', ...store]);
    const parsed = JSON.parse(json.out());
    expect(parsed.release).toEqual({ id: 1, releaseDate: '2019-04-01' });
    expect(parsed.hits[0]).toMatchObject({ type: 'AMP', id: VOLTAROL_AMP, invalid: false, kind: 'medicine' });

    const byId = await cli(['dmd', 'search', DICLOFENAC_GEL, ...store]);
    expect(byId.out()).toMatch(/: 1 match for "22480211000001104"/);
    expect(byId.out()).toMatch(new RegExp(`^VMP +${DICLOFENAC_GEL} `, 'm'));

    // A GTIN of f_gtin2_0010419.xml names its AMPP.
    const gtin = await cli(['dmd', 'search', '8712400158572', '--json', ...store]);
    const hit = JSON.parse(gtin.out()).hits[0];
    expect(hit).toMatchObject({ type: 'AMPP', matched: 'id' });
  });

  it('refuses bad filter values in plain words', async () => {
    const type = await cli(['dmd', 'search', 'x', '--type', 'VMX', ...store]);
    expect([type.code, type.err()]).toEqual([
      1,
      "junction: unknown concept type 'VMX'; types are: VTM, VMP, AMP, VMPP, AMPP\n",
    ]);
    const form = await cli(['dmd', 'search', 'x', '--form', 'tablet', ...store]);
    expect(form.err()).toMatch(/^junction: --form takes a SNOMED CT code/);
    const unknownForm = await cli(['dmd', 'search', 'x', '--form', '123456789', ...store]);
    expect(unknownForm.err()).toBe(
      "junction: --form 123456789 is not a FORM code of the active release's lookup file\n",
    );
    // A real FORM code (f_lookup2: 385101003 "Gel"... whichever the VMP has) narrows the search.
    const gelVmp = await cli(['dmd', 'show', DICLOFENAC_GEL, '--json', ...store]);
    const formCode = JSON.parse(gelVmp.out()).detail.form.FORMCD as string;
    const byForm = await cli(['dmd', 'search', 'diclofenac', '--form', formCode, ...store]);
    expect(byForm.code, byForm.err()).toBe(0);
    expect(byForm.out()).toContain(DICLOFENAC_GEL);
    expect(byForm.out()).not.toMatch(/^VTM /m); // a VTM has no form
  });

  it('shows a concept with its parents and children', async () => {
    const rt = await cli(['dmd', 'show', DICLOFENAC_GEL, ...store]);
    expect(rt.code, rt.err()).toBe(0);
    const out = rt.out();
    expect(out).toMatch(new RegExp(`^VMP ${DICLOFENAC_GEL}  Diclofenac 2\\.32% gel$`, 'm'));
    expect(out).toMatch(/^ {2}form: +Gel$/m);
    expect(out).toMatch(/^ {2}ingredients: +Diclofenac diethylammonium /m);
    expect(out).toMatch(/^parents \(1\):\n {2}VTM +32889211000001103 +Diclofenac diethylammonium$/m);
    // README.txt: three AMPs and three VMPPs.
    expect(out).toMatch(/^children \(6\):$/m);
    expect(out).toMatch(
      new RegExp(`^ {2}AMP +${VOLTAROL_AMP} +Voltarol 12 Hour Emulgel P 2\\.32% gel$`, 'm'),
    );
    expect(out).toMatch(
      new RegExp(`^ {2}AMP +${INVALID_GENERIC_AMP} +Diclofenac 2\\.32% gel +invalid$`, 'm'),
    );
    expect(out.match(/^ {2}VMPP /gm)).toHaveLength(3);

    const vtm = await cli(['dmd', 'show', DICLOFENAC_VTM, ...store]);
    expect(vtm.out()).toMatch(/^parents \(0\)$/m);
    expect(vtm.out()).toMatch(new RegExp(`^ {2}VMP +${DICLOFENAC_GEL} `, 'm'));
  });

  it('shows a pack found by its GTIN, saying so', async () => {
    const rt = await cli(['dmd', 'show', '8712400158572', ...store]);
    expect(rt.code, rt.err()).toBe(0);
    expect(rt.out()).toMatch(/^AMPP \d+ /);
    expect(rt.out()).toMatch(/^ {2}found by: +gtin 8712400158572$/m);
    expect(rt.out()).toMatch(/^ {2}GTINs: +.*8712400158572/m);
    expect(rt.out()).toMatch(/^parents \(2\):\n {2}AMP .*\n {2}VMPP /m);
  });

  it('says plainly when no concept has the code', async () => {
    const rt = await cli(['dmd', 'show', '1234567', ...store]);
    expect([rt.code, rt.err()]).toEqual([
      1,
      'junction: no concept has the id, previous id or GTIN 1234567 in release 1, 2019-04-01\n',
    ]);
  });

  it('lists the release history', async () => {
    const rt = await cli(['dmd', 'releases', ...store]);
    expect(rt.code, rt.err()).toBe(0);
    expect(rt.out()).toMatch(/^id +status +date /);
    expect(rt.out()).toMatch(/^1 +active +2019-04-01 .* 9,530 +\/.*openprescribing-2019-04-01$/m);
  });

  it('names file:line of a malformed file, exits non-zero and keeps the active release', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'junction-dmd-broken-'));
    temp.push(broken);
    await cp(SAMPLE, broken, { recursive: true });
    const vmp = join(broken, 'f_vmp2_3010419.xml');
    const lines = (await readFile(vmp, 'utf8')).split('\n');
    expect(lines[6]).toMatch(/^\s*<NM>Coal tar 10%/); // line 7
    lines[6] = '      <NM>Coal tar</NMX>';
    await writeFile(vmp, lines.join('\n'));

    const rt = await cli(['dmd', 'import', broken, ...store]);
    expect(rt.code).toBe(1);
    expect(rt.err()).toMatch(
      /^junction: dm\+d import of .* failed: f_vmp2_3010419\.xml:7(:\d+)?: .*; the active release \(1, 2019-04-01\) is unchanged\n$/m,
    );
    expect(rt.err()).not.toMatch(/\n\s+at /);

    const history = await cli(['dmd', 'releases', ...store]);
    expect(history.out()).toMatch(/^2 +failed +2019-04-01 .*f_vmp2_3010419\.xml/m);
    expect(history.out()).toMatch(/^1 +active /m);
    const still = await cli(['dmd', 'search', 'voltarol', ...store]);
    expect(still.out()).toContain(VOLTAROL_AMP);
  });

  it('fails plainly on a missing folder', async () => {
    const rt = await cli(['dmd', 'import', join(tmpdir(), 'no-such-dmd-release'), ...store]);
    expect(rt.code).toBe(1);
    expect(rt.err()).toMatch(
      /^junction: dm\+d import of .*no-such-dmd-release failed: .*; the active release \(1, 2019-04-01\) is unchanged\n$/,
    );
  });
});

describe('junction dmd without a release, and interrupted', () => {
  let dataDir: string;
  let synthetic: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'junction-dmd-cli-'));
    synthetic = await mkdtemp(join(tmpdir(), 'junction-dmd-synthetic-'));
    await generateDmdRelease({ seed: 11, scale: 0.02, outDir: synthetic, releaseDate: '2025-11-10' });
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(synthetic, { recursive: true, force: true });
  });

  it('tells the user to run `junction dmd import` first', async () => {
    for (const args of [['search', 'para'], ['show', '22480211000001104'], ['releases']]) {
      const rt = await cli(['dmd', ...args, '--data-dir', dataDir]);
      expect([args[0], rt.code, rt.err()]).toEqual([
        args[0],
        1,
        'junction: no dm+d release has been imported yet; run `junction dmd import <zip|folder>`\n',
      ]);
    }
  });

  it('aborts on Ctrl+C (the runtime stops) and keeps nothing of the interrupted import', async () => {
    const rt = testRuntime();
    const stderr = rt.stderr;
    // Stop as a user would press Ctrl+C: once the AMP file is being stored.
    rt.stderr = (text) => {
      stderr(text);
      if (/\[5\/8\]/.test(text)) rt.stop();
    };
    const interrupted = await cli(['dmd', 'import', synthetic, '--data-dir', dataDir], rt);
    expect(interrupted.code).toBe(130);
    expect(interrupted.err()).toMatch(/\njunction: dm\+d import interrupted; no release is active\n$/);
    const history = await cli(['dmd', 'releases', '--json', '--data-dir', dataDir]);
    expect(JSON.parse(history.out())).toMatchObject([{ id: 1, status: 'failed' }]);

    // Marked failed (not left "importing"), so the next import needs no --take-over.
    const again = await cli(['dmd', 'import', synthetic, '--data-dir', dataDir]);
    expect(again.code, again.err()).toBe(0);
    expect(again.out()).toMatch(/^dm\+d release 2 \(2025-11-10\) is now active/);
  });

  it('draws a progress bar in place when stderr is a terminal', async () => {
    const rt = Object.assign(testRuntime(), { stderrIsTTY: true, columns: 100 });
    const done = await cli(['dmd', 'import', synthetic, '--data-dir', dataDir], rt);
    expect(done.code, done.err()).toBe(0);
    const frames = done
      .err()
      .split('\r')
      .filter((f) => f !== '');
    expect(frames.length).toBeGreaterThanOrEqual(8);
    const clearLine = '\x1b[K';
    for (const frame of frames) {
      expect(frame.endsWith(clearLine) || frame.endsWith(`${clearLine}\n`)).toBe(true);
      const f = frame.replace(clearLine, '').trimEnd();
      expect(f).toMatch(/^\[\d\/8\] f_\w+\.xml [█░]+ +\d+% {2}[\d,]+ rec\/s$/);
      expect(f.length).toBeLessThan(100);
    }
    expect(frames.at(-1)).toMatch(/100%/);
    expect(done.out()).toMatch(/^dm\+d release \d+ \(2025-11-10\) is now active/);
  });
});
