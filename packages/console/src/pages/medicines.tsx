import { Button, Checkboxes, InsetText, Select, Table, Tag, TextInput } from 'nhsuk-react-components';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ApiError, api, asApiError, type DmdHit, type DmdImport, type DmdRelease } from '../api';
import { BreakableText } from '../components/breakable-text';
import { ErrorBox } from '../components/error-box';
import { formatDate, formatDateTime } from '../components/format';
import { Page } from '../components/page';
import { type Loaded, useApi } from '../components/use-api';
import { useSession } from '../session';

/** How long typing must pause before a search is sent (a typeahead, not one request per key). */
const SEARCH_DEBOUNCE_MS = 250;
/** How often a running import's progress is asked for. */
const IMPORT_POLL_MS = 1_000;

const TYPE_NAMES: Record<string, string> = {
  VTM: 'Virtual therapeutic moiety',
  VMP: 'Virtual medicinal product',
  AMP: 'Actual medicinal product',
  VMPP: 'Virtual medicinal product pack',
  AMPP: 'Actual medicinal product pack',
};

export function TypeTag({ type }: { type: string }) {
  return (
    <abbr title={TYPE_NAMES[type] ?? type} className="app-nowrap">
      {type}
    </abbr>
  );
}

function FlagTags({ hit }: { hit: Pick<DmdHit, 'prescribable' | 'available' | 'invalid'> }) {
  return (
    <>
      {hit.prescribable ? (
        <Tag modifier="green">Prescribable</Tag>
      ) : (
        <Tag modifier="grey">Not prescribable</Tag>
      )}{' '}
      {!hit.available && <Tag modifier="orange">Not available</Tag>}{' '}
      {hit.invalid && <Tag modifier="red">Invalid</Tag>}
    </>
  );
}

function Search({ noRelease }: { noRelease: boolean }) {
  const [params, setParams] = useSearchParams();
  const [text, setText] = useState(params.get('q') ?? '');
  // The form's own state is the truth while the page is open, mirrored into the URL (so a link or a
  // reload keeps the search). Controlled inputs read it synchronously: the router applies a URL change
  // a moment later, and a checkbox bound to the URL alone would flick back when clicked.
  const [filters, setFilters] = useState<Record<string, string>>(() => ({
    q: params.get('q') ?? '',
    kind: params.get('kind') ?? '',
    prescribable: params.get('prescribable') ?? '',
    available: params.get('available') ?? '',
  }));
  const q = filters.q ?? '';
  const kind = filters.kind ?? '';
  const prescribable = filters.prescribable === 'true';
  const available = filters.available === 'true';

  const update = (changes: Record<string, string | undefined>) => {
    setFilters((current) => {
      const merged = { ...current };
      for (const [name, value] of Object.entries(changes)) merged[name] = value ?? '';
      return merged;
    });
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [name, value] of Object.entries(changes)) {
          if (value === undefined || value === '') next.delete(name);
          else next.set(name, value);
        }
        return next;
      },
      { replace: true },
    );
  };

  // Search as you type: the URL (and so the request) follows the box after a short pause.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only the typed text restarts the timer
  useEffect(() => {
    if (text.trim() === q) return;
    const timer = setTimeout(() => update({ q: text.trim() }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const results = useApi<{ release: { releaseDate: string | null }; hits: DmdHit[] }>(
    q.length >= 2 && !noRelease ? '/medicines/search' : null,
    {
      q,
      kind,
      prescribable: prescribable || undefined,
      available: available || undefined,
      limit: 25,
    },
  );

  if (noRelease) {
    return (
      <section aria-labelledby="search-heading">
        <h2 id="search-heading">Search the dm+d</h2>
        <NoReleaseYet />
      </section>
    );
  }
  return (
    <section aria-labelledby="search-heading">
      <h2 id="search-heading">Search the dm+d</h2>
      <form aria-label="Search medicines" onSubmit={(e: FormEvent) => e.preventDefault()}>
        <TextInput
          id="medicine-query"
          name="q"
          type="search"
          label="Medicine or device name, dm+d id or GTIN"
          hint="Results appear as you type (at least 2 characters)"
          autoComplete="off"
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
        />
        <div className="app-filters">
          <Select
            id="kind"
            label="Show"
            value={kind}
            onChange={(e) => update({ kind: e.currentTarget.value })}
          >
            <Select.Option value="">Medicines and devices</Select.Option>
            <Select.Option value="medicine">Medicines only</Select.Option>
            <Select.Option value="device">Devices only</Select.Option>
          </Select>
          <Checkboxes id="medicine-filters" legend="Filters" small>
            <Checkboxes.Item
              id="prescribable"
              value="prescribable"
              checked={prescribable}
              onChange={(e) => update({ prescribable: e.currentTarget.checked ? 'true' : undefined })}
            >
              Prescribable in NHS primary care
            </Checkboxes.Item>
            <Checkboxes.Item
              id="available"
              value="available"
              checked={available}
              onChange={(e) => update({ available: e.currentTarget.checked ? 'true' : undefined })}
            >
              Available
            </Checkboxes.Item>
          </Checkboxes>
        </div>
      </form>
      <ErrorBox error={results.error} noFocus />
      <div aria-live="polite" className="nhsuk-u-visually-hidden">
        {results.data && !results.loading ? `${results.data.hits.length} results` : ''}
      </div>
      {results.data && results.data.hits.length === 0 && (
        <p className="nhsuk-body">No medicines match “{q}”.</p>
      )}
      {results.data && results.data.hits.length > 0 && (
        <Table responsive caption={`Results for “${q}”`}>
          <Table.Head>
            <Table.Row>
              <Table.Cell>Name</Table.Cell>
              <Table.Cell>Supplier</Table.Cell>
              <Table.Cell>Class</Table.Cell>
              <Table.Cell>Kind</Table.Cell>
              <Table.Cell>Status</Table.Cell>
            </Table.Row>
          </Table.Head>
          <Table.Body>
            {results.data.hits.map((h) => (
              <Table.Row key={`${h.type}-${h.id}`}>
                <Table.Cell>
                  <Link to={`/medicines/${h.id}`}>{h.name}</Link>
                </Table.Cell>
                <Table.Cell>{h.supplier ?? '—'}</Table.Cell>
                <Table.Cell>
                  <TypeTag type={h.type} />
                </Table.Cell>
                <Table.Cell>{h.kind === 'device' ? 'Device' : 'Medicine'}</Table.Cell>
                <Table.Cell>
                  <FlagTags hit={h} />
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
    </section>
  );
}

function statusTag(status: string) {
  const modifier =
    status === 'active' ? 'green' : status === 'failed' ? 'red' : status === 'superseded' ? 'grey' : 'blue';
  return <Tag modifier={modifier}>{status.charAt(0).toUpperCase() + status.slice(1)}</Tag>;
}

type ReleasesAnswer = { active: DmdRelease | null; history: DmdRelease[] };

/**
 * Where the dm+d comes from, before any release is in (NHS.UK inset text): the way to import one
 * this person has, the upload below (medicines.import) or the CLI on the hub, or whom to ask.
 */
function NoReleaseYet() {
  const session = useSession();
  return (
    <InsetText>
      <p>
        No dm+d release has been imported yet, so there is nothing to search.{' '}
        {session.can('medicines.import') ? (
          <>
            Upload a release zip below or run <code>junction dmd import &lt;zip&gt;</code> on the hub.
          </>
        ) : (
          <>
            Ask your hub administrator to import one (<code>junction dmd import &lt;zip&gt;</code>).
          </>
        )}
      </p>
    </InsetText>
  );
}

function Releases({ releases }: { releases: Loaded<ReleasesAnswer> }) {
  const data = releases.data;
  // Nothing imported and nothing tried: the search section has said so.
  if (data && !data.active && data.history.length === 0) return null;
  return (
    <section aria-labelledby="releases-heading">
      <h2 id="releases-heading">Releases</h2>
      <ErrorBox error={releases.error} noFocus />
      {data && (
        <>
          <p className="nhsuk-body">
            {data.active
              ? `Current release: ${formatDate(data.active.releaseDate)} (${data.active.source}), imported ${formatDateTime(data.active.finishedAt)}.`
              : 'No dm+d release has been imported yet.'}
          </p>
          {data.history.length > 0 && (
            <Table responsive caption="Import history, newest first">
              <Table.Head>
                <Table.Row>
                  <Table.Cell>Release date</Table.Cell>
                  <Table.Cell>Source</Table.Cell>
                  <Table.Cell>Status</Table.Cell>
                  <Table.Cell>Started</Table.Cell>
                  <Table.Cell>Finished</Table.Cell>
                </Table.Row>
              </Table.Head>
              <Table.Body>
                {data.history.map((r) => (
                  <Table.Row key={r.id}>
                    <Table.Cell>{formatDate(r.releaseDate)}</Table.Cell>
                    <Table.Cell>
                      <BreakableText text={r.source} />
                    </Table.Cell>
                    <Table.Cell>
                      {statusTag(r.status)}
                      {r.error && <p className="nhsuk-body-s nhsuk-u-margin-top-1">{r.error}</p>}
                    </Table.Cell>
                    <Table.Cell>{formatDateTime(r.startedAt)}</Table.Cell>
                    <Table.Cell>{formatDateTime(r.finishedAt)}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table>
          )}
        </>
      )}
    </section>
  );
}

const FINISHED = new Set(['active', 'superseded', 'failed']);

/** Upload a release zip (medicines.import) and follow the import job's progress. */
function Import({ onFinished }: { onFinished: () => void }) {
  const file = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<ApiError>();
  const [running, setRunning] = useState<DmdImport>();
  const [busy, setBusy] = useState(false);

  // An import already under way (started here before a reload, or by someone else) is followed too.
  useEffect(() => {
    let cancelled = false;
    void api<{ imports: DmdImport[] }>('/medicines/imports')
      .then(({ imports }) => {
        const current = imports.find((i) => !FINISHED.has(i.status));
        if (!cancelled && current) setRunning((r) => r ?? current);
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(() => {
    if (!running || FINISHED.has(running.status)) return;
    const timer = setTimeout(async () => {
      try {
        const next = await api<DmdImport | { import: DmdImport }>(`/medicines/imports/${running.id}`);
        const state = 'import' in next ? next.import : next;
        setRunning(state);
        if (FINISHED.has(state.status)) onFinished();
      } catch (e) {
        setError(asApiError(e));
      }
    }, IMPORT_POLL_MS);
    return () => clearTimeout(timer);
  }, [running, onFinished]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const chosen = file.current?.files?.[0];
    if (!chosen) {
      setError(new ApiError(0, ['Select a dm+d release zip file'], ''));
      return;
    }
    setError(undefined);
    setBusy(true);
    try {
      const zip =
        chosen.type === 'application/zip' ? chosen : new Blob([chosen], { type: 'application/zip' });
      // The hub names the stored upload from Content-Disposition (a plain file name only).
      const name = chosen.name.replace(/["\\\r\n]/g, '');
      const started = await api<{ import: DmdImport }>('/medicines/imports', {
        method: 'POST',
        body: zip,
        headers: { 'content-disposition': `attachment; filename="${name}"` },
      });
      setRunning(started.import);
    } catch (e) {
      setError(asApiError(e, '/medicines/imports'));
    } finally {
      setBusy(false);
    }
  };

  const p = running?.progress;
  const percent =
    p?.percent ?? (p && p.filesTotal > 0 ? Math.round((p.filesDone / p.filesTotal) * 100) : undefined);
  return (
    <section aria-labelledby="import-heading">
      <h2 id="import-heading">Import a release</h2>
      <ErrorBox error={error} />
      <form onSubmit={submit} noValidate>
        {/* The NHS.UK design system's file upload (nhsuk-frontend 10 `file-upload`) as it renders without
            its script: the native input, styled. Its script's drop-zone button is left out: its name puts
            a comma between the status and "Choose file", which axe reports as a label-in-name failure
            (WCAG 2.5.3). */}
        <div className="nhsuk-form-group nhsuk-file-upload">
          <label className="nhsuk-label" htmlFor="release-zip">
            dm+d release zip (from the NHSBSA via TRUD)
          </label>
          <div className="nhsuk-hint" id="release-zip-hint">
            A full release, such as nhsbsa_dmd_3.1.0_20190401000001.zip
          </div>
          <input
            className="nhsuk-file-upload__input"
            id="release-zip"
            name="release"
            type="file"
            accept=".zip,application/zip"
            aria-describedby="release-zip-hint"
            ref={file}
          />
        </div>
        <Button
          type="submit"
          secondary
          disabled={busy || (running !== undefined && !FINISHED.has(running.status))}
        >
          Start import
        </Button>
      </form>
      {running && (
        <div className="nhsuk-u-margin-bottom-5">
          <label className="nhsuk-label" htmlFor="import-progress">
            Import of {running.fileName ?? 'the release'}
            {running.status === 'importing' || running.status === 'queued' ? '' : `: ${running.status}`}
          </label>
          <progress
            id="import-progress"
            className="app-progress"
            max={100}
            {...(percent !== undefined && { value: percent })}
          >
            {percent ?? 0}%
          </progress>
          <p className="nhsuk-body-s" role="status">
            {statusTag(running.status)} {percent !== undefined && `${percent}% · `}
            {p && `${p.filesDone} of ${p.filesTotal} files, ${p.records.toLocaleString('en-GB')} records`}
            {p?.file && ` (reading ${p.file})`}
          </p>
          {running.error && <p className="nhsuk-error-message">{running.error}</p>}
        </div>
      )}
    </section>
  );
}

export default function MedicinesPage() {
  const session = useSession();
  const releases = useApi<ReleasesAnswer>('/medicines/releases');
  const { reload } = releases;
  // After an import finishes: fetched again in place (the current list stays until the new one is in).
  const onFinished = useCallback(() => void reload(true), [reload]);
  return (
    <Page title="Medicines">
      <p className="nhsuk-lede-text">
        The NHS Dictionary of Medicines and Devices (dm+d), as this hub serves it.
      </p>
      <Search noRelease={releases.data !== undefined && releases.data.active === null} />
      <Releases releases={releases} />
      {session.can('medicines.import') && <Import onFinished={onFinished} />}
    </Page>
  );
}
