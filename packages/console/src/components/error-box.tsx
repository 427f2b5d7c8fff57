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

/** An error of a form: the input it is about, or none for one about the whole form (a refusal naming no field). */
export interface FieldError {
  field?: string;
  message: string;
}

/**
 * A form's errors as an error summary, each linking to its field (NHS.UK pattern); focus moves to the
 * summary whenever a new set of errors arrives.
 */
export function FieldErrors({ errors }: { errors: FieldError[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (errors.length > 0) box.current?.focus();
  }, [errors]);
  if (errors.length === 0) return null;
  return (
    <ErrorSummary ref={box} disableAutoFocus tabIndex={-1}>
      <ErrorSummary.Title>There is a problem</ErrorSummary.Title>
      <ErrorSummary.List>
        {errors.map((e) =>
          e.field ? (
            <ErrorSummary.ListItem key={`${e.field}:${e.message}`} href={`#${e.field}`}>
              {e.message}
            </ErrorSummary.ListItem>
          ) : (
            <li key={e.message}>{e.message}</li>
          ),
        )}
      </ErrorSummary.List>
    </ErrorSummary>
  );
}

/** `{ error }` for a form field's props when it has one (exactOptionalPropertyTypes forbids `error: undefined`). */
export function errorProp(message: string | undefined): { error: string } | Record<string, never> {
  return message === undefined ? {} : { error: message };
}

/** `errorProp` of the error of `field` among a form's `errors`. */
export function errorOf(errors: FieldError[], field: string): { error: string } | Record<string, never> {
  return errorProp(errors.find((e) => e.field === field)?.message);
}
