'use client';

import { useEffect, useMemo, useRef, useState } from 'react';
import { Button } from '../../components/Button';
import { Dialog } from '../../components/Dialog';
import { PlusIcon } from '../../components/Icons';
import { formatBytes } from '../../lib/format';
import { t } from '../../lib/i18n';
import type { TorrentInfo } from '../../lib/torrent-file';
import {
  buildFileTree,
  chosenLength,
  type FolderNode,
  folderState,
  selectFilesOf,
  setChosen,
  type TreeNode,
} from './torrent-tree';

/** A .torrent the user picked, waiting for the choice of its files. */
export interface TorrentChoice {
  fileName: string;
  info: TorrentInfo;
}

export interface TorrentFilesDialogProps {
  choice: TorrentChoice | null;
  /** The files to download (undefined: all of them). */
  onSubmit: (selectFiles: number[] | undefined) => void;
  onCancel: () => void;
}

function FolderBox({
  folder,
  label,
  chosen,
  onChange,
}: {
  folder: FolderNode;
  label: string;
  chosen: ReadonlySet<number>;
  onChange: (indexes: readonly number[], on: boolean) => void;
}) {
  const state = folderState(folder, chosen);
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = state === 'some';
  }, [state]);
  return (
    <input
      ref={ref}
      type="checkbox"
      aria-label={label}
      checked={state === 'all'}
      onChange={(e) => onChange(folder.indexes, e.currentTarget.checked)}
    />
  );
}

function TreeList({
  nodes,
  prefix,
  chosen,
  onChange,
}: {
  nodes: readonly TreeNode[];
  prefix: string;
  chosen: ReadonlySet<number>;
  onChange: (indexes: readonly number[], on: boolean) => void;
}) {
  return (
    <ul className="file-tree">
      {nodes.map((node) =>
        node.kind === 'folder' ? (
          <li key={`d:${node.path}`}>
            <span className="check tree-item">
              <FolderBox
                folder={node}
                label={t('torrentFiles.folder', { path: `${prefix}${node.path}` })}
                chosen={chosen}
                onChange={onChange}
              />
              <span className="tree-name">{node.name}/</span>
              <span className="muted small">{formatBytes(node.length)}</span>
            </span>
            <TreeList nodes={node.children} prefix={prefix} chosen={chosen} onChange={onChange} />
          </li>
        ) : (
          <li key={`f:${node.index}`}>
            <span className="check tree-item">
              <input
                type="checkbox"
                aria-label={t('torrentFiles.file', { path: `${prefix}${node.path}` })}
                checked={chosen.has(node.index)}
                onChange={(e) => onChange([node.index], e.currentTarget.checked)}
              />
              <span className="tree-name break">{node.name}</span>
              <span className="muted small">{formatBytes(node.length)}</span>
            </span>
          </li>
        ),
      )}
    </ul>
  );
}

/** The files of a multi-file .torrent as a checkbox tree, before it is added. */
export function TorrentFilesDialog({ choice, onSubmit, onCancel }: TorrentFilesDialogProps) {
  const info = choice?.info;
  const all = useMemo(() => new Set(info?.files.map((f) => f.index) ?? []), [info]);
  const [chosen, setChosenState] = useState<ReadonlySet<number>>(all);
  useEffect(() => setChosenState(all), [all]);
  const root = useMemo<FolderNode | null>(
    () =>
      info
        ? {
            kind: 'folder',
            name: info.name,
            path: '',
            children: buildFileTree(info.files),
            indexes: info.files.map((f) => f.index),
            length: info.totalLength,
          }
        : null,
    [info],
  );
  const onChange = (indexes: readonly number[], on: boolean) =>
    setChosenState((c) => setChosen(c, indexes, on));
  const files = info?.files ?? [];
  const prefix = info ? `${info.name}/` : '';
  return (
    <Dialog
      open={choice !== null}
      onClose={onCancel}
      title={t('torrentFiles.title', { name: choice?.fileName ?? '' })}
      description={<p>{t('torrentFiles.hint')}</p>}
      className="torrent-files-dialog"
      footer={
        <>
          <Button onClick={onCancel}>{t('common.cancel')}</Button>
          <Button
            variant="primary"
            icon={<PlusIcon />}
            disabled={chosen.size === 0}
            onClick={() => onSubmit(selectFilesOf(files, chosen))}
          >
            {t('torrentFiles.add')}
          </Button>
        </>
      }
    >
      {root ? (
        <div className="file-tree-wrap">
          <span className="check tree-item">
            <FolderBox
              folder={root}
              label={t('torrentFiles.folder', { path: info!.name })}
              chosen={chosen}
              onChange={onChange}
            />
            <span className="tree-name">{root.name}/</span>
          </span>
          <TreeList nodes={root.children} prefix={prefix} chosen={chosen} onChange={onChange} />
        </div>
      ) : null}
      <p className="muted small" aria-live="polite">
        {t('torrentFiles.selected', {
          count: files.length,
          chosen: chosen.size,
          size: formatBytes(chosenLength(files, chosen)),
        })}
      </p>
    </Dialog>
  );
}
