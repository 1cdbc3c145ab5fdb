'use client';

import Link from 'next/link';
import { Button } from '../../components/Button';
import { PlusIcon } from '../../components/Icons';
import { t } from '../../lib/i18n';

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
          {t('add.showDuplicate')}
        </Link>
      </p>
      <div className="duplicate-actions">
        <Button size="sm" variant="primary" icon={<PlusIcon />} busy={busy} onClick={onAddAnyway}>
          {t('add.addAnyway')}
        </Button>
        <Button size="sm" variant="ghost" disabled={busy} onClick={onDismiss}>
          {t('common.dismiss')}
        </Button>
      </div>
    </div>
  );
}
