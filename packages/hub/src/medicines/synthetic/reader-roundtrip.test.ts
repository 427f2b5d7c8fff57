import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDmdFile } from '../read-release.js';
import { openDmdRelease } from '../release-files.js';
import { generateDmdRelease, type PlanCounts } from './index.js';

// The generated release must be readable by the hub's own dm+d reader, record for record.
let dir: string;
let counts: PlanCounts;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmd-synth-read-'));
  ({ counts } = await generateDmdRelease({ seed: 11, scale: 0.003, outDir: dir, releaseDate: '2025-11-10' }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('synthetic release read back with readDmdFile', () => {
  it('finds all 8 files and reads every record the plan counts', async () => {
    const release = await openDmdRelease(dir);
    try {
      expect(release.missing).toEqual([]);
      expect(release.files.map((f) => f.kind).sort()).toEqual([
        'amp',
        'ampp',
        'gtin',
        'ingredient',
        'lookup',
        'vmp',
        'vmpp',
        'vtm',
      ]);
      expect(new Set(release.files.map((f) => f.date))).toEqual(new Set(['2025-11-10']));
      const seen = new Map<string, number>();
      for (const file of release.files) {
        for await (const rec of readDmdFile(file)) {
          const key = `${rec.kind}:${rec.section}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }
      }
      expect(seen.get('vtm:VTM')).toBe(counts.vtm);
      expect(seen.get('ingredient:ING')).toBe(counts.ing);
      expect(seen.get('vmp:VMPS/VMP')).toBe(counts.vmp);
      expect(seen.get('vmp:VIRTUAL_PRODUCT_INGREDIENT/VPI')).toBe(counts.vpi);
      expect(seen.get('amp:AMPS/AMP')).toBe(counts.amp);
      expect(seen.get('vmpp:VMPPS/VMPP')).toBe(counts.vmpp);
      expect(seen.get('ampp:AMPPS/AMPP')).toBe(counts.ampp);
      expect(seen.get('ampp:MEDICINAL_PRODUCT_PRICE/PRICE_INFO')).toBe(counts.priceInfo);
      const lookupRows = [...seen].filter(([k]) => k.startsWith('lookup:')).reduce((n, [, v]) => n + v, 0);
      expect(lookupRows).toBe(counts.lookup);
      expect(seen.get('gtin:AMPPS/AMPP/GTINDATA')).toBe(counts.gtinRows);
    } finally {
      await release.close();
    }
  });
});
