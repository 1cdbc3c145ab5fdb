'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { DownloadIcon, EditIcon, PlusIcon, TrashIcon } from '../../components/Icons';
import { QuotaBar } from '../../components/QuotaBar';
import { Spinner } from '../../components/Spinner';
import { ApiError, errorDetail } from '../../lib/api';
import { type FileEntry, filesApi, filesArchiveUrl, INCOMPLETE_DIR, type Share } from '../../lib/files-api';
import { formatBytes } from '../../lib/format';
import { t } from '../../lib/i18n';
import { useStats } from '../tasks/queries';
import { FILE_ACTIONS, FILE_BULK_ORDER, type FileActionId, fileBulkTargets } from './actions';
import { MoveDialog, NewFolderDialog } from './FileDialogs';
import { FileRow } from './FileRow';
import {
  baseName,
  breadcrumbs,
  describeEntries,
  filesHref,
  folderFromQuery,
  parentOf,
  pruneSelection,
  selectedEntries,
  splitListing,
  totalSize,
} from './paths';
import { refreshAfterChange, sharesKey, useFolder, useShares } from './queries';
import { ShareDialog } from './ShareDialog';
import { SharesList } from './SharesList';

const BULK_ICONS: Record<FileActionId, ReactNode> = {
  download: <DownloadIcon />,
  move: <EditIcon />,
  share: null,
  delete: <TrashIcon />,
};

/** Shares that end with an entry: its own, and those of anything inside a folder. */
export function sharesOf(shares: readonly Share[], entries: readonly FileEntry[]): Share[] {
  return shares.filter((s) => entries.some((e) => s.path === e.path || s.path.startsWith(`${e.path}/`)));
}

/** The confirmation's sentence: what goes and how much quota it gives back. */
export function deleteMessage(entries: readonly FileEntry[], shares: readonly Share[]): string {
  const parts = [t('files.delete.frees', { size: formatBytes(totalSize(entries)) })];
  if (entries.some((e) => e.type === 'dir')) parts.push(t('files.delete.folders'));
  const links = sharesOf(shares, entries).length;
  if (links) parts.push(t('files.delete.links', { count: links }));
  return parts.join(t('files.sentenceSeparator'));
}

/** The toast after a rename or move. */
export function moveMessage(moves: readonly { from: string; to: string }[]): string {
  if (moves.length !== 1) return t('files.moved.many', { count: moves.length });
  const { from, to } = moves[0]!;
  if (parentOf(from) === parentOf(to))
    return t('files.moved.renamed', { from: baseName(from), to: baseName(to) });
  if (baseName(from) === baseName(to))
    return t('files.moved.to', { name: baseName(from), to: parentOf(to) || t('files.moved.top') });
  return t('files.moved.to', { name: baseName(from), to });
}

function Breadcrumbs({ path }: { path: string }) {
  const crumbs = breadcrumbs(path);
  return (
    <nav aria-label={t('files.breadcrumbs')} className="breadcrumbs">
      <ol>
        {crumbs.map((c, i) => (
          <li key={c.path}>
            {i === crumbs.length - 1 ? (
              <span aria-current="page">{c.label}</span>
            ) : (
              <Link href={filesHref(c.path)} prefetch={false}>
                {c.label}
              </Link>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}

/** Running downloads (and what failed ones left behind) in `.incomplete/`: they count too. */
function InProgress({
  onAction,
  busy,
}: {
  onAction: (action: Exclude<FileActionId, 'download'>, entry: FileEntry) => void;
  busy: ReadonlySet<string>;
}) {
  const folder = useFolder(INCOMPLETE_DIR);
  const entries = folder.data?.entries ?? [];
  return (
    <section className="card list-card" aria-labelledby="in-progress-title">
      <div className="card-head">
        <h2 id="in-progress-title">{t('files.inProgress')}</h2>
        <p className="hint">{t('files.inProgressHint')}</p>
      </div>
      {folder.isLoading ? (
        <Spinner label={t('files.loadingRunning')} />
      ) : folder.error ? (
        <EmptyState title={t('files.runningFailed')}>
          <p>{errorDetail(folder.error)}</p>
        </EmptyState>
      ) : entries.length === 0 ? (
        <p className="muted card-pad">{t('files.nothingRunning')}</p>
      ) : (
        <ul className="file-list" aria-label={t('files.inProgress')}>
          {entries.map((e) => (
            <FileRow
              key={e.path}
              entry={e}
              selectable={false}
              selected={false}
              busy={busy.has(e.path)}
              onToggle={noop}
              onAction={onAction}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

const noop = () => {};

export function FilesPage() {
  const params = useSearchParams();
  const path = folderFromQuery(params.get('path'));
  const qc = useQueryClient();
  const folder = useFolder(path);
  const shares = useShares();
  const stats = useStats();
  const { entries, hasIncomplete } = useMemo(
    () => (folder.data ? splitListing(folder.data) : { entries: [], hasIncomplete: false }),
    [folder.data],
  );

  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set());
  const [busy, setBusy] = useState<ReadonlySet<string>>(() => new Set());
  const [newFolderOpen, setNewFolderOpen] = useState(false);
  const [moving, setMoving] = useState<FileEntry[] | null>(null);
  const [sharing, setSharing] = useState<FileEntry | null>(null);
  const [deleting, setDeleting] = useState<FileEntry[] | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [revoking, setRevoking] = useState<Share | null>(null);
  const [revokeBusy, setRevokeBusy] = useState(false);

  // A selection belongs to one folder: paths no longer listed drop out.
  useEffect(() => {
    setSelected((s) => pruneSelection(s, entries));
  }, [entries]);

  const onToggle = useCallback((p: string, checked: boolean) => {
    setSelected((prev) => {
      const next = new Set(prev);
      if (checked) next.add(p);
      else next.delete(p);
      return next;
    });
  }, []);

  const chosen = useMemo(() => selectedEntries(entries, selected), [entries, selected]);
  const selectable = useMemo(() => entries.filter((e) => e.task_id === null), [entries]);
  const allSelected = selectable.length > 0 && chosen.length === selectable.length;
  const selectAllRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (selectAllRef.current) selectAllRef.current.indeterminate = chosen.length > 0 && !allSelected;
  }, [chosen.length, allSelected]);

  const onAction = useCallback((action: Exclude<FileActionId, 'download'>, entry: FileEntry) => {
    if (action === 'move') setMoving([entry]);
    else if (action === 'share') setSharing(entry);
    else setDeleting([entry]);
  }, []);

  const markBusy = (paths: readonly string[], on: boolean) =>
    setBusy((prev) => {
      const next = new Set(prev);
      for (const p of paths) {
        if (on) next.add(p);
        else next.delete(p);
      }
      return next;
    });

  async function createFolder(p: string) {
    const entry = await filesApi.createFolder(p);
    refreshAfterChange(qc);
    toast.success(t('users.created', { name: entry.name }));
  }

  async function move(moves: { from: string; to: string }[]) {
    markBusy(
      moves.map((m) => m.from),
      true,
    );
    let done = 0;
    try {
      for (const m of moves) {
        await filesApi.moveFile(m.from, m.to);
        done += 1;
      }
      toast.success(moveMessage(moves));
    } catch (err) {
      // The dialog shows the reason; what already moved stays moved.
      if (done > 0) toast.warning(t('files.moved.some', { count: moves.length, done }));
      throw err;
    } finally {
      markBusy(
        moves.map((m) => m.from),
        false,
      );
      refreshAfterChange(qc);
    }
  }

  async function confirmDelete() {
    if (!deleting || deleteBusy) return;
    const targets = deleting;
    setDeleteBusy(true);
    markBusy(
      targets.map((e) => e.path),
      true,
    );
    try {
      const { freed } = await filesApi.deleteFiles(targets.map((e) => e.path));
      toast.success(
        t('files.deleted', {
          what: targets.length === 1 ? targets[0]!.name : describeEntries(targets),
          size: formatBytes(freed),
        }),
      );
      setDeleting(null);
    } catch (err) {
      toast.error(t('delete.failed', { detail: errorDetail(err) }));
    } finally {
      setDeleteBusy(false);
      markBusy(
        targets.map((e) => e.path),
        false,
      );
      refreshAfterChange(qc);
    }
  }

  async function confirmRevoke() {
    if (!revoking || revokeBusy) return;
    const share = revoking;
    setRevokeBusy(true);
    try {
      await filesApi.revokeShare(share.id);
      toast.success(t('shares.revoked', { path: share.path }));
      setRevoking(null);
    } catch (err) {
      // Already gone is what was asked.
      if (err instanceof ApiError && err.status === 404) setRevoking(null);
      else toast.error(t('shares.revokeFailed', { detail: errorDetail(err) }));
    } finally {
      setRevokeBusy(false);
      void qc.invalidateQueries({ queryKey: sharesKey });
    }
  }

  const runBulk = (id: FileActionId) => {
    const targets = fileBulkTargets(id, chosen);
    if (targets.length === 0) return;
    if (id === 'move') setMoving(targets);
    else if (id === 'delete') setDeleting(targets);
  };

  const notFound = folder.error instanceof ApiError && folder.error.status === 404;
  const summary = folder.isLoading
    ? t('common.loadingPage')
    : [
        t('files.items', { count: entries.length }),
        ...(chosen.length
          ? [t('files.selectedSize', { count: chosen.length, size: formatBytes(totalSize(chosen)) })]
          : []),
      ].join(t('common.listSeparator'));

  return (
    <div className="files-page">
      <div className="page-head">
        <h1>{t('nav.files')}</h1>
        <Button
          variant="primary"
          icon={<PlusIcon />}
          onClick={() => setNewFolderOpen(true)}
          disabled={notFound}
        >
          {t('files.newFolder')}
        </Button>
      </div>
      {folder.data ? (
        <section className="stats-bar" aria-label={t('files.yourStorage')}>
          <div className="stats-quota">
            <QuotaBar used={folder.data.used_space} quota={folder.data.quota} label={t('stats.storage')} />
          </div>
        </section>
      ) : null}

      <section className="card list-card" aria-labelledby="files-title">
        <h2 id="files-title" className="sr-only">
          {t('files.yourFiles')}
        </h2>
        <div className="files-head">
          <Breadcrumbs path={path} />
        </div>
        <div
          className={`toolbar${chosen.length ? ' has-selection' : ''}`}
          role="toolbar"
          aria-label={t('files.selectedToolbar')}
        >
          <div className="check select-all">
            <input
              ref={selectAllRef}
              id="files-select-all"
              type="checkbox"
              checked={allSelected}
              disabled={selectable.length === 0}
              onChange={(e) => {
                const checked = e.currentTarget.checked;
                setSelected(checked ? new Set(selectable.map((x) => x.path)) : new Set());
              }}
            />
            <label htmlFor="files-select-all">{t('tasks.selectAll')}</label>
          </div>
          <div className="toolbar-buttons">
            {FILE_BULK_ORDER.map((id) => {
              const def = FILE_ACTIONS[id];
              if (id === 'download' && chosen.length > 0) {
                return (
                  <a
                    key={id}
                    className="btn btn-secondary btn-sm"
                    href={filesArchiveUrl(chosen.map((e) => e.path))}
                    download
                  >
                    {BULK_ICONS[id]}
                    <span className="btn-label">{def.bulkLabel}</span>
                  </a>
                );
              }
              return (
                <Button
                  key={id}
                  size="sm"
                  variant={def.danger ? 'danger' : 'secondary'}
                  icon={BULK_ICONS[id]}
                  disabled={chosen.length === 0}
                  onClick={() => runBulk(id)}
                >
                  {def.bulkLabel}
                </Button>
              );
            })}
          </div>
          <output className="toolbar-summary" aria-live="polite">
            {summary}
            {folder.isFetching && !folder.isLoading ? (
              <span className="spinner small" aria-hidden="true" />
            ) : null}
          </output>
        </div>
        {folder.isLoading ? (
          <Spinner label={t('files.loading')} />
        ) : notFound ? (
          <EmptyState title={t('files.noFolder')}>
            <Link href="/files">{t('files.back')}</Link>
          </EmptyState>
        ) : folder.error ? (
          <EmptyState title={t('files.loadFailed')}>
            <p>{errorDetail(folder.error)}</p>
            <Button onClick={() => void folder.refetch()}>{t('common.tryAgain')}</Button>
          </EmptyState>
        ) : entries.length === 0 ? (
          <EmptyState title={path ? t('files.emptyFolder') : t('files.empty')}>
            {path ? null : <p>{t('files.emptyHint')}</p>}
          </EmptyState>
        ) : (
          <>
            <div className="file-list-head" aria-hidden="true">
              <span className="lh-main">{t('tasks.col.name')}</span>
              <span className="lh-meta">
                <span>{t('tasks.col.size')}</span>
                <span>{t('files.modified')}</span>
              </span>
              <span className="lh-actions" />
            </div>
            <ul className="file-list" aria-label={t('nav.files')}>
              {entries.map((e) => (
                <FileRow
                  key={e.path}
                  entry={e}
                  selected={selected.has(e.path)}
                  busy={busy.has(e.path)}
                  onToggle={onToggle}
                  onAction={onAction}
                />
              ))}
            </ul>
          </>
        )}
      </section>

      {/* Listed at the top, or implied by a running download (the folder may be left unlisted). */}
      {path === '' && (hasIncomplete || (stats.data?.active_count ?? 0) > 0) ? (
        <InProgress onAction={onAction} busy={busy} />
      ) : null}

      <SharesList
        shares={shares.data ?? []}
        loading={shares.isLoading}
        error={shares.error}
        revoking={revokeBusy ? (revoking?.id ?? null) : null}
        onRevoke={setRevoking}
      />

      {newFolderOpen ? (
        <NewFolderDialog open dir={path} onClose={() => setNewFolderOpen(false)} onCreate={createFolder} />
      ) : null}
      {moving ? <MoveDialog entries={moving} onClose={() => setMoving(null)} onMove={move} /> : null}
      {sharing ? (
        <ShareDialog
          entry={sharing}
          onClose={() => setSharing(null)}
          onCreate={async (body) => {
            const share = await filesApi.createShare(body);
            void qc.invalidateQueries({ queryKey: sharesKey });
            toast.success(t('shares.created'));
            return share;
          }}
        />
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title={
          deleting ? t('files.deleteTitle', { what: describeEntries(deleting) }) : t('files.deleteTitleBare')
        }
        message={deleting ? deleteMessage(deleting, shares.data ?? []) : undefined}
        confirmLabel={t('actions.delete')}
        danger
        busy={deleteBusy}
        onConfirm={() => void confirmDelete()}
        onCancel={() => {
          if (!deleteBusy) setDeleting(null);
        }}
      />
      <ConfirmDialog
        open={revoking !== null}
        title={t('shares.revokeTitle')}
        message={revoking ? t('shares.revokeMessage', { path: revoking.path }) : undefined}
        confirmLabel={t('tokens.revoke')}
        danger
        busy={revokeBusy}
        onConfirm={() => void confirmRevoke()}
        onCancel={() => {
          if (!revokeBusy) setRevoking(null);
        }}
      />
    </div>
  );
}
