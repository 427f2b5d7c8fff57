import { ErrorSummary } from 'nhsuk-react-components';
import { useEffect, useRef } from 'react';
import type { ApiError } from '../api';

/**
 * An NHS.UK error summary of a failed hub call: its OperationOutcome messages. Focus moves to it
 * when it appears (NHS.UK error summary guidance), unless `noFocus` (e.g. a background refresh).
 */
export function ErrorBox({
  error,
  title = 'There is a problem',
  noFocus = false,
}: {
  error: ApiError | undefined;
  title?: string;
  noFocus?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (error && !noFocus) box.current?.focus();
  }, [error, noFocus]);
  if (!error) return null;
  return (
    <ErrorSummary ref={box} disableAutoFocus tabIndex={-1}>
      <ErrorSummary.Title>{title}</ErrorSummary.Title>
      <ErrorSummary.List>
        {error.messages.map((m) => (
          <li key={m}>{m}</li>
        ))}
      </ErrorSummary.List>
    </ErrorSummary>
  );
}

/** A form's field errors as an error summary linking to each field (NHS.UK pattern). */
export function FieldErrors({ errors }: { errors: { field: string; message: string }[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (errors.length > 0) box.current?.focus();
  }, [errors]);
  if (errors.length === 0) return null;
  return (
    <ErrorSummary ref={box} disableAutoFocus tabIndex={-1}>
      <ErrorSummary.Title>There is a problem</ErrorSummary.Title>
      <ErrorSummary.List>
        {errors.map((e) => (
          <ErrorSummary.ListItem key={e.field} href={`#${e.field}`}>
            {e.message}
          </ErrorSummary.ListItem>
        ))}
      </ErrorSummary.List>
    </ErrorSummary>
  );
}

/** `{ error }` for a form field's props when it has one (exactOptionalPropertyTypes forbids `error: undefined`). */
export function errorProp(message: string | undefined): { error: string } | Record<string, never> {
  return message === undefined ? {} : { error: message };
}
