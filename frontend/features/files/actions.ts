/**
 * Which action a file or folder row offers, the way the tasks page's registry does it: the row
 * buttons and the selection toolbar read it, so "can I delete this?" has one answer. An entry a
 * running download writes offers nothing.
 */

import type { FileEntry } from '../../lib/files-api';
import { t } from '../../lib/i18n';
import { isLocked } from './paths';

export type FileActionId = 'download' | 'move' | 'share' | 'delete';

export interface FileActionDef {
  id: FileActionId;
  label: string;
  /** The toolbar button's name for a selection, when the action exists for one. */
  bulkLabel?: string;
  danger?: boolean;
  appliesTo(entry: FileEntry): boolean;
}

export const FILE_ACTIONS: Readonly<Record<FileActionId, FileActionDef>> = {
  download: {
    id: 'download',
    get label() {
      return t('actions.download');
    },
    get bulkLabel() {
      return t('files.downloadZip');
    },
    appliesTo: (e) => !isLocked(e),
  },
  move: {
    id: 'move',
    get label() {
      return t('files.rename');
    },
    get bulkLabel() {
      return t('files.moveSelected');
    },
    appliesTo: (e) => !isLocked(e),
  },
  share: {
    id: 'share',
    get label() {
      return t('files.share');
    },
    appliesTo: (e) => !isLocked(e),
  },
  delete: {
    id: 'delete',
    get label() {
      return t('actions.delete');
    },
    get bulkLabel() {
      return t('actions.deleteSelected');
    },
    danger: true,
    appliesTo: (e) => !isLocked(e),
  },
};

export const FILE_ROW_ORDER: readonly FileActionId[] = ['download', 'move', 'share', 'delete'];
export const FILE_BULK_ORDER: readonly FileActionId[] = ['download', 'move', 'delete'];

export function fileRowActions(entry: FileEntry): FileActionDef[] {
  return FILE_ROW_ORDER.map((id) => FILE_ACTIONS[id]).filter((a) => a.appliesTo(entry));
}

/** The selected entries a toolbar action acts on. */
export function fileBulkTargets(id: FileActionId, entries: readonly FileEntry[]): FileEntry[] {
  return entries.filter((e) => FILE_ACTIONS[id].appliesTo(e));
}
