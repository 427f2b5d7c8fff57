import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DmdService,
  generateDmdRelease,
  importDmdRelease,
  measureSearchLatency,
  openDmdRelease,
  openStore,
  readDmdFile,
  type Store,
} from '@junction/hub';
import { formatBytes } from '../format.js';
import { temporaryPostgresDatabase } from './postgres.js';

/** Typeahead as prescribers type it: prefixes, strengths, abbreviations, devices. */
const QUERIES = [
  'amox',
  'amoxicillin 500',
  'para',
  'paracetamol 500 tabs',
  'co-amox',
  'ibu',
  'ibuprofen 400',
  'metformin',
  'metformin 500 mr',
  'atorva 20',
  'simva',
  'omepraz',
  'lansoprazole 30',
  'salbut inh',
  'beclo',
  'morph',
  'morphine sulfate 10mg/5ml',
  'insulin',
  'levothyrox',
  'amlod',
  'ramipril 5',
  'sertra',
  'citalopram 20',
  'pred',
  'gaba',
  'diclofenac gel',
  'catheter',
  'dressing',
  'glucose test strips',
  'x',
];
const ROUNDS = 50;
const SEED = 20251110;

/** Peak resident memory while `run` runs, sampled every 50 ms. */
async function withPeakRss<T>(run: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  let peakRss = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50);
  try {
    const result = await run();
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return { result, peakRss };
  } finally {
    clearInterval(timer);
  }
}

/** The floor: the same files streamed and typed, records counted, nothing stored. */
async function parseOnly(folder: string): Promise<number> {
  const release = await openDmdRelease(folder);
  let records = 0;
  try {
    for (const file of release.files) for await (const _ of readDmdFile(file)) records++;
  } finally {
    await release.close();
  }
  return records;
}

interface ImportFigures {
  store: string;
  seconds: number;
  records: number;
  peakRss: number;
  indexSeconds: number;
  entries: number;
  p50: number;
  p99: number;
  max: number;
}

async function importAndSearch(label: string, store: Store, folder: string): Promise<ImportFigures> {
  const started = performance.now();
  const { result: summary, peakRss } = await withPeakRss(() =>
    importDmdRelease(store, folder, { retainPreviousMs: 0 }),
  );
  const seconds = (performance.now() - started) / 1000;
  const records = Object.values(summary.tables).reduce((a, b) => a + b, 0);
  const dmd = new DmdService(store);
  const t0 = performance.now();
  const snap = await dmd.current();
  const indexSeconds = (performance.now() - t0) / 1000;
  if (!snap) throw new Error('no active release after the import');
  const latency = measureSearchLatency(snap.index, QUERIES, ROUNDS);
  return {
    store: label,
    seconds,
    records,
    peakRss,
    indexSeconds,
    entries: snap.index.size,
    p50: latency.p50Ms,
    p99: latency.p99Ms,
    max: latency.maxMs,
  };
}

const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en-GB')}/s`;

function row(...cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(22) : c.padStart(13))).join(' ');
}

/**
 * dm+d at full size (synthetic release, scale 1): streaming parse alone (the floor), the import
 * into SQLite (and PostgreSQL when reachable) as a ratio of it, peak memory, search index build
 * and typeahead latency. Our targets: import ≤ 2× parse, search p99 < 5 ms.
 */
export async function benchDmd(log: (line: string) => void): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'junction-bench-dmd-'));
  const dirs = [folder];
  try {
    let t = performance.now();
    const generated = await generateDmdRelease({
      seed: SEED,
      scale: 1,
      outDir: folder,
      releaseDate: '2025-11-10',
    });
    log(
      `dm+d synthetic release, scale 1, seed ${SEED}: generated in ${((performance.now() - t) / 1000).toFixed(1)} s ` +
        `(${generated.counts.amp.toLocaleString('en-GB')} AMPs, ${generated.counts.ampp.toLocaleString('en-GB')} AMPPs)`,
    );

    t = performance.now();
    const { result: parsed, peakRss: parseRss } = await withPeakRss(() => parseOnly(folder));
    const parseSeconds = (performance.now() - t) / 1000;

    const results: ImportFigures[] = [];
    const sqliteDir = await mkdtemp(join(tmpdir(), 'junction-bench-dmd-store-'));
    dirs.push(sqliteDir);
    const sqlite = await openStore({ dataDir: sqliteDir });
    try {
      results.push(await importAndSearch('import, SQLite', sqlite, folder));
    } finally {
      await sqlite.close();
    }
    const pgTarget = await temporaryPostgresDatabase('dmd');
    let pgNote = '';
    if (typeof pgTarget === 'string') pgNote = `PostgreSQL skipped: ${pgTarget}`;
    else {
      const store = await openStore({ databaseUrl: pgTarget.url });
      try {
        results.push(await importAndSearch('import, PostgreSQL', store, folder));
      } finally {
        await store.close();
        await pgTarget.drop();
      }
    }

    log(row('', 'seconds', 'records', 'records/s', '× parse', 'peak RSS'));
    log(
      row(
        'parse only (floor)',
        parseSeconds.toFixed(1),
        parsed.toLocaleString('en-GB'),
        rate(parsed, parseSeconds),
        '1.00',
        formatBytes(parseRss),
      ),
    );
    for (const r of results) {
      log(
        row(
          r.store,
          r.seconds.toFixed(1),
          r.records.toLocaleString('en-GB'),
          rate(r.records, r.seconds),
          (r.seconds / parseSeconds).toFixed(2),
          formatBytes(r.peakRss),
        ),
      );
    }
    if (pgNote) log(pgNote);
    log('goal: import ≤ 2.00 × parse');
    log('');
    log(
      `search: ${QUERIES.length} typeahead queries × ${ROUNDS} rounds (DmdService index, VTM/VMP/AMP, limit 20)`,
    );
    log(row('', 'entries', 'index build s', 'p50 ms', 'p99 ms', 'max ms'));
    for (const r of results) {
      log(
        row(
          r.store.replace('import, ', ''),
          r.entries.toLocaleString('en-GB'),
          r.indexSeconds.toFixed(2),
          r.p50.toFixed(3),
          r.p99.toFixed(3),
          r.max.toFixed(3),
        ),
      );
    }
    log('goal: p99 < 5 ms');
  } finally {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}
