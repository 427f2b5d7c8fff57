import { Button, SummaryList, Table } from 'nhsuk-react-components';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { type ApiError, api, asApiError, type Job } from '../api';
import { BreakableText } from '../components/breakable-text';
import { ErrorBox } from '../components/error-box';
import { formatDateTime } from '../components/format';
import { Page } from '../components/page';
import { useApi } from '../components/use-api';
import { useSession } from '../session';
import { StatusTag } from './messages';

/** One job of the durable queue with its history, and Retry for a failed or dead one. */
export default function JobPage() {
  const { id = '' } = useParams();
  const session = useSession();
  const job = useApi<Job>(`/jobs/${encodeURIComponent(id)}`);
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState('');
  const j = job.data;

  const retry = async () => {
    setError(undefined);
    try {
      await api<Job>(`/jobs/${encodeURIComponent(id)}/retry`, { method: 'POST', body: {} });
      setNotice('The job will be tried again.');
      await job.reload(true);
    } catch (e) {
      setError(asApiError(e));
    }
  };

  return (
    <Page title={j ? `Job ${j.kind}` : 'Job'} caption={`Job ${id}`}>
      <p className="nhsuk-body">
        <Link to="/messages">Back to messages and jobs</Link>
      </p>
      <ErrorBox error={error ?? job.error} />
      <div role="status">{notice && <p className="nhsuk-body">{notice}</p>}</div>
      {j && (
        <>
          <SummaryList>
            {(
              [
                ['Status', <StatusTag key="s" status={j.status} />],
                ['Attempts', `${j.attempts} of ${j.maxAttempts}`],
                ['Reason (last error)', j.lastError ?? '—'],
                ['Next attempt not before', formatDateTime(j.runAfter)],
                ['Correlation id', <BreakableText key="c" text={j.correlationId} />],
                ['Created', formatDateTime(j.createdAt)],
                ['Finished', formatDateTime(j.finishedAt)],
              ] as const
            ).map(([key, value]) => (
              <SummaryList.Row key={key}>
                <SummaryList.Key>{key}</SummaryList.Key>
                <SummaryList.Value>{value}</SummaryList.Value>
              </SummaryList.Row>
            ))}
          </SummaryList>
          {(j.status === 'dead' || j.status === 'failed') && session.can('jobs.retry') && (
            <Button type="button" onClick={() => void retry()}>
              Retry now
            </Button>
          )}
          <Table responsive caption="History">
            <Table.Head>
              <Table.Row>
                <Table.Cell>When</Table.Cell>
                <Table.Cell>Event</Table.Cell>
                <Table.Cell format="numeric">Attempt</Table.Cell>
                <Table.Cell>Detail</Table.Cell>
              </Table.Row>
            </Table.Head>
            <Table.Body>
              {(j.events ?? []).map((e) => (
                <Table.Row key={`${e.at}-${e.event}-${e.attempt}-${e.detail ?? ''}`}>
                  <Table.Cell className="app-nowrap">{formatDateTime(e.at)}</Table.Cell>
                  <Table.Cell>{e.event}</Table.Cell>
                  <Table.Cell format="numeric">{e.attempt}</Table.Cell>
                  <Table.Cell>{e.detail ?? '—'}</Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table>
        </>
      )}
    </Page>
  );
}
