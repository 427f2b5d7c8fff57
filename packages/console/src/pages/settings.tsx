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
import { useSearchParams } from 'react-router';
import { ApiError, type ApiKey, api, asApiError, type HubSettings } from '../api';
import { BreakableText } from '../components/breakable-text';
import { ErrorBox, errorProp, FieldErrors } from '../components/error-box';
import { formatDateTime } from '../components/format';
import { Page } from '../components/page';
import { BaseUrlsSection } from '../components/settings-base-urls';
import type { SettingsApplied } from '../components/settings-changes';
import { MailboxesSection } from '../components/settings-mailboxes';
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
                  <BreakableText text={k.id} className="nhsuk-body-s" />
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

type SettingsSection = 'nhs-apis' | 'mailboxes';

/**
 * What the hub is connected to: its environment, each NHS API's base URL, its MESH mailboxes. A
 * change form opens from its row by the address (`?change=base-url.pds`, `?add=mailbox`), so Back
 * closes it; each change answers with the settings as they now are.
 */
function HubSettingsSection({
  settings: s,
  error,
  onChanged,
}: {
  settings: HubSettings | undefined;
  error: ApiError | undefined;
  onChanged(next: HubSettings): void;
}) {
  const [notice, setNotice] = useState<{ section: SettingsSection; key: number; message: string }>();
  const [params, setParams] = useSearchParams();
  const changing = params.get('change');
  const adding = params.get('add') === 'mailbox';

  const closeForm = () =>
    setParams(
      (p) => {
        p.delete('change');
        p.delete('add');
        return p;
      },
      { replace: true },
    );
  const appliedIn =
    (section: SettingsSection): SettingsApplied =>
    (next, message) => {
      onChanged(next);
      setNotice((n) => ({ section, key: (n?.key ?? 0) + 1, message }));
      closeForm();
    };
  const noticeOf = (section: SettingsSection) => (notice?.section === section ? notice : undefined);

  return (
    <>
      <section aria-labelledby="environments-heading">
        <h2 id="environments-heading">Environment</h2>
        <ErrorBox error={error} noFocus />
        {s && (
          <SummaryList>
            <SummaryList.Row>
              <SummaryList.Key>NHS environment</SummaryList.Key>
              <SummaryList.Value>
                <EnvironmentTag environment={s.nhsEnvironment} />
              </SummaryList.Value>
            </SummaryList.Row>
            <SummaryList.Row>
              <SummaryList.Key>Hub address</SummaryList.Key>
              <SummaryList.Value>
                <BreakableText text={s.publicUrl} />
              </SummaryList.Value>
            </SummaryList.Row>
            <SummaryList.Row>
              <SummaryList.Key>Store</SummaryList.Key>
              <SummaryList.Value>{s.store.dialect}</SummaryList.Value>
            </SummaryList.Row>
            <SummaryList.Row>
              <SummaryList.Key>NHS login</SummaryList.Key>
              <SummaryList.Value>
                {s.signIn.nhsLogin.configured ? 'Configured' : 'Not configured'}:{' '}
                <BreakableText text={s.signIn.nhsLogin.issuer} />
              </SummaryList.Value>
            </SummaryList.Row>
            <SummaryList.Row>
              <SummaryList.Key>CIS2</SummaryList.Key>
              <SummaryList.Value>
                {s.signIn.cis2.configured ? 'Configured' : 'Not configured'}:{' '}
                <BreakableText text={s.signIn.cis2.issuer} />
              </SummaryList.Value>
            </SummaryList.Row>
          </SummaryList>
        )}
      </section>
      {s && (
        <BaseUrlsSection
          settings={s}
          changing={changing}
          notice={noticeOf('nhs-apis')}
          onApplied={appliedIn('nhs-apis')}
          onClose={closeForm}
        />
      )}
      {s && (
        <MailboxesSection
          settings={s}
          changing={changing}
          adding={adding}
          notice={noticeOf('mailboxes')}
          onApplied={appliedIn('mailboxes')}
          onClose={closeForm}
        />
      )}
    </>
  );
}

/** Settings changed in the console that the hub cannot use (a mailbox it cannot open…), first on the page. */
function SettingsProblems({ problems }: { problems: string[] }) {
  if (problems.length === 0) return null;
  return (
    <WarningCallout>
      <WarningCallout.Heading>Some settings changed in the console are not used</WarningCallout.Heading>
      <ul>
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </WarningCallout>
  );
}

export default function SettingsPage() {
  const session = useSession();
  const readsHub = session.can('operations.read');
  const loaded = useApi<HubSettings>(readsHub ? '/settings' : null);
  // A change answers with the settings as they now are: shown without another GET.
  const [latest, setLatest] = useState<HubSettings>();
  const settings = latest ?? loaded.data;
  return (
    <Page title="Settings">
      {settings && <SettingsProblems problems={settings.problems ?? []} />}
      {session.can('keys.manage') && <ApiKeys />}
      {readsHub && <HubSettingsSection settings={settings} error={loaded.error} onChanged={setLatest} />}
    </Page>
  );
}
