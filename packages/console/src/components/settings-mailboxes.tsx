import {
  Button,
  Details,
  InsetText,
  Table,
  Textarea,
  TextInput,
  WarningCallout,
} from 'nhsuk-react-components';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import {
  asApiError,
  type HubSettings,
  type MailboxChange,
  putMailbox,
  resetSetting,
  type SettingsMailbox,
  stopMailbox,
} from '../api';
import { EnvironmentTag } from '../pages/overview';
import { BreakableText } from './breakable-text';
import { errorOf, type FieldError, FieldErrors } from './error-box';
import { formatDateAtTime } from './format';
import {
  ChangedBanner,
  type HubField,
  hubFieldErrors,
  type SettingsApplied,
  SourceText,
  useSettingsChange,
} from './settings-changes';

/*
 * Settings › MESH mailboxes: the mailboxes the hub polls and sends from. Hub admin accounts add one,
 * change one (its password and shared key are kept unless typed again), stop using one, or use one
 * the hub was started with (its environment or `junction start`) again, as it was started with it.
 * Passwords are stored encrypted with the hub's JUNCTION_SECRETS_KEY: without it, mailboxes are only
 * read here.
 */

/** The variable the environment's mailboxes come from. */
const MAILBOXES_VARIABLE = 'JUNCTION_MESH_MAILBOXES';
const DEFAULT_POLL_S = 60;

/** The settings a mailbox used again has, for a banner: the environment's, or those given at start. */
function startingSettingsOf(next: HubSettings, mailboxId: string): string {
  return next.mailboxes.find((m) => m.mailboxId === mailboxId)?.source === 'startup'
    ? 'the settings given when the hub was started'
    : "the environment's settings";
}

export function MailboxesSection({
  settings,
  changing,
  adding,
  notice,
  onApplied,
  onClose,
}: {
  settings: HubSettings;
  /** The setting whose form is open (`mesh.mailbox.X26ABC1`), if any. */
  changing: string | null;
  adding: boolean;
  notice: { key: number; message: string } | undefined;
  onApplied: SettingsApplied;
  onClose(): void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const canChange = settings.canChange === true;
  const canEdit = canChange && settings.canStoreMailboxes === true;
  const editing = canEdit ? settings.mailboxes.find((m) => m.setting === changing) : undefined;
  const removed = settings.removedMailboxes ?? [];
  const [error, setError] = useState<FieldError[]>([]);
  const close = () => {
    onClose();
    heading.current?.focus();
  };

  const restore = async (mailboxId: string, setting: string) => {
    try {
      const next = await resetSetting(setting);
      onApplied(next, `Mailbox ${mailboxId} is used again, with ${startingSettingsOf(next, mailboxId)}.`);
      setError([]);
    } catch (e) {
      setError([{ message: asApiError(e).messages.join(' ') }]);
    }
  };

  return (
    <section aria-labelledby="settings-mailboxes-heading">
      <h2 id="settings-mailboxes-heading" ref={heading} tabIndex={-1}>
        MESH mailboxes
      </h2>
      {notice && <ChangedBanner key={notice.key} id="mailboxes-changed" message={notice.message} />}
      <FieldErrors errors={error} />
      {canChange && settings.canStoreMailboxes !== true && (
        <InsetText>
          <p>
            Mailboxes can be added or changed here once the hub has <code>JUNCTION_SECRETS_KEY</code> in its
            environment, so that their passwords are stored encrypted: 32 random bytes in base64, made with{' '}
            <code className="app-nowrap">openssl rand -base64 32</code>, the same on every hub instance.
          </p>
        </InsetText>
      )}
      {settings.mailboxes.length === 0 ? (
        <p className="nhsuk-body">The hub uses no MESH mailbox.</p>
      ) : (
        <Table responsive caption="MESH mailboxes the hub uses">
          <Table.Head>
            <Table.Row>
              <Table.Cell>Mailbox</Table.Cell>
              <Table.Cell>MESH host</Table.Cell>
              <Table.Cell>Polled every</Table.Cell>
              <Table.Cell>Workflows</Table.Cell>
              <Table.Cell>Mutual TLS</Table.Cell>
              <Table.Cell>Set by</Table.Cell>
              {canEdit && <Table.Cell>Action</Table.Cell>}
            </Table.Row>
          </Table.Head>
          <Table.Body>
            {settings.mailboxes.map((m) => (
              <Table.Row key={m.mailboxId}>
                <Table.Cell>
                  <span className="app-mono app-nowrap">{m.mailboxId}</span>
                </Table.Cell>
                <Table.Cell>
                  <EnvironmentTag environment={m.environment} />
                  <span className="nhsuk-u-display-block nhsuk-u-font-size-16">
                    <BreakableText text={m.baseUrl} />
                  </span>
                </Table.Cell>
                <Table.Cell className="app-nowrap">{formatSeconds(m.pollIntervalMs)}</Table.Cell>
                <Table.Cell>
                  <span className="nhsuk-u-font-size-16 app-wrap-anywhere">
                    {m.workflows?.join(', ') || 'All'}
                  </span>
                </Table.Cell>
                <Table.Cell>{m.mutualTls ? 'Yes' : 'No'}</Table.Cell>
                <Table.Cell>
                  <span className="nhsuk-u-font-size-16">
                    <SourceText
                      source={m.source}
                      variable={MAILBOXES_VARIABLE}
                      nhsEnvironment={settings.nhsEnvironment}
                      changedBy={m.changedBy}
                      changedAt={m.changedAt}
                    />
                  </span>
                </Table.Cell>
                {canEdit && (
                  <Table.Cell>
                    <Link to={{ search: `?change=${encodeURIComponent(m.setting)}` }} replace>
                      Change<span className="nhsuk-u-visually-hidden"> mailbox {m.mailboxId}</span>
                    </Link>
                  </Table.Cell>
                )}
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
      {canEdit && !adding && !editing && (
        <Link to={{ search: '?add=mailbox' }} replace className="nhsuk-button nhsuk-button--secondary">
          Add a mailbox
        </Link>
      )}
      {canEdit && adding && (
        <MailboxForm
          key="new"
          inUse={settings.mailboxes.map((m) => m.mailboxId)}
          onApplied={onApplied}
          onCancel={close}
        />
      )}
      {editing && (
        <MailboxForm
          key={editing.setting}
          mailbox={editing}
          inUse={settings.mailboxes.map((m) => m.mailboxId)}
          onApplied={onApplied}
          onCancel={close}
        />
      )}
      {removed.length > 0 && (
        <Table responsive caption="Mailboxes of the hub's environment it no longer uses">
          <Table.Head>
            <Table.Row>
              <Table.Cell>Mailbox</Table.Cell>
              <Table.Cell>Stopped</Table.Cell>
              {canChange && <Table.Cell>Action</Table.Cell>}
            </Table.Row>
          </Table.Head>
          <Table.Body>
            {removed.map((r) => (
              <Table.Row key={r.mailboxId}>
                <Table.Cell>
                  <BreakableText text={r.mailboxId} />
                </Table.Cell>
                <Table.Cell>
                  By {r.changedBy} on {formatDateAtTime(r.changedAt)}
                </Table.Cell>
                {canChange && (
                  <Table.Cell>
                    <Button
                      type="button"
                      small
                      secondary
                      onClick={() => void restore(r.mailboxId, r.setting)}
                    >
                      Use it again<span className="nhsuk-u-visually-hidden"> (mailbox {r.mailboxId})</span>
                    </Button>
                  </Table.Cell>
                )}
              </Table.Row>
            ))}
          </Table.Body>
        </Table>
      )}
    </section>
  );
}

/** "5 s", "1 min", "1 min 30 s". */
function formatSeconds(ms: number): string {
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  const rest = Math.round(s - min * 60);
  return rest === 0 ? `${min} min` : `${min} min ${rest} s`;
}

/**
 * The hub's "at least 100 ms" in the seconds the form asks for ("Poll interval must be at least 0.1
 * seconds"); any other reason in the hub's words.
 */
function inSeconds(label: string): (reason: string) => string | undefined {
  return (reason) => {
    const least = /^at least (\d+) ms$/.exec(reason);
    return least ? `${label} must be at least ${Number(least[1]) / 1000} seconds` : undefined;
  };
}

/** What stopping a mailbox means for using it again: it depends on whether the hub was started with it. */
function stopConsequence(mailbox: SettingsMailbox): string {
  if (!mailbox.inEnvironment) {
    return 'It was added here: to use it again, add it again, with its password and shared key.';
  }
  return mailbox.source === 'console'
    ? 'The hub was started with it, so it can be used again from this page, with the settings it was started with (the changes made here are not kept).'
    : 'The hub was started with it, so it can be used again from this page.';
}

/** A number the person typed: undefined when blank, NaN when not a number. */
function numberIn(text: string): number | undefined {
  const t = text.trim();
  return t === '' ? undefined : /^\d+(\.\d+)?$/.test(t) ? Number(t) : Number.NaN;
}

function MailboxForm({
  mailbox,
  inUse,
  onApplied,
  onCancel,
}: {
  /** The mailbox changed; none to add one. */
  mailbox?: SettingsMailbox;
  /** The ids of the mailboxes in use (a new one must be another). */
  inUse: string[];
  onApplied: SettingsApplied;
  onCancel(): void;
}) {
  const isNew = mailbox === undefined;
  const [mailboxId, setMailboxId] = useState('');
  const [baseUrl, setBaseUrl] = useState(mailbox?.baseUrl ?? '');
  const [password, setPassword] = useState('');
  const [sharedKey, setSharedKey] = useState('');
  const [pollSeconds, setPollSeconds] = useState(
    String(mailbox ? mailbox.pollIntervalMs / 1000 : DEFAULT_POLL_S),
  );
  const [workflows, setWorkflows] = useState(mailbox?.workflows?.join('\n') ?? '');
  const [inboxPageSize, setInboxPageSize] = useState(String(mailbox?.inboxPageSize ?? ''));
  const [chunkSize, setChunkSize] = useState(String(mailbox?.chunkSize ?? ''));
  const [certPath, setCertPath] = useState(mailbox?.tls?.certPath ?? '');
  const [keyPath, setKeyPath] = useState(mailbox?.tls?.keyPath ?? '');
  const [caPath, setCaPath] = useState(mailbox?.tls?.caPath ?? '');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [confirmingStop, setConfirmingStop] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const confirm = useRef<HTMLDivElement>(null);
  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    if (confirmingStop) confirm.current?.focus();
  }, [confirmingStop]);

  const prefix = `mailbox-${mailbox?.mailboxId ?? 'new'}`;
  const ids = {
    mailboxId: `${prefix}-id`,
    baseUrl: `${prefix}-url`,
    password: `${prefix}-password`,
    sharedKey: `${prefix}-shared-key`,
    poll: `${prefix}-poll`,
    workflows: `${prefix}-workflows`,
    inboxPageSize: `${prefix}-inbox-page-size`,
    chunkSize: `${prefix}-chunk-size`,
    certPath: `${prefix}-cert`,
    keyPath: `${prefix}-key`,
    caPath: `${prefix}-ca`,
  };
  const firstField = isNew ? ids.mailboxId : ids.baseUrl;
  // The names the hub's diagnostics use (its configuration's), onto this form's fields.
  const hubFields: Record<string, HubField> = {
    mailboxId: { id: ids.mailboxId, label: 'Mailbox id' },
    baseUrl: { id: ids.baseUrl, label: 'MESH host', advice: "Enter the MESH host's full URL" },
    password: { id: ids.password, label: 'Password' },
    sharedKey: { id: ids.sharedKey, label: 'Shared key' },
    // The form asks seconds; the hub checks milliseconds ("at least 100 ms").
    pollIntervalMs: { id: ids.poll, label: 'Poll interval', reword: inSeconds('Poll interval') },
    workflows: { id: ids.workflows, label: 'Workflows' },
    inboxPageSize: { id: ids.inboxPageSize, label: 'Inbox page size' },
    chunkSize: { id: ids.chunkSize, label: 'Chunk size' },
    tls: { id: ids.certPath, label: 'Mutual TLS' },
    'tls.certPath': { id: ids.certPath, label: 'Client certificate' },
    'tls.keyPath': { id: ids.keyPath, label: 'Private key' },
    'tls.caPath': { id: ids.caPath, label: 'CA certificates' },
  };
  const advancedIds = [ids.inboxPageSize, ids.chunkSize, ids.certPath, ids.keyPath, ids.caPath];
  const advancedOpen =
    errors.some((e) => e.field !== undefined && advancedIds.includes(e.field)) ||
    [inboxPageSize, chunkSize, certPath, keyPath, caPath].some((v) => v !== '');

  /** What the console itself must know to build the request; the values' rules are the hub's. */
  const missing = (): FieldError[] => {
    const found: FieldError[] = [];
    const id = mailboxId.trim().toUpperCase();
    if (isNew && id === '') found.push({ field: ids.mailboxId, message: 'Enter the mailbox id' });
    else if (isNew && inUse.includes(id)) {
      found.push({
        field: ids.mailboxId,
        message: `The hub already uses mailbox ${id}: change it from its row in the table`,
      });
    }
    if (baseUrl.trim() === '') found.push({ field: ids.baseUrl, message: 'Enter the MESH host' });
    if (isNew && password === '')
      found.push({ field: ids.password, message: "Enter the mailbox's password" });
    if (isNew && sharedKey === '') {
      found.push({ field: ids.sharedKey, message: "Enter the MESH environment's shared key" });
    }
    const poll = numberIn(pollSeconds);
    if (poll === undefined || Number.isNaN(poll) || poll <= 0) {
      found.push({ field: ids.poll, message: 'Enter how often to poll, in seconds, for example 60' });
    }
    for (const [value, field, label] of [
      [inboxPageSize, ids.inboxPageSize, 'inbox page size'],
      [chunkSize, ids.chunkSize, 'chunk size'],
    ] as const) {
      const n = numberIn(value);
      if (n !== undefined && !Number.isInteger(n)) {
        found.push({ field, message: `Enter the ${label} as a whole number, or leave it blank` });
      }
    }
    if (certPath.trim() !== '' && keyPath.trim() === '') {
      found.push({
        field: ids.keyPath,
        message: 'Enter the path of the private key of the client certificate',
      });
    }
    if (certPath.trim() === '' && (keyPath.trim() !== '' || caPath.trim() !== '')) {
      found.push({ field: ids.certPath, message: 'Enter the path of the client certificate' });
    }
    return found;
  };

  const change = (): MailboxChange => {
    const body: MailboxChange = {
      baseUrl: baseUrl.trim(),
      pollIntervalMs: Math.round((numberIn(pollSeconds) ?? DEFAULT_POLL_S) * 1000),
    };
    if (password !== '') body.password = password;
    if (sharedKey !== '') body.sharedKey = sharedKey;
    const list = workflows
      .split('\n')
      .map((w) => w.trim())
      .filter((w) => w !== '');
    if (list.length > 0) body.workflows = list;
    const pageSize = numberIn(inboxPageSize);
    if (pageSize !== undefined) body.inboxPageSize = pageSize;
    const chunk = numberIn(chunkSize);
    if (chunk !== undefined) body.chunkSize = chunk;
    if (certPath.trim() !== '') {
      body.tls = {
        certPath: certPath.trim(),
        keyPath: keyPath.trim(),
        ...(caPath.trim() !== '' && { caPath: caPath.trim() }),
      };
    }
    return body;
  };

  const refused = (e: unknown) => {
    const error = asApiError(e);
    setErrors(
      error.status === 400 || error.status === 404 || error.status === 409
        ? hubFieldErrors(error, hubFields, firstField)
        : [{ message: error.messages.join(' ') }],
    );
  };

  const { busy, run } = useSettingsChange(onApplied, refused);

  const save = (event: FormEvent) => {
    event.preventDefault();
    const found = missing();
    setErrors(found);
    if (found.length > 0) return;
    const id = isNew ? mailboxId.trim().toUpperCase() : mailbox.mailboxId;
    void run(
      () => putMailbox(id, change()),
      (next) => {
        const saved = next.mailboxes.find((m) => m.mailboxId === id);
        const every = saved ? `, polled every ${formatSeconds(saved.pollIntervalMs)}` : '';
        return isNew
          ? `Mailbox ${id} added${every}; in force on every hub instance.`
          : `Mailbox ${id} changed${every}; in force on every hub instance.`;
      },
    );
  };

  const backToStartingSettings = (changed: SettingsMailbox) =>
    void run(
      () => resetSetting(changed.setting),
      (next) =>
        `Mailbox ${changed.mailboxId} uses ${startingSettingsOf(next, changed.mailboxId)} again; in force on every hub instance.`,
    );

  const stop = (id: string) =>
    void run(
      () => stopMailbox(id),
      () => `The hub no longer uses mailbox ${id}, on any instance.`,
      (e) => {
        setConfirmingStop(false);
        refused(e);
      },
    );

  const headingId = `${prefix}-heading`;
  const keepHint = 'Leave blank to keep the current one';
  return (
    <form
      onSubmit={save}
      noValidate
      aria-labelledby={headingId}
      className="nhsuk-u-margin-top-6"
      autoComplete="off"
    >
      <h3 id={headingId} ref={heading} tabIndex={-1}>
        {isNew ? 'Add a mailbox' : `Change mailbox ${mailbox.mailboxId}`}
      </h3>
      <FieldErrors errors={errors} />
      {isNew && (
        <TextInput
          id={ids.mailboxId}
          label="Mailbox id"
          hint="As MESH issued it, for example X26ABC1"
          width={10}
          spellCheck={false}
          autoCapitalize="characters"
          value={mailboxId}
          onChange={(e) => setMailboxId(e.currentTarget.value)}
          {...errorOf(errors, ids.mailboxId)}
        />
      )}
      <TextInput
        id={ids.baseUrl}
        label="MESH host"
        hint="INT: https://msg.intspineservices.nhs.uk, live: https://mesh-sync.spineservices.nhs.uk"
        type="url"
        inputMode="url"
        spellCheck={false}
        value={baseUrl}
        onChange={(e) => setBaseUrl(e.currentTarget.value)}
        {...errorOf(errors, ids.baseUrl)}
      />
      <TextInput
        id={ids.password}
        label="Password"
        type="password"
        autoComplete="new-password"
        width={20}
        {...(!isNew && { hint: keepHint })}
        value={password}
        onChange={(e) => setPassword(e.currentTarget.value)}
        {...errorOf(errors, ids.password)}
      />
      <TextInput
        id={ids.sharedKey}
        label="Shared key"
        type="password"
        autoComplete="new-password"
        width={20}
        hint={isNew ? "The MESH environment's shared key (the same for every mailbox of it)" : keepHint}
        value={sharedKey}
        onChange={(e) => setSharedKey(e.currentTarget.value)}
        {...errorOf(errors, ids.sharedKey)}
      />
      <TextInput
        id={ids.poll}
        label="Poll interval in seconds"
        hint="How often the hub looks in the inbox"
        inputMode="decimal"
        width={5}
        value={pollSeconds}
        onChange={(e) => setPollSeconds(e.currentTarget.value)}
        {...errorOf(errors, ids.poll)}
      />
      <Textarea
        id={ids.workflows}
        label="Workflows (optional)"
        hint="The workflow ids to collect from the inbox, one per line. Leave blank for all."
        rows={3}
        spellCheck={false}
        value={workflows}
        onChange={(e) => setWorkflows(e.currentTarget.value)}
        {...errorOf(errors, ids.workflows)}
      />
      <Details open={advancedOpen || undefined}>
        <Details.Summary>Advanced: inbox page size, chunk size, mutual TLS</Details.Summary>
        <Details.Text>
          <TextInput
            id={ids.inboxPageSize}
            label="Inbox page size (optional)"
            hint="Messages per inbox page, 10 to 5000. Blank: MESH's default of 500."
            inputMode="numeric"
            width={5}
            value={inboxPageSize}
            onChange={(e) => setInboxPageSize(e.currentTarget.value)}
            {...errorOf(errors, ids.inboxPageSize)}
          />
          <TextInput
            id={ids.chunkSize}
            label="Chunk size in bytes (optional)"
            hint="The largest chunk of a message sent, up to 100000000. Blank: 75 MiB."
            inputMode="numeric"
            width={10}
            value={chunkSize}
            onChange={(e) => setChunkSize(e.currentTarget.value)}
            {...errorOf(errors, ids.chunkSize)}
          />
          <TextInput
            id={ids.certPath}
            label="Client certificate (optional)"
            hint="Path of the PEM file on the hub's machine, for mutual TLS with the real MESH"
            spellCheck={false}
            value={certPath}
            onChange={(e) => setCertPath(e.currentTarget.value)}
            {...errorOf(errors, ids.certPath)}
          />
          <TextInput
            id={ids.keyPath}
            label="Private key of the client certificate (optional)"
            hint="Path of the PEM file on the hub's machine"
            spellCheck={false}
            value={keyPath}
            onChange={(e) => setKeyPath(e.currentTarget.value)}
            {...errorOf(errors, ids.keyPath)}
          />
          <TextInput
            id={ids.caPath}
            label="CA certificates (optional)"
            hint="Path of the PEM file of the certificate authorities to trust"
            spellCheck={false}
            value={caPath}
            onChange={(e) => setCaPath(e.currentTarget.value)}
            {...errorOf(errors, ids.caPath)}
          />
        </Details.Text>
      </Details>
      <div>
        <Button type="submit" disabled={busy} className="nhsuk-u-margin-right-3">
          Save
        </Button>
        <Button type="button" secondary onClick={onCancel}>
          Cancel
        </Button>
      </div>
      {!isNew && mailbox.source === 'console' && mailbox.inEnvironment && (
        <>
          <p className="nhsuk-body" id={`${prefix}-reset-hint`}>
            Changed in the console. Forget the change to use mailbox {mailbox.mailboxId} as the hub was
            started with it (from its environment or junction start).
          </p>
          <Button
            type="button"
            secondary
            disabled={busy}
            className="nhsuk-u-margin-right-3"
            onClick={() => backToStartingSettings(mailbox)}
            aria-describedby={`${prefix}-reset-hint`}
          >
            Use the environment's settings
          </Button>
        </>
      )}
      {!isNew && !confirmingStop && (
        <Button type="button" secondary onClick={() => setConfirmingStop(true)}>
          Stop using this mailbox
        </Button>
      )}
      {!isNew && confirmingStop && (
        <div ref={confirm} tabIndex={-1} id={`${prefix}-stop`}>
          <WarningCallout>
            <WarningCallout.Heading>Stop using mailbox {mailbox.mailboxId}?</WarningCallout.Heading>
            <p>
              The hub stops polling it and sending from it, on every instance. Messages already in the log
              stay there. {stopConsequence(mailbox)}
            </p>
            <div>
              <Button
                type="button"
                warning
                disabled={busy}
                className="nhsuk-u-margin-right-3"
                onClick={() => stop(mailbox.mailboxId)}
              >
                Yes, stop using {mailbox.mailboxId}
              </Button>
              <Button type="button" secondary onClick={() => setConfirmingStop(false)}>
                Cancel
              </Button>
            </div>
          </WarningCallout>
        </div>
      )}
    </form>
  );
}
