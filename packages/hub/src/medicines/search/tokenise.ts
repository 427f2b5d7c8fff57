/*
 * Turning dm+d names and typed queries into comparable tokens. Names and queries go through the
 * same steps so that "Paracetamol 500mg Tablets", "paracetamol 500 mg tablet" and
 * "PARACÉTAMOL 500MG TABS" meet on the same tokens:
 *
 * - Unicode NFKD, combining marks dropped (diacritics), lower case, apostrophes removed.
 * - "m/r", "e/c", "s/f" (as ABBREVNM writes them) become one word before "/" is read as a ratio.
 * - Thousands separators in numbers go ("100,000units" → "100000unit").
 * - A number and the unit after it become one strength token ("500 mg" → "500mg"), units spelt
 *   one way (micrograms/mcg/µg → microgram, grams → g, units/iu → unit, mls → ml).
 * - A strength ratio stays one token ("250mg/5ml"), so a query "500mg" finds "500mg" as a whole word
 *   but "500mg/5ml" only as a prefix; its denominator ("5ml", "ml", "dose") is indexed too.
 * - Hyphenated words are split and also indexed joined ("co-amoxiclav" → co, amoxiclav, coamoxiclav).
 * - Plurals are folded by dropping a final "s" (or "es" after ch/sh/ss/x). The folded form is always a
 *   prefix of the word, so prefix matching of half-typed words still works.
 */

/** Unit spellings met in dm+d names and in prescribers' typing, and the one spelling we keep. */
const UNITS: ReadonlyMap<string, string> = new Map([
  ['mg', 'mg'],
  ['mgs', 'mg'],
  ['milligram', 'mg'],
  ['milligrams', 'mg'],
  ['g', 'g'],
  ['gm', 'g'],
  ['gms', 'g'],
  ['gram', 'g'],
  ['grams', 'g'],
  ['kg', 'kg'],
  ['microgram', 'microgram'],
  ['micrograms', 'microgram'],
  ['mcg', 'microgram'],
  ['mcgs', 'microgram'],
  ['ug', 'microgram'],
  ['nanogram', 'nanogram'],
  ['nanograms', 'nanogram'],
  ['ng', 'nanogram'],
  ['ml', 'ml'],
  ['mls', 'ml'],
  ['millilitre', 'ml'],
  ['millilitres', 'ml'],
  ['l', 'litre'],
  ['litre', 'litre'],
  ['litres', 'litre'],
  ['unit', 'unit'],
  ['units', 'unit'],
  ['iu', 'unit'],
  ['mmol', 'mmol'],
  ['micromol', 'micromol'],
  ['%', '%'],
  ['dose', 'dose'],
  ['doses', 'dose'],
]);

/** A number, possibly decimal: "500", "0.5". */
const NUMBER = /^\d+(?:\.\d+)?$/;
/** A number glued to letters or %: "500mg", "0.5%", "32gauge". */
const NUMBER_WITH_SUFFIX = /^(\d+(?:\.\d+)?)([a-z%]+)$/;
const ALPHA = /^[a-z]+$/;

/** One typed or written word after normalisation. */
export interface Word {
  /** The token the word is matched as ("tablet", "500mg", "250mg/5ml"). */
  readonly token: string;
  /** Further tokens the index also files the name under (joined hyphen forms, ratio denominators). */
  readonly extra: readonly string[];
}

/** Lower case, no diacritics, no apostrophes, ABBREVNM's slash abbreviations and thousands commas folded. */
export function normaliseText(text: string): string {
  // Most dm+d names are plain ASCII: skip the Unicode work for them.
  let out = /^[\x20-\x7e]*$/.test(text)
    ? text.toLowerCase()
    : text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[µμ]/g, 'u');
  if (out.includes("'") || out.includes('’') || out.includes('`')) out = out.replace(/['’`]/g, '');
  if (out.includes('/'))
    out = out.replace(
      /(^|[^a-z0-9])(m\/r|e\/c|s\/f)(?![a-z0-9])/g,
      (_all, before: string, abbr: string) => `${before}${abbr.replace('/', '')}`,
    );
  if (out.includes(',')) out = out.replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
  return out;
}

/** Drops a plural ending; the result is always a prefix of the input. */
export function foldPlural(word: string): string {
  const n = word.length;
  if (n < 4 || word.charCodeAt(n - 1) !== 115 /* s */ || !ALPHA.test(word)) return word;
  const before = word.charCodeAt(n - 2);
  // ss, us, is: not plurals (glass, ferrous, pertussis).
  if (before === 115 || before === 117 || before === 105) return word;
  if (before === 101 /* e */ && /(?:ch|sh|ss|x)es$/.test(word)) return word.slice(0, -2);
  return word.slice(0, -1);
}

/** A unit spelling's canonical form, or undefined if the text is not a unit. */
function unitOf(text: string): string | undefined {
  return UNITS.get(text);
}

/** "500micrograms" → "500microgram"; other number+suffix tokens ("32gauge") unchanged. */
function canonicalStrength(part: string): string {
  const m = NUMBER_WITH_SUFFIX.exec(part);
  if (!m) return part;
  const unit = unitOf(m[2] ?? '');
  return unit ? `${m[1]}${unit}` : part;
}

/** One word without "/": plural-folded if alphabetic, unit-canonical if a strength. */
function canonicalPart(part: string): string {
  if (part === '') return part;
  const unit = unitOf(part);
  if (unit) return unit;
  if (ALPHA.test(part)) return foldPlural(part);
  return canonicalStrength(part);
}

/** The words of one run of runsOf(). */
export function wordsOfRun(run: string): Word[] {
  const out: Word[] = [];
  splitRun(run, out);
  return out;
}

/** Splits a raw run of [a-z0-9.%/-] into words. */
function splitRun(run: string, out: Word[]): void {
  const trimmed = run.replace(/^[./-]+|[./-]+$/g, '');
  if (trimmed === '') return;
  // Dots only mean something between digits.
  const text = trimmed.replace(/\.(?!\d)|(?<!\d)\./g, '');
  if (text === '') return;
  if (text.includes('/')) {
    const parts = text.split('/').filter((p) => p !== '');
    const first = parts[0] ?? '';
    if (parts.length > 1 && /^\d/.test(first) && !first.includes('-')) {
      // A ratio strength: kept whole, its later parts indexed too.
      const canon = parts.map(canonicalPart);
      out.push({ token: canon.join('/'), extra: canon.slice(1) });
      return;
    }
    for (const p of parts) splitRun(p, out);
    return;
  }
  if (text.includes('-')) {
    const parts = text.split('-').filter((p) => p !== '');
    const joined = parts.every((p) => ALPHA.test(p)) && parts.length > 1 ? foldPlural(parts.join('')) : null;
    for (let i = 0; i < parts.length; i++) {
      const token = canonicalPart(parts[i] ?? '');
      if (token !== '') out.push({ token, extra: i === 0 && joined ? [joined] : [] });
    }
    return;
  }
  out.push({ token: canonicalPart(text), extra: [] });
}

/**
 * The words of a name or query, in order.
 *
 * @example tokenise('Amoxicillin 250mg/5ml oral suspension sugar free').map((w) => w.token)
 * // ['amoxicillin', '250mg/5ml', 'oral', 'suspension', 'sugar', 'free']
 */
export function tokenise(text: string): Word[] {
  const out: Word[] = [];
  for (const run of runsOf(text)) splitRun(run, out);
  return out;
}

/** Normalised text cut into runs of [a-z0-9.%/-], a bare number glued to the unit after it. */
export function runsOf(text: string): string[] {
  const runs = normaliseText(text).match(/[a-z0-9.%/-]+/g) ?? [];
  const glued: string[] = [];
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i] ?? '';
    const next = runs[i + 1];
    if (next !== undefined && NUMBER.test(run)) {
      const head = /^[a-z%]+/.exec(next)?.[0];
      const rest = head === undefined ? '' : next.slice(head.length);
      if (head !== undefined && unitOf(head) && (rest === '' || rest.startsWith('/'))) {
        glued.push(`${run}${next}`);
        i++;
        continue;
      }
    }
    glued.push(run);
  }
  return glued;
}

/** The words' tokens, space-separated: a key for "the query is exactly this name". */
export function exactKey(words: readonly Word[]): string {
  return words.map((w) => w.token).join(' ');
}
