// Items per day as stacked bars, drawn by hand in SVG: imported at the
// bottom, duplicates skipped above, failed on top. The picture is one image
// for assistive technology (role="img" with a summary); the page shows the
// same figures as a table beside it.
import type { DailyFigures } from '../api/queries';
import { formatCount, formatDay } from './format';

type Day = DailyFigures['days'][number];

export const SERIES = [
  { key: 'imported', label: 'Imported' },
  { key: 'duplicates', label: 'Duplicates' },
  { key: 'failed', label: 'Failed' },
] as const;

const W = 720;
const H = 240;
const PAD = { top: 12, right: 8, bottom: 28, left: 44 };

/** A round top for the axis, and its four steps: 0, 25, 50, 75, 100 for 87. */
export function niceScale(max: number): { top: number; step: number } {
  if (max <= 4) return { top: 4, step: 1 };
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  return { top: step * Math.ceil(max / step), step };
}

export function chartSummary(days: readonly Day[]): string {
  const sum = (k: 'imported' | 'duplicates' | 'failed') => days.reduce((n, d) => n + d[k], 0);
  const first = days[0];
  const last = days.at(-1);
  if (!first || !last) return 'Items per day: no days to show';
  const busiest = days.reduce((a, d) => (d.imported + d.duplicates + d.failed > a.imported + a.duplicates + a.failed ? d : a), first);
  const total = busiest.imported + busiest.duplicates + busiest.failed;
  const range = `${formatDay(first.day)} to ${formatDay(last.day)}`;
  if (sum('imported') + sum('duplicates') + sum('failed') === 0) return `Items per day, ${range}: no items`;
  return `Items per day, ${range}: ${formatCount(sum('imported'))} imported, ${formatCount(sum('duplicates'))} duplicates, ${formatCount(sum('failed'))} failed; the most on ${formatDay(busiest.day)} (${formatCount(total)} items)`;
}

export function DailyChart({ days }: { days: readonly Day[] }) {
  const max = Math.max(0, ...days.map((d) => d.imported + d.duplicates + d.failed));
  const { top, step } = niceScale(max);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(2, Math.min(28, slot * 0.7));
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const ticks: number[] = [];
  for (let v = 0; v <= top + 1e-9; v += step) ticks.push(v);
  const labelEvery = Math.max(1, Math.ceil(days.length / 8));

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={chartSummary(days)} className="chart-svg" preserveAspectRatio="xMidYMid meet">
        <g className="chart-grid" aria-hidden="true">
          {ticks.map((t) => (
            <g key={t}>
              <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
              <text x={PAD.left - 8} y={y(t)} dy="0.32em" textAnchor="end">
                {formatCount(t)}
              </text>
            </g>
          ))}
        </g>
        {days.map((d, i) => {
          const x = PAD.left + i * slot + (slot - barW) / 2;
          let base = 0;
          return (
            <g key={d.day} className="chart-day">
              <title>{`${formatDay(d.day)}: ${d.imported} imported, ${d.duplicates} duplicates, ${d.failed} failed (${d.runs} ${d.runs === 1 ? 'run' : 'runs'})`}</title>
              {SERIES.map(({ key }) => {
                const v = d[key];
                if (v <= 0) return null;
                const y0 = y(base);
                base += v;
                const y1 = y(base);
                return <rect key={key} className={`bar bar-${key}`} x={x} y={y1} width={barW} height={Math.max(1, y0 - y1)} />;
              })}
              {(days.length - 1 - i) % labelEvery === 0 ? (
                <text className="chart-x" x={x + barW / 2} y={H - 8} textAnchor="middle">
                  {formatDay(d.day)}
                </text>
              ) : null}
            </g>
          );
        })}
        <line className="chart-axis" x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} />
      </svg>
      <figcaption>
        <ul className="legend" aria-label="Legend">
          {SERIES.map(({ key, label }) => (
            <li key={key}>
              <span className={`swatch swatch-${key}`} aria-hidden="true" />
              {label}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
