import { t } from '../lib/i18n';

export function Spinner({ label = t('common.loadingPage') }: { label?: string }) {
  return (
    <output className="loading" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}…</span>
    </output>
  );
}
