import type { DmdConceptType, DmdProductKind, DmdSearchEntry } from '../model.js';

/** Filters and size of a search. Every filter narrows; none is applied when left out. */
export interface DmdSearchOptions {
  /** Concept classes to return; default VTM, VMP and AMP (packs only when asked for). */
  types?: readonly DmdConceptType[] | undefined;
  kind?: DmdProductKind | undefined;
  prescribableOnly?: boolean | undefined;
  availableOnly?: boolean | undefined;
  /** Invalid concepts are left out unless this is true. */
  includeInvalid?: boolean | undefined;
  /** Only concepts with a controlled drug category other than "0000" (no control). */
  controlledOnly?: boolean | undefined;
  /** DRUG_FORM FORMCD, e.g. "385055001" (tablet). */
  formCode?: string | undefined;
  /** A DRUG_ROUTE ROUTECD the concept must have, e.g. "26643006" (oral). */
  routeCode?: string | undefined;
  /** Most hits to return: default 20, at most 100. */
  limit?: number | undefined;
}

/** Which text of the entry the query matched. */
export type DmdSearchMatch = 'id' | 'name' | 'abbreviatedName' | 'description';

export interface DmdSearchHit {
  entry: DmdSearchEntry;
  /** Higher is better; only comparable between hits of one search. */
  score: number;
  matched: DmdSearchMatch;
}

/** An in-memory index over one release's search entries. */
export interface DmdSearchIndex {
  /** Number of entries indexed. */
  readonly size: number;
  /** Typeahead search: every query word must start a word of the name, in any order. */
  search(query: string, options?: DmdSearchOptions): DmdSearchHit[];
  /**
   * How many entries match, all of them (`search` returns the best `limit`): for "first 20 of 312".
   * Costs about what a search costs that has to walk every candidate.
   */
  count(query: string, options?: DmdSearchOptions): number;
  byId(id: string): DmdSearchEntry | undefined;
}
