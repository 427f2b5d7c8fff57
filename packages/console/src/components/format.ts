const dateTime = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
const date = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
const dayMonth = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' });
const count = new Intl.NumberFormat('en-GB');

/** "12 Nov 2025, 14:03:07", or an em dash for none. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : time.format(d);
}

/** "6 December 2026 at 15:30": when something was done (the person's time zone). */
export function formatDateAtTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${date.format(d)} at ${time.format(d)}`;
}

/** "14 Jul": the day of an instant, for a time axis that crosses midnight. */
export function formatDayMonth(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dayMonth.format(d);
}

/** "139,123": a count with thousands separators. */
export function formatCount(n: number): string {
  return count.format(n);
}

/** "1 minute", "15 minutes", "1 hour", "4 hours": a whole number of minutes in words. */
export function formatMinutes(minutes: number): string {
  if (minutes >= 60 && minutes % 60 === 0) {
    const hours = minutes / 60;
    return `${hours} ${hours === 1 ? 'hour' : 'hours'}`;
  }
  return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
}

/** "12 November 2025" for a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD). */
export function formatDate(fhirDate: string | null | undefined): string {
  if (!fhirDate) return '—';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(fhirDate)) return fhirDate;
  return date.format(new Date(`${fhirDate}T00:00:00Z`));
}

export function formatPercent(rate: number): string {
  return `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 2 : 1)}%`;
}

export function formatMs(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : `${count.format(Math.round(ms))} ms`;
}

/** "943 9087 659": the NHS number as people read it (NHS number format, 3-3-4). */
export function formatNhsNumber(n: string): string {
  return /^\d{10}$/.test(n) ? `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}` : n;
}

/**
 * A small secondary line under a label or value (a raw code or dm+d element name, for engineers), from
 * NHS.UK utility classes only: block, 14px, secondary text colour (AA on white), normal weight.
 */
export const SECONDARY_LINE =
  'nhsuk-u-display-block nhsuk-u-font-size-14 nhsuk-u-secondary-text-colour nhsuk-u-font-weight-normal';
