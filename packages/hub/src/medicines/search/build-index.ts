import type { DmdConceptType, DmdProductKind, DmdSearchEntry } from '../model.js';
import { expansionOf } from './abbreviations.js';
import { exactKey, runsOf, tokenise, wordsOfRun } from './tokenise.js';
import type { DmdSearchHit, DmdSearchIndex, DmdSearchMatch, DmdSearchOptions } from './types.js';

/*
 * Layout. Entries are numbered ("ordinals") in their static rank order: VMPs (more packs first,
 * shorter name, name, id), each followed by its INLINE_AMPS most-packed AMPs, then the other AMPs,
 * VTMs, VMPPs and AMPPs. Every token of every name is kept once in a sorted dictionary, so a typed
 * prefix is a contiguous range of token ids. Each token has a posting list of ordinals (ascending,
 * so in static rank order), and a second list of the entries whose name starts with it; each entry
 * has its sorted, de-duplicated token ids.
 *
 * A search scores candidates against all words and drops them into a bucket per score level
 * (word qualities, scaled, plus a starts-with bonus of 0..2). Candidates come in phases, one per
 * (bonus, whether the rarest word matches whole), each walked in ordinal order with an upper bound
 * on the levels it can reach. A phase is skipped when enough hits sit above its bound and stops as
 * soon as its own hits at the bound fill the page: within a level arrival order is the final order.
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
/** A whole token this rare is scored up front when it is not the rarest word (see #collect). */
const RARE_EXACT = 2000;
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
  /** Entries by ordinal, and the columns a search reads (see Columns). */
  entries: DmdSearchEntry[];
  abbreviatedNames: (string | null)[];
  descriptions: (string | null)[];
  formCodes: (string | null)[];
  routeCodes: string[][];
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
  /**
   * Entry o's tokens: entryTokens[entryTokenStart[o], nameEnd[o]) are its name's, sorted, and
   * [nameEnd[o], entryTokenStart[o + 1]) those only in ABBREVNM or DESC, sorted.
   */
  nameEnd: Int32Array;
  entryTokens: Int32Array;
  /** Token ids of the name's first word (the word, and its joined hyphen form) or -1. */
  first0: Int32Array;
  first1: Int32Array;
  /** Per token: the entries whose name starts with it (ascending), as postingStart/postings. */
  firstStart: Int32Array;
  firstPostings: Int32Array;
  /** Per TYPE_RANK: first ordinal of that type and one past the last (0, 0 when none). */
  typeLo: Int32Array;
  /** Per ordinal: type rank, id and VMP id (for grouping a VMP's AMPs after it). */
  typeRank: Uint8Array;
  ids: string[];
  vmpIds: (string | null)[];
  typeHi: Int32Array;
  byId: IdIndex;
  /** VTM ordinals by the exact key of their name. */
  vtmByKey: Map<string, number[]>;
}

/**
 * The entries' fields as columns, read once. Entries built with object spread (as the store and the
 * synthetic helpers do) get a hidden class each in V8, so every property read of one is a slow
 * lookup; reading each entry once keeps that cost linear and small.
 */
interface Columns {
  typeRank: Uint8Array;
  packs: Int32Array;
  flags: Uint16Array;
  ids: string[];
  names: string[];
  abbreviatedNames: (string | null)[];
  descriptions: (string | null)[];
  vmpIds: (string | null)[];
  formCodes: (string | null)[];
  routeCodes: string[][];
}

function columnsOf(input: readonly DmdSearchEntry[]): Columns {
  const n = input.length;
  const c: Columns = {
    typeRank: new Uint8Array(n),
    packs: new Int32Array(n),
    flags: new Uint16Array(n),
    ids: new Array(n),
    names: new Array(n),
    abbreviatedNames: new Array(n),
    descriptions: new Array(n),
    vmpIds: new Array(n),
    formCodes: new Array(n),
    routeCodes: new Array(n),
  };
  for (let i = 0; i < n; i++) {
    const e = input[i] as DmdSearchEntry;
    let type: DmdConceptType = 'VTM';
    let id = '';
    let name = '';
    let abbreviatedName: string | null = null;
    let description: string | null = null;
    let invalid = false;
    let kind: DmdProductKind = 'medicine';
    let prescribable = false;
    let available = false;
    let controlledDrugCategory: string | null = null;
    let formCode: string | null = null;
    let routeCodes: string[] = [];
    let vmpId: string | null = null;
    let packCount = 0;
    // for-in walks V8's enum cache: ~3x faster than named reads on such objects (measured).
    for (const key in e) {
      const v = e[key as keyof DmdSearchEntry];
      switch (key) {
        case 'type':
          type = v as DmdConceptType;
          break;
        case 'id':
          id = v as string;
          break;
        case 'name':
          name = v as string;
          break;
        case 'abbreviatedName':
          abbreviatedName = v as string | null;
          break;
        case 'description':
          description = v as string | null;
          break;
        case 'invalid':
          invalid = v as boolean;
          break;
        case 'kind':
          kind = v as DmdProductKind;
          break;
        case 'prescribable':
          prescribable = v as boolean;
          break;
        case 'available':
          available = v as boolean;
          break;
        case 'controlledDrugCategory':
          controlledDrugCategory = v as string | null;
          break;
        case 'formCode':
          formCode = v as string | null;
          break;
        case 'routeCodes':
          routeCodes = v as string[];
          break;
        case 'vmpId':
          vmpId = v as string | null;
          break;
        case 'packCount':
          packCount = v as number;
          break;
      }
    }
    const controlled = controlledDrugCategory !== null && controlledDrugCategory !== '0000';
    c.typeRank[i] = TYPE_RANK[type];
    c.packs[i] = Math.min(Math.max(0, Math.floor(packCount)), 999_999);
    c.flags[i] =
      TYPE_BIT[type] |
      (kind === 'device' ? F_DEVICE : 0) |
      (prescribable ? F_PRESCRIBABLE : 0) |
      (available ? F_AVAILABLE : 0) |
      (invalid ? F_INVALID : 0) |
      (controlled ? F_CONTROLLED : 0);
    c.ids[i] = id;
    c.names[i] = name;
    c.abbreviatedNames[i] = abbreviatedName;
    c.descriptions[i] = description;
    c.vmpIds[i] = vmpId;
    c.formCodes[i] = formCode;
    c.routeCodes[i] = routeCodes;
  }
  return c;
}

/** FNV-1a over the UTF-16 code units. */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Ordinal by id: open addressing over an Int32Array (a Map of 400k strings builds ~10x slower). */
class IdIndex {
  readonly #ids: readonly string[];
  readonly #table: Int32Array;
  readonly #mask: number;

  constructor(ids: readonly string[]) {
    let size = 1024;
    while (size < ids.length * 2) size *= 2;
    this.#ids = ids;
    this.#table = new Int32Array(size).fill(-1);
    this.#mask = size - 1;
    for (let o = 0; o < ids.length; o++) {
      const id = ids[o] as string;
      let k = hashOf(id) & this.#mask;
      for (;;) {
        const at = this.#table[k] as number;
        if (at < 0) break;
        if (ids[at] === id) throw new RangeError(`duplicate dm+d id ${id} in search entries`);
        k = (k + 1) & this.#mask;
      }
      this.#table[k] = o;
    }
  }

  get(id: string): number | undefined {
    let k = hashOf(id) & this.#mask;
    for (;;) {
      const at = this.#table[k] as number;
      if (at < 0) return undefined;
      if (this.#ids[at] === id) return at;
      k = (k + 1) & this.#mask;
    }
  }
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

/** Sorts a[lo, hi) in place: insertion sort, as an entry has a few dozen tokens at most. */
function sortRange(a: Int32Array, lo: number, hi: number): void {
  if (hi - lo > 64) {
    a.subarray(lo, hi).sort();
    return;
  }
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i] as number;
    let j = i - 1;
    while (j >= lo && (a[j] as number) > v) {
      a[j + 1] = a[j] as number;
      j--;
    }
    a[j + 1] = v;
  }
}

/** A run's tokens as provisional ids, and its first word's (for the starts-with bonus). */
interface RunIds {
  ids: number[];
  first0: number;
  first1: number;
}

/** staticKey values are below this: type rank, packs, name length (see staticOrder). */
const STATIC_KEY_LIMIT = 5_000_000 * 256;

/**
 * How many of a VMP's AMPs (most packs first) follow it directly. A prescriber typing "amoxicillin
 * 500" sees the capsules VMP, a handful of its AMPs, then the next 500mg form (vials), so both the
 * common product's brands and the other forms fit on the first page; the rest of the AMPs follow
 * all VMPs.
 */
export const INLINE_AMPS = 5;

/** Input indexes in static rank order (see Layout above). */
function staticOrder(c: Columns): Int32Array {
  const n = c.names.length;
  const { typeRank, packs, names, ids, vmpIds } = c;
  // Static rank as one number (type, then more packs, then shorter name) packed with the index in
  // one double (exact below 2^53), so the bulk sort is numeric; only runs of equal keys are then
  // ordered by name and id.
  let shift = 1;
  while (shift <= n) shift *= 2;
  if (STATIC_KEY_LIMIT * shift > Number.MAX_SAFE_INTEGER) throw new RangeError(`too many entries: ${n}`);
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const key =
      ((typeRank[i] as number) * 1_000_000 + (999_999 - (packs[i] as number))) * 256 +
      Math.min((names[i] as string).length, 255);
    packed[i] = key * shift + i;
  }
  packed.sort();
  const base = new Int32Array(n);
  for (let k = 0; k < n; k++) base[k] = (packed[k] as number) % shift;
  const byNameThenId = (a: number, b: number): number => {
    const x = names[a] as string;
    const y = names[b] as string;
    if (x !== y) return x < y ? -1 : 1;
    const i = ids[a] as string;
    const j = ids[b] as string;
    return i < j ? -1 : i > j ? 1 : 0;
  };
  for (let k = 0; k < n; ) {
    const key = Math.floor((packed[k] as number) / shift);
    let end = k + 1;
    while (end < n && Math.floor((packed[end] as number) / shift) === key) end++;
    if (end - k > 1) {
      const run = Array.from(base.subarray(k, end)).sort(byNameThenId);
      for (let j = 0; j < run.length; j++) base[k + j] = run[j] as number;
    }
    k = end;
  }
  const AMP = TYPE_RANK.AMP;
  const VMP = TYPE_RANK.VMP;
  const inline = new Map<string, number[]>();
  for (const i of base) {
    const vmpId = vmpIds[i];
    if (typeRank[i] !== AMP || vmpId === null || vmpId === undefined) continue;
    const list = inline.get(vmpId);
    if (list === undefined) inline.set(vmpId, [i]);
    else if (list.length < INLINE_AMPS) list.push(i);
  }
  const out = new Int32Array(n);
  const placed = new Uint8Array(n);
  let k = 0;
  for (const i of base) {
    if (typeRank[i] !== VMP) continue;
    out[k++] = i;
    placed[i] = 1;
    for (const a of inline.get(ids[i] as string) ?? []) {
      if (placed[a]) continue;
      out[k++] = a;
      placed[a] = 1;
    }
  }
  for (const i of base) if (!placed[i]) out[k++] = i;
  return out;
}

/** Column values in ordinal order. */
function permute<T>(values: readonly T[], rank: Int32Array): T[] {
  const out = new Array<T>(rank.length);
  for (let o = 0; o < rank.length; o++) out[o] = values[rank[o] as number] as T;
  return out;
}

function buildLayout(input: DmdSearchEntry[]): Layout {
  const n = input.length;
  const columns = columnsOf(input);
  const rank = staticOrder(columns);
  const entries = permute(input, rank);
  const ids = permute(columns.ids, rank);
  const names = permute(columns.names, rank);
  const abbreviatedNames = permute(columns.abbreviatedNames, rank);
  const descriptions = permute(columns.descriptions, rank);
  const formCodes = permute(columns.formCodes, rank);
  const routeCodes = permute(columns.routeCodes, rank);
  const typeRank = new Uint8Array(n);
  const flags = new Uint16Array(n);
  for (let o = 0; o < n; o++) {
    const i = rank[o] as number;
    typeRank[o] = columns.typeRank[i] as number;
    flags[o] = columns.flags[i] as number;
  }
  const byId = new IdIndex(ids);

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
  // Whole names and abbreviated names repeat too (an AMP is usually named as its VMP): each distinct
  // text ("piece") is tokenised once into a shared pool, without an object per piece.
  const textCache = new Map<string, number>();
  const pool = new GrowableInt32();
  const pieceStart = new GrowableInt32();
  const pieceFirst0 = new GrowableInt32();
  const pieceFirst1 = new GrowableInt32();
  pieceStart.push(0);
  const pieceOf = (text: string): number => {
    let piece = textCache.get(text);
    if (piece === undefined) {
      let first: RunIds | undefined;
      for (const run of runsOf(text)) {
        const r = idsOfRun(run);
        if (first === undefined && r.ids.length > 0) first = r;
        for (const id of r.ids) pool.push(id);
      }
      piece = pieceFirst0.length;
      pieceFirst0.push(first?.first0 ?? -1);
      pieceFirst1.push(first?.first1 ?? -1);
      pieceStart.push(pool.length);
      textCache.set(text, piece);
    }
    return piece;
  };
  /** Last entry each provisional id was added for, to de-duplicate an entry's tokens. */
  let stamp = new Int32Array(1024).fill(-1);
  const entryTokens = new GrowableInt32();
  /** Adds a piece's tokens to entry o; whether it had any. */
  const addPiece = (piece: number, o: number): boolean => {
    const ids = pool.array;
    const from = pieceStart.array[piece] as number;
    const to = pieceStart.array[piece + 1] as number;
    for (let k = from; k < to; k++) {
      const id = ids[k] as number;
      if (id >= stamp.length) {
        const next = new Int32Array(Math.max(stamp.length * 2, id + 1)).fill(-1);
        next.set(stamp);
        stamp = next;
      }
      if (stamp[id] === o) continue;
      stamp[id] = o;
      entryTokens.push(id);
    }
    return to > from;
  };
  // Pack names and AMP descriptions are a repeated name and a repeated supplier and pack size:
  // "Amoxicillin 500mg capsules (Teva UK Ltd) 21 capsule". Brackets end a run, so the pieces between
  // them tokenise apart the same way (unless a bare number before a bracket could take a unit after
  // it, "5 (mg"). Returns the first piece with tokens (for the first word), or -1.
  const addText = (text: string, o: number): number => {
    // Most AMP names are their VMP's name: one lookup, no slicing.
    const whole = textCache.get(text);
    if (whole !== undefined || (text.indexOf('(') < 0 && text.indexOf(')') < 0)) {
      const piece = whole ?? pieceOf(text);
      return addPiece(piece, o) ? piece : -1;
    }
    let first = -1;
    let start = 0;
    for (let i = 1; i <= text.length; i++) {
      if (i < text.length) {
        const ch = text.charCodeAt(i);
        if (ch !== 40 && ch !== 41) continue; // ( )
        let j = i - 1;
        while (j > start && text.charCodeAt(j) === 32) j--;
        const before = text.charCodeAt(j);
        if (before >= 48 && before <= 57) continue; // a digit
      }
      const piece = pieceOf(text.slice(start, i));
      if (addPiece(piece, o) && first < 0) first = piece;
      start = i;
    }
    return first;
  };

  const entryTokenStart = new Int32Array(n + 1);
  const nameEnd = new Int32Array(n);
  const first0 = new Int32Array(n);
  const first1 = new Int32Array(n);
  const vtmByKey = new Map<string, number[]>();
  for (let o = 0; o < n; o++) {
    const name = addText(names[o] as string, o);
    nameEnd[o] = entryTokens.length;
    first0[o] = name < 0 ? -1 : (pieceFirst0.array[name] as number);
    first1[o] = name < 0 ? -1 : (pieceFirst1.array[name] as number);
    const abbreviatedName = abbreviatedNames[o];
    if (abbreviatedName) addText(abbreviatedName, o);
    const description = descriptions[o];
    if (description) addText(description, o);
    entryTokenStart[o + 1] = entryTokens.length;
    if (typeRank[o] === TYPE_RANK.VTM) {
      // "Co-amoxiclav" is asked for as "co-amoxiclav", "co amoxiclav" or "coamoxiclav".
      const name = names[o] as string;
      const keys = new Set([exactKey(tokenise(name)), exactKey(tokenise(name.replace(/-/g, '')))]);
      for (const key of keys) {
        const list = vtmByKey.get(key);
        if (list) list.push(o);
        else vtmByKey.set(key, [o]);
      }
    }
  }
  textCache.clear();
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
    // Name tokens and the other texts' tokens are kept as two sorted runs (see Layout.nameEnd).
    sortRange(flat, entryTokenStart[o] as number, nameEnd[o] as number);
    sortRange(flat, nameEnd[o] as number, entryTokenStart[o + 1] as number);
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

  // Start-of-name postings: first0/first1 per entry, filled in ordinal order.
  const firstStart = new Int32Array(tokens.length + 1);
  for (let o = 0; o < n; o++) {
    const a = first0[o] as number;
    const b = first1[o] as number;
    if (a >= 0) (firstStart[a + 1] as number)++;
    if (b >= 0 && b !== a) (firstStart[b + 1] as number)++;
  }
  for (let t = 0; t < tokens.length; t++)
    firstStart[t + 1] = (firstStart[t + 1] as number) + (firstStart[t] as number);
  const firstPostings = new Int32Array(firstStart[tokens.length] as number);
  const firstFill = firstStart.slice(0, tokens.length);
  for (let o = 0; o < n; o++) {
    const a = first0[o] as number;
    const b = first1[o] as number;
    if (a >= 0) firstPostings[(firstFill[a] as number)++] = o;
    if (b >= 0 && b !== a) firstPostings[(firstFill[b] as number)++] = o;
  }

  const typeLo = new Int32Array(5).fill(n);
  const typeHi = new Int32Array(5);
  for (let o = 0; o < n; o++) {
    const r = typeRank[o] as number;
    if (o < (typeLo[r] as number)) typeLo[r] = o;
    typeHi[r] = o + 1;
  }
  for (let r = 0; r < 5; r++) if (typeHi[r] === 0) typeLo[r] = 0;

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
    abbreviatedNames,
    descriptions,
    formCodes,
    routeCodes,
    flags,
    tokens,
    numLen,
    slashPos,
    postingStart,
    postings,
    entryTokenStart,
    nameEnd,
    entryTokens: flat.slice(),
    first0,
    first1,
    firstStart,
    firstPostings,
    typeLo,
    typeRank,
    ids,
    vmpIds: permute(columns.vmpIds, rank),
    typeHi,
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

/** Total list length of token ranges, given per-token starts. */
function count(starts: Int32Array, ranges: readonly [number, number][]): number {
  let sum = 0;
  for (const [lo, hi] of ranges) sum += (starts[hi] as number) - (starts[lo] as number);
  return sum;
}

/** The word's prefix range without its exact token, as up to two token ranges. */
function withoutExact(w: CompiledWord): [number, number][] {
  if (w.exact < 0) return w.lo < w.hi ? [[w.lo, w.hi]] : [];
  const out: [number, number][] = [];
  if (w.lo < w.exact) out.push([w.lo, w.exact]);
  if (w.exact + 1 < w.hi) out.push([w.exact + 1, w.hi]);
  return out;
}

/** Whether sorted toks[s, e) holds `id`. */
function hasToken(toks: Int32Array, s: number, e: number, id: number): boolean {
  for (let k = s; k < e; k++) {
    const t = toks[k] as number;
    if (t >= id) return t === id;
  }
  return false;
}

/** Whether the entry tokens toks[s, m) or toks[m, e) (each sorted) hold `id`. */
function hasTokenIn(toks: Int32Array, s: number, m: number, e: number, id: number): boolean {
  return hasToken(toks, s, m, id) || hasToken(toks, m, e, id);
}

/** Lowest k in [lo, hi) of ascending `a` with a[k] >= v. */
function lowerBoundInt(a: Int32Array, lo: number, hi: number, v: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
    const limit = clampLimit(options?.limit);
    const { hits, compiled, top, buckets } = this.#find(query, options, limit);
    if (!buckets) return hits;
    for (let level = top; level >= 0 && hits.length < limit; level--) {
      for (const o of this.#grouped(buckets.sorted(level))) {
        if (hits.length >= limit) break;
        const entry = this.#l.entries[o] as DmdSearchEntry;
        hits.push({ entry, score: level, matched: this.#matchedField(o, compiled) });
      }
    }
    return hits;
  }

  count(query: string, options?: DmdSearchOptions): number {
    // The same search with a page no result fills: every phase runs to its end, nothing is ranked.
    const { hits, buckets } = this.#find(query, options, Number.POSITIVE_INFINITY);
    return hits.length + (buckets?.total ?? 0);
  }

  /**
   * The hits a search takes before ranking (an id, an exact VTM name), and the buckets of the rest
   * for a page of `limit`; no buckets when those first hits fill the page or nothing else can match.
   */
  #find(
    query: string,
    options: DmdSearchOptions | undefined,
    limit: number,
  ): { hits: DmdSearchHit[]; compiled: CompiledWord[]; top: number; buckets?: Buckets } {
    const l = this.#l;
    const filter = compileFilter(options);
    const hits: DmdSearchHit[] = [];
    const taken = new Set<number>();
    const words = tokenise(query);
    const compiled = words.map((w) => this.#compileWord(w.token));
    // Scores: word qualities scaled, plus the starts-with bonus; an id and an exact VTM name above all.
    const top = words.length * Q_EXACT * LEVEL_SCALE + 2;
    const found = { hits, compiled, top };

    const trimmed = query.trim();
    if (ID_QUERY.test(trimmed)) {
      const o = l.byId.get(trimmed);
      if (o !== undefined && this.#passes(o, filter)) {
        hits.push({ entry: l.entries[o] as DmdSearchEntry, score: top + 2, matched: 'id' });
        taken.add(o);
      }
    }
    if (words.length === 0 || hits.length >= limit) return found;
    if (compiled.some((w) => w.hi === w.lo && w.expansion === null)) return found;

    for (const o of l.vtmByKey.get(exactKey(words)) ?? []) {
      if (hits.length >= limit) return found;
      if (taken.has(o) || !this.#passes(o, filter)) continue;
      hits.push({ entry: l.entries[o] as DmdSearchEntry, score: top + 1, matched: 'name' });
      taken.add(o);
    }

    const need = limit - hits.length;
    if (need <= 0) return found;
    const buckets = new Buckets(top + 1, need);
    this.#collect(compiled, filter, taken, buckets);
    return { ...found, buckets };
  }

  /**
   * One level's hits (ascending ordinals) with each VMP followed by up to INLINE_AMPS of its own AMPs
   * among them. The static order already places a VMP's most-packed AMPs after it, but some of those
   * may not match the query (a brand name when the generic name was typed), while others that match
   * sit after all VMPs.
   */
  #grouped(level: number[]): number[] {
    const { typeRank, vmpIds, ids } = this.#l;
    if (level.length < 3) return level;
    const out: number[] = [];
    const used = new Uint8Array(level.length);
    for (let i = 0; i < level.length; i++) {
      if (used[i]) continue;
      const o = level[i] as number;
      out.push(o);
      if (typeRank[o] !== TYPE_RANK.VMP) continue;
      let pulled = 0;
      for (let j = i + 1; j < level.length && pulled < INLINE_AMPS; j++) {
        const a = level[j] as number;
        if (used[j] || typeRank[a] !== TYPE_RANK.AMP || vmpIds[a] !== ids[o]) continue;
        out.push(a);
        used[j] = 1;
        pulled++;
      }
    }
    return out;
  }

  /**
   * Fills the buckets phase by phase: for each starts-with bonus (2, 1, 0), first the entries that
   * hold the rarest word whole (or its expansion, tier A), then those that hold it only as a prefix
   * (tier B). Every level belongs to one bonus, and a phase's candidates arrive in ordinal order, so
   * a phase ends once its own hits at its bound, plus all hits above it, fill the page.
   */
  #collect(compiled: CompiledWord[], filter: Filter, taken: Set<number>, buckets: Buckets): void {
    const l = this.#l;
    const drive = this.#rarest(compiled);
    const first = compiled[0] as CompiledWord;
    const cap = buckets.capacity;
    const [from, to] = this.#ordinalRange(filter.typeMask);
    if (from >= to) return;
    const { entryTokens, entryTokenStart, nameEnd, postingStart, postings, firstStart, firstPostings } = l;
    const score = (o: number, bonus: number): number => {
      const s = entryTokenStart[o] as number;
      const m = nameEnd[o] as number;
      const e = entryTokenStart[o + 1] as number;
      let sum = 0;
      for (const w of compiled) {
        const q = this.#quality(w, entryTokens, s, m, e);
        if (q === 0) return -1;
        sum += q;
      }
      return sum * LEVEL_SCALE + bonus;
    };
    // Another word that is a rare whole token but a common prefix ("p" in "p 10") would make every
    // bound assume it whole: score the entries holding it first, then leave them out of the phases.
    const aside: number[] = [];
    const setAside = (o: number): boolean => {
      const s = entryTokenStart[o] as number;
      const e = entryTokenStart[o + 1] as number;
      for (const t of aside) if (hasTokenIn(entryTokens, s, nameEnd[o] as number, e, t)) return true;
      return false;
    };
    let others = 0;
    for (const w of compiled) {
      if (w === drive) continue;
      const q = this.#maxQuality(w, from, to);
      const partial = this.#maxPartial(w);
      if (
        q === Q_EXACT &&
        partial < Q_EXACT &&
        w.expansion === null &&
        this.#postingCount(w.exact, w.exact + 1) <= RARE_EXACT
      ) {
        this.#walk([[w.exact, w.exact + 1]], postingStart, postings, from, to, (o) => {
          if (!this.#passes(o, filter) || (taken.size > 0 && taken.has(o))) return false;
          if (aside.length > 0 && setAside(o)) return false; // scored with an earlier word
          const level = score(o, this.#startBonus(first, o));
          if (level >= 0) buckets.add(level, o);
          return false;
        });
        aside.push(w.exact);
        others += partial;
      } else others += q;
    }
    const drivePartial = this.#maxPartial(drive);
    // A lone one- or two-letter word matches the start of names only: otherwise "p" would walk
    // every "pack", "powder" and "preservative" in the release.
    const loneShort = compiled.length === 1 && drive.numLen === 0 && drive.length <= 2;

    const driveA: [number, number][] = [];
    if (drive.exact >= 0) driveA.push([drive.exact, drive.exact + 1]);
    if (drive.expansion !== null) driveA.push(this.#rarestOf(drive.expansion));
    const driveB = withoutExact(drive);
    const startA: [number, number][] = [];
    if (first.exact >= 0) startA.push([first.exact, first.exact + 1]);
    const one = first.expansion?.length === 1 ? (first.expansion[0] as number) : -1;
    if (one >= 0) startA.push([one, one + 1]);
    const startB = withoutExact(first);

    for (let bonus = 2; bonus >= 0; bonus--) {
      for (const tierA of [true, false]) {
        if (!tierA && (drivePartial === 0 || (bonus === 0 && loneShort))) continue;
        // No name starts with the first word (bonus 2) or with a longer word it begins (bonus 1).
        if ((bonus === 2 && startA.length === 0) || (bonus === 1 && startB.length === 0)) continue;
        const bound = ((tierA ? Q_EXACT : drivePartial) + others) * LEVEL_SCALE + bonus;
        if (buckets.countAbove(bound) >= cap) continue;
        // Candidates: the drive word's postings, or the start-of-name postings when fewer.
        let sources = tierA ? driveA : driveB;
        let starts = postingStart;
        let lists = postings;
        if (bonus > 0) {
          const byStart = bonus === 2 ? startA : startB;
          if (count(firstStart, byStart) < count(postingStart, sources)) {
            sources = byStart;
            starts = firstStart;
            lists = firstPostings;
          }
        }
        let own = 0;
        this.#walk(sources, starts, lists, from, to, (o) => {
          if (this.#startBonus(first, o) !== bonus) return false;
          if (!this.#passes(o, filter) || (taken.size > 0 && taken.has(o))) return false;
          if (aside.length > 0 && setAside(o)) return false;
          const s = entryTokenStart[o] as number;
          const m = nameEnd[o] as number;
          const e = entryTokenStart[o + 1] as number;
          const dq = this.#quality(drive, entryTokens, s, m, e);
          if (dq === 0 || (dq === Q_EXACT) !== tierA) return false;
          let sum = dq;
          for (const w of compiled) {
            if (w === drive) continue;
            const q = this.#quality(w, entryTokens, s, m, e);
            if (q === 0) return false;
            sum += q;
          }
          const level = sum * LEVEL_SCALE + bonus;
          buckets.add(level, o);
          return level === bound && ++own + buckets.countAbove(bound) >= cap;
        });
      }
    }
  }

  /** Ordinals [from, to) that hold every type the filter allows (types are contiguous blocks). */
  #ordinalRange(typeMask: number): [number, number] {
    let from = this.size;
    let to = 0;
    for (const [type, rank] of Object.entries(TYPE_RANK) as [DmdConceptType, number][]) {
      if ((typeMask & TYPE_BIT[type]) === 0) continue;
      const lo = this.#l.typeLo[rank] as number;
      const hi = this.#l.typeHi[rank] as number;
      if (lo >= hi) continue;
      if (lo < from) from = lo;
      if (hi > to) to = hi;
    }
    return [from, to];
  }

  /** Upper bound of the word's quality over entries in ordinals [from, to). */
  #maxQuality(w: CompiledWord, from: number, to: number): number {
    if (w.expansion !== null) return Q_EXACT;
    if (w.exact >= 0) {
      const { postingStart, postings } = this.#l;
      const s = postingStart[w.exact] as number;
      const e = postingStart[w.exact + 1] as number;
      if (e > s && (postings[s] as number) < to && (postings[e - 1] as number) >= from) return Q_EXACT;
    }
    return this.#maxPartial(w);
  }

  /** Upper bound of the word's quality as a proper prefix of a token (0 when it is of none). */
  #maxPartial(w: CompiledWord): number {
    const span = w.hi - w.lo - (w.exact >= 0 ? 1 : 0);
    if (span <= 0) return 0;
    if (w.numLen === 0 && w.strengthLen === 0) return Q_PREFIX;
    if (span > 4096) return Q_NUMBER;
    let best = 0;
    for (let t = w.lo; t < w.hi && best < Q_NUMBER; t++) {
      if (t === w.exact) continue;
      const q = this.#partialQuality(w, t);
      if (q > best) best = q;
    }
    return best;
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
    if (f.formCode !== undefined && this.#l.formCodes[o] !== f.formCode) return false;
    if (f.routeCode !== undefined && !(this.#l.routeCodes[o] as string[]).includes(f.routeCode)) return false;
    return true;
  }

  /**
   * Best quality of word `w` over the token ids toks[s, m) and toks[m, e), each sorted; 0 if it
   * matches none.
   */
  #quality(w: CompiledWord, toks: Int32Array, s: number, m: number, e: number): number {
    let best = this.#runQuality(w, toks, s, m);
    if (best < Q_EXACT && m < e) best = Math.max(best, this.#runQuality(w, toks, m, e));
    if (best < Q_EXACT && w.expansion !== null) {
      for (const id of w.expansion) if (!hasTokenIn(toks, s, m, e, id)) return best;
      best = Q_EXACT;
    }
    return best;
  }

  /** Best quality of word `w` over the sorted token ids toks[s, e), not counting its expansion. */
  #runQuality(w: CompiledWord, toks: Int32Array, s: number, e: number): number {
    let best = 0;
    for (let k = s; k < e; k++) {
      const t = toks[k] as number;
      if (t < w.lo) continue;
      if (t >= w.hi) break;
      const q = t === w.exact ? Q_EXACT : this.#partialQuality(w, t);
      if (q > best) best = q;
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

  /**
   * Calls visit(o) for each ordinal in [from, to) of the sources' lists (token ranges into
   * starts/lists), ascending and once each, until it returns true.
   */
  #walk(
    sources: readonly [number, number][],
    starts: Int32Array,
    lists: Int32Array,
    from: number,
    to: number,
    visit: (o: number) => boolean,
  ): boolean {
    const only = sources[0];
    if (!only) return false;
    if (sources.length === 1 && only[1] - only[0] === 1) {
      // One list: already ascending and distinct; skip to `from` by binary search.
      let k = lowerBoundInt(lists, starts[only[0]] as number, starts[only[1]] as number, from);
      const end = starts[only[1]] as number;
      for (; k < end; k++) {
        const o = lists[k] as number;
        if (o >= to) return false;
        if (visit(o)) return true;
      }
      return false;
    }
    const total = count(starts, sources);
    if (total * 64 < this.size) {
      const gathered = new Int32Array(total);
      let g = 0;
      for (const [lo, hi] of sources) {
        const a = starts[lo] as number;
        const b = starts[hi] as number;
        gathered.set(lists.subarray(a, b), g);
        g += b - a;
      }
      gathered.sort();
      let previous = -1;
      for (const o of gathered) {
        if (o === previous || o < from) continue;
        if (o >= to) return false;
        previous = o;
        if (visit(o)) return true;
      }
      return false;
    }
    // Many postings: mark them window by window (growing), sweeping each window's marks in order
    // and clearing them, so a walk that stops early marks little.
    const marks = this.#marks;
    const lists0: number[] = [];
    for (const [lo, hi] of sources) for (let t = lo; t < hi; t++) lists0.push(t);
    const cursor = new Int32Array(lists0.length);
    for (let i = 0; i < lists0.length; i++) {
      const t = lists0[i] as number;
      cursor[i] = lowerBoundInt(lists, starts[t] as number, starts[t + 1] as number, from);
    }
    let width = 4096;
    for (let wlo = from; wlo < to; wlo += width, width *= 2) {
      const whi = Math.min(to, wlo + width);
      let min = whi;
      let max = wlo - 1;
      for (let i = 0; i < lists0.length; i++) {
        const end = starts[(lists0[i] as number) + 1] as number;
        let k = cursor[i] as number;
        for (; k < end; k++) {
          const o = lists[k] as number;
          if (o >= whi) break;
          marks[o] = 1;
          if (o < min) min = o;
          if (o > max) max = o;
        }
        cursor[i] = k;
      }
      for (let o = min; o <= max; o++) {
        if (marks[o] === 0) continue;
        marks[o] = 0;
        if (visit(o)) {
          marks.fill(0, o, max + 1);
          return true;
        }
      }
    }
    return false;
  }

  /** The first of name, ABBREVNM, DESC in which every query word matches (for display). */
  #matchedField(o: number, compiled: readonly CompiledWord[]): DmdSearchMatch {
    const l = this.#l;
    // The name's tokens are kept apart, so the usual answer needs no tokenising.
    const s = l.entryTokenStart[o] as number;
    const m = l.nameEnd[o] as number;
    if (compiled.every((w) => this.#quality(w, l.entryTokens, s, m, m) > 0)) return 'name';
    const fields: [DmdSearchMatch, string | null | undefined][] = [
      ['abbreviatedName', l.abbreviatedNames[o]],
      ['description', l.descriptions[o]],
    ];
    for (const [field, text] of fields) {
      if (!text) continue;
      const ids: number[] = [];
      for (const word of tokenise(text)) {
        for (const token of [word.token, ...word.extra]) {
          const i = lowerBound(l.tokens, token);
          if (l.tokens[i] === token) ids.push(i);
        }
      }
      const toks = Int32Array.from(new Set(ids)).sort();
      if (compiled.every((w) => this.#quality(w, toks, 0, toks.length, toks.length) > 0)) return field;
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
