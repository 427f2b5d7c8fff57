import { DateInput } from 'nhsuk-react-components';
import type { DayParts } from './dates';
import { errorProp } from './error-box';

/**
 * The NHS.UK date input (day, month and year fields in a fieldset whose legend names the date), as
 * every form of the console asks for a date. Its fields are `<id>-day`, `<id>-month` and
 * `<id>-year`, so an error summary links to `#<id>-day`.
 */
export function DayInput({
  id,
  legend,
  hint,
  value,
  onChange,
  error,
}: {
  id: string;
  legend: string;
  hint?: string;
  value: DayParts;
  onChange(value: DayParts): void;
  error?: string | undefined;
}) {
  return (
    <DateInput
      id={id}
      legend={legend}
      {...(hint !== undefined && { hint })}
      value={value}
      onChange={(e) => onChange({ day: '', month: '', year: '', ...e.target.value })}
      {...errorProp(error)}
    />
  );
}
