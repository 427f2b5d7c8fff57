import { SummaryList, Table } from 'nhsuk-react-components';
import { Link, useParams } from 'react-router';
import type { MeshMessage } from '../api';
import { BreakableText } from '../components/breakable-text';
import { ErrorBox } from '../components/error-box';
import { formatDateTime, SECONDARY_LINE } from '../components/format';
import { Page } from '../components/page';
import { useApi } from '../components/use-api';
import { chunkProgress, meshEventDetail, meshEventName } from './mesh-events';
import { StatusTag } from './messages';

function Row({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <SummaryList.Row>
      <SummaryList.Key>{label}</SummaryList.Key>
      <SummaryList.Value>{value ?? '—'}</SummaryList.Value>
    </SummaryList.Row>
  );
}

/** One MESH message and its full history (queued, sent, chunked, delivered, acknowledged…). */
export default function MessagePage() {
  const { id = '' } = useParams();
  const message = useApi<MeshMessage>(`/mesh/messages/${encodeURIComponent(id)}`);
  const m = message.data;
  const progress = m ? chunkProgress(m) : null;
  return (
    <Page
      title={m ? `Message ${m.subject ?? m.localId ?? m.meshMessageId ?? m.id}` : 'Message'}
      caption="MESH message"
    >
      <p className="nhsuk-body">
        <Link to="/messages">Back to messages and jobs</Link>
      </p>
      <ErrorBox error={message.error} />
      {m && (
        <>
          <SummaryList>
            <Row label="Status" value={<StatusTag status={m.status} />} />
            <Row label="Direction" value={m.direction === 'outbound' ? 'Outbound' : 'Inbound'} />
            <Row label="Hub mailbox" value={m.mailboxId} />
            <Row label="From" value={m.from} />
            <Row label="To" value={m.to} />
            <Row label="Workflow" value={m.workflowId} />
            <Row label="Subject" value={m.subject} />
            <Row label="Local id" value={m.localId} />
            <Row label="MESH message id" value={m.meshMessageId} />
            <Row label="Type" value={m.messageType} />
            <Row label="Size" value={m.bytes === null ? null : `${m.bytes.toLocaleString('en-GB')} bytes`} />
            <Row
              label="Chunks"
              value={
                progress && m.chunks !== null ? (
                  <>
                    {progress}
                    <progress
                      className="app-progress"
                      max={m.chunks}
                      value={m.chunksSent ?? 0}
                      aria-label="Chunks accepted by MESH"
                    />
                  </>
                ) : (
                  m.chunks
                )
              }
            />
            <Row label="Correlation id" value={<BreakableText text={m.correlationId} />} />
            {m.dts?.code && <Row label="DTS error" value={`${m.dts.event ?? ''} ${m.dts.code}`} />}
            {m.error && <Row label="Error" value={m.error} />}
            <Row label="Created" value={formatDateTime(m.createdAt)} />
            <Row label="Updated" value={formatDateTime(m.updatedAt)} />
          </SummaryList>
          <Table responsive caption="History, oldest first">
            <Table.Head>
              <Table.Row>
                <Table.Cell>When</Table.Cell>
                <Table.Cell>Event</Table.Cell>
                <Table.Cell>Status after</Table.Cell>
                <Table.Cell>Detail</Table.Cell>
              </Table.Row>
            </Table.Head>
            <Table.Body>
              {(m.events ?? []).map((e) => (
                <Table.Row key={e.id}>
                  <Table.Cell className="app-nowrap">{formatDateTime(e.at)}</Table.Cell>
                  <Table.Cell>
                    {meshEventName(e.event)}
                    <span className={SECONDARY_LINE}>{e.event}</span>
                  </Table.Cell>
                  <Table.Cell>
                    <StatusTag status={e.status} />
                  </Table.Cell>
                  <Table.Cell>{meshEventDetail(e.event, e.detail) ?? '—'}</Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table>
        </>
      )}
    </Page>
  );
}
