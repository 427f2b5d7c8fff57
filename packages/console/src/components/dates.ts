/** A date as the NHS.UK date input holds it: what was typed in its day, month and year fields. */
export interface DayParts {
  day: string;
  month: string;
  year: string;
}

export const NO_DAY: DayParts = { day: '', month: '', year: '' };

const FIELDS = ['day', 'month', 'year'] as const;

function trimmed(parts: DayParts): DayParts {
  return { day: parts.day.trim(), month: parts.month.trim(), year: parts.year.trim() };
}

export function isBlank(parts: DayParts): boolean {
  return FIELDS.every((f) => parts[f].trim() === '');
}

/** `YYYY-MM-DD` for a real calendar date typed as day, month and year; otherwise undefined. */
export function isoDate(parts: DayParts): string | undefined {
  const { day, month, year } = trimmed(parts);
  if (!/^\d{4}$/.test(year) || !/^\d{1,2}$/.test(month) || !/^\d{1,2}$/.test(day)) return undefined;
  const iso = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(iso) ? iso : undefined;
}

/** The day, month and year fields of a `YYYY-MM-DD` date (blank for anything else). */
export function partsOf(iso: string | null | undefined): DayParts {
  const found = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? '');
  if (!found) return { ...NO_DAY };
  return { day: String(Number(found[3])), month: String(Number(found[2])), year: found[1] ?? '' };
}

/**
 * What is wrong with a typed date, in the words of the NHS.UK date input's error messages
 * (service-manual.nhs.uk/design-system/components/date-input, "Error messages"): `ifBlank` (an
 * "Enter [it]" message) when nothing is entered and the date is required, "[It] must include a
 * [what is missing]" when incomplete, "Year must include 4 numbers", and "[It] must be a real date"
 * when it cannot be correct. Undefined when the date is fine (or blank and optional).
 */
export function dayProblem(parts: DayParts, name: string, ifBlank?: string): string | undefined {
  const p = trimmed(parts);
  if (isBlank(p)) return ifBlank;
  const missing = FIELDS.filter((f) => p[f] === '');
  if (missing.length > 0) {
    const list =
      missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
    return `${name} must include a ${list}`;
  }
  if (/^\d{1,3}$/.test(p.year)) return 'Year must include 4 numbers';
  return isoDate(p) === undefined ? `${name} must be a real date` : undefined;
}
