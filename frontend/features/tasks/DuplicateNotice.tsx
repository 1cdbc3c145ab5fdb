'use client';

import Link from 'next/link';
import { Button } from '../../components/Button';
import { PlusIcon } from '../../components/Icons';

/** The add form's warning: this download is already in the list; open it, or add it anyway. */
export function DuplicateNotice({
  message,
  taskId,
  busy,
  onAddAnyway,
  onDismiss,
}: {
  message: string;
  taskId: number;
  busy: boolean;
  onAddAnyway: () => void;
  onDismiss: () => void;
}) {
  return (
    <div className="duplicate-notice" role="alert">
      <p>
        <strong>{message}</strong>{' '}
        <Link href={`/tasks/detail?id=${taskId}`} prefetch={false}>
          Show that download
        </Link>
      </p>
      <div className="duplicate-actions">
        <Button size="sm" variant="primary" icon={<PlusIcon />} busy={busy} onClick={onAddAnyway}>
          Add anyway
        </Button>
        <Button size="sm" variant="ghost" disabled={busy} onClick={onDismiss}>
          Dismiss
        </Button>
      </div>
    </div>
  );
}
