import { Button, InsetText, Select, TextInput, WarningCallout } from 'nhsuk-react-components';
import { type FormEvent, useState } from 'react';
import { useSearchParams } from 'react-router';
import { type ApiError, type AuditEvent, api, asApiError, queryString } from '../api';
import { AuditTable } from '../components/audit-table';
import { type DayParts, dayProblem, isoDate, partsOf } from '../components/dates';
import { DayInput } from '../components/day-input';
import { ErrorBox, FieldErrors } from '../components/error-box';
import { formatDateTime } from '../components/format';
import { Page } from '../components/page';
import { useApi } from '../components/use-api';

const TEXT_FILTERS = ['nhsNumber', 'user', 'apiKey', 'organisation', 'action', 'outcome'] as const;
type TextFilter = (typeof TEXT_FILTERS)[number];
const FILTERS = [...TEXT_FILTERS, 'from', 'to'] as const;
type Filter = (typeof FILTERS)[number];

/** A day of the form (`YYYY-MM-DD`, local time) as the instant the hub filters on; `to` covers the whole day. */
function instant(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const d = new Date(`${day}T00:00:00`);
  if (Number.isNaN(d.getTime())) return undefined;
  if (end) d.setDate(d.getDate() + 1);
  return d.toISOString();
}

interface Verification {
  ok: boolean;
  checked: number;
  firstBroken?: { seq: number; reason: string };
  verifiedAt: string;
}

function VerifyChain() {
  const [result, setResult] = useState<Verification>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await api<Verification>('/audit/verify', { method: 'POST', body: {} }));
    } catch (e) {
      setError(asApiError(e, '/audit/verify'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="verify-heading">
      <h2 id="verify-heading">Verify the audit chain</h2>
      <p className="nhsuk-body">
        Every audit record carries a hash of the one before it. Verifying recomputes the chain and finds any
        record that was changed or removed.
      </p>
      <Button type="button" secondary disabled={busy} onClick={() => void verify()}>
        Verify chain
      </Button>
      <ErrorBox error={error} />
      <div role="status" aria-live="polite">
        {busy && <p className="nhsuk-body">Verifying…</p>}
        {result?.ok && (
          <InsetText>
            <p>
              The audit chain is intact: {result.checked.toLocaleString('en-GB')} records checked at{' '}
              {formatDateTime(result.verifiedAt)}.
            </p>
          </InsetText>
        )}
        {result && !result.ok && (
          <WarningCallout>
            <WarningCallout.Heading>The audit chain is broken</WarningCallout.Heading>
            <p>
              {result.firstBroken
                ? `Record ${result.firstBroken.seq} does not follow from the one before it: ${result.firstBroken.reason}.`
                : 'A record does not follow from the one before it.'}{' '}
              {result.checked.toLocaleString('en-GB')} records checked at {formatDateTime(result.verifiedAt)}.
            </p>
          </WarningCallout>
        )}
      </div>
    </section>
  );
}

export default function AuditPage() {
  const [params, setParams] = useSearchParams();
  const applied = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<Filter, string>;
  const [draft, setDraft] = useState<Record<TextFilter, string>>(applied);
  const [from, setFrom] = useState<DayParts>(partsOf(applied.from));
  const [to, setTo] = useState<DayParts>(partsOf(applied.to));
  const [errors, setErrors] = useState<{ field: string; message: string }[]>([]);
  const [before, setBefore] = useState<number[]>([]);
  const query = {
    nhsNumber: applied.nhsNumber.replace(/\s+/g, ''),
    user: applied.user,
    apiKey: applied.apiKey,
    organisation: applied.organisation,
    action: applied.action,
    outcome: applied.outcome,
    from: instant(applied.from, false),
    to: instant(applied.to, true),
  };
  const cursor = before[before.length - 1];
  const events = useApi<{ events: AuditEvent[]; next?: number }>('/audit/events', {
    ...query,
    before: cursor,
    limit: 50,
  });

  const apply = (event: FormEvent) => {
    event.preventDefault();
    // NHS.UK date input validation: each date blank or real, and the range the right way round.
    const found: { field: string; message: string }[] = [];
    const fromProblem = dayProblem(from, 'From date');
    const toProblem = dayProblem(to, 'To date');
    if (fromProblem) found.push({ field: 'audit-from-day', message: fromProblem });
    if (toProblem) found.push({ field: 'audit-to-day', message: toProblem });
    const fromDay = isoDate(from);
    const toDay = isoDate(to);
    if (found.length === 0 && fromDay && toDay && toDay < fromDay) {
      found.push({ field: 'audit-to-day', message: 'To date must be the same as or after the from date' });
    }
    setErrors(found);
    if (found.length > 0) return;
    const next = new URLSearchParams();
    for (const f of TEXT_FILTERS) if (draft[f].trim() !== '') next.set(f, draft[f].trim());
    if (fromDay) next.set('from', fromDay);
    if (toDay) next.set('to', toDay);
    setBefore([]);
    setParams(next, { replace: true });
  };
  const errorOf = (field: string) => errors.find((e) => e.field === field)?.message;
  const field = (name: TextFilter) => ({
    id: `audit-${name}`,
    name,
    value: draft[name],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
      setDraft({ ...draft, [name]: e.currentTarget.value }),
  });

  return (
    <Page title="Audit">
      <p className="nhsuk-lede-text">
        Every access to patient data and every decision of the hub, newest first.
      </p>
      <FieldErrors errors={errors} />
      <form onSubmit={apply} aria-label="Audit filters" noValidate>
        <div className="app-filters">
          <TextInput label="NHS number" inputMode="numeric" width={10} {...field('nhsNumber')} />
          <TextInput label="User" hint="CIS2 user id, or admin username" width={20} {...field('user')} />
          <TextInput label="API key" hint="Key id" width={20} {...field('apiKey')} />
          <TextInput label="Organisation" hint="ODS code" width={10} {...field('organisation')} />
          <TextInput label="Action" hint="For example, patient.read" width={20} {...field('action')} />
          <Select label="Outcome" {...field('outcome')}>
            <Select.Option value="">Any</Select.Option>
            <Select.Option value="success">Success</Select.Option>
            <Select.Option value="denied">Denied</Select.Option>
            <Select.Option value="failure">Failure</Select.Option>
          </Select>
        </div>
        <div className="app-filters">
          <DayInput
            id="audit-from"
            legend="From date (optional)"
            hint="For example, 15 3 2025"
            value={from}
            onChange={setFrom}
            error={errorOf('audit-from-day')}
          />
          <DayInput
            id="audit-to"
            legend="To date (optional)"
            hint="Records of this whole day are included"
            value={to}
            onChange={setTo}
            error={errorOf('audit-to-day')}
          />
        </div>
        <Button type="submit">Search audit trail</Button>
      </form>
      <p className="nhsuk-body">
        <a href={`/audit/events.csv${queryString(query)}`} download>
          Download CSV
          <span className="nhsuk-u-visually-hidden"> of the audit records matching these filters</span>
        </a>
      </p>
      <ErrorBox error={events.error} />
      {events.loading && (
        <p className="nhsuk-body" role="status">
          Loading…
        </p>
      )}
      {events.data && events.data.events.length === 0 && (
        <p className="nhsuk-body">
          No audit records match. Check the filters, or try fewer of them or wider dates.
        </p>
      )}
      {events.data && events.data.events.length > 0 && (
        <AuditTable events={events.data.events} caption="Audit records, newest first" />
      )}
      {(cursor !== undefined || events.data?.next !== undefined) && (
        <nav className="nhsuk-pagination" aria-label="Audit pages">
          <ul className="nhsuk-list nhsuk-pagination__list">
            {cursor !== undefined && (
              <li className="nhsuk-pagination-item--previous">
                <button
                  type="button"
                  className="nhsuk-link-style app-link-button"
                  onClick={() => setBefore(before.slice(0, -1))}
                >
                  Newer records
                </button>
              </li>
            )}
            {events.data?.next !== undefined && (
              <li className="nhsuk-pagination-item--next">
                <button
                  type="button"
                  className="nhsuk-link-style app-link-button"
                  onClick={() => events.data?.next !== undefined && setBefore([...before, events.data.next])}
                >
                  Older records
                </button>
              </li>
            )}
          </ul>
        </nav>
      )}
      <VerifyChain />
    </Page>
  );
}
