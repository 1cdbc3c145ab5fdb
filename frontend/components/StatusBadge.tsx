import type { TaskStatus } from '../lib/types';

export const STATUS_LABELS: Record<TaskStatus, string> = {
  queued: 'Queued',
  active: 'Downloading',
  waiting: 'Waiting',
  paused: 'Paused',
  complete: 'Complete',
  error: 'Failed',
  removed: 'Stopped',
};

/** A finished torrent that still uploads: done for its owner, shown as such. */
export const SEEDING_LABEL = 'Seeding';

export function StatusBadge({ status, seeding = false }: { status: TaskStatus; seeding?: boolean }) {
  if (seeding) return <span className="badge badge-complete badge-seeding">{SEEDING_LABEL}</span>;
  return <span className={`badge badge-${status}`}>{STATUS_LABELS[status]}</span>;
}
