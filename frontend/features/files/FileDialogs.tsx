'use client';

import { type FormEvent, useState } from 'react';
import { Button } from '../../components/Button';
import { Dialog } from '../../components/Dialog';
import { TextField } from '../../components/Field';
import { errorDetail } from '../../lib/api';
import type { FileEntry } from '../../lib/files-api';
import { t } from '../../lib/i18n';
import { baseName, checkName, checkPath, describeEntries, joinPath, parentOf, tidyFolder } from './paths';

/** A new folder inside the folder on screen. */
export function NewFolderDialog({
  open,
  dir,
  onClose,
  onCreate,
}: {
  open: boolean;
  dir: string;
  onClose: () => void;
  /** Resolves when created; throws with the server's reason otherwise. */
  onCreate: (path: string) => Promise<void>;
}) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const problem = checkName(name);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      await onCreate(joinPath(dir, name));
      setName('');
      onClose();
    } catch (err) {
      setError(errorDetail(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={open}
      onClose={busy ? () => {} : onClose}
      title={t('files.newFolder')}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" form="new-folder" variant="primary" busy={busy}>
            {t('files.createFolder')}
          </Button>
        </>
      }
    >
      <form id="new-folder" className="stack" onSubmit={(e) => void onSubmit(e)} noValidate>
        <TextField
          label={t('files.folderName')}
          autoComplete="off"
          spellCheck={false}
          value={name}
          error={error}
          onChange={(e) => setName(e.currentTarget.value)}
        />
      </form>
    </Dialog>
  );
}

/**
 * Rename (one entry: its name and folder) or move (several: their folder). The folder is a path
 * from the top of the user's folder; it must exist.
 */
export function MoveDialog({
  entries,
  onClose,
  onMove,
}: {
  entries: readonly FileEntry[];
  onClose: () => void;
  /** Moves every pair; resolves when all are done, throws with the first failure's reason. */
  onMove: (moves: { from: string; to: string }[]) => Promise<void>;
}) {
  const single = entries.length === 1 ? entries[0]! : null;
  const [name, setName] = useState(single ? single.name : '');
  const [folder, setFolder] = useState(parentOf(entries[0]?.path ?? ''));
  const [nameError, setNameError] = useState<string | null>(null);
  const [folderError, setFolderError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const dir = tidyFolder(folder);
    const badName = single ? checkName(name) : null;
    const badFolder = checkPath(dir);
    setNameError(badName);
    setFolderError(badFolder);
    setError(null);
    if (badName || badFolder) return;
    const moves = entries
      .map((e) => ({ from: e.path, to: joinPath(dir, single ? name : baseName(e.path)) }))
      .filter((m) => m.from !== m.to);
    if (moves.length === 0) {
      onClose();
      return;
    }
    if (moves.some((m) => m.to === m.from || m.to.startsWith(`${m.from}/`))) {
      setFolderError(t('files.moveIntoItself'));
      return;
    }
    setBusy(true);
    try {
      await onMove(moves);
      onClose();
    } catch (err) {
      setError(errorDetail(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open
      onClose={busy ? () => {} : onClose}
      title={
        single
          ? t('files.renameOrMove', { what: describeEntries(entries) })
          : t('files.move', { what: describeEntries(entries) })
      }
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" form="move-entries" variant="primary" busy={busy}>
            {single ? t('common.save') : t('files.moveButton')}
          </Button>
        </>
      }
    >
      <form id="move-entries" className="stack" onSubmit={(e) => void onSubmit(e)} noValidate>
        {single ? (
          <TextField
            label={t('tasks.col.name')}
            autoComplete="off"
            spellCheck={false}
            value={name}
            error={nameError}
            onChange={(e) => setName(e.currentTarget.value)}
          />
        ) : null}
        <TextField
          label={t('files.folder')}
          autoComplete="off"
          spellCheck={false}
          placeholder={t('files.topFolderPlaceholder')}
          hint={t('files.folderHint')}
          value={folder}
          error={folderError}
          onChange={(e) => setFolder(e.currentTarget.value)}
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}
