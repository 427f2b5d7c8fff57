import { InsetText, Select, Table, Tag } from 'nhsuk-react-components';
import { type ReactNode, useState } from 'react';
import type { Overview, ServiceStats } from '../api';
import { BreakableText } from '../components/breakable-text';
import { BarChart } from '../components/chart';
import { ErrorBox } from '../components/error-box';
import { formatCount, formatDateTime, formatMinutes, formatMs, formatPercent } from '../components/format';
import { Page } from '../components/page';
import { useApi } from '../components/use-api';

const WINDOWS = { '1h': 'Last hour', '6h': 'Last 6 hours', '24h': 'Last 24 hours' } as const;
type Window = keyof typeof WINDOWS;

const ENVIRONMENT_TAG: Record<string, { text: string; modifier: 'blue' | 'yellow' | 'red' | 'grey' }> = {
  sandbox: { text: 'Sandbox', modifier: 'blue' },
  int: { text: 'INT', modifier: 'yellow' },
  live: { text: 'Live', modifier: 'red' },
  custom: { text: 'Custom', modifier: 'grey' },
};

export function EnvironmentTag({ environment }: { environment: string }) {
  const tag = ENVIRONMENT_TAG[environment] ?? { text: environment, modifier: 'grey' as const };
  return <Tag modifier={tag.modifier}>{tag.text}</Tag>;
}

function HealthTag({ health }: { health: ServiceStats['health'] }) {
  if (health === 'reachable') return <Tag modifier="green">Reachable</Tag>;
  if (health === 'unreachable') return <Tag modifier="red">Unreachable</Tag>;
  return <Tag modifier="grey">No recent calls</Tag>;
}

function sum<T, K extends keyof T>(rows: T[], key: K): number {
  return rows.reduce((n, r) => n + Number(r[key] ?? 0), 0);
}

/** Calls and failures of every service, added up per time bucket. */
function combined(services: ServiceStats[]) {
  const byAt = new Map<string, { calls: number; failures: number }>();
  for (const s of services) {
    for (const p of s.series) {
      const b = byAt.get(p.at) ?? { calls: 0, failures: 0 };
      b.calls += p.calls;
      b.failures += p.failures;
      byAt.set(p.at, b);
    }
  }
  return [...byAt.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** In place of a chart with nothing to draw: its title and what would fill it (NHS.UK inset text). */
function NothingYet({ title, children }: { title: string; children: ReactNode }) {
  return (
    <>
      <h3 className="nhsuk-heading-s nhsuk-u-margin-bottom-2">{title}</h3>
      <InsetText>
        <p>{children}</p>
      </InsetText>
    </>
  );
}

export default function OverviewPage() {
  const [window, setWindow] = useState<Window>('1h');
  const overview = useApi<Overview>('/operations/overview', { window });
  const data = overview.data;
  const calls = data ? combined(data.services) : [];
  const totalCalls = data?.services.reduce((n, s) => n + s.calls, 0) ?? 0;
  const totalFailures = data?.services.reduce((n, s) => n + s.failures, 0) ?? 0;
  const during = WINDOWS[window].toLowerCase();
  const chartOptions = data && {
    bucketSeconds: data.window.bucketSeconds,
    // The newest bucket ends after now: its bar is the count so far.
    lastInProgress: data.hub.series.length > 0,
  };

  return (
    <Page title="Overview">
      <p className="nhsuk-lede-text">
        Each NHS API the hub uses: its environment, health, latency and errors.
      </p>
      <Select
        id="window"
        label="Time window"
        value={window}
        onChange={(e) => setWindow(e.currentTarget.value as Window)}
      >
        {Object.entries(WINDOWS).map(([value, text]) => (
          <Select.Option key={value} value={value}>
            {text}
          </Select.Option>
        ))}
      </Select>
      <ErrorBox error={overview.error} />
      {overview.loading && !data && (
        <p className="nhsuk-body" role="status">
          Loading…
        </p>
      )}
      {data && (
        <>
          <Table.Container>
            <Table responsive caption={`NHS APIs: ${WINDOWS[window].toLowerCase()}`}>
              <Table.Head>
                <Table.Row>
                  <Table.Cell>Service</Table.Cell>
                  <Table.Cell>Environment</Table.Cell>
                  <Table.Cell>Health</Table.Cell>
                  <Table.Cell format="numeric">Calls</Table.Cell>
                  <Table.Cell format="numeric">Error rate</Table.Cell>
                  <Table.Cell format="numeric">p50</Table.Cell>
                  <Table.Cell format="numeric">p95</Table.Cell>
                  <Table.Cell>Last call</Table.Cell>
                </Table.Row>
              </Table.Head>
              <Table.Body>
                {data.services.map((s) => (
                  <Table.Row key={s.id}>
                    <Table.Cell>
                      <strong>{s.name}</strong>
                      <br />
                      <BreakableText text={s.baseUrl} className="nhsuk-body-s" />
                    </Table.Cell>
                    <Table.Cell>
                      <EnvironmentTag environment={s.environment} />
                    </Table.Cell>
                    <Table.Cell>
                      <HealthTag health={s.health} />
                    </Table.Cell>
                    <Table.Cell format="numeric">{formatCount(s.calls)}</Table.Cell>
                    <Table.Cell format="numeric">{s.calls > 0 ? formatPercent(s.errorRate) : '—'}</Table.Cell>
                    <Table.Cell format="numeric" className="app-nowrap">
                      {formatMs(s.latencyMs?.p50)}
                    </Table.Cell>
                    <Table.Cell format="numeric" className="app-nowrap">
                      {formatMs(s.latencyMs?.p95)}
                    </Table.Cell>
                    <Table.Cell>{formatDateTime(s.lastCallAt)}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table>
          </Table.Container>
          <h2>Traffic and failures</h2>
          {totalCalls === 0 || !chartOptions ? (
            <NothingYet title="NHS API calls">
              No calls yet in the {during}. The hub calls an NHS API when a product or a signed-in person asks
              it for something, such as tracing a patient.
            </NothingYet>
          ) : (
            <BarChart
              title="NHS API calls"
              summary={`${formatCount(totalCalls)} calls, ${formatCount(totalFailures)} failed, ${during}.`}
              {...chartOptions}
              points={calls.map(([at]) => at)}
              series={[
                { label: 'Succeeded', values: calls.map(([, b]) => b.calls - b.failures) },
                { label: 'Failed', values: calls.map(([, b]) => b.failures), tone: 'failure' },
              ]}
            />
          )}
          {data.hub.requests === 0 || !chartOptions ? (
            <NothingYet title="Requests to the hub">No requests yet in the {during}.</NothingYet>
          ) : (
            <BarChart
              title="Requests to the hub"
              summary={`${formatCount(data.hub.requests)} requests, ${formatCount(sum(data.hub.series, 'clientErrors'))} refused as client errors (4xx) and ${formatCount(sum(data.hub.series, 'serverErrors'))} failed (5xx), ${during}.`}
              {...chartOptions}
              points={data.hub.series.map((p) => p.at)}
              series={[
                {
                  label: 'Succeeded',
                  values: data.hub.series.map((p) => p.requests - p.clientErrors - p.serverErrors),
                },
                {
                  label: 'Client errors (4xx)',
                  values: data.hub.series.map((p) => p.clientErrors),
                  tone: 'warning',
                },
                {
                  label: 'Server errors (5xx)',
                  values: data.hub.series.map((p) => p.serverErrors),
                  tone: 'failure',
                },
              ]}
            />
          )}
          <p className="nhsuk-body-s">
            From {formatDateTime(data.window.from)} to {formatDateTime(data.window.to)}, in buckets of{' '}
            {formatMinutes(Math.round(data.window.bucketSeconds / 60))}. Generated{' '}
            {formatDateTime(data.generatedAt)}.
          </p>
        </>
      )}
    </Page>
  );
}
