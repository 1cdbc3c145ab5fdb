import { formatBytes } from '../lib/format';
import { t } from '../lib/i18n';

export interface QuotaBarProps {
  used: number;
  /** Bytes; 0 = unlimited. */
  quota: number;
  label?: string;
}

/** Used space against a quota, as a native meter (amber over 80 %, red over 95 %). */
export function QuotaBar({ used, quota, label = t('stats.storage') }: QuotaBarProps) {
  const unlimited = quota <= 0;
  const max = unlimited ? 1 : quota;
  const value = unlimited ? 0 : Math.min(used, quota);
  const text = unlimited
    ? t('quota.usedNoQuota', { used: formatBytes(used) })
    : t('quota.usedOf', { used: formatBytes(used), quota: formatBytes(quota) });
  return (
    <div className="quota">
      <div className="quota-text">
        <span className="quota-label">{label}</span>
        <span>{text}</span>
      </div>
      <meter
        className="meter"
        min={0}
        max={max}
        low={max * 0.8}
        high={max * 0.95}
        optimum={0}
        value={value}
        aria-label={`${label}: ${text}`}
      >
        {text}
      </meter>
    </div>
  );
}
