import { useId } from 'react';
import { formatTime } from './format';

export interface ChartSeries {
  label: string;
  /** One value per point of `points`. */
  values: number[];
  tone?: 'default' | 'failure';
}

const WIDTH = 720;
const HEIGHT = 180;
const PAD_LEFT = 44;
const PAD_BOTTOM = 24;
const PAD_TOP = 8;

/**
 * A small bar chart in plain SVG (no chart library), stacked series per time bucket. The picture
 * is described for screen readers (role img, a summary) and every number is in the table after
 * it, inside a details element, as the text alternative (WCAG 1.1.1).
 */
export function BarChart({
  title,
  points,
  series,
  summary,
}: {
  title: string;
  /** ISO times of the buckets. */
  points: string[];
  series: ChartSeries[];
  summary: string;
}) {
  const id = useId();
  const totals = points.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const plotW = WIDTH - PAD_LEFT;
  const plotH = HEIGHT - PAD_BOTTOM - PAD_TOP;
  const slot = points.length > 0 ? plotW / points.length : plotW;
  const barW = Math.max(1, slot * 0.8);
  const labelEvery = Math.max(1, Math.ceil(points.length / 6));
  return (
    <figure className="nhsuk-u-margin-bottom-5 nhsuk-u-margin-left-0 nhsuk-u-margin-right-0">
      <figcaption>
        <h3 className="nhsuk-heading-s nhsuk-u-margin-bottom-2" id={`${id}-title`}>
          {title}
        </h3>
        <p className="nhsuk-body-s nhsuk-u-margin-bottom-2" id={`${id}-desc`}>
          {summary}
        </p>
      </figcaption>
      <svg
        className="app-chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${id}-svg-title`}
        aria-describedby={`${id}-desc`}
      >
        <title id={`${id}-svg-title`}>{title}</title>
        <line className="app-chart__axis" x1={PAD_LEFT} y1={PAD_TOP} x2={PAD_LEFT} y2={HEIGHT - PAD_BOTTOM} />
        <line
          className="app-chart__axis"
          x1={PAD_LEFT}
          y1={HEIGHT - PAD_BOTTOM}
          x2={WIDTH}
          y2={HEIGHT - PAD_BOTTOM}
        />
        <text className="app-chart__label" x={PAD_LEFT - 6} y={PAD_TOP + 10} textAnchor="end">
          {max}
        </text>
        <text className="app-chart__label" x={PAD_LEFT - 6} y={HEIGHT - PAD_BOTTOM} textAnchor="end">
          0
        </text>
        {points.map((at, i) => {
          let y = HEIGHT - PAD_BOTTOM;
          const x = PAD_LEFT + i * slot + (slot - barW) / 2;
          return (
            <g key={at}>
              {series.map((s) => {
                const v = s.values[i] ?? 0;
                const h = (v / max) * plotH;
                y -= h;
                return v > 0 ? (
                  <rect
                    key={s.label}
                    className={
                      s.tone === 'failure' ? 'app-chart__bar app-chart__bar--failure' : 'app-chart__bar'
                    }
                    x={x}
                    y={y}
                    width={barW}
                    height={h}
                  />
                ) : null;
              })}
              {i % labelEvery === 0 && (
                <text className="app-chart__label" x={x + barW / 2} y={HEIGHT - 6} textAnchor="middle">
                  {formatTime(at)}
                </text>
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
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">{title}</caption>
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
                  <td className="nhsuk-table__cell">{formatTime(at)}</td>
                  {series.map((s) => (
                    <td key={s.label} className="nhsuk-table__cell nhsuk-table__cell--numeric">
                      {s.values[i] ?? 0}
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
