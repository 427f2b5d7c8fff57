import type { Store } from '../store/database.js';
import {
  type DmdConceptDetail,
  type DmdConceptRef,
  type DmdLookupResolver,
  type DmdSearchEntry,
  dmdConceptRefOf,
  type VmpDetail,
} from './model.js';
import { buildDmdSearchIndex } from './search/build-index.js';
import type { DmdSearchHit, DmdSearchIndex, DmdSearchOptions } from './search/types.js';
import { activeDmdRelease, type DmdConceptLookup, DmdReader, type DmdReleaseInfo } from './store/read-dmd.js';

/** The active release as the hub serves it: its reader and its search index. */
export interface DmdSnapshot {
  release: DmdReleaseInfo;
  reader: DmdReader;
  index: DmdSearchIndex;
  lookup: DmdLookupResolver;
}

export interface DmdConceptView extends DmdConceptLookup {
  release: DmdReleaseInfo;
  parents: DmdConceptRef[];
  children: DmdConceptRef[];
  /** For an AMP or a pack, its VMP's detail (form, ingredients, controlled drug). */
  vmp: VmpDetail | null;
  lookup: DmdLookupResolver;
}

export interface DmdSearchResult {
  release: DmdReleaseInfo;
  hits: DmdSearchHit[];
  /** The snapshot that answered, so details of the hits come from the same release. */
  snapshot: DmdSnapshot;
}

/** A query that is a code: a dm+d/SNOMED id (6–18 digits) or a GTIN (13–14 digits). */
const CODE_QUERY = /^\d{6,18}$/;

/**
 * The dm+d as the hub serves it: one snapshot of the active release (reader, lookup lists and
 * an in-memory search index), rebuilt when an import makes another release active. The index
 * lives in memory because a typeahead must answer in a few milliseconds on both databases; the
 * store stays the source of truth and each hub instance builds its own copy.
 *
 * @example
 * const dmd = new DmdService(store);
 * const { hits } = await dmd.search('amoxicillin 500', { prescribableOnly: true });
 */
export class DmdService {
  private snapshot: Promise<DmdSnapshot> | undefined;
  private snapshotReleaseId: number | undefined;

  constructor(private readonly store: Store) {}

  /** The active release's snapshot, or null before any release was imported. */
  async current(): Promise<DmdSnapshot | null> {
    const release = await activeDmdRelease(this.store);
    if (!release) return null;
    if (this.snapshot === undefined || this.snapshotReleaseId !== release.id) {
      this.snapshotReleaseId = release.id;
      const building = this.build(release);
      this.snapshot = building;
      // A failed build is retried by the next caller rather than cached.
      building.catch(() => {
        if (this.snapshot === building) this.snapshot = undefined;
      });
    }
    return this.snapshot;
  }

  /**
   * Typeahead over names, or a lookup when the query is a code (id, previous id or GTIN): the
   * concept it names comes first.
   */
  async search(query: string, options: DmdSearchOptions = {}): Promise<DmdSearchResult | null> {
    const snap = await this.current();
    if (!snap) return null;
    const trimmed = query.trim();
    if (CODE_QUERY.test(trimmed)) {
      const found = await snap.reader.concept(trimmed);
      const entry = found ? snap.index.byId(dmdConceptRefOf(found.detail).id) : undefined;
      if (entry) {
        const hits: DmdSearchHit[] = [{ entry, score: Number.MAX_SAFE_INTEGER, matched: 'id' }];
        return { release: snap.release, hits, snapshot: snap };
      }
    }
    return { release: snap.release, hits: snap.index.search(trimmed, options), snapshot: snap };
  }

  /** One concept with its links up and down, by id, previous id or GTIN; null when unknown. */
  async concept(code: string): Promise<DmdConceptView | null | 'no-release'> {
    const snap = await this.current();
    if (!snap) return 'no-release';
    const found = await snap.reader.concept(code);
    if (!found) return null;
    const { detail } = found;
    let vmp: VmpDetail | null = null;
    const vpid = parentVmpIdOf(detail);
    if (vpid !== null) {
      const v = await snap.reader.concept(vpid);
      if (v?.detail.type === 'VMP') vmp = v.detail;
    }
    return {
      ...found,
      release: snap.release,
      parents: await snap.reader.parents(detail),
      children: await snap.reader.children(detail),
      vmp,
      lookup: snap.lookup,
    };
  }

  /** The search entry of a concept of the active release (flags for lists), if any. */
  async entry(id: string): Promise<DmdSearchEntry | undefined> {
    return (await this.current())?.index.byId(id);
  }

  private async build(release: DmdReleaseInfo): Promise<DmdSnapshot> {
    const reader = new DmdReader(this.store, release.id);
    const [entries, lookup] = await Promise.all([reader.searchEntries(), reader.lookup()]);
    return { release, reader, index: buildDmdSearchIndex(entries), lookup };
  }
}

/** The VMP an AMP, VMPP or AMPP belongs to (its form, ingredients, controls); null for VTM and VMP. */
export function parentVmpIdOf(detail: DmdConceptDetail): string | null {
  switch (detail.type) {
    case 'VTM':
    case 'VMP':
      return null;
    case 'AMP':
      return detail.amp.VPID;
    case 'VMPP':
      return detail.vmpp.VPID;
    case 'AMPP':
      return detail.amp.VPID;
  }
}
