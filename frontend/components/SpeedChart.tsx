import { formatSpeed } from '../lib/format';
import { t } from '../lib/i18n';

export interface SpeedSample {
  /** ms since epoch */
  t: number;
  down: number;
  up: number;
}

export interface SpeedChartProps {
  samples: readonly SpeedSample[];
  /** How many seconds the x axis spans. */
  windowSeconds?: number;
  height?: number;
}

/** A "nice" axis maximum: 1, 2 or 5 times a power of 1024-ish steps, at least 1 KiB/s. */
export function niceMax(value: number): number {
  const min = 1024;
  if (value <= min) return min;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) {
    if (value <= m * exp) return m * exp;
  }
  return 10 * exp;
}

function path(
  samples: readonly SpeedSample[],
  key: 'down' | 'up',
  w: number,
  h: number,
  max: number,
  t0: number,
  span: number,
) {
  return samples
    .map((s, i) => {
      const x = ((s.t - t0) / span) * w;
      const y = h - (s[key] / max) * h;
      return `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/** Download (filled) and upload (line) speed over time, in plain SVG. */
export function SpeedChart({ samples, windowSeconds = 120, height = 140 }: SpeedChartProps) {
  const w = 600;
  const h = height;
  const last = samples[samples.length - 1];
  const now = last?.t ?? 0;
  const span = windowSeconds * 1000;
  const t0 = now - span;
  const visible = samples.filter((s) => s.t >= t0);
  const peak = visible.reduce((m, s) => Math.max(m, s.down, s.up), 0);
  const max = niceMax(peak);
  const down = visible.length > 1 ? path(visible, 'down', w, h, max, t0, span) : '';
  const up = visible.length > 1 ? path(visible, 'up', w, h, max, t0, span) : '';
  const first = visible[0];
  const area =
    down && first && last ? `${down} L${w},${h} L${(((first.t - t0) / span) * w).toFixed(1)},${h} Z` : '';
  const summary = `Download ${formatSpeed(last?.down ?? 0)}, upload ${formatSpeed(last?.up ?? 0)}; peak ${formatSpeed(peak)} over the last ${Math.round(windowSeconds / 60)} minutes`;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${w} ${h}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={summary}
        className="chart-svg"
      >
        <title>{summary}</title>
        {[0.25, 0.5, 0.75].map((f) => (
          <line key={f} x1={0} x2={w} y1={h * f} y2={h * f} className="chart-grid" />
        ))}
        {area ? <path d={area} className="chart-area" /> : null}
        {down ? <path d={down} className="chart-down" vectorEffect="non-scaling-stroke" /> : null}
        {up ? <path d={up} className="chart-up" vectorEffect="non-scaling-stroke" /> : null}
      </svg>
      <figcaption className="chart-legend">
        <span className="chart-max">{formatSpeed(max)}</span>
        <span>
          <span className="swatch swatch-down" aria-hidden="true" />{' '}
          {t('chart.down', { speed: formatSpeed(last?.down ?? 0) })}
        </span>
        <span>
          <span className="swatch swatch-up" aria-hidden="true" />{' '}
          {t('chart.up', { speed: formatSpeed(last?.up ?? 0) })}
        </span>
      </figcaption>
    </figure>
  );
}
