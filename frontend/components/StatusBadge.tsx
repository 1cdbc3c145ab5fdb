import { t } from '../lib/i18n';
import type { TaskStatus } from '../lib/types';

/** Catalog keys of the statuses. */
const STATUS_KEYS: Record<TaskStatus, string> = {
  queued: 'statusName.queued',
  active: 'statusName.active',
  waiting: 'statusName.waiting',
  paused: 'statusName.paused',
  complete: 'statusName.complete',
  error: 'statusName.error',
  removed: 'statusName.removed',
};

export const statusLabel = (status: TaskStatus): string => t(STATUS_KEYS[status]);

/** A finished torrent that still uploads: done for its owner, shown as such. */
export function StatusBadge({ status, seeding = false }: { status: TaskStatus; seeding?: boolean }) {
  if (seeding) return <span className="badge badge-complete badge-seeding">{t('statusName.seeding')}</span>;
  return <span className={`badge badge-${status}`}>{statusLabel(status)}</span>;
}
