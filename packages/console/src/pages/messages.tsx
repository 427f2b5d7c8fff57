import { Button, Checkboxes, InsetText, Select, Table, Tag, TextInput } from 'nhsuk-react-components';
import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import {
  type ApiError,
  api,
  asApiError,
  type Job,
  type JobList,
  type Mailbox,
  type MeshMessage,
} from '../api';
import { BreakableText } from '../components/breakable-text';
import { ErrorBox } from '../components/error-box';
import { formatDateTime } from '../components/format';
import { Page } from '../components/page';
import { useApi } from '../components/use-api';
import { useSession } from '../session';

/** How often the message log and jobs are fetched again while the page is open. */
const REFRESH_MS = 4_000;

const MESSAGE_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'acknowledged',
  'failed',
  'received',
  'acked',
];
const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'dead'];

type Modifier = 'green' | 'blue' | 'red' | 'orange' | 'grey' | 'yellow' | 'aqua-green' | 'purple';
const STATUS_TONE: Record<string, Modifier> = {
  queued: 'grey',
  sending: 'blue',
  running: 'blue',
  sent: 'blue',
  delivered: 'aqua-green',
  acknowledged: 'green',
  succeeded: 'green',
  received: 'purple',
  acked: 'green',
  failed: 'orange',
  dead: 'red',
};

export function StatusTag({ status }: { status: string }) {
  return (
    <Tag modifier={STATUS_TONE[status] ?? 'grey'}>{status.charAt(0).toUpperCase() + status.slice(1)}</Tag>
  );
}

/** Fetches again every REFRESH_MS while the tab is visible. */
function useAutoRefresh(reload: (background: boolean) => Promise<void>, enabled = true) {
  useEffect(() => {
    if (!enabled) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void reload(true);
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload, enabled]);
}

function Mailboxes() {
  const mailboxes = useApi<{ mailboxes: Mailbox[] }>('/mesh/mailboxes');
  const canAdd = useSession().can('settings.manage');
  return (
    <section aria-labelledby="mailboxes-heading">
      <h2 id="mailboxes-heading">Mailboxes</h2>
      <ErrorBox error={mailboxes.error} noFocus />
      {mailboxes.data && mailboxes.data.mailboxes.length === 0 && (
        <InsetText>
          <p>This hub has no MESH mailbox configured, so it sends and receives no MESH messages.</p>
          {canAdd && (
            <p>
              Add one in <Link to="/settings">Settings</Link>: it is used at once, on every hub instance.
            </p>
          )}
          <p>
            {canAdd ? 'Or' : 'To add one,'} set <code>JUNCTION_MESH_MAILBOXES</code> in the hub's environment
            to a JSON array of mailboxes (mailbox id, password, shared key and MESH address), or{' '}
            <code>JUNCTION_MESH_MAILBOXES_FILE</code> to a file holding one, and restart the hub. The MESH
            section of the hub's README describes each field.
          </p>
        </InsetText>
      )}
      {mailboxes.data && mailboxes.data.mailboxes.length > 0 && (
        <Table responsive caption="The hub's MESH mailboxes">
          <Table.Head>
            <Table.Row>
              <Table.Cell>Mailbox</Table.Cell>
              <Table.Cell>Last poll</Table.Cell>
              <Table.Cell format="numeric">Inbound</Table.Cell>
              <Table.Cell format="numeric">Outbound</Table.Cell>
              <Table.Cell format="numeric">Failed</Table.Cell>
            </Table.Row>
          </Table.Head>
          <Table.Body>
            {mailboxes.data.mailboxes.map((m) => (
              <Table.Row key={m.mailboxId}>
                <Table.Cell>
                  <strong>{m.mailboxId}</strong>
                  <br />
                  <BreakableText text={m.baseUrl} className="nhsuk-body-s" />
                </Table.Cell>
                <Table.Cell>
                  {m.lastPoll ? (
                    <>
                      <StatusTag status={m.lastPoll.status === 'succeeded' ? 'succeeded' : 'failed'} />{' '}
                      {formatDateTime(m.lastPoll.at)}
                      {m.lastPoll.error && <p className="nhsuk-body-s">{m.lastPoll.error}</p>}
                    </>
                  ) : (
                    'Not polled yet'
                  )}
                </Table.Cell>
                <Table.Cell format="numeric">{m.counts?.inbound ?? '—'}</Table.Cell>
                <Table.Cell format="numeric">{m.counts?.outbound ?? '—'}</Table.Cell>
                <Table.Cell format="numeric">{m.counts?.failed ?? '—'}</Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
    </section>
  );
}

const MESSAGE_FILTERS = ['mailbox', 'workflow', 'status', 'direction', 'correlationId'] as const;

function MessageLog() {
  const [params, setParams] = useSearchParams();
  const applied = Object.fromEntries(MESSAGE_FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<
    (typeof MESSAGE_FILTERS)[number],
    string
  >;
  const [draft, setDraft] = useState(applied);
  const [before, setBefore] = useState<string[]>([]);
  const cursor = before[before.length - 1];
  const log = useApi<{ messages: MeshMessage[]; next?: string }>('/mesh/messages', {
    ...applied,
    before: cursor,
    limit: 25,
  });
  useAutoRefresh(log.reload, cursor === undefined);

  // "N new messages": ids that arrived since the filters were last set, announced politely.
  const seen = useRef<Set<string> | undefined>(undefined);
  const [fresh, setFresh] = useState(0);
  const filterKey = JSON.stringify(applied);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset when the filters change
  useEffect(() => {
    seen.current = undefined;
    setFresh(0);
  }, [filterKey]);
  useEffect(() => {
    const messages = log.data?.messages;
    if (!messages || cursor !== undefined) return;
    if (seen.current === undefined) {
      seen.current = new Set(messages.map((m) => m.id));
      return;
    }
    const known = seen.current;
    const added = messages.filter((m) => !known.has(m.id));
    if (added.length > 0) {
      for (const m of added) known.add(m.id);
      setFresh((n) => n + added.length);
    }
  }, [log.data, cursor]);

  const apply = (event: React.FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams(params);
    for (const f of MESSAGE_FILTERS) {
      const v = draft[f].trim();
      if (v === '') next.delete(f);
      else next.set(f, v);
    }
    setBefore([]);
    setParams(next, { replace: true });
  };

  const field = (name: (typeof MESSAGE_FILTERS)[number]) => ({
    id: `filter-${name}`,
    name,
    value: draft[name],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
      setDraft({ ...draft, [name]: e.currentTarget.value }),
  });

  return (
    <section aria-labelledby="log-heading">
      <h2 id="log-heading">Message log</h2>
      <form onSubmit={apply} aria-label="Message log filters" noValidate>
        <div className="app-filters">
          <TextInput label="Mailbox" width={10} spellCheck={false} {...field('mailbox')} />
          <TextInput label="Workflow" width={20} spellCheck={false} {...field('workflow')} />
          <Select label="Status" {...field('status')}>
            <Select.Option value="">Any</Select.Option>
            {MESSAGE_STATUSES.map((s) => (
              <Select.Option key={s} value={s}>
                {s}
              </Select.Option>
            ))}
          </Select>
          <Select label="Direction" {...field('direction')}>
            <Select.Option value="">Both</Select.Option>
            <Select.Option value="outbound">Outbound</Select.Option>
            <Select.Option value="inbound">Inbound</Select.Option>
          </Select>
          <TextInput label="Correlation id" width={20} spellCheck={false} {...field('correlationId')} />
        </div>
        <Button type="submit" secondary>
          Apply filters
        </Button>
      </form>
      <div
        aria-live="polite"
        role="status"
        className={fresh > 0 ? 'nhsuk-inset-text' : 'nhsuk-u-visually-hidden'}
      >
        {fresh > 0 && (
          <p>
            {fresh} new {fresh === 1 ? 'message' : 'messages'} since you opened the log.
          </p>
        )}
      </div>
      <ErrorBox error={log.error} noFocus={log.background} />
      {log.data &&
        log.data.messages.length === 0 &&
        (Object.values(applied).some((v) => v !== '') ? (
          <p className="nhsuk-body">No messages match.</p>
        ) : (
          <p className="nhsuk-body">
            No MESH messages yet. Messages the hub sends and receives appear here as they happen.
          </p>
        ))}
      {log.data && log.data.messages.length > 0 && (
        <Table responsive caption="MESH messages, newest first (updated every few seconds)">
          <Table.Head>
            <Table.Row>
              <Table.Cell>Created</Table.Cell>
              <Table.Cell>Direction</Table.Cell>
              <Table.Cell>From → to</Table.Cell>
              <Table.Cell>Workflow</Table.Cell>
              <Table.Cell>Status</Table.Cell>
              <Table.Cell>Message</Table.Cell>
            </Table.Row>
          </Table.Head>
          <Table.Body>
            {log.data.messages.map((m) => (
              <Table.Row key={m.id}>
                <Table.Cell className="app-nowrap">{formatDateTime(m.createdAt)}</Table.Cell>
                <Table.Cell>{m.direction === 'outbound' ? 'Outbound' : 'Inbound'}</Table.Cell>
                <Table.Cell className="app-nowrap">
                  {m.from ?? '?'} → {m.to ?? '?'}
                </Table.Cell>
                <Table.Cell>{m.workflowId ? <BreakableText text={m.workflowId} /> : '—'}</Table.Cell>
                <Table.Cell>
                  <StatusTag status={m.status} />
                  {m.dts?.code && (
                    <span className="nhsuk-body-s">
                      {' '}
                      {m.dts.event} {m.dts.code}
                    </span>
                  )}
                </Table.Cell>
                <Table.Cell>
                  <Link to={`/messages/${m.id}`} className="app-wrap-anywhere">
                    {m.subject ?? m.localId ?? m.meshMessageId ?? m.id}
                    <span className="nhsuk-u-visually-hidden"> (message history)</span>
                  </Link>
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
      {(cursor !== undefined || log.data?.next) && (
        <nav className="nhsuk-pagination" aria-label="Message log pages">
          <ul className="nhsuk-list nhsuk-pagination__list">
            {cursor !== undefined && (
              <li className="nhsuk-pagination-item--previous">
                <button
                  type="button"
                  className="nhsuk-link-style app-link-button"
                  onClick={() => setBefore(before.slice(0, -1))}
                >
                  Newer messages
                </button>
              </li>
            )}
            {log.data?.next && (
              <li className="nhsuk-pagination-item--next">
                <button
                  type="button"
                  className="nhsuk-link-style app-link-button"
                  onClick={() => log.data?.next && setBefore([...before, log.data.next])}
                >
                  Older messages
                </button>
              </li>
            )}
          </ul>
        </nav>
      )}
    </section>
  );
}

/** What an empty list of jobs in `status` ('' for every state) means. */
function noJobs(status: string): string {
  if (status === '') return 'No jobs yet. MESH sends and polls and dm+d imports run as jobs and appear here.';
  if (status === 'dead') return 'No dead letters: no job has run out of attempts.';
  return `No jobs are ${status}.`;
}

/** What a periodic series' payload says in words: its values (a MESH poll's mailbox id). */
function seriesOf(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null) return JSON.stringify(payload);
  return Object.values(payload)
    .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
    .join(', ');
}

/** The successful periodic runs the list leaves out: how many, and each series' last success. */
function HiddenPeriodic({ hidden }: { hidden: NonNullable<JobList['hiddenPeriodic']> }) {
  return (
    <div className="nhsuk-body" id="jobs-hidden-periodic">
      <p className="nhsuk-u-margin-bottom-1">
        {hidden.succeeded.toLocaleString('en-GB')} successful {hidden.succeeded === 1 ? 'run' : 'runs'} of
        periodic jobs (MESH polls) not listed:
      </p>
      <ul className="nhsuk-list nhsuk-list--bullet nhsuk-body-s">
        {hidden.series.map((s) => (
          <li key={`${s.kind} ${JSON.stringify(s.payload)}`}>
            <BreakableText text={s.kind} code /> {seriesOf(s.payload)}: {s.succeeded.toLocaleString('en-GB')},
            last succeeded {formatDateTime(s.lastSucceededAt)}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Jobs() {
  const session = useSession();
  const [status, setStatus] = useState('dead');
  const [showPeriodic, setShowPeriodic] = useState(false);
  const jobs = useApi<JobList>('/jobs', {
    status,
    limit: 50,
    include: showPeriodic ? 'periodic' : undefined,
  });
  useAutoRefresh(jobs.reload);
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState('');

  const retry = async (job: Job) => {
    setError(undefined);
    try {
      await api<Job>(`/jobs/${job.id}/retry`, { method: 'POST', body: {} });
      setNotice(`Job ${job.kind} (${job.id}) will be tried again.`);
      await jobs.reload(true);
    } catch (e) {
      setError(asApiError(e));
    }
  };

  return (
    <section aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Jobs</h2>
      <Select
        id="job-status"
        label="Jobs by state"
        value={status}
        onChange={(e) => setStatus(e.currentTarget.value)}
      >
        <Select.Option value="">All states</Select.Option>
        {JOB_STATUSES.map((s) => (
          <Select.Option key={s} value={s}>
            {s === 'dead' ? 'dead (dead letters)' : s}
          </Select.Option>
        ))}
      </Select>
      <Checkboxes id="job-options" small>
        <Checkboxes.Item
          id="job-show-periodic"
          value="periodic"
          checked={showPeriodic}
          onChange={(e) => setShowPeriodic(e.currentTarget.checked)}
          hint="A MESH poll of each mailbox every few seconds: failed ones are always listed"
        >
          Show successful periodic jobs (MESH polls)
        </Checkboxes.Item>
      </Checkboxes>
      <ErrorBox error={error} />
      <ErrorBox error={jobs.error} noFocus />
      <div role="status" aria-live="polite">
        {notice && <p className="nhsuk-body">{notice}</p>}
      </div>
      {jobs.data?.hiddenPeriodic && <HiddenPeriodic hidden={jobs.data.hiddenPeriodic} />}
      {jobs.data && jobs.data.jobs.length === 0 && (
        <p className="nhsuk-body">{jobs.data.hiddenPeriodic ? 'No other jobs match.' : noJobs(status)}</p>
      )}
      {jobs.data && jobs.data.jobs.length > 0 && (
        <Table
          responsive
          caption={
            status === 'dead' ? 'Dead letters: jobs that will not be tried again' : 'Jobs, newest first'
          }
        >
          <Table.Head>
            <Table.Row>
              <Table.Cell>Job</Table.Cell>
              <Table.Cell>Status</Table.Cell>
              <Table.Cell format="numeric">Attempts</Table.Cell>
              <Table.Cell>Reason (last error)</Table.Cell>
              <Table.Cell>Updated</Table.Cell>
              <Table.Cell>Action</Table.Cell>
            </Table.Row>
          </Table.Head>
          <Table.Body>
            {jobs.data.jobs.map((j) => (
              <Table.Row key={j.id}>
                <Table.Cell>
                  <Link to={`/jobs/${j.id}`}>
                    <BreakableText text={j.kind} code />
                  </Link>
                  <br />
                  <BreakableText text={j.id} className="nhsuk-body-s" />
                </Table.Cell>
                <Table.Cell>
                  <StatusTag status={j.status} />
                </Table.Cell>
                <Table.Cell format="numeric">
                  {j.attempts} of {j.maxAttempts}
                </Table.Cell>
                <Table.Cell>{j.lastError ?? '—'}</Table.Cell>
                <Table.Cell className="app-nowrap">{formatDateTime(j.updatedAt)}</Table.Cell>
                <Table.Cell>
                  {(j.status === 'dead' || j.status === 'failed') && session.can('jobs.retry') ? (
                    <Button small secondary type="button" onClick={() => void retry(j)}>
                      Retry<span className="nhsuk-u-visually-hidden"> job {j.id}</span>
                    </Button>
                  ) : (
                    '—'
                  )}
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
    </section>
  );
}

export default function MessagesPage() {
  const session = useSession();
  return (
    <Page title="Messages and jobs">
      <p className="nhsuk-lede-text">MESH mailboxes, the message log and the hub's durable job queue.</p>
      {session.can('messages.read') && (
        <>
          <Mailboxes />
          <MessageLog />
        </>
      )}
      {session.can('jobs.read') && <Jobs />}
    </Page>
  );
}
