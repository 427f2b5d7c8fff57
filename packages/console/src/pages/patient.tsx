import { Button, SummaryList, WarningCallout } from 'nhsuk-react-components';
import { Link, useParams } from 'react-router';
import type { AuditEvent } from '../api';
import { AuditTable } from '../components/audit-table';
import { ErrorBox } from '../components/error-box';
import { formatDate, formatDateTime, formatNhsNumber } from '../components/format';
import { Page } from '../components/page';
import { useApi } from '../components/use-api';
import { useSession } from '../session';
import { genderOf, isRestricted, nameOf, type Patient } from './fhir';

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <SummaryList.Row>
      <SummaryList.Key>{label}</SummaryList.Key>
      <SummaryList.Value>{children}</SummaryList.Value>
    </SummaryList.Row>
  );
}

/**
 * Who accessed this record: the audit trail for one NHS number (needs audit.read). Mounted only
 * once the page's own read of the record has been answered, so the list includes that read; read
 * again on demand.
 */
function Accesses({ nhsNumber }: { nhsNumber: string }) {
  const trail = useApi<{ events: AuditEvent[]; next?: number }>('/audit/events', { nhsNumber, limit: 50 });
  return (
    <section aria-labelledby="accesses">
      <h2 id="accesses">Who accessed this record</h2>
      <ErrorBox error={trail.error} noFocus />
      <div role="status" aria-live="polite">
        {trail.loading && <p className="nhsuk-body">Loading the accesses…</p>}
      </div>
      {trail.data && trail.data.events.length === 0 && <p className="nhsuk-body">No access is recorded.</p>}
      {trail.data && trail.data.events.length > 0 && (
        <AuditTable
          events={trail.data.events}
          caption={`The ${trail.data.events.length} most recent accesses, newest first`}
          showPatients={false}
        />
      )}
      <Button type="button" secondary small disabled={trail.loading} onClick={() => void trail.reload(true)}>
        Refresh the accesses
      </Button>
      <p className="nhsuk-body">
        <Link to={`/audit?nhsNumber=${nhsNumber}`}>Search the audit trail for this patient</Link>
      </p>
    </section>
  );
}

export default function PatientPage() {
  const { nhsNumber = '' } = useParams();
  const session = useSession();
  const patient = useApi<Patient>(`/fhir/R4/Patient/${encodeURIComponent(nhsNumber)}`);
  const p = patient.data;
  const restricted = p ? isRestricted(p) : false;
  const gp = p?.generalPractitioner?.[0];

  return (
    <Page title={p ? nameOf(p) : 'Patient'} caption={`NHS number ${formatNhsNumber(nhsNumber)}`}>
      <p className="nhsuk-body">
        <Link to="/patients">Find another patient</Link>
      </p>
      <ErrorBox error={patient.error} />
      {patient.loading && (
        <p className="nhsuk-body" role="status">
          Loading…
        </p>
      )}
      {p && (
        <>
          {restricted && (
            <WarningCallout>
              <WarningCallout.Heading>Restricted record</WarningCallout.Heading>
              <p>Restricted record: address and contact details are not shown.</p>
            </WarningCallout>
          )}
          <h2>Demographics</h2>
          <SummaryList>
            <Row label="Name">{nameOf(p)}</Row>
            <Row label="NHS number">{formatNhsNumber(p.id)}</Row>
            <Row label="Date of birth">{formatDate(p.birthDate)}</Row>
            <Row label="Gender">{genderOf(p.gender)}</Row>
            {p.deceasedDateTime && <Row label="Date of death">{dateOfDeath(p.deceasedDateTime)}</Row>}
            {!restricted && (
              <>
                <Row label="Address">
                  {(p.address ?? []).length === 0
                    ? '—'
                    : (p.address ?? []).map((a) => (
                        <p
                          key={[...(a.line ?? []), a.postalCode].join('|')}
                          className="nhsuk-u-margin-bottom-1"
                        >
                          {a.use && <span className="app-nowrap">{ADDRESS_USE[a.use] ?? a.use}: </span>}
                          {[...(a.line ?? []), a.city, a.district, a.postalCode].filter(Boolean).join(', ')}
                          {a.period && ` (${periodOf(a.period)})`}
                        </p>
                      ))}
                </Row>
                <Row label="Contact details">
                  {(p.telecom ?? []).length === 0
                    ? '—'
                    : (p.telecom ?? []).map((t) => (
                        <p key={`${t.system}|${t.value}`} className="nhsuk-u-margin-bottom-1">
                          {t.system}: {t.value}
                          {t.use ? ` (${t.use})` : ''}
                        </p>
                      ))}
                </Row>
              </>
            )}
            <Row label="GP practice">{gp ? (gp.display ?? gp.identifier?.value ?? '—') : '—'}</Row>
          </SummaryList>
        </>
      )}
      {session.can('audit.read') && /^\d{10}$/.test(nhsNumber) && !patient.loading && (
        <Accesses nhsNumber={nhsNumber} />
      )}
    </Page>
  );
}

/** PDS address uses (FHIR address-use), as a person reads them. */
const ADDRESS_USE: Record<string, string> = {
  home: 'Home',
  temp: 'Temporary',
  work: 'Work',
  billing: 'Billing',
  old: 'Previous',
};

function periodOf(period: { start?: string; end?: string }): string {
  if (period.start && period.end) return `${formatDate(period.start)} to ${formatDate(period.end)}`;
  if (period.start) return `from ${formatDate(period.start)}`;
  return period.end ? `until ${formatDate(period.end)}` : '';
}

/** PDS records the date of death as a dateTime; a midnight time says only the date is known. */
function dateOfDeath(value: string): string {
  const day = value.slice(0, 10);
  return /T00:00(:00)?/.test(value) || value.length === 10 ? formatDate(day) : formatDateTime(value);
}
