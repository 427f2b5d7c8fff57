import { NotificationBanner } from 'nhsuk-react-components';
import { useEffect, useRef, useState } from 'react';
import type { ApiError, HubSettings, SettingSource } from '../api';
import { BreakableText } from './breakable-text';
import type { FieldError } from './error-box';
import { formatDateAtTime } from './format';

/*
 * What the Settings page's change forms share: where a setting comes from in words, the hub's
 * refusals put on the form's fields (the hub holds the rules; the console only says where), and the
 * success banner that takes focus once a change is in force.
 */

/** A change saved: the settings as the hub now has them, and a sentence for the success banner. */
export type SettingsApplied = (next: HubSettings, message: string) => void;

/**
 * How a change form sends a change: `busy` while it is out; the hub's answer goes to `onApplied` with
 * `sentence(answer)` for the banner, a refusal to `refused` (the form's own, unless the call gives one).
 */
export function useSettingsChange(onApplied: SettingsApplied, refused: (error: unknown) => void) {
  const [busy, setBusy] = useState(false);
  const run = async (
    call: () => Promise<HubSettings>,
    sentence: (next: HubSettings) => string,
    onRefused: (error: unknown) => void = refused,
  ) => {
    setBusy(true);
    try {
      const next = await call();
      onApplied(next, sentence(next));
    } catch (e) {
      onRefused(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, run };
}

/** How the table says a value was given when the hub was started (not by an environment variable). */
const SET_AT_START = 'Set when the hub was started (junction start or a command-line flag)';

/**
 * Where a setting in force comes from, as a sentence: the default, a variable, the hub's start, or
 * who changed it.
 */
export function SourceText({
  source,
  variable,
  nhsEnvironment,
  changedBy,
  changedAt,
}: {
  source: SettingSource;
  variable: string;
  nhsEnvironment: string;
  changedBy?: string | undefined;
  changedAt?: string | undefined;
}) {
  if (source === 'default') return <>Default for {nhsEnvironment}</>;
  if (source === 'environment') {
    return (
      <>
        Environment variable <BreakableText text={variable} />
      </>
    );
  }
  if (source === 'startup') return <>{SET_AT_START}</>;
  return (
    <>
      Changed in the console{changedBy && ` by ${changedBy}`}
      {changedAt && ` on ${formatDateAtTime(changedAt)}`}
    </>
  );
}

/**
 * What a console change gives way to, once undone, for a sentence ("PDS uses … again"): the
 * environment's value, the one the hub was started with, or the default.
 */
export function underlyingValue(source: SettingSource, variable: string, nhsEnvironment: string): string {
  switch (source) {
    case 'environment':
      return `the environment's value (${variable})`;
    case 'startup':
      return 'the value set when the hub was started';
    case 'default':
      return `the default for ${nhsEnvironment}`;
    case 'console':
      return 'the value changed in the console';
  }
}

/** A form field the hub's diagnostics may name (`baseUrl`, `tls.certPath`): its input id and label. */
export interface HubField {
  id: string;
  label: string;
  /** What to do, said before the hub's reason ("Enter the full URL of the API"). */
  advice?: string;
  /**
   * The hub's reason in the form's own terms, where the form differs from the hub (seconds asked,
   * milliseconds checked); undefined keeps the hub's words.
   */
  reword?(reason: string): string | undefined;
}

/**
 * The hub's refusal (a 400's diagnostics, `baseUrl: expected an http:// or https:// URL;
 * pollIntervalMs: at least 100 ms`) as
 * errors on the form's fields: each `name: reason` goes to the field the hub calls `name` (or a
 * field under it: `workflows.0`, `tls.certPath`); anything else to `fallback` (or to no field).
 */
export function hubFieldErrors(
  error: ApiError,
  fields: Record<string, HubField>,
  fallback?: string,
): FieldError[] {
  const errors: FieldError[] = [];
  for (const part of error.messages.flatMap((m) => m.split(/;\s+(?=[A-Za-z][\w.]*: )/))) {
    const named = /^([A-Za-z][\w.]*): (.+)$/s.exec(part);
    const name = named?.[1] ?? '';
    const key = Object.keys(fields)
      .sort((a, b) => b.length - a.length)
      .find((k) => name === k || name.startsWith(`${k}.`));
    const field = key === undefined ? undefined : fields[key];
    if (field && named) {
      const reason = named[2] ?? '';
      errors.push({
        field: field.id,
        message:
          field.reword?.(reason) ??
          (field.advice ? `${field.advice} (the hub says: ${reason})` : `${field.label}: ${reason}`),
      });
    } else {
      errors.push({ ...(fallback !== undefined && { field: fallback }), message: part });
    }
  }
  return mergeByField(errors);
}

/** One message per field (a field's inline error is one line), in the order first met. */
function mergeByField(errors: FieldError[]): FieldError[] {
  const merged: FieldError[] = [];
  for (const e of errors) {
    const same = e.field === undefined ? undefined : merged.find((m) => m.field === e.field);
    if (same) same.message = `${same.message}. ${e.message}`;
    else merged.push({ ...e });
  }
  return merged;
}

/**
 * The NHS.UK success banner of a change; it takes focus when it appears (give each change its own
 * `key`, so a second change announces itself too).
 */
export function ChangedBanner({ id, message }: { id: string; message: string }) {
  const banner = useRef<HTMLDivElement>(null);
  useEffect(() => banner.current?.focus(), []);
  return (
    <NotificationBanner ref={banner} success disableAutoFocus tabIndex={-1} titleId={`${id}-title`}>
      <NotificationBanner.Title id={`${id}-title`} success>
        Success
      </NotificationBanner.Title>
      <p className="nhsuk-notification-banner__heading app-wrap-anywhere">{message}</p>
    </NotificationBanner>
  );
}
