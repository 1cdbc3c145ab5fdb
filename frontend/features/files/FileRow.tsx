'use client';

import Link from 'next/link';
import { memo, type ReactNode } from 'react';
import { Button } from '../../components/Button';
import { DownloadIcon, EditIcon, FileIcon, FolderIcon, ShareIcon, TrashIcon } from '../../components/Icons';
import { type FileEntry, fileContentUrl } from '../../lib/files-api';
import { formatBytes, formatDateTime } from '../../lib/format';
import { t } from '../../lib/i18n';
import { type FileActionId, fileRowActions } from './actions';
import { filesHref, isLocked } from './paths';

const ICONS: Record<FileActionId, ReactNode> = {
  download: <DownloadIcon />,
  move: <EditIcon />,
  share: <ShareIcon />,
  delete: <TrashIcon />,
};

export interface FileRowProps {
  entry: FileEntry;
  /** Whether it has a selection box (rows outside the folder on screen have none). */
  selectable?: boolean;
  selected: boolean;
  /** A request about this entry is running. */
  busy: boolean;
  onToggle: (path: string, selected: boolean) => void;
  onAction: (action: Exclude<FileActionId, 'download'>, entry: FileEntry) => void;
}

/**
 * One file or folder: a folder's name opens it, a file's name downloads it. An entry a running
 * download writes links to its task and offers no action.
 */
export const FileRow = memo(function FileRow({
  entry,
  selectable = true,
  selected,
  busy,
  onToggle,
  onAction,
}: FileRowProps) {
  const locked = isLocked(entry);
  const dir = entry.type === 'dir';
  const actions = fileRowActions(entry);
  return (
    <li
      className={`file-row${selected ? ' is-selected' : ''}${locked ? ' is-locked' : ''}`}
      data-path={entry.path}
      data-type={entry.type}
    >
      <div className="task-select">
        {locked || !selectable ? (
          <span className="select-placeholder" aria-hidden="true" />
        ) : (
          <input
            type="checkbox"
            checked={selected}
            aria-label={t('row.select', { name: entry.name })}
            onChange={(e) => onToggle(entry.path, e.currentTarget.checked)}
          />
        )}
      </div>
      <span className={`file-icon${dir ? ' is-dir' : ''}`}>{dir ? <FolderIcon /> : <FileIcon />}</span>
      <div className="file-main">
        {dir && !locked ? (
          <Link href={filesHref(entry.path)} className="file-name" title={entry.name} prefetch={false}>
            {entry.name}
          </Link>
        ) : !dir && !locked ? (
          <a href={fileContentUrl(entry.path)} className="file-name" title={entry.name} download>
            {entry.name}
          </a>
        ) : (
          <span className="file-name" title={entry.name}>
            {entry.name}
          </span>
        )}
        {locked ? (
          <span className="file-sub">
            {t('files.downloadingNow')} ·{' '}
            <Link href={`/tasks/detail?id=${entry.task_id}`} prefetch={false}>
              {t('files.seeTask')}
            </Link>
          </span>
        ) : null}
      </div>
      <dl className="file-meta">
        <div>
          <dt>{t('tasks.col.size')}</dt>
          <dd>{formatBytes(entry.size)}</dd>
        </div>
        <div>
          <dt>{t('files.modified')}</dt>
          <dd>{formatDateTime(entry.modified_at)}</dd>
        </div>
      </dl>
      <div className="file-actions">
        {actions.map((a) =>
          a.id === 'download' ? (
            <a
              key={a.id}
              className="btn btn-secondary btn-sm"
              href={fileContentUrl(entry.path)}
              download
              aria-label={
                dir
                  ? t('files.downloadZipNamed', { name: entry.name })
                  : t('torrentFiles.file', { path: entry.name })
              }
            >
              {ICONS.download}
              <span className="btn-label">{a.label}</span>
            </a>
          ) : (
            <Button
              key={a.id}
              size="sm"
              variant={a.danger ? 'danger' : 'secondary'}
              icon={ICONS[a.id]}
              disabled={busy}
              aria-label={t('files.actionNamed', { action: a.label, name: entry.name })}
              onClick={() => onAction(a.id as Exclude<FileActionId, 'download'>, entry)}
            >
              {a.label}
            </Button>
          ),
        )}
      </div>
    </li>
  );
});
