import type { DmdSearchIndex, DmdSearchOptions } from './types.js';

export interface SearchLatency {
  /** Number of timed searches (queries × rounds). */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The value below which `fraction` of the sorted samples fall (nearest rank). */
function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Times every query `rounds` times (after one untimed warm-up round) and reports latency
 * percentiles, for benchmarks; tests should not assert on these numbers.
 *
 * @example
 * const { p99Ms } = measureSearchLatency(index, ['para', 'amoxicillin 500', 'voltarol'], 20);
 */
export function measureSearchLatency(
  index: DmdSearchIndex,
  queries: readonly string[],
  rounds = 10,
  options?: DmdSearchOptions,
): SearchLatency {
  for (const q of queries) index.search(q, options);
  const samples = new Float64Array(queries.length * Math.max(0, Math.floor(rounds)));
  let i = 0;
  for (let r = 0; r < Math.floor(rounds); r++) {
    for (const q of queries) {
      const start = performance.now();
      index.search(q, options);
      samples[i++] = performance.now() - start;
    }
  }
  samples.sort();
  return {
    samples: samples.length,
    p50Ms: percentile(samples, 0.5),
    p99Ms: percentile(samples, 0.99),
    maxMs: samples.length > 0 ? (samples[samples.length - 1] as number) : 0,
  };
}
