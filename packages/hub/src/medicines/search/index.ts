export { PRESCRIBER_ABBREVIATIONS } from './abbreviations.js';
export { buildDmdSearchIndex } from './build-index.js';
export { measureSearchLatency, type SearchLatency } from './measure-latency.js';
export type { DmdSearchHit, DmdSearchIndex, DmdSearchMatch, DmdSearchOptions } from './types.js';
