import { useId } from 'react';
import { formatCount, formatDayMonth, formatMinutes, formatTime } from './format';

export interface ChartSeries {
  label: string;
  /** One value per point of `points`. */
  values: number[];
  /** `failure`: red; `warning`: orange (refused rather than failed); default: blue. */
  tone?: 'default' | 'warning' | 'failure';
}

const WIDTH = 720;
const HEIGHT = 200;
const PAD_LEFT = 52;
const PAD_RIGHT = 16;
const PAD_BOTTOM = 28;
const PAD_TOP = 10;
/** Room for "00:00" centred on its tick, so a label never runs past the picture's edge. */
const HALF_LABEL_W = 18;
/** At most this many time labels: at 12px they stay well apart even on a tablet held upright. */
const MAX_TIME_LABELS = 8;
/** Steps between time labels, in minutes: round clock times only. */
const TIME_STEPS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440];

const TONE_CLASS: Record<NonNullable<ChartSeries['tone']>, string> = {
  default: 'app-chart__bar',
  warning: 'app-chart__bar app-chart__bar--warning',
  failure: 'app-chart__bar app-chart__bar--failure',
};

/** 0, a round step, …, a round top at or above `max`: 1, 2, 2.5 or 5 times a power of ten, about 4 steps. */
export function valueTicks(max: number): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power);
  const top = Math.ceil(max / step) * step;
  return Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
}

/** Minutes between time labels: the smallest round step that keeps them few. */
export function timeStepMinutes(points: number, bucketMinutes: number): number {
  const span = points * bucketMinutes;
  return (
    TIME_STEPS_MIN.find((step) => step >= bucketMinutes && span / step <= MAX_TIME_LABELS) ??
    TIME_STEPS_MIN[TIME_STEPS_MIN.length - 1] ??
    1440
  );
}

/** Minutes since local midnight (the browser's time zone: UK time for the people using the console). */
function minuteOfDay(d: Date): number {
  return d.getHours() * 60 + d.getMinutes();
}

/** A point's time in words: its day too when it is not the day of the newest point. */
function pointTime(at: string, newest: string | undefined): string {
  const d = new Date(at);
  const sameDay = newest !== undefined && new Date(newest).toDateString() === d.toDateString();
  return sameDay ? formatTime(at) : `${formatDayMonth(at)} ${formatTime(at)}`;
}

/**
 * A small bar chart in plain SVG (no chart library), stacked series per time bucket, with round
 * value gridlines, labels at round clock times (the date at midnight), a legend, and a tooltip per
 * bar. The picture is described for screen readers (role img, a summary) and every number is in the
 * table after it, inside a details element, as the text alternative (WCAG 1.1.1).
 */
export function BarChart({
  title,
  points,
  bucketSeconds,
  series,
  summary,
  lastInProgress = false,
}: {
  title: string;
  /** ISO times of the buckets' starts, oldest first. */
  points: string[];
  bucketSeconds: number;
  series: ChartSeries[];
  summary: string;
  /** The newest bucket holds now: it is still filling, so it is drawn paler and said to be so far. */
  lastInProgress?: boolean;
}) {
  const id = useId();
  const bucketMinutes = Math.max(1, Math.round(bucketSeconds / 60));
  const totals = points.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const ticks = valueTicks(Math.max(0, ...totals));
  const top = ticks[ticks.length - 1] ?? 1;
  const plotW = WIDTH - PAD_LEFT - PAD_RIGHT;
  const plotH = HEIGHT - PAD_BOTTOM - PAD_TOP;
  const baseY = HEIGHT - PAD_BOTTOM;
  const yOf = (v: number) => baseY - (v / top) * plotH;
  const slot = points.length > 0 ? plotW / points.length : plotW;
  // A gap of at least a pixel between bars, so 96 of them still read as bars.
  const barW = Math.max(1, slot - Math.max(1, slot * 0.2));
  const step = timeStepMinutes(points.length, bucketMinutes);
  const newest = points[points.length - 1];
  const isCurrent = (i: number) => lastInProgress && i === points.length - 1;
  const tooltip = (at: string, i: number) => {
    const end = new Date(Date.parse(at) + bucketSeconds * 1000).toISOString();
    const values = series.map((s) => `${s.label}: ${formatCount(s.values[i] ?? 0)}`).join(', ');
    return `${pointTime(at, newest)} to ${isCurrent(i) ? 'now' : formatTime(end)}: ${values}`;
  };
  return (
    <figure className="nhsuk-u-margin-bottom-5 nhsuk-u-margin-left-0 nhsuk-u-margin-right-0">
      <figcaption>
        <h3 className="nhsuk-heading-s nhsuk-u-margin-bottom-2" id={`${id}-title`}>
          {title}
        </h3>
        <p className="nhsuk-body-s nhsuk-u-margin-bottom-2" id={`${id}-desc`}>
          {summary}
        </p>
        <ul className="app-chart__legend nhsuk-body-s" aria-label={`${title}: key`}>
          {series.map((s) => (
            <li key={s.label}>
              <span className={`app-chart__swatch ${TONE_CLASS[s.tone ?? 'default']}`} aria-hidden="true" />
              {s.label}
            </li>
          ))}
          <li>Each bar: {formatMinutes(bucketMinutes)}</li>
          {lastInProgress && (
            <li>
              <span
                className="app-chart__swatch app-chart__bar app-chart__point--current"
                aria-hidden="true"
              />
              Last bar: so far
            </li>
          )}
        </ul>
      </figcaption>
      <svg
        className="app-chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${id}-svg-title`}
        aria-describedby={`${id}-desc`}
      >
        <title id={`${id}-svg-title`}>{title}</title>
        {ticks.map((v) => (
          <g key={v}>
            {v > 0 && (
              <line
                className="app-chart__grid"
                x1={PAD_LEFT}
                y1={yOf(v)}
                x2={WIDTH - PAD_RIGHT}
                y2={yOf(v)}
              />
            )}
            <text className="app-chart__label" x={PAD_LEFT - 6} y={yOf(v) + 4} textAnchor="end">
              {formatCount(v)}
            </text>
          </g>
        ))}
        <line className="app-chart__axis" x1={PAD_LEFT} y1={PAD_TOP} x2={PAD_LEFT} y2={baseY} />
        <line className="app-chart__axis" x1={PAD_LEFT} y1={baseY} x2={WIDTH - PAD_RIGHT} y2={baseY} />
        {points.map((at, i) => {
          let y = baseY;
          const left = PAD_LEFT + i * slot;
          const x = left + (slot - barW) / 2;
          const d = new Date(at);
          const labelled = minuteOfDay(d) % step === 0 && left + HALF_LABEL_W <= WIDTH;
          return (
            <g key={at} className={isCurrent(i) ? 'app-chart__point--current' : undefined}>
              <title>{tooltip(at, i)}</title>
              {/* The whole column answers the pointer, so a short or empty bar has its tooltip too. */}
              <rect className="app-chart__hit" x={left} y={PAD_TOP} width={slot} height={plotH} />
              {series.map((s) => {
                const v = s.values[i] ?? 0;
                const h = (v / top) * plotH;
                y -= h;
                return v > 0 ? (
                  <rect
                    key={s.label}
                    className={TONE_CLASS[s.tone ?? 'default']}
                    x={x}
                    y={y}
                    width={barW}
                    height={h}
                  />
                ) : null;
              })}
              {labelled && (
                <>
                  <line className="app-chart__axis" x1={left} y1={baseY} x2={left} y2={baseY + 4} />
                  <text
                    className="app-chart__label app-chart__label--x"
                    x={left}
                    y={HEIGHT - 8}
                    textAnchor="middle"
                  >
                    {minuteOfDay(d) === 0 ? formatDayMonth(at) : formatTime(at)}
                  </text>
                </>
              )}
            </g>
          );
        })}
      </svg>
      <details className="nhsuk-details">
        <summary className="nhsuk-details__summary">
          <span className="nhsuk-details__summary-text">{title}: as a table</span>
        </summary>
        <div className="nhsuk-details__text">
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">
              {title}, {formatMinutes(bucketMinutes)} from each time
            </caption>
            <thead className="nhsuk-table__head">
              <tr className="nhsuk-table__row">
                <th scope="col" className="nhsuk-table__header">
                  Time
                </th>
                {series.map((s) => (
                  <th key={s.label} scope="col" className="nhsuk-table__header nhsuk-table__header--numeric">
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="nhsuk-table__body">
              {points.map((at, i) => (
                <tr key={at} className="nhsuk-table__row">
                  <td className="nhsuk-table__cell">
                    {pointTime(at, newest)}
                    {isCurrent(i) && ' (so far)'}
                  </td>
                  {series.map((s) => (
                    <td key={s.label} className="nhsuk-table__cell nhsuk-table__cell--numeric">
                      {formatCount(s.values[i] ?? 0)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
