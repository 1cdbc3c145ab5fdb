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
  const frees = `This frees ${formatBytes(totalSize(entries))} of your storage.`;
  const hasDir = entries.some((e) => e.type === 'dir');
  const what = hasDir ? ' Folders are deleted with everything in them.' : '';
  const links = sharesOf(shares, entries).length;
  const linked = links
    ? ` ${links === 1 ? 'Its shared link stops' : `${links} shared links stop`} working.`
    : '';
  return `${frees}${what}${linked}`;
}

/** The toast after a rename or move. */
export function moveMessage(moves: readonly { from: string; to: string }[]): string {
  if (moves.length !== 1) return `Moved ${moves.length} items`;
  const { from, to } = moves[0]!;
  if (parentOf(from) === parentOf(to)) return `Renamed ${baseName(from)} to ${baseName(to)}`;
  if (baseName(from) === baseName(to))
    return `Moved ${baseName(from)} to ${parentOf(to) || 'the top folder'}`;
  return `Moved ${baseName(from)} to ${to}`;
}

function Breadcrumbs({ path }: { path: string }) {
  const crumbs = breadcrumbs(path);
  return (
    <nav aria-label="Breadcrumbs" className="breadcrumbs">
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
        <h2 id="in-progress-title">In progress</h2>
        <p className="hint">
          Downloads still running. They count against your storage and move to your files when they finish.
        </p>
      </div>
      {folder.isLoading ? (
        <Spinner label="Loading running downloads" />
      ) : folder.error ? (
        <EmptyState title="Running downloads could not be listed.">
          <p>{errorDetail(folder.error)}</p>
        </EmptyState>
      ) : entries.length === 0 ? (
        <p className="muted card-pad">Nothing is downloading.</p>
      ) : (
        <ul className="file-list" aria-label="In progress">
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
    toast.success(`Created ${entry.name}`);
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
      if (done > 0) toast.warning(`Moved ${done} of ${moves.length} items`);
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
        `Deleted ${targets.length === 1 ? targets[0]!.name : describeEntries(targets)}, freed ${formatBytes(freed)}`,
      );
      setDeleting(null);
    } catch (err) {
      toast.error(`Could not delete: ${errorDetail(err)}`);
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
      toast.success(`Revoked the link to ${share.path}`);
      setRevoking(null);
    } catch (err) {
      // Already gone is what was asked.
      if (err instanceof ApiError && err.status === 404) setRevoking(null);
      else toast.error(`Could not revoke the link: ${errorDetail(err)}`);
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
    ? 'Loading'
    : `${entries.length} item${entries.length === 1 ? '' : 's'}${
        chosen.length ? `, ${chosen.length} selected (${formatBytes(totalSize(chosen))})` : ''
      }`;

  return (
    <div className="files-page">
      <div className="page-head">
        <h1>Files</h1>
        <Button
          variant="primary"
          icon={<PlusIcon />}
          onClick={() => setNewFolderOpen(true)}
          disabled={notFound}
        >
          New folder
        </Button>
      </div>
      {folder.data ? (
        <section className="stats-bar" aria-label="Your storage">
          <div className="stats-quota">
            <QuotaBar used={folder.data.used_space} quota={folder.data.quota} label="Storage" />
          </div>
        </section>
      ) : null}

      <section className="card list-card" aria-labelledby="files-title">
        <h2 id="files-title" className="sr-only">
          Your files
        </h2>
        <div className="files-head">
          <Breadcrumbs path={path} />
        </div>
        <div
          className={`toolbar${chosen.length ? ' has-selection' : ''}`}
          role="toolbar"
          aria-label="Selected files"
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
            <label htmlFor="files-select-all">Select all</label>
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
          <Spinner label="Loading your files" />
        ) : notFound ? (
          <EmptyState title="This folder does not exist.">
            <Link href="/files">Back to your files</Link>
          </EmptyState>
        ) : folder.error ? (
          <EmptyState title="Your files could not be loaded.">
            <p>{errorDetail(folder.error)}</p>
            <Button onClick={() => void folder.refetch()}>Try again</Button>
          </EmptyState>
        ) : entries.length === 0 ? (
          <EmptyState title={path ? 'This folder is empty.' : 'No files yet.'}>
            {path ? null : <p>Finished downloads land here.</p>}
          </EmptyState>
        ) : (
          <>
            <div className="file-list-head" aria-hidden="true">
              <span className="lh-main">Name</span>
              <span className="lh-meta">
                <span>Size</span>
                <span>Modified</span>
              </span>
              <span className="lh-actions" />
            </div>
            <ul className="file-list" aria-label="Files">
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
            toast.success('Link created');
            return share;
          }}
        />
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? `Delete ${describeEntries(deleting)}?` : 'Delete?'}
        message={deleting ? deleteMessage(deleting, shares.data ?? []) : undefined}
        confirmLabel="Delete"
        danger
        busy={deleteBusy}
        onConfirm={() => void confirmDelete()}
        onCancel={() => {
          if (!deleteBusy) setDeleting(null);
        }}
      />
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this link?"
        message={revoking ? `Nobody can download ${revoking.path} through it any more.` : undefined}
        confirmLabel="Revoke"
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
