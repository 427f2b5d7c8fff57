import { Button, Radios, Table, TextInput } from 'nhsuk-react-components';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { asApiError, changeBaseUrl, type HubSettings, resetSetting, type ServiceBaseUrl } from '../api';
import { EnvironmentTag } from '../pages/overview';
import { BreakableText } from './breakable-text';
import { errorOf, type FieldError, FieldErrors } from './error-box';
import { SECONDARY_LINE } from './format';
import {
  ChangedBanner,
  hubFieldErrors,
  type SettingsApplied,
  SourceText,
  underlyingValue,
  useSettingsChange,
} from './settings-changes';

/*
 * Settings › NHS APIs: the base URL of each NHS API the hub calls and where it comes from; hub admin
 * accounts change one (a published environment's URL, or another) or undo a console change. The
 * hub checks the value by its configuration's rules and puts it in force on every instance.
 */

const PUBLISHED = [
  { env: 'sandbox', label: 'Sandbox' },
  { env: 'int', label: 'INT (integration testing)' },
  { env: 'live', label: 'Live' },
] as const;
type Choice = (typeof PUBLISHED)[number]['env'] | 'custom';

export function BaseUrlsSection({
  settings,
  changing,
  notice,
  onApplied,
  onClose,
}: {
  settings: HubSettings;
  /** The setting whose form is open (`base-url.pds`), if any. */
  changing: string | null;
  /** The last change's sentence, keyed so each new one takes focus. */
  notice: { key: number; message: string } | undefined;
  onApplied: SettingsApplied;
  onClose(): void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const canChange = settings.canChange === true;
  const editing = canChange ? settings.environments.find((e) => e.setting === changing) : undefined;
  return (
    <section aria-labelledby="nhs-apis-heading">
      <h2 id="nhs-apis-heading" ref={heading} tabIndex={-1}>
        NHS APIs
      </h2>
      {notice && <ChangedBanner key={notice.key} id="nhs-apis-changed" message={notice.message} />}
      <p className="nhsuk-body">
        The base URL the hub calls for each NHS API.
        {canChange && ' A change is in force on every hub instance within seconds, without a restart.'}
      </p>
      <Table responsive caption="NHS APIs the hub calls and their base URLs">
        <Table.Head>
          <Table.Row>
            <Table.Cell>Service</Table.Cell>
            <Table.Cell>Environment</Table.Cell>
            <Table.Cell>Base URL</Table.Cell>
            <Table.Cell>Set by</Table.Cell>
            {canChange && <Table.Cell>Action</Table.Cell>}
          </Table.Row>
        </Table.Head>
        <Table.Body>
          {settings.environments.map((e) => (
            <Table.Row key={e.service}>
              <Table.Cell>
                {e.name}
                {!e.inUse && <span className={SECONDARY_LINE}>Not in use by this hub</span>}
              </Table.Cell>
              <Table.Cell>
                <EnvironmentTag environment={e.environment} />
              </Table.Cell>
              <Table.Cell>
                <BreakableText text={e.baseUrl} />
              </Table.Cell>
              <Table.Cell>
                <span className="nhsuk-u-font-size-16">
                  <SourceText
                    source={e.source}
                    variable={e.variable}
                    nhsEnvironment={settings.nhsEnvironment}
                    changedBy={e.changedBy}
                    changedAt={e.changedAt}
                  />
                </span>
              </Table.Cell>
              {canChange && (
                <Table.Cell>
                  <Link to={{ search: `?change=${encodeURIComponent(e.setting)}` }} replace>
                    Change<span className="nhsuk-u-visually-hidden"> the base URL of {e.name}</span>
                  </Link>
                </Table.Cell>
              )}
            </Table.Row>
          ))}
        </Table.Body>
      </Table>
      {editing && (
        <BaseUrlForm
          key={editing.setting}
          service={editing}
          nhsEnvironment={settings.nhsEnvironment}
          onApplied={onApplied}
          onCancel={() => {
            onClose();
            heading.current?.focus();
          }}
        />
      )}
    </section>
  );
}

/** The published environment whose URL this is, else 'custom'. */
function choiceOf(service: ServiceBaseUrl): Choice {
  return PUBLISHED.find(({ env }) => service.published[env] === service.baseUrl)?.env ?? 'custom';
}

function BaseUrlForm({
  service,
  nhsEnvironment,
  onApplied,
  onCancel,
}: {
  service: ServiceBaseUrl;
  nhsEnvironment: string;
  onApplied: SettingsApplied;
  onCancel(): void;
}) {
  const initial = choiceOf(service);
  const [choice, setChoice] = useState<Choice>(initial);
  const [custom, setCustom] = useState(initial === 'custom' ? service.baseUrl : '');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const prefix = `base-url-${service.service}`;
  const radioId = (c: Choice) => `${prefix}-${c}`;
  const customId = `${prefix}-url`;
  // Where a refusal of the chosen value shows: the typed URL, or the radios.
  const valueField = choice === 'custom' ? customId : radioId(choice);
  const inForce = (next: HubSettings) => next.environments.find((e) => e.service === service.service);
  const inUseNow = (next: HubSettings) => inForce(next)?.baseUrl ?? '';

  const refused = (e: unknown) => {
    const error = asApiError(e);
    setErrors(
      error.status === 400 || error.status === 404
        ? hubFieldErrors(
            error,
            {
              baseUrl: {
                id: valueField,
                label: 'Base URL',
                advice: 'Enter the full URL of the API',
              },
            },
            valueField,
          )
        : [{ message: error.messages.join(' ') }],
    );
  };
  const { busy, run } = useSettingsChange(onApplied, refused);

  const save = (event: FormEvent) => {
    event.preventDefault();
    const url = choice === 'custom' ? custom.trim() : (service.published[choice] ?? '');
    if (url === '') {
      setErrors([{ field: customId, message: 'Enter the base URL the hub should call' }]);
      return;
    }
    void run(
      () => changeBaseUrl(service.service, url),
      (next) => `${service.name} now uses ${inUseNow(next)}; in force on every hub instance.`,
    );
  };

  const backToEnvironment = () =>
    void run(
      () => resetSetting(service.setting),
      (next) =>
        `${service.name} uses ${underlyingValue(inForce(next)?.source ?? 'default', service.variable, nhsEnvironment)} again: ${inUseNow(next)}; in force on every hub instance.`,
    );

  const headingId = `${prefix}-heading`;
  return (
    <form onSubmit={save} noValidate aria-labelledby={headingId} className="nhsuk-u-margin-top-6">
      <h3 id={headingId} ref={heading} tabIndex={-1}>
        Change the base URL of {service.name}
      </h3>
      <FieldErrors errors={errors} />
      <p className="nhsuk-body">
        Now: <BreakableText text={service.baseUrl} />
      </p>
      <Radios
        id={`${prefix}-choice`}
        name={`${prefix}-choice`}
        legend="Which base URL should the hub call?"
        legendProps={{ size: 's' }}
        hint={`The published URL of the hub's NHS environment (${nhsEnvironment}), or another: a proxy or a test double. Another NHS environment needs the hub started in it, with its keys.`}
        {...(choice !== 'custom' && errorOf(errors, valueField))}
      >
        {PUBLISHED.filter(({ env }) => service.published[env] !== undefined).map(({ env, label }) => (
          <Radios.Item
            key={env}
            id={radioId(env)}
            value={env}
            checked={choice === env}
            onChange={() => setChoice(env)}
            hint={<BreakableText text={service.published[env] ?? ''} />}
          >
            {label}
          </Radios.Item>
        ))}
        <Radios.Item
          id={radioId('custom')}
          value="custom"
          checked={choice === 'custom'}
          onChange={() => setChoice('custom')}
        >
          Another URL
        </Radios.Item>
        {/* The NHS.UK conditional reveal, drawn here rather than by the Radios script: that script
            puts aria-expanded on the radio, which the radio role does not allow (axe: critical). */}
        {choice === 'custom' && (
          <div className="nhsuk-radios__conditional" id={`${prefix}-custom-reveal`}>
            <TextInput
              id={customId}
              label="Base URL"
              hint="The full URL, starting with https://"
              type="url"
              inputMode="url"
              spellCheck={false}
              autoComplete="off"
              value={custom}
              onChange={(e) => setCustom(e.currentTarget.value)}
              {...errorOf(errors, customId)}
            />
          </div>
        )}
      </Radios>
      <div>
        <Button type="submit" disabled={busy} className="nhsuk-u-margin-right-3">
          Save
        </Button>
        <Button type="button" secondary onClick={onCancel}>
          Cancel
        </Button>
      </div>
      {service.source === 'console' && (
        <>
          <p className="nhsuk-body" id={`${prefix}-reset-hint`}>
            Changed in the console. Forget that change to use the value the hub was started with again: its
            environment variable <BreakableText text={service.variable} />, a value given when it was started
            (junction start or a command-line flag), or the default.
          </p>
          <Button
            type="button"
            secondary
            disabled={busy}
            onClick={backToEnvironment}
            aria-describedby={`${prefix}-reset-hint`}
          >
            Use the environment's value
          </Button>
        </>
      )}
    </form>
  );
}
