export interface ProgressBarProps {
  /** 0..1 */
  value: number;
  label: string;
  tone?: 'normal' | 'success' | 'danger' | 'muted' | 'warning';
  /** Size unknown: an indeterminate bar. */
  indeterminate?: boolean;
  className?: string;
}

/** A progress bar; moves by transform so live updates animate without layout work. */
export function ProgressBar({ value, label, tone = 'normal', indeterminate, className }: ProgressBarProps) {
  const clamped = Math.max(0, Math.min(1, Number.isFinite(value) ? value : 0));
  const pct = Math.round(clamped * 1000) / 10;
  return (
    <div
      className={`progress progress-${tone}${indeterminate ? ' progress-indeterminate' : ''}${className ? ` ${className}` : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={indeterminate ? undefined : pct}
    >
      <div className="progress-fill" style={{ transform: `scaleX(${indeterminate ? 1 : clamped})` }} />
    </div>
  );
}
