import type { DmdConceptType, DmdSearchEntry } from '../model.js';
import { expansionOf } from './abbreviations.js';
import { exactKey, runsOf, tokenise, wordsOfRun } from './tokenise.js';
import type { DmdSearchHit, DmdSearchIndex, DmdSearchMatch, DmdSearchOptions } from './types.js';

/*
 * Layout. Entries are numbered ("ordinals") in their static rank order: type (VMP, AMP, VTM, VMPP,
 * AMPP), then more packs first, shorter name, name, id. Every token of every name is kept once in a
 * sorted dictionary, so a typed prefix is a contiguous range of token ids. Each token has a posting
 * list of ordinals (ascending, so in static rank order) and each entry its sorted, de-duplicated
 * token ids. A search takes the query word with the fewest postings, walks its candidates in ordinal
 * order, scores each against all words, and drops it into a bucket per score level. Within a level
 * arrival order is the final order, so no sort is needed and a full top level ends the walk.
 */

const TYPE_RANK: Readonly<Record<DmdConceptType, number>> = { VMP: 0, AMP: 1, VTM: 2, VMPP: 3, AMPP: 4 };
const TYPE_BIT: Readonly<Record<DmdConceptType, number>> = { VTM: 1, VMP: 2, AMP: 4, VMPP: 8, AMPP: 16 };
const DEFAULT_TYPES: readonly DmdConceptType[] = ['VTM', 'VMP', 'AMP'];
const F_DEVICE = 1 << 5;
const F_PRESCRIBABLE = 1 << 6;
const F_AVAILABLE = 1 << 7;
const F_INVALID = 1 << 8;
const F_CONTROLLED = 1 << 9;

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
/** A digits-only query of this length is taken as a dm+d id (SNOMED CT ids are 6 to 18 digits). */
const ID_QUERY = /^\d{6,18}$/;

/** Quality of one query word against one token. */
const Q_EXACT = 4;
/** A bare number equal to a single strength's number ("500" in "500mg"). */
const Q_NUMBER = 3;
/** A number or strength equal to a ratio's numerator ("500" or "500mg" in "500mg/5ml"). */
const Q_RATIO = 2;
const Q_PREFIX = 1;
/** Word qualities are summed then scaled, leaving room for the starts-with bonus (0..2). */
const LEVEL_SCALE = 4;

interface CompiledWord {
  /** Token ids [lo, hi) that start with the word. */
  lo: number;
  hi: number;
  /** Token id equal to the word, or -1. */
  exact: number;
  /** Length of the word if it is a bare number ("500"), else 0. */
  numLen: number;
  /** Length of the word if it is a single strength ("500mg"), else 0. */
  strengthLen: number;
  /** Length of the typed word. */
  length: number;
  /** Abbreviation expansion as token ids, all of which must be present; null if none or unknown. */
  expansion: Int32Array | null;
}

interface Layout {
  /** Entries by ordinal. */
  entries: DmdSearchEntry[];
  flags: Uint16Array;
  /** Sorted token dictionary. */
  tokens: string[];
  /** Per token: length of its leading number when followed by a unit or "/", else 0. */
  numLen: Uint8Array;
  /** Per token: position of "/" when it is a ratio strength, else 0. */
  slashPos: Uint8Array;
  postingStart: Int32Array;
  postings: Int32Array;
  entryTokenStart: Int32Array;
  entryTokens: Int32Array;
  /** Token ids of the name's first word (the word, and its joined hyphen form) or -1. */
  first0: Int32Array;
  first1: Int32Array;
  byId: Map<string, number>;
  /** VTM ordinals by the exact key of their name. */
  vtmByKey: Map<string, number[]>;
}

function isControlled(entry: DmdSearchEntry): boolean {
  return entry.controlledDrugCategory !== null && entry.controlledDrugCategory !== '0000';
}

function flagsOf(e: DmdSearchEntry): number {
  return (
    TYPE_BIT[e.type] |
    (e.kind === 'device' ? F_DEVICE : 0) |
    (e.prescribable ? F_PRESCRIBABLE : 0) |
    (e.available ? F_AVAILABLE : 0) |
    (e.invalid ? F_INVALID : 0) |
    (isControlled(e) ? F_CONTROLLED : 0)
  );
}

/** Lowest index i in sorted `tokens` with tokens[i] >= s. */
function lowerBound(tokens: readonly string[], s: string): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((tokens[mid] as string) < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class GrowableInt32 {
  array = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.array.length) {
      const next = new Int32Array(this.array.length * 2);
      next.set(this.array);
      this.array = next;
    }
    this.array[this.length++] = v;
  }
}

/** A run's tokens as provisional ids, and its first word's (for the starts-with bonus). */
interface RunIds {
  ids: number[];
  first0: number;
  first1: number;
}

/** Static rank as one number: type, then more packs, then shorter name (ties broken by name, id). */
function staticKey(e: DmdSearchEntry): number {
  const packs = Math.min(Math.max(0, Math.floor(e.packCount)), 999_999);
  return (TYPE_RANK[e.type] * 1_000_000 + (999_999 - packs)) * 4096 + Math.min(e.name.length, 4095);
}

/**
 * Strings built by concatenation are V8 "cons strings": every comparison or hash walks the pieces.
 * Converting to a number flattens them in place (an engine detail; ~10x faster sort and id map).
 */
function flatten(s: string): string {
  void ((s as unknown as number) | 0);
  return s;
}

function buildLayout(input: DmdSearchEntry[]): Layout {
  const n = input.length;
  const keys = new Float64Array(n);
  const names = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const e = input[i] as DmdSearchEntry;
    keys[i] = staticKey(e);
    names[i] = flatten(e.name);
  }
  const rank = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    const d = (keys[a] as number) - (keys[b] as number);
    if (d !== 0) return d;
    const x = names[a] as string;
    const y = names[b] as string;
    if (x !== y) return x < y ? -1 : 1;
    const i = (input[a] as DmdSearchEntry).id;
    const j = (input[b] as DmdSearchEntry).id;
    return i < j ? -1 : i > j ? 1 : 0;
  });
  const entries = rank.map((i) => input[i] as DmdSearchEntry);
  const byId = new Map<string, number>();
  const flags = new Uint16Array(n);
  for (let o = 0; o < n; o++) {
    const e = entries[o] as DmdSearchEntry;
    if (byId.has(e.id)) throw new RangeError(`duplicate dm+d id ${e.id} in search entries`);
    byId.set(flatten(e.id), o);
    flags[o] = flagsOf(e);
  }

  // Tokenise, interning token strings with provisional ids (first-seen order). Names repeat their
  // words heavily (forms, strengths, suppliers), so each distinct run is split and interned once.
  const provisional = new Map<string, number>();
  const strings: string[] = [];
  const intern = (s: string): number => {
    let id = provisional.get(s);
    if (id === undefined) {
      id = strings.length;
      provisional.set(s, id);
      strings.push(s);
    }
    return id;
  };
  const runCache = new Map<string, RunIds>();
  const idsOfRun = (run: string): RunIds => {
    let hit = runCache.get(run);
    if (hit === undefined) {
      const words = wordsOfRun(run);
      const ids: number[] = [];
      for (const w of words) {
        ids.push(intern(w.token));
        for (const x of w.extra) ids.push(intern(x));
      }
      const w0 = words[0];
      hit = {
        ids,
        first0: w0 ? intern(w0.token) : -1,
        first1: w0?.extra[0] !== undefined ? intern(w0.extra[0]) : -1,
      };
      runCache.set(run, hit);
    }
    return hit;
  };
  /** Last entry each provisional id was added for, to de-duplicate an entry's tokens. */
  const stamp: number[] = [];
  const entryTokens = new GrowableInt32();
  const addText = (text: string, o: number): RunIds | undefined => {
    let firstRun: RunIds | undefined;
    for (const run of runsOf(text)) {
      const r = idsOfRun(run);
      if (firstRun === undefined && r.ids.length > 0) firstRun = r;
      for (const id of r.ids) {
        if (stamp[id] === o) continue;
        stamp[id] = o;
        entryTokens.push(id);
      }
    }
    return firstRun;
  };

  const entryTokenStart = new Int32Array(n + 1);
  const first0 = new Int32Array(n);
  const first1 = new Int32Array(n);
  const vtmByKey = new Map<string, number[]>();
  for (let o = 0; o < n; o++) {
    const e = entries[o] as DmdSearchEntry;
    const name = addText(e.name, o);
    first0[o] = name?.first0 ?? -1;
    first1[o] = name?.first1 ?? -1;
    if (e.abbreviatedName) addText(e.abbreviatedName, o);
    if (e.description) addText(e.description, o);
    entryTokenStart[o + 1] = entryTokens.length;
    if (e.type === 'VTM') {
      // "Co-amoxiclav" is asked for as "co-amoxiclav", "co amoxiclav" or "coamoxiclav".
      const keys = new Set([exactKey(tokenise(e.name)), exactKey(tokenise(e.name.replace(/-/g, '')))]);
      for (const key of keys) {
        const list = vtmByKey.get(key);
        if (list) list.push(o);
        else vtmByKey.set(key, [o]);
      }
    }
  }
  runCache.clear();
  provisional.clear();

  // Sort the dictionary (UTF-16 code unit order, as lowerBound compares) and renumber.
  const order = strings
    .map((_, i) => i)
    .sort((a, b) => {
      const x = strings[a] as string;
      const y = strings[b] as string;
      return x < y ? -1 : x > y ? 1 : 0;
    });
  const renumber = new Int32Array(strings.length);
  const tokens: string[] = new Array(strings.length);
  for (let rank = 0; rank < order.length; rank++) {
    const old = order[rank] as number;
    renumber[old] = rank;
    tokens[rank] = strings[old] as string;
  }
  const flat = entryTokens.array.subarray(0, entryTokens.length);
  for (let k = 0; k < flat.length; k++) flat[k] = renumber[flat[k] as number] as number;
  for (let o = 0; o < n; o++) {
    flat.subarray(entryTokenStart[o], entryTokenStart[o + 1]).sort();
    const a = first0[o] as number;
    const b = first1[o] as number;
    first0[o] = a < 0 ? -1 : (renumber[a] as number);
    first1[o] = b < 0 ? -1 : (renumber[b] as number);
  }

  // Posting lists, filled in ordinal order so each is ascending.
  const postingStart = new Int32Array(tokens.length + 1);
  for (let k = 0; k < flat.length; k++) (postingStart[(flat[k] as number) + 1] as number)++;
  for (let t = 0; t < tokens.length; t++)
    postingStart[t + 1] = (postingStart[t + 1] as number) + (postingStart[t] as number);
  const postings = new Int32Array(flat.length);
  const fill = postingStart.slice(0, tokens.length);
  for (let o = 0; o < n; o++) {
    for (let k = entryTokenStart[o] as number; k < (entryTokenStart[o + 1] as number); k++) {
      const t = flat[k] as number;
      postings[(fill[t] as number)++] = o;
    }
  }

  const numLen = new Uint8Array(tokens.length);
  const slashPos = new Uint8Array(tokens.length);
  for (let t = 0; t < tokens.length; t++) {
    const m = /^\d+(?:\.\d+)?(?=[a-z%/])/.exec(tokens[t] as string);
    if (!m) continue;
    numLen[t] = Math.min(255, m[0].length);
    const slash = (tokens[t] as string).indexOf('/');
    if (slash > 0 && slash < 256) slashPos[t] = slash;
  }

  return {
    entries,
    flags,
    tokens,
    numLen,
    slashPos,
    postingStart,
    postings,
    entryTokenStart,
    entryTokens: flat.slice(),
    first0,
    first1,
    byId,
    vtmByKey,
  };
}

interface Filter {
  typeMask: number;
  mustHave: number;
  mustNot: number;
  formCode: string | undefined;
  routeCode: string | undefined;
}

function compileFilter(options: DmdSearchOptions | undefined): Filter {
  let typeMask = 0;
  for (const t of options?.types ?? DEFAULT_TYPES) typeMask |= TYPE_BIT[t];
  let mustHave = 0;
  let mustNot = 0;
  if (options?.kind === 'device') mustHave |= F_DEVICE;
  if (options?.kind === 'medicine') mustNot |= F_DEVICE;
  if (options?.prescribableOnly) mustHave |= F_PRESCRIBABLE;
  if (options?.availableOnly) mustHave |= F_AVAILABLE;
  if (options?.controlledOnly) mustHave |= F_CONTROLLED;
  if (!options?.includeInvalid) mustNot |= F_INVALID;
  return { typeMask, mustHave, mustNot, formCode: options?.formCode, routeCode: options?.routeCode };
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || Number.isNaN(limit)) return DEFAULT_LIMIT;
  return Math.max(1, Math.min(MAX_LIMIT, Math.floor(limit)));
}

/**
 * Hits by score level, at most `capacity` per level, keeping the lowest ordinals (the best static
 * rank). Arrivals are mostly in ordinal order, so a full level rarely needs a replacement.
 */
class Buckets {
  readonly #lists: number[][];
  total = 0;
  constructor(
    readonly levels: number,
    readonly capacity: number,
  ) {
    this.#lists = Array.from({ length: levels }, () => []);
  }
  add(level: number, o: number): void {
    const list = this.#lists[level] as number[];
    if (list.length < this.capacity) {
      list.push(o);
      this.total++;
      return;
    }
    let worst = 0;
    for (let i = 1; i < list.length; i++) if ((list[i] as number) > (list[worst] as number)) worst = i;
    if (o < (list[worst] as number)) list[worst] = o;
  }
  full(level: number): boolean {
    return (this.#lists[level] as number[]).length >= this.capacity;
  }
  /** How many hits sit at levels above `level`. */
  countAbove(level: number): number {
    let count = 0;
    for (let i = level + 1; i < this.levels; i++) count += (this.#lists[i] as number[]).length;
    return count;
  }
  sorted(level: number): number[] {
    return (this.#lists[level] as number[]).sort((a, b) => a - b);
  }
}

class InMemoryDmdSearchIndex implements DmdSearchIndex {
  readonly size: number;
  readonly #l: Layout;
  /** Scratch marks for unions of many posting lists (one byte per entry, left all zero). */
  readonly #marks: Uint8Array;

  constructor(layout: Layout) {
    this.#l = layout;
    this.size = layout.entries.length;
    this.#marks = new Uint8Array(layout.entries.length);
  }

  byId(id: string): DmdSearchEntry | undefined {
    const o = this.#l.byId.get(id);
    return o === undefined ? undefined : this.#l.entries[o];
  }

  search(query: string, options?: DmdSearchOptions): DmdSearchHit[] {
    const l = this.#l;
    const limit = clampLimit(options?.limit);
    const filter = compileFilter(options);
    const hits: DmdSearchHit[] = [];
    const taken = new Set<number>();
    const words = tokenise(query);
    const compiled = words.map((w) => this.#compileWord(w.token));
    // Scores: word qualities scaled, plus the starts-with bonus; an id and an exact VTM name above all.
    const top = words.length * Q_EXACT * LEVEL_SCALE + 2;

    const trimmed = query.trim();
    if (ID_QUERY.test(trimmed)) {
      const o = l.byId.get(trimmed);
      if (o !== undefined && this.#passes(o, filter)) {
        hits.push({ entry: l.entries[o] as DmdSearchEntry, score: top + 2, matched: 'id' });
        taken.add(o);
      }
    }
    if (words.length === 0 || hits.length >= limit) return hits;
    if (compiled.some((w) => w.hi === w.lo && w.expansion === null)) return hits;

    for (const o of l.vtmByKey.get(exactKey(words)) ?? []) {
      if (hits.length >= limit) return hits;
      if (taken.has(o) || !this.#passes(o, filter)) continue;
      hits.push({ entry: l.entries[o] as DmdSearchEntry, score: top + 1, matched: 'name' });
      taken.add(o);
    }

    const need = limit - hits.length;
    if (need <= 0) return hits;
    const buckets = new Buckets(top + 1, need);
    this.#collect(compiled, filter, taken, buckets);
    for (let level = top; level >= 0 && hits.length < limit; level--) {
      for (const o of buckets.sorted(level)) {
        if (hits.length >= limit) break;
        const entry = l.entries[o] as DmdSearchEntry;
        hits.push({ entry, score: level, matched: this.#matchedField(entry, compiled) });
      }
    }
    return hits;
  }

  /**
   * Fills the buckets in two tiers of the rarest word's candidates: A, entries holding that word
   * whole (or its expansion), then B, entries holding it only as a prefix. B is skipped when A has
   * already filled every level B could reach.
   */
  #collect(compiled: CompiledWord[], filter: Filter, taken: Set<number>, buckets: Buckets): void {
    const drive = this.#rarest(compiled);
    const single = compiled.length === 1;
    const first = compiled[0] as CompiledWord;
    const top = buckets.levels - 1;
    const score = (o: number): number => {
      if (!this.#passes(o, filter) || (taken.size > 0 && taken.has(o))) return -1;
      let sum = 0;
      const s = this.#l.entryTokenStart[o] as number;
      const e = this.#l.entryTokenStart[o + 1] as number;
      for (const w of compiled) {
        const q = this.#quality(w, this.#l.entryTokens, s, e);
        if (q === 0) return -1;
        sum += q;
      }
      return sum * LEVEL_SCALE + this.#startBonus(first, o);
    };

    // Tier A. With one word, every entry in the exact token's (or one-token expansion's) postings
    // scores exact: only the starts-with bonus varies, so no token scan is needed.
    const sourcesA: [number, number][] = [];
    if (drive.exact >= 0) sourcesA.push([drive.exact, drive.exact + 1]);
    if (drive.expansion !== null) sourcesA.push(this.#rarestOf(drive.expansion));
    const fast = single && (drive.expansion === null || drive.expansion.length === 1);
    const done = this.#walk(sourcesA, (o) => {
      let level: number;
      if (fast) {
        if (!this.#passes(o, filter) || (taken.size > 0 && taken.has(o))) return false;
        level = Q_EXACT * LEVEL_SCALE + this.#startBonus(first, o);
      } else {
        level = score(o);
        if (level < 0) return false;
      }
      buckets.add(level, o);
      return buckets.full(top);
    });
    if (done) return;

    // Tier B: the rest of the prefix range. Entries that also hold the exact word were seen in A.
    const maxPartial = drive.numLen > 0 || drive.strengthLen > 0 ? Q_NUMBER : Q_PREFIX;
    const boundB = (maxPartial + Q_EXACT * (compiled.length - 1)) * LEVEL_SCALE + 2;
    if (buckets.countAbove(boundB) >= buckets.capacity) return;
    const visitB = (o: number): boolean => {
      const s = this.#l.entryTokenStart[o] as number;
      const e = this.#l.entryTokenStart[o + 1] as number;
      if (this.#quality(drive, this.#l.entryTokens, s, e) === Q_EXACT) return false;
      const level = score(o);
      if (level >= 0) buckets.add(level, o);
      return false;
    };
    if (single && drive.numLen === 0 && drive.lo < drive.hi && this.#isShort(drive)) {
      // A lone one- or two-letter word matches the start of names only: otherwise "p" would walk
      // every "pack", "powder" and "preservative" in the release. They all score the same level, so
      // the first `capacity` in ordinal order are the answer.
      const { first0, first1 } = this.#l;
      let found = 0;
      for (let o = 0; o < this.size && found < buckets.capacity; o++) {
        const a = first0[o] as number;
        const b = first1[o] as number;
        if ((a >= drive.lo && a < drive.hi) || (b >= drive.lo && b < drive.hi)) {
          const before = buckets.total;
          visitB(o);
          if (buckets.total > before) found++;
        }
      }
      return;
    }
    const sourcesB: [number, number][] = [];
    if (drive.exact >= 0) {
      if (drive.lo < drive.exact) sourcesB.push([drive.lo, drive.exact]);
      if (drive.exact + 1 < drive.hi) sourcesB.push([drive.exact + 1, drive.hi]);
    } else if (drive.lo < drive.hi) sourcesB.push([drive.lo, drive.hi]);
    this.#walk(sourcesB, visitB);
  }

  #isShort(w: CompiledWord): boolean {
    return w.length <= 2;
  }

  #compileWord(token: string): CompiledWord {
    const tokens = this.#l.tokens;
    const lo = lowerBound(tokens, token);
    // Tokens hold only [a-z0-9.%/]; anything starting with `token` sorts below token + U+FFFF.
    const hi = lowerBound(tokens, `${token}\uffff`);
    const exact = lo < hi && tokens[lo] === token ? lo : -1;
    let expansion: Int32Array | null = null;
    const words = expansionOf(token);
    if (words) {
      const ids = words.map((w) => {
        const i = lowerBound(tokens, w);
        return tokens[i] === w ? i : -1;
      });
      if (ids.every((i) => i >= 0)) expansion = Int32Array.from(ids);
    }
    return {
      lo,
      hi,
      exact,
      length: token.length,
      numLen: /^\d+(?:\.\d+)?$/.test(token) ? token.length : 0,
      strengthLen: /^\d+(?:\.\d+)?[a-z%]+$/.test(token) ? token.length : 0,
      expansion,
    };
  }

  #passes(o: number, f: Filter): boolean {
    const flags = this.#l.flags[o] as number;
    if ((flags & f.typeMask) === 0 || (flags & f.mustHave) !== f.mustHave || (flags & f.mustNot) !== 0)
      return false;
    if (f.formCode === undefined && f.routeCode === undefined) return true;
    const e = this.#l.entries[o] as DmdSearchEntry;
    if (f.formCode !== undefined && e.formCode !== f.formCode) return false;
    if (f.routeCode !== undefined && !e.routeCodes.includes(f.routeCode)) return false;
    return true;
  }

  /** Best quality of word `w` over the sorted token ids toks[s, e); 0 if it matches none. */
  #quality(w: CompiledWord, toks: Int32Array, s: number, e: number): number {
    let best = 0;
    for (let k = s; k < e; k++) {
      const t = toks[k] as number;
      if (t < w.lo) continue;
      if (t >= w.hi) break;
      const q = t === w.exact ? Q_EXACT : this.#partialQuality(w, t);
      if (q > best) best = q;
    }
    if (best < Q_EXACT && w.expansion !== null) {
      let all = true;
      for (const id of w.expansion) {
        let found = false;
        for (let k = s; k < e; k++) {
          const t = toks[k] as number;
          if (t >= id) {
            found = t === id;
            break;
          }
        }
        if (!found) {
          all = false;
          break;
        }
      }
      if (all) best = Q_EXACT;
    }
    return best;
  }

  /** Quality of a token that the word is a proper prefix of. */
  #partialQuality(w: CompiledWord, t: number): number {
    if (w.numLen > 0 && this.#l.numLen[t] === w.numLen) return this.#l.slashPos[t] ? Q_RATIO : Q_NUMBER;
    if (w.strengthLen > 0 && this.#l.slashPos[t] === w.strengthLen) return Q_RATIO;
    return Q_PREFIX;
  }

  /** 2 if the name's first word is the query's first word, 1 if it starts with it, else 0. */
  #startBonus(w: CompiledWord, o: number): number {
    let bonus = 0;
    for (const t of [this.#l.first0[o] as number, this.#l.first1[o] as number]) {
      if (t < 0) continue;
      if (t === w.exact || (w.expansion?.length === 1 && w.expansion[0] === t)) return 2;
      if (t >= w.lo && t < w.hi) bonus = 1;
    }
    return bonus;
  }

  /** The word with the fewest candidate postings. */
  #rarest(compiled: readonly CompiledWord[]): CompiledWord {
    let best = compiled[0] as CompiledWord;
    let bestCount = Number.POSITIVE_INFINITY;
    for (const w of compiled) {
      const count = this.#sources(w).reduce((sum, [lo, hi]) => sum + this.#postingCount(lo, hi), 0);
      if (count < bestCount) {
        best = w;
        bestCount = count;
      }
    }
    return best;
  }

  #postingCount(lo: number, hi: number): number {
    return (this.#l.postingStart[hi] as number) - (this.#l.postingStart[lo] as number);
  }

  /** Token ranges whose postings hold every entry the word can match. */
  #sources(w: CompiledWord): [number, number][] {
    const out: [number, number][] = [];
    if (w.hi > w.lo) out.push([w.lo, w.hi]);
    if (w.expansion !== null) out.push(this.#rarestOf(w.expansion));
    return out;
  }

  /** Any one token of an expansion bounds its matches; the rarest bounds them best. */
  #rarestOf(ids: Int32Array): [number, number] {
    let best = ids[0] as number;
    for (const id of ids) if (this.#postingCount(id, id + 1) < this.#postingCount(best, best + 1)) best = id;
    return [best, best + 1];
  }

  /** Calls visit(o) for each ordinal in the sources' postings, ascending, until it returns true. */
  #walk(sources: readonly [number, number][], visit: (o: number) => boolean): boolean {
    const { postings, postingStart } = this.#l;
    const only = sources[0];
    if (!only) return false;
    if (sources.length === 1 && only[1] - only[0] === 1) {
      // One posting list: already ascending and distinct.
      for (let k = postingStart[only[0]] as number; k < (postingStart[only[1]] as number); k++)
        if (visit(postings[k] as number)) return true;
      return false;
    }
    const total = sources.reduce((sum, [lo, hi]) => sum + this.#postingCount(lo, hi), 0);
    if (total * 64 < this.size) {
      const gathered = new Int32Array(total);
      let g = 0;
      for (const [lo, hi] of sources) {
        const from = postingStart[lo] as number;
        const to = postingStart[hi] as number;
        gathered.set(postings.subarray(from, to), g);
        g += to - from;
      }
      gathered.sort();
      let previous = -1;
      for (const o of gathered) {
        if (o === previous) continue;
        previous = o;
        if (visit(o)) return true;
      }
      return false;
    }
    // Many postings: mark them, then sweep the marks in order, clearing as we go.
    const marks = this.#marks;
    let min = this.size;
    let max = -1;
    for (const [lo, hi] of sources) {
      for (let k = postingStart[lo] as number; k < (postingStart[hi] as number); k++) {
        const o = postings[k] as number;
        marks[o] = 1;
        if (o < min) min = o;
        if (o > max) max = o;
      }
    }
    for (let o = min; o <= max; o++) {
      if (marks[o] === 0) continue;
      marks[o] = 0;
      if (visit(o)) {
        marks.fill(0, o, max + 1);
        return true;
      }
    }
    return false;
  }

  /** The first of name, ABBREVNM, DESC in which every query word matches (for display). */
  #matchedField(entry: DmdSearchEntry, compiled: readonly CompiledWord[]): DmdSearchMatch {
    const fields: [DmdSearchMatch, string | null][] = [
      ['name', entry.name],
      ['abbreviatedName', entry.abbreviatedName],
      ['description', entry.description],
    ];
    for (const [field, text] of fields) {
      if (!text) continue;
      const ids: number[] = [];
      for (const word of tokenise(text)) {
        for (const token of [word.token, ...word.extra]) {
          const i = lowerBound(this.#l.tokens, token);
          if (this.#l.tokens[i] === token) ids.push(i);
        }
      }
      const toks = Int32Array.from(new Set(ids)).sort();
      if (compiled.every((w) => this.#quality(w, toks, 0, toks.length) > 0)) return field;
    }
    return 'name';
  }
}

/**
 * Builds the in-memory search index over a release's search entries (no database access after this).
 *
 * @example
 * const index = buildDmdSearchIndex(entries);
 * index.search('amox 500 caps', { prescribableOnly: true })[0]?.entry.name; // "Amoxicillin 500mg capsules"
 */
export function buildDmdSearchIndex(entries: Iterable<DmdSearchEntry>): DmdSearchIndex {
  return new InMemoryDmdSearchIndex(buildLayout(Array.from(entries)));
}
