import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { syntheticSearchEntries } from '../../testing/dmd-search-entries.js';
import { buildDmdSearchIndex, INLINE_AMPS } from './build-index.js';
import { measureSearchLatency } from './measure-latency.js';

/*
 * Full-size benchmark (our target: search p99 under 5 ms). Skipped unless JUNCTION_BENCH=1, so normal
 * runs carry no timed assertions:
 *
 *   JUNCTION_BENCH=1 npx vitest run packages/hub/src/medicines/search/search-bench.test.ts
 *
 * It prints build time, heap after build and p50/p99/max per query class, and fails only if the
 * whole mixed list misses the 5 ms p99 target.
 */

const QUERY_CLASSES: Record<string, readonly string[]> = {
  'common word': [
    'tabs',
    'tablets',
    'tablet',
    'oral',
    '10mg',
    'insulin',
    'dressing',
    'cream',
    'sodium',
    'capsules',
    'solution',
    'injection',
    'hydrochloride',
    '500',
    'mg',
  ],
  'short prefix': ['p', 'pa', 'a', 'am', 'c', 'co', 'm', 'mo', 'in', 'ox', 's', 'st', 'z', '1', '10'],
  typeahead: [
    'par',
    'para',
    'parac',
    'amox',
    'amoxi',
    'morph',
    'ibu',
    'ator',
    'omep',
    'metf',
    'insu',
    'dres',
  ],
  'molecule + strength': [
    'amoxicillin 500',
    'paracetamol 500',
    'amox 500 caps',
    'para 500 tabs',
    'morphine 10mg mr',
    'ibuprofen 400',
    'atorvastatin 20mg',
    'omeprazole 20',
    'metformin 500 mr',
    'amoxicillin 250mg/5ml',
  ],
  'multi-word common': [
    'oral solution',
    'tablets 10mg',
    'sugar free',
    'film-coated tablets',
    'cream 1%',
    'solution for injection',
    'sodium chloride',
    'p 10',
    'tabs 500',
  ],
  'brand / rare': ['amoxil', 'panadol', 'voltarol', 'lipitor', 'zzz', 'catheter', 'bandage', 'xq'],
};

const bench = process.env.JUNCTION_BENCH === '1';

/** A full collection, so heap figures are live data and build garbage does not pause the timings. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe.skipIf(!bench)('dm+d search benchmark (full synthetic release)', () => {
  it('reports build time and memory; answers the mixed query list with p99 < 5 ms; ranks the capsules first', () => {
    let t = performance.now();
    const entries = syntheticSearchEntries({ seed: 1, scale: 1 });
    const entriesMs = performance.now() - t;
    collectGarbage();
    const before = process.memoryUsage();
    // Built twice (the first is dropped) because a loaded machine makes one timing noisy.
    const builds: string[] = [];
    let index = buildDmdSearchIndex([]);
    for (let round = 0; round < 2; round++) {
      index = buildDmdSearchIndex([]);
      collectGarbage();
      t = performance.now();
      const cpu = process.cpuUsage();
      index = buildDmdSearchIndex(entries);
      const cpuUsed = process.cpuUsage(cpu);
      builds.push(
        `${(performance.now() - t).toFixed(0)} ms (cpu ${((cpuUsed.user + cpuUsed.system) / 1000).toFixed(0)} ms)`,
      );
    }
    collectGarbage();
    const after = process.memoryUsage();
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
    const lines = [
      `entries: ${entries.length} (generated in ${entriesMs.toFixed(0)} ms)`,
      `build: ${builds.join(', ')}`,
      `memory: heapUsed ${mib(before.heapUsed)} -> ${mib(after.heapUsed)} (+${mib(after.heapUsed - before.heapUsed)}), arrayBuffers +${mib(after.arrayBuffers - before.arrayBuffers)}`,
    ];
    const all: string[] = [];
    for (const [name, queries] of Object.entries(QUERY_CLASSES)) {
      all.push(...queries);
      const l = measureSearchLatency(index, queries, 30);
      lines.push(
        `${name.padEnd(20)} p50 ${l.p50Ms.toFixed(3)}  p99 ${l.p99Ms.toFixed(3)}  max ${l.maxMs.toFixed(3)} ms`,
      );
    }
    const packs = measureSearchLatency(index, all, 10, { types: ['VMPP', 'AMPP'] });
    lines.push(
      `${'all, packs only'.padEnd(20)} p50 ${packs.p50Ms.toFixed(3)}  p99 ${packs.p99Ms.toFixed(3)}  max ${packs.maxMs.toFixed(3)} ms`,
    );
    const mixed = measureSearchLatency(index, all, 30);
    lines.push(
      `${'all (mixed)'.padEnd(20)} p50 ${mixed.p50Ms.toFixed(3)}  p99 ${mixed.p99Ms.toFixed(3)}  max ${mixed.maxMs.toFixed(3)} ms`,
    );
    // Slowest queries by median, for tuning.
    const slow = all
      .map((q) => ({ q, ms: measureSearchLatency(index, [q], 15).p50Ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 10);
    lines.push(`slowest (p50): ${slow.map((s) => `"${s.q}" ${s.ms.toFixed(2)}`).join(', ')}`);
    console.log(lines.join('\n'));
    expect(mixed.p99Ms).toBeLessThan(5);
    // Ranking at full size: the capsules VMP, then capsule AMPs, before any other form.
    const first = index.search('amoxicillin 500').map((h) => `${h.entry.type} ${h.entry.name}`);
    expect(first[0]).toBe('VMP Amoxicillin 500mg capsules');
    for (const name of first.slice(1, 1 + INLINE_AMPS)) expect(name).toBe('AMP Amoxicillin 500mg capsules');
  }, 120_000);
});
