import {
  activeDmdRelease,
  DMD_CONCEPT_TYPES,
  type DmdConceptDetail,
  type DmdConceptRef,
  type DmdConceptType,
  type DmdConceptView,
  DmdImportError,
  type DmdImportProgress,
  type DmdImportSummary,
  type DmdLookupResolver,
  type DmdReleaseInfo,
  type DmdSearchEntry,
  type DmdSearchHit,
  type DmdSearchOptions,
  DmdService,
  dmdConceptRefOf,
  importDmdRelease,
  listDmdReleases,
} from '@junction/hub';
import { formatBytes, table } from '../format.js';
import { CliError, type CliIo, printJson } from '../io.js';
import { percent, progressBar, TtyLine } from '../progress.js';
import type { StoreFlags } from '../store-flags.js';
import { withStore } from './store-commands.js';

/*
 * `junction dmd …`: import the NHSBSA dm+d release into the hub's store, and look at what is
 * there (search, one concept, release history). Each command opens the store as the hub would.
 */

/** What `dmd import` needs from the runtime beyond output: how to draw progress, and Ctrl-C. */
export interface DmdImportRuntime extends CliIo {
  /** Draw a redrawn progress bar (stderr is a terminal) instead of one line per file. */
  stderrIsTTY?: boolean;
  /** Terminal width for the bar (default 80). */
  columns?: number;
  /** Resolves on SIGINT/SIGTERM: the import is aborted and the previous release stays. */
  untilStopped: () => Promise<void>;
}

export interface DmdImportFlags extends StoreFlags {
  /** Treat an import still marked as running (a crashed or killed process) as dead. */
  takeOver?: boolean;
}

/** Exit code of an import stopped by Ctrl-C (128 + SIGINT, as shells report it). */
export const INTERRUPTED_EXIT_CODE = 130;

const NO_RELEASE = 'no dm+d release has been imported yet; run `junction dmd import <zip|folder>`';

/**
 * `junction dmd import <zip|folder>`: streams the release into the store beside the active one,
 * then switches; any failure (or Ctrl-C) leaves the active release as it was.
 */
export async function dmdImport(rt: DmdImportRuntime, source: string, flags: DmdImportFlags): Promise<void> {
  await withStore(rt, flags, async (store) => {
    const before = await activeDmdRelease(store);
    const controller = new AbortController();
    let finished = false;
    void rt.untilStopped().then(() => {
      if (!finished) controller.abort();
    });
    const progress = rt.stderrIsTTY ? new ProgressBar(rt, rt.columns ?? 80) : new ProgressLines(rt);
    let summary: DmdImportSummary;
    try {
      summary = await importDmdRelease(store, source, {
        onProgress: (p) => progress.update(p),
        signal: controller.signal,
        ...(flags.takeOver && { staleAfterMs: 0 }),
      });
    } catch (error) {
      progress.end();
      if (!(error instanceof DmdImportError)) throw error;
      const unchanged = before
        ? `the active release (${describeRelease(before)}) is unchanged`
        : 'no release is active';
      if (controller.signal.aborted) {
        throw new CliError(`dm+d import interrupted; ${unchanged}`, INTERRUPTED_EXIT_CODE);
      }
      const where = error.at
        ? `${error.at.file}:${error.at.line}${error.at.column === undefined ? '' : `:${error.at.column}`}: `
        : '';
      // DmdFormatError's reason already starts with file:line; name the place once.
      const reason =
        where && error.reason.startsWith(where) ? error.reason.slice(where.length) : error.reason;
      const hint = /another import is in progress/.test(reason)
        ? ' (if that process was killed, run again with --take-over)'
        : '';
      throw new CliError(`dm+d import of ${source} failed: ${where}${reason}${hint}; ${unchanged}`);
    } finally {
      finished = true;
    }
    progress.end();
    rt.stdout(formatImportSummary(summary));
  });
}

/** Counts of records done in earlier files, so a rate covers the whole import. */
class RecordCounter {
  private doneBefore = 0;
  private fileIndex = -1;
  private last = 0;
  readonly started = Date.now();

  /** Total records stored so far; true as second value when `p` is the first event of a file. */
  update(p: DmdImportProgress): { total: number; newFile: boolean } {
    const newFile = p.fileIndex !== this.fileIndex;
    if (newFile) {
      this.doneBefore += this.last;
      this.fileIndex = p.fileIndex;
    }
    this.last = p.records;
    return { total: this.doneBefore + p.records, newFile };
  }

  rate(total: number): number {
    const s = (Date.now() - this.started) / 1000;
    return s > 0 ? total / s : 0;
  }
}

/** Not a terminal (CI logs, pipes): one plain line when each file starts being stored. */
class ProgressLines {
  private readonly counter = new RecordCounter();
  constructor(private readonly io: CliIo) {}

  update(p: DmdImportProgress): void {
    const { total, newFile } = this.counter.update(p);
    if (!newFile) return;
    this.io.stderr(
      `dm+d import: [${p.fileIndex + 1}/${p.fileCount}] ${p.file} (${formatBytes(p.bytesTotal)}), ` +
        `${percent(p.releaseBytesRead, p.releaseBytesTotal)} of the release read, ` +
        `${Math.round(this.counter.rate(total)).toLocaleString('en-GB')} records/s\n`,
    );
  }

  end(): void {}
}

/** A terminal: one line redrawn in place (file, bar, percent of the release, records/s). */
class ProgressBar {
  private readonly counter = new RecordCounter();
  private readonly line: TtyLine;
  constructor(
    io: CliIo,
    private readonly columns: number,
  ) {
    this.line = new TtyLine(io, columns);
  }

  update(p: DmdImportProgress): void {
    const { total } = this.counter.update(p);
    const fraction = p.releaseBytesTotal > 0 ? p.releaseBytesRead / p.releaseBytesTotal : 0;
    const head = `[${p.fileIndex + 1}/${p.fileCount}] ${p.file}`;
    const tail = `${percent(p.releaseBytesRead, p.releaseBytesTotal).padStart(4)}  ${Math.round(
      this.counter.rate(total),
    ).toLocaleString('en-GB')} rec/s`;
    const width = Math.max(10, Math.min(40, this.columns - head.length - tail.length - 4));
    this.line.draw(`${head} ${progressBar(fraction, width)} ${tail}`);
  }

  end(): void {
    this.line.end();
  }
}

function describeRelease(r: Pick<DmdReleaseInfo, 'id' | 'releaseDate'>): string {
  return `${r.id}, ${r.releaseDate ?? 'undated'}`;
}

/** The report after an import: per file and section, per table, warnings. */
export function formatImportSummary(s: DmdImportSummary): string {
  const lines = [
    `dm+d release ${s.releaseId} (${s.releaseDate ?? 'undated'}) is now active` +
      `${s.replaced === null ? '' : `, replacing release ${s.replaced}`}; imported in ${(s.durationMs / 1000).toFixed(1)} s from ${s.source}`,
    '',
  ];
  const rows: string[][] = [];
  for (const f of s.files) {
    const sections = Object.entries(f.records);
    if (sections.length === 0) rows.push([f.name, '(no records)', '0']);
    for (const [i, [section, n]] of sections.entries()) rows.push([i === 0 ? f.name : '', section, count(n)]);
  }
  lines.push(...table(['file', 'section', 'records'], rows, [2]));
  lines.push('');
  lines.push(
    ...table(
      ['table', 'rows'],
      Object.entries(s.tables).map(([t, n]) => [t, count(n)]),
      [1],
    ),
  );
  const total = Object.values(s.tables).reduce((a, b) => a + b, 0);
  lines.push(`total rows: ${count(total)}`);
  lines.push('');
  if (s.warnings.length === 0) lines.push('warnings: none');
  else lines.push(`warnings (${s.warnings.length}):`, ...s.warnings.map((w) => `  ${w}`));
  return `${lines.join('\n')}\n`;
}

/** The largest page the hub's search returns. */
const MAX_SEARCH_LIMIT = 100;

export interface DmdSearchFlags extends StoreFlags {
  type?: string[];
  kind?: string;
  prescribable?: boolean;
  available?: boolean;
  includeInvalid?: boolean;
  controlled?: boolean;
  form?: string;
  route?: string;
  limit?: number;
  json?: boolean;
}

/** `junction dmd search <text…>`: typeahead over names, or a lookup when the text is a code. */
export async function dmdSearch(io: CliIo, words: string[], flags: DmdSearchFlags): Promise<void> {
  const text = words.join(' ').trim();
  if (text === '') throw new CliError('say what to search for, e.g. `junction dmd search amoxicillin 500`');
  const options = searchOptionsFrom(flags);
  await withStore(io, flags, async (store) => {
    const dmd = new DmdService(store);
    const snap = await dmd.current();
    if (!snap) throw new CliError(NO_RELEASE);
    checkCode(snap.lookup, 'FORM', '--form', flags.form);
    checkCode(snap.lookup, 'ROUTE', '--route', flags.route);
    const result = await dmd.search(text, options);
    if (!result) throw new CliError(NO_RELEASE);
    // Every match, where the page holds only the best --limit (a code found by its previous id or
    // GTIN is one hit the name index does not count).
    const total = Math.max(result.hits.length, result.snapshot.index.count(text, options));
    if (flags.json) {
      printJson(io, {
        release: { id: result.release.id, releaseDate: result.release.releaseDate },
        query: text,
        total,
        hits: result.hits.map((h) => ({ ...h.entry, score: h.score, matched: h.matched })),
      });
      return;
    }
    io.stdout(formatHits(text, result.release, result.hits, total, snap.lookup));
  });
}

function searchOptionsFrom(flags: DmdSearchFlags): DmdSearchOptions {
  const types = (flags.type ?? [])
    .flatMap((t) => t.split(','))
    .map((t) => t.trim().toUpperCase())
    .filter((t) => t !== '');
  for (const t of types) {
    if (!(DMD_CONCEPT_TYPES as readonly string[]).includes(t))
      throw new CliError(`unknown concept type '${t}'; types are: ${DMD_CONCEPT_TYPES.join(', ')}`);
  }
  if (flags.kind !== undefined && flags.kind !== 'medicine' && flags.kind !== 'device')
    throw new CliError(`--kind is medicine or device, not '${flags.kind}'`);
  if (flags.limit !== undefined && (flags.limit < 1 || flags.limit > MAX_SEARCH_LIMIT))
    throw new CliError(`--limit is 1 to ${MAX_SEARCH_LIMIT}`);
  for (const [flag, value] of [
    ['--form', flags.form],
    ['--route', flags.route],
  ] as const) {
    if (value !== undefined && !/^\d{6,18}$/.test(value))
      throw new CliError(
        `${flag} takes a SNOMED CT code from the dm+d lookup (e.g. 385055001), not '${value}'`,
      );
  }
  return {
    ...(types.length > 0 && { types: types as DmdConceptType[] }),
    ...(flags.kind !== undefined && { kind: flags.kind }),
    ...(flags.prescribable && { prescribableOnly: true }),
    ...(flags.available && { availableOnly: true }),
    ...(flags.includeInvalid && { includeInvalid: true }),
    ...(flags.controlled && { controlledOnly: true }),
    ...(flags.form !== undefined && { formCode: flags.form }),
    ...(flags.route !== undefined && { routeCode: flags.route }),
    ...(flags.limit !== undefined && { limit: flags.limit }),
  };
}

/** A form or route code the release's lookup does not know is a typo: say so rather than find nothing. */
function checkCode(
  lookup: DmdLookupResolver,
  list: 'FORM' | 'ROUTE',
  flag: string,
  code: string | undefined,
): void {
  if (code !== undefined && lookup(list, code) === null)
    throw new CliError(`${flag} ${code} is not a ${list} code of the active release's lookup file`);
}

function formatHits(
  text: string,
  release: DmdReleaseInfo,
  hits: DmdSearchHit[],
  total: number,
  lookup: DmdLookupResolver,
): string {
  const shown =
    total > hits.length
      ? `first ${hits.length} of ${count(total)} matches`
      : `${hits.length === 0 ? 'no' : hits.length} match${hits.length === 1 ? '' : 'es'}`;
  const more =
    total > hits.length && hits.length < MAX_SEARCH_LIMIT ? ` (--limit shows up to ${MAX_SEARCH_LIMIT})` : '';
  const head = `release ${describeRelease(release)}: ${shown} for "${text}"${more}`;
  if (hits.length === 0) return `${head}\n`;
  const rows = hits.map((h) => [h.entry.type, h.entry.id, h.entry.name, flagsOf(h.entry, lookup)]);
  return `${[head, ...table(['type', 'id', 'name', 'flags'], rows)].join('\n')}\n`;
}

/** The facts a prescriber scans for: what the entry is not, and its controlled drug schedule. */
function flagsOf(e: DmdSearchEntry, lookup: DmdLookupResolver): string {
  const flags: string[] = [];
  if (e.invalid) flags.push('invalid');
  if (e.kind === 'device') flags.push('device');
  if (!e.prescribable && e.type !== 'VTM') flags.push('not prescribable');
  if (!e.available) flags.push('unavailable');
  if (e.controlledDrugCategory !== null && e.controlledDrugCategory !== '0000')
    flags.push(lookup('CONTROL_DRUG_CATEGORY', e.controlledDrugCategory) ?? `CD ${e.controlledDrugCategory}`);
  return flags.join(', ');
}

/** `junction dmd show <code>`: one concept (by id, previous id or GTIN) with its parents and children. */
export async function dmdShow(
  io: CliIo,
  code: string,
  flags: StoreFlags & { json?: boolean },
): Promise<void> {
  await withStore(io, flags, async (store) => {
    const dmd = new DmdService(store);
    const view = await dmd.concept(code);
    if (view === 'no-release') throw new CliError(NO_RELEASE);
    if (view === null) {
      const release = await activeDmdRelease(store);
      throw new CliError(
        `no concept has the id, previous id or GTIN ${code.trim()} in release ${release ? describeRelease(release) : '?'}`,
      );
    }
    const { lookup, ...rest } = view;
    if (flags.json) {
      printJson(io, { ...rest, release: { id: rest.release.id, releaseDate: rest.release.releaseDate } });
      return;
    }
    const entry = await dmd.entry(dmdConceptRefOf(view.detail).id);
    io.stdout(formatConcept(view, entry, lookup));
  });
}

const MAX_LISTED = 50;

function formatConcept(
  view: DmdConceptView,
  entry: DmdSearchEntry | undefined,
  lookup: DmdLookupResolver,
): string {
  const d = view.detail;
  const { id, name } = dmdConceptRefOf(d);
  const lines = [`${d.type} ${id}  ${name}`];
  const field = (label: string, value: string | null | undefined) => {
    if (value !== null && value !== undefined && value !== '')
      lines.push(`  ${`${label}:`.padEnd(18)}${value}`);
  };
  field('release', describeRelease(view.release));
  if (view.matchedBy !== 'id') field('found by', `${view.matchedBy} ${view.requested}`);
  if (entry) field('flags', flagsOf(entry, lookup) || 'valid, prescribable, available');
  for (const [label, value] of detailFields(d, view, lookup)) field(label, value);
  const list = (title: string, refs: DmdConceptRef[]) => {
    lines.push('', `${title} (${refs.length})${refs.length === 0 ? '' : ':'}`);
    const shown = refs.slice(0, MAX_LISTED);
    lines.push(
      ...table(
        ['type', 'id', 'name', ''],
        shown.map((r) => [r.type, r.id, r.name, r.invalid ? 'invalid' : '']),
      )
        .slice(1)
        .map((l) => `  ${l}`),
    );
    if (refs.length > shown.length) lines.push(`  … and ${refs.length - shown.length} more`);
  };
  list('parents', view.parents);
  list('children', view.children);
  return `${lines.join('\n')}\n`;
}

/** A few facts per class (NHSBSA data model §2), lookup codes shown with their descriptions. */
function detailFields(
  d: DmdConceptDetail,
  view: DmdConceptView,
  lookup: DmdLookupResolver,
): [string, string | null | undefined][] {
  const money = (pence: number | null | undefined) =>
    pence === null || pence === undefined ? null : `£${(pence / 100).toFixed(2)}`;
  const vmp = d.type === 'VMP' ? d : view.vmp;
  const vmpFacts: [string, string | null | undefined][] = vmp
    ? [
        ['form', vmp.form ? lookup('FORM', vmp.form.FORMCD) : null],
        ['routes', vmp.routes.map((r) => lookup('ROUTE', r.ROUTECD) ?? r.ROUTECD).join(', ')],
        [
          'ingredients',
          vmp.ingredients
            .map(({ vpi, ingredient }) => {
              const strength =
                vpi.STRNT_NMRTR_VAL === null
                  ? ''
                  : ` ${vpi.STRNT_NMRTR_VAL} ${lookup('UNIT_OF_MEASURE', vpi.STRNT_NMRTR_UOMCD) ?? ''}${
                      vpi.STRNT_DNMTR_VAL === null
                        ? ''
                        : ` / ${vpi.STRNT_DNMTR_VAL} ${lookup('UNIT_OF_MEASURE', vpi.STRNT_DNMTR_UOMCD) ?? ''}`
                    }`;
              return `${ingredient?.NM ?? vpi.ISID}${strength.trimEnd()}`;
            })
            .join('; '),
        ],
        ['controlled drug', vmp.control ? lookup('CONTROL_DRUG_CATEGORY', vmp.control.CATCD) : null],
      ]
    : [];
  switch (d.type) {
    case 'VTM':
      return [
        ['abbreviated name', d.vtm.ABBREVNM],
        ['previous id', d.vtm.VTMIDPREV],
      ];
    case 'VMP':
      return [
        ['abbreviated name', d.vmp.ABBREVNM],
        ['previous id', d.vmp.VPIDPREV],
        ['prescribing', lookup('VIRTUAL_PRODUCT_PRES_STATUS', d.vmp.PRES_STATCD)],
        ['availability', lookup('VIRTUAL_PRODUCT_NON_AVAIL', d.vmp.NON_AVAILCD)],
        ...vmpFacts,
      ];
    case 'AMP':
      return [
        ['description', d.amp.DESC],
        ['supplier', lookup('SUPPLIER', d.amp.SUPPCD)],
        ['licensing', lookup('LICENSING_AUTHORITY', d.amp.LIC_AUTHCD)],
        ['availability', lookup('AVAILABILITY_RESTRICTION', d.amp.AVAIL_RESTRICTCD)],
        ...vmpFacts,
      ];
    case 'VMPP':
      return [
        ['quantity', `${d.vmpp.QTYVAL} ${lookup('UNIT_OF_MEASURE', d.vmpp.QTY_UOMCD) ?? ''}`.trimEnd()],
        ['drug tariff price', money(d.drugTariff?.PRICE)],
        ['tariff category', d.drugTariff ? lookup('DT_PAYMENT_CATEGORY', d.drugTariff.PAY_CATCD) : null],
        ...vmpFacts,
      ];
    case 'AMPP':
      return [
        ['quantity', `${d.vmpp.QTYVAL} ${lookup('UNIT_OF_MEASURE', d.vmpp.QTY_UOMCD) ?? ''}`.trimEnd()],
        ['legal category', lookup('LEGAL_CATEGORY', d.ampp.LEGAL_CATCD)],
        ['price', money(d.priceInfo?.PRICE)],
        ['discontinued', d.ampp.DISCCD ? lookup('DISCONTINUED_IND', d.ampp.DISCCD) : null],
        ['GTINs', d.gtins.map((g) => (g.ENDDT ? `${g.GTIN} (ended ${g.ENDDT})` : g.GTIN)).join(', ')],
        ...vmpFacts,
      ];
  }
}

/** `junction dmd releases`: the import history, newest first. */
export async function dmdReleases(io: CliIo, flags: StoreFlags & { json?: boolean }): Promise<void> {
  const releases = await withStore(io, flags, (store) => listDmdReleases(store, 50));
  if (flags.json) {
    printJson(io, releases);
    return;
  }
  if (releases.length === 0) throw new CliError(NO_RELEASE);
  const rows = releases.map((r) => [
    String(r.id),
    r.status,
    r.releaseDate ?? '',
    r.startedAt.replace('T', ' ').slice(0, 19),
    r.finishedAt ? r.finishedAt.replace('T', ' ').slice(0, 19) : '',
    r.summary ? count(Object.values(r.summary.tables).reduce((a, b) => a + b, 0)) : '',
    r.error ?? r.source,
  ]);
  io.stdout(
    `${table(['id', 'status', 'date', 'started (UTC)', 'finished (UTC)', 'rows', 'source / error'], rows, [5]).join('\n')}\n`,
  );
}

function count(n: number): string {
  return n.toLocaleString('en-GB');
}
