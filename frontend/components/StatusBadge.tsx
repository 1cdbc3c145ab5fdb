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

export function StatusBadge({ status }: { status: TaskStatus }) {
  return <span className={`badge badge-${status}`}>{STATUS_LABELS[status]}</span>;
}
