import {
  Button,
  Checkboxes,
  SummaryList,
  Table,
  Tag,
  TextInput,
  WarningCallout,
} from 'nhsuk-react-components';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError, type ApiKey, api, asApiError, type HubSettings } from '../api';
import { ErrorBox, errorProp, FieldErrors } from '../components/error-box';
import { formatDateTime } from '../components/format';
import { Page } from '../components/page';
import { useApi } from '../components/use-api';
import { useSession } from '../session';
import { EnvironmentTag } from './overview';

interface KeyList {
  keys: ApiKey[];
  scopes: string[];
  defaultScopes: string[];
}

/** The secret of a key just made: shown once, with a copy button (it is never shown again). */
function NewSecret({ name, secret }: { name: string; secret: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [copied, setCopied] = useState('');
  useEffect(() => box.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('Could not copy: select the secret and copy it yourself.');
    }
  };
  return (
    <div ref={box} tabIndex={-1}>
      <WarningCallout>
        <WarningCallout.Heading>Copy the secret of “{name}” now</WarningCallout.Heading>
        <p>
          This is the only time it is shown. Keep it somewhere safe: anyone with it can call the hub with its
          scopes.
        </p>
        <p className="app-secret" id="new-secret">
          {secret}
        </p>
        <Button type="button" secondary small onClick={() => void copy()} aria-describedby="new-secret">
          Copy secret
        </Button>
        <p role="status" className="nhsuk-body-s">
          {copied}
        </p>
      </WarningCallout>
    </div>
  );
}

function ApiKeys() {
  const keys = useApi<KeyList>('/api-keys');
  const [name, setName] = useState('');
  const [ods, setOds] = useState('');
  const [scopes, setScopes] = useState<string[] | undefined>(undefined);
  const [fieldErrors, setFieldErrors] = useState<{ field: string; message: string }[]>([]);
  const [error, setError] = useState<ApiError>();
  const [created, setCreated] = useState<{ name: string; secret: string }>();
  const [confirming, setConfirming] = useState<ApiKey>();
  const [notice, setNotice] = useState('');
  const chosen = scopes ?? keys.data?.defaultScopes ?? [];

  const create = async (event: FormEvent) => {
    event.preventDefault();
    const problems = [
      ...(name.trim() === '' ? [{ field: 'key-name', message: 'Enter a name for the key' }] : []),
      ...(chosen.length === 0 ? [{ field: 'key-scopes', message: 'Select at least one scope' }] : []),
    ];
    setFieldErrors(problems);
    setError(undefined);
    if (problems.length > 0) return;
    try {
      const result = await api<{ key: ApiKey; secret: string }>('/api-keys', {
        method: 'POST',
        body: {
          name: name.trim(),
          scopes: chosen,
          ...(ods.trim() !== '' && { organisationOds: ods.trim().toUpperCase() }),
        },
      });
      setCreated({ name: result.key.name, secret: result.secret });
      setName('');
      setOds('');
      setScopes(undefined);
      await keys.reload(true);
    } catch (e) {
      setError(asApiError(e, '/api-keys'));
    }
  };

  const revoke = async (key: ApiKey) => {
    setError(undefined);
    try {
      await api<void>(`/api-keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' });
      setConfirming(undefined);
      setNotice(`The key “${key.name}” is revoked.`);
      await keys.reload(true);
    } catch (e) {
      setError(e instanceof ApiError ? e : asApiError(e));
    }
  };

  const errorOf = (field: string) => fieldErrors.find((e) => e.field === field)?.message;

  return (
    <section aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <ErrorBox error={keys.error} noFocus />
      <ErrorBox error={error} />
      <div role="status" aria-live="polite">
        {notice && <p className="nhsuk-body">{notice}</p>}
      </div>
      {created && <NewSecret name={created.name} secret={created.secret} />}
      {keys.data && (
        <Table responsive caption="API keys of this hub">
          <Table.Head>
            <Table.Row>
              <Table.Cell>Name</Table.Cell>
              <Table.Cell>Organisation</Table.Cell>
              <Table.Cell>Scopes</Table.Cell>
              <Table.Cell>Created</Table.Cell>
              <Table.Cell>Status</Table.Cell>
              <Table.Cell>Action</Table.Cell>
            </Table.Row>
          </Table.Head>
          <Table.Body>
            {keys.data.keys.map((k) => (
              <Table.Row key={k.id}>
                <Table.Cell>
                  {k.name}
                  <br />
                  <span className="nhsuk-body-s app-mono">{k.id}</span>
                </Table.Cell>
                <Table.Cell>{k.organisationOds ?? '—'}</Table.Cell>
                <Table.Cell className="nhsuk-body-s">{k.scopes.join(', ')}</Table.Cell>
                <Table.Cell className="app-nowrap">{formatDateTime(k.createdAt)}</Table.Cell>
                <Table.Cell>
                  {k.revokedAt ? <Tag modifier="grey">Revoked</Tag> : <Tag modifier="green">Active</Tag>}
                </Table.Cell>
                <Table.Cell>
                  {!k.revokedAt && confirming?.id !== k.id && (
                    <Button type="button" small warning onClick={() => setConfirming(k)}>
                      Revoke<span className="nhsuk-u-visually-hidden"> {k.name}</span>
                    </Button>
                  )}
                  {confirming?.id === k.id && (
                    <fieldset className="nhsuk-fieldset">
                      <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">
                        Revoke “{k.name}”? Products using it stop working at once.
                      </legend>
                      <Button type="button" small warning onClick={() => void revoke(k)}>
                        Yes, revoke key
                      </Button>{' '}
                      <Button type="button" small secondary onClick={() => setConfirming(undefined)}>
                        Cancel
                      </Button>
                    </fieldset>
                  )}
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
      {keys.data && (
        <form onSubmit={create} noValidate aria-labelledby="create-key-heading">
          <h3 id="create-key-heading">Create an API key</h3>
          <FieldErrors errors={fieldErrors} />
          <TextInput
            id="key-name"
            label="Name"
            hint="Who or what will use it, for example “Pharmacy app (staging)”"
            width={30}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            {...errorProp(errorOf('key-name'))}
          />
          <TextInput
            id="key-ods"
            label="Organisation ODS code (optional)"
            width={10}
            spellCheck={false}
            value={ods}
            onChange={(e) => setOds(e.currentTarget.value)}
          />
          <Checkboxes
            id="key-scopes"
            legend="Scopes"
            hint="What the key may do. The defaults are selected."
            small
            {...errorProp(errorOf('key-scopes'))}
          >
            {keys.data.scopes.map((scope) => (
              <Checkboxes.Item
                key={scope}
                id={`scope-${scope.replace(/[^a-z0-9]/gi, '-')}`}
                value={scope}
                checked={chosen.includes(scope)}
                onChange={(e) =>
                  setScopes(e.currentTarget.checked ? [...chosen, scope] : chosen.filter((s) => s !== scope))
                }
              >
                {scope}
              </Checkboxes.Item>
            ))}
          </Checkboxes>
          <Button type="submit">Create key</Button>
        </form>
      )}
    </section>
  );
}

function HubSettingsSection() {
  const settings = useApi<HubSettings>('/settings');
  const s = settings.data;
  return (
    <>
      <section aria-labelledby="environments-heading">
        <h2 id="environments-heading">Environments</h2>
        <ErrorBox error={settings.error} noFocus />
        {s && (
          <>
            <SummaryList>
              <SummaryList.Row>
                <SummaryList.Key>NHS environment</SummaryList.Key>
                <SummaryList.Value>
                  <EnvironmentTag environment={s.nhsEnvironment} />
                </SummaryList.Value>
              </SummaryList.Row>
              <SummaryList.Row>
                <SummaryList.Key>Hub address</SummaryList.Key>
                <SummaryList.Value className="app-mono">{s.publicUrl}</SummaryList.Value>
              </SummaryList.Row>
              <SummaryList.Row>
                <SummaryList.Key>Store</SummaryList.Key>
                <SummaryList.Value>{s.store.dialect}</SummaryList.Value>
              </SummaryList.Row>
              <SummaryList.Row>
                <SummaryList.Key>NHS login</SummaryList.Key>
                <SummaryList.Value>
                  {s.signIn.nhsLogin.configured ? 'Configured' : 'Not configured'}:{' '}
                  <span className="app-mono">{s.signIn.nhsLogin.issuer}</span>
                </SummaryList.Value>
              </SummaryList.Row>
              <SummaryList.Row>
                <SummaryList.Key>CIS2</SummaryList.Key>
                <SummaryList.Value>
                  {s.signIn.cis2.configured ? 'Configured' : 'Not configured'}:{' '}
                  <span className="app-mono">{s.signIn.cis2.issuer}</span>
                </SummaryList.Value>
              </SummaryList.Row>
            </SummaryList>
            <Table responsive caption="NHS services and their base URLs">
              <Table.Head>
                <Table.Row>
                  <Table.Cell>Service</Table.Cell>
                  <Table.Cell>Environment</Table.Cell>
                  <Table.Cell>Base URL</Table.Cell>
                </Table.Row>
              </Table.Head>
              <Table.Body>
                {s.environments.map((e) => (
                  <Table.Row key={e.service}>
                    <Table.Cell>{e.name}</Table.Cell>
                    <Table.Cell>
                      <EnvironmentTag environment={e.environment} />
                    </Table.Cell>
                    <Table.Cell className="app-mono">{e.baseUrl}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table>
          </>
        )}
      </section>
      <section aria-labelledby="settings-mailboxes-heading">
        <h2 id="settings-mailboxes-heading">Mailboxes</h2>
        {s && s.mailboxes.length === 0 && <p className="nhsuk-body">No MESH mailbox is configured.</p>}
        {s && s.mailboxes.length > 0 && (
          <Table responsive caption="MESH mailboxes the hub uses">
            <Table.Head>
              <Table.Row>
                <Table.Cell>Mailbox</Table.Cell>
                <Table.Cell>Base URL</Table.Cell>
                <Table.Cell>Polled every</Table.Cell>
                <Table.Cell>Workflows</Table.Cell>
                <Table.Cell>Mutual TLS</Table.Cell>
              </Table.Row>
            </Table.Head>
            <Table.Body>
              {s.mailboxes.map((m) => (
                <Table.Row key={m.mailboxId}>
                  <Table.Cell>{m.mailboxId}</Table.Cell>
                  <Table.Cell className="app-mono">{m.baseUrl}</Table.Cell>
                  <Table.Cell>{Math.round(m.pollIntervalMs / 1000)} s</Table.Cell>
                  <Table.Cell className="nhsuk-body-s">{m.workflows?.join(', ') || 'All'}</Table.Cell>
                  <Table.Cell>{m.mutualTls ? 'Yes' : 'No'}</Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table>
        )}
      </section>
    </>
  );
}

export default function SettingsPage() {
  const session = useSession();
  return (
    <Page title="Settings">
      {session.can('keys.manage') && <ApiKeys />}
      {session.can('operations.read') && <HubSettingsSection />}
    </Page>
  );
}
