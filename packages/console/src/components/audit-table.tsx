import { Table, Tag } from 'nhsuk-react-components';
import { Fragment } from 'react';
import type { AuditEvent } from '../api';
import { BreakableText } from './breakable-text';
import { formatDateTime, formatNhsNumber } from './format';

/**
 * Who acted: their name (an API key's, a hub admin's username, a CIS2 user's name) with their id
 * beside it when that differs (a key id, a CIS2 user id), then what kind of caller, role and
 * organisation.
 */
function Actor({ actor: a }: { actor: AuditEvent['actor'] }) {
  const about = [a.kind, a.role, a.organisation].filter(Boolean).join(', ');
  return (
    <>
      {a.name ?? (a.id ? <BreakableText text={a.id} /> : a.kind)}
      {a.name && a.id && a.id !== a.name && (
        <BreakableText text={a.id} className="nhsuk-u-display-block nhsuk-u-font-size-16" />
      )}
      <span className="nhsuk-u-display-block nhsuk-u-font-size-16">{about}</span>
    </>
  );
}

/**
 * How the audited action reached the hub: the HTTP status of the request, or, for records written
 * outside HTTP (status 0), who wrote them: the hub's own background work (`junction-hub/…`, such as
 * MESH tracking) or someone running the CLI on the store (`junction start`, `junction admin`, …).
 */
export function channelOf(e: Pick<AuditEvent, 'httpStatus' | 'actor'>): string | undefined {
  if (e.httpStatus !== null && e.httpStatus > 0) return `HTTP ${e.httpStatus}`;
  if (e.actor.kind !== 'operator') return undefined;
  return e.actor.id?.startsWith('junction-hub/') ? 'hub background work' : 'command line';
}

export function OutcomeTag({ outcome }: { outcome: string }) {
  if (outcome === 'success') return <Tag modifier="green">Success</Tag>;
  if (outcome === 'denied') return <Tag modifier="orange">Denied</Tag>;
  return <Tag modifier="red">{outcome.charAt(0).toUpperCase() + outcome.slice(1)}</Tag>;
}

/** Audit records, newest first, as an NHS.UK table. */
export function AuditTable({
  events,
  caption,
  showPatients = true,
}: {
  events: AuditEvent[];
  caption: string;
  showPatients?: boolean;
}) {
  return (
    <Table responsive caption={caption}>
      <Table.Head>
        <Table.Row>
          <Table.Cell>When</Table.Cell>
          <Table.Cell>Who</Table.Cell>
          <Table.Cell>Action</Table.Cell>
          <Table.Cell>Outcome</Table.Cell>
          {showPatients && <Table.Cell>Patients</Table.Cell>}
          <Table.Cell>Correlation id</Table.Cell>
        </Table.Row>
      </Table.Head>
      <Table.Body>
        {events.map((e) => (
          <Table.Row key={e.seq}>
            <Table.Cell className="app-nowrap">{formatDateTime(e.at)}</Table.Cell>
            <Table.Cell>
              <Actor actor={e.actor} />
            </Table.Cell>
            <Table.Cell className="app-action-cell">
              <BreakableText text={e.action} code />
            </Table.Cell>
            <Table.Cell>
              <OutcomeTag outcome={e.outcome} />
              {channelOf(e) && <span className="nhsuk-body-s"> {channelOf(e)}</span>}
            </Table.Cell>
            {showPatients && (
              <Table.Cell>
                {e.nhsNumbers.length === 0
                  ? '—'
                  : e.nhsNumbers.map((n, i) => (
                      // Each NHS number on one line; a list of them wraps between numbers.
                      <Fragment key={n}>
                        {i > 0 && ', '}
                        <span className="app-nowrap">{formatNhsNumber(n)}</span>
                      </Fragment>
                    ))}
              </Table.Cell>
            )}
            <Table.Cell className="nhsuk-body-s">
              <BreakableText text={e.correlationId} />
            </Table.Cell>
          </Table.Row>
        ))}
      </Table.Body>
    </Table>
  );
}
