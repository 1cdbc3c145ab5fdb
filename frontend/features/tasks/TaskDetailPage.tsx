'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { CopyIcon } from '../../components/Icons';
import { ProgressBar } from '../../components/ProgressBar';
import { SpeedChart, type SpeedSample } from '../../components/SpeedChart';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { ApiError, api, errorDetail } from '../../lib/api';
import { copyText } from '../../lib/clipboard';
import {
  formatBytes,
  formatDateTime,
  formatDuration,
  formatPercent,
  formatSpeed,
  progressOf,
  timeLeft,
  waitingText,
} from '../../lib/format';
import { t } from '../../lib/i18n';
import { magnetFor } from '../../lib/magnet';
import type { Task, TaskDetail, TaskFile } from '../../lib/types';
import { OutageBanner } from '../shell/live-sync';
import { ActionButtons } from './ActionButtons';
import { hasPlannedRetry, type TaskActionId } from './actions';
import { taskKeys } from './cache';
import { isCurrent, isTorrentTask } from './list-state';
import { useStats } from './queries';
import { RetryDialog } from './RetryDialog';
import { RetryCountdown } from './RetryPlan';
import { noteReplacement, useReplacement } from './replacements';
import { taskTitle } from './TaskRow';
import { FileSelection, LimitsForm, PeersTable, ServersTable } from './TaskSteering';
import { useTaskActions } from './useTaskActions';

/** The server keeps five minutes of each running task's speed; the chart spans the same. */
const WINDOW_SECONDS = 300;

/**
 * One speed sample a second while the page is open (the socket keeps the task current), starting with
 * the history the server kept of the task's last minutes.
 */
function useSpeedSamples(task: TaskDetail | undefined): SpeedSample[] {
  const [samples, setSamples] = useState<SpeedSample[]>([]);
  const latest = useRef(task);
  latest.current = task;
  const id = task?.id;
  useEffect(() => {
    setSamples(
      (latest.current?.speed_history ?? []).map((s) => ({ t: Date.parse(s.t), down: s.down, up: s.up })),
    );
    if (id === undefined) return;
    const tick = () => {
      const t = latest.current;
      if (!t) return;
      const sample: SpeedSample = {
        t: Date.now(),
        down: t.status === 'active' ? t.download_speed : 0,
        up: t.status === 'active' ? t.upload_speed : 0,
      };
      setSamples((prev) => {
        const cutoff = sample.t - (WINDOW_SECONDS + 5) * 1000;
        const kept = prev.length && prev[0]!.t < cutoff ? prev.filter((s) => s.t >= cutoff) : prev;
        return [...kept, sample];
      });
    };
    tick();
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, [id]);
  return samples;
}

/** Bits of aria2's hex bitfield, folded into `buckets` cells of 0..1 completion. */
export function pieceBuckets(bitfield: string, numPieces: number, buckets = 100): number[] {
  if (!bitfield || numPieces <= 0) return [];
  const n = Math.min(buckets, numPieces);
  const have = new Array<number>(n).fill(0);
  const count = new Array<number>(n).fill(0);
  for (let piece = 0; piece < numPieces; piece += 1) {
    const nibble = Number.parseInt(bitfield[piece >> 2] ?? '0', 16) || 0;
    const bit = (nibble >> (3 - (piece & 3))) & 1;
    const b = Math.min(n - 1, Math.floor((piece * n) / numPieces));
    have[b]! += bit;
    count[b]! += 1;
  }
  return have.map((h, i) => (count[i] ? h / count[i]! : 0));
}

function PieceMap({ bitfield, numPieces }: { bitfield: string; numPieces: number }) {
  const cells = pieceBuckets(bitfield, numPieces).map((value, x) => ({ x, value }));
  if (cells.length === 0) return null;
  const done = cells.filter((c) => c.value >= 1).length;
  return (
    <svg
      className="pieces"
      viewBox={`0 0 ${cells.length} 1`}
      preserveAspectRatio="none"
      role="img"
      aria-label={t('detail.pieces', { count: numPieces, percent: Math.round((done / cells.length) * 100) })}
    >
      {cells.map((cell) => (
        <rect
          key={cell.x}
          x={cell.x}
          y={0}
          width={1}
          height={1}
          className="piece"
          style={{ opacity: 0.15 + 0.85 * cell.value }}
        />
      ))}
    </svg>
  );
}

function Info({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="info">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function FilesTable({ files }: { files: readonly TaskFile[] }) {
  if (files.length === 0) return <p className="muted">{t('detail.noFiles')}</p>;
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">{t('detail.filesCaption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('detail.file')}</th>
            <th scope="col" className="num">
              {t('tasks.col.size')}
            </th>
            <th scope="col">{t('detail.progress')}</th>
            <th scope="col">{t('detail.selected')}</th>
          </tr>
        </thead>
        <tbody>
          {files.map((f) => {
            const p = f.length > 0 ? f.completed_length / f.length : 0;
            return (
              <tr key={f.index}>
                <td className="break">{f.path || t('detail.fileIndex', { index: f.index })}</td>
                <td className="num">{formatBytes(f.length)}</td>
                <td className="progress-cell">
                  <ProgressBar
                    value={p}
                    label={`${f.path}: ${formatPercent(p)}`}
                    tone={p >= 1 ? 'success' : 'normal'}
                  />
                  <span className="muted small">{formatPercent(p)}</span>
                </td>
                <td>{f.selected ? t('common.yes') : t('common.no')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

async function copy(text: string, what: 'link' | 'magnet') {
  if (await copyText(text))
    toast.success(what === 'link' ? t('detail.linkCopied') : t('detail.magnetCopied'));
  else toast.error(what === 'link' ? t('detail.linkCopyFailed') : t('detail.magnetCopyFailed'));
}

export function TaskDetailPage() {
  const params = useSearchParams();
  const raw = params.get('id');
  const id = raw && /^\d+$/.test(raw) ? Number(raw) : null;
  if (id === null || id <= 0) {
    return (
      <EmptyState title={t('detail.noneSelected')}>
        <Link href="/tasks">{t('detail.backToTasks')}</Link>
      </EmptyState>
    );
  }
  return <TaskDetailView key={id} id={id} />;
}

function TaskDetailView({ id }: { id: number }) {
  const router = useRouter();
  const actions = useTaskActions();
  // A retry (here, in another tab, or the server's own) replaced this task: follow it, and stop
  // asking for the old one, which is gone.
  const replacedBy = useReplacement(id);
  useEffect(() => {
    if (replacedBy !== null) router.replace(`/tasks/detail?id=${replacedBy}`);
  }, [replacedBy, router]);
  const detail = useQuery({
    queryKey: taskKeys.detail(id),
    queryFn: () => api.getTaskDetail(id),
    enabled: replacedBy === null,
    refetchInterval: (query) => {
      const data = query.state.data as TaskDetail | undefined;
      return data && isCurrent(data.status) ? 3000 : false;
    },
  });
  const task = detail.data;
  const needFiles = Boolean(task && !task.detail);
  const files = useQuery({
    queryKey: taskKeys.files(id),
    queryFn: () => api.getTaskFiles(id),
    enabled: needFiles && replacedBy === null,
    retry: false,
  });
  const samples = useSpeedSamples(task);
  const stats = useStats();

  useEffect(() => {
    if (task) document.title = `${taskTitle(task)} · ${t('app.name')}`;
  }, [task]);

  if (detail.isLoading || (replacedBy !== null && !task)) return <Spinner label={t('detail.loading')} />;
  if (!task) {
    const notFound = detail.error instanceof ApiError && detail.error.status === 404;
    return (
      <EmptyState title={notFound ? t('detail.notFound') : t('detail.loadFailed')}>
        {!notFound && detail.error ? <p>{errorDetail(detail.error)}</p> : null}
        <p>
          <Link href="/tasks">{t('detail.backToTasks')}</Link> ·{' '}
          <Link href="/history">{t('nav.history')}</Link>
        </p>
      </EmptyState>
    );
  }

  const info = task.detail;
  const title = taskTitle(task);
  const progress = progressOf(task);
  const left = task.status === 'active' ? timeLeft(task) : null;
  const trackers = info?.bittorrent?.announce_list.flat() ?? [];
  const magnet = magnetFor({
    uri: task.uri,
    name: info?.bittorrent?.name ?? task.name,
    infoHash: info?.info_hash,
    trackers,
  });
  const fileList = info?.files ?? files.data ?? [];
  const waiting = waitingText(task, stats.data?.waiting_counts);

  // A retry's new task takes this page over; a deleted task leaves it.
  const follow = (next?: Task) => {
    if (next) noteReplacement(task.id, next.id);
  };
  const onAction = (action: TaskActionId) =>
    actions.run(action, task, {
      surface: 'detail',
      after: action === 'delete' ? () => router.push('/tasks') : follow,
    });

  return (
    <div className="detail-page">
      <nav aria-label={t('detail.breadcrumb')} className="crumbs">
        <Link href="/tasks">{t('nav.tasks')}</Link> <span aria-hidden="true">/</span> <span>#{task.id}</span>
      </nav>
      <div className="page-head detail-head">
        <h1 className="break">{title}</h1>
        <StatusBadge status={task.status} seeding={task.seeding} />
      </div>
      <OutageBanner />

      <section className="card" aria-label={t('detail.progress')} data-task-id={task.id}>
        <ProgressBar
          value={progress}
          label={t('detail.progressValue', { percent: formatPercent(progress) })}
          tone={task.status === 'error' ? 'danger' : task.status === 'complete' ? 'success' : 'normal'}
          indeterminate={task.status === 'active' && task.total_length <= 0}
        />
        <div className="detail-figures">
          <span>
            <strong>{formatPercent(progress)}</strong>
          </span>
          <span>
            {t('detail.doneOf', {
              done: formatBytes(task.completed_length),
              total: task.total_length > 0 ? formatBytes(task.total_length) : t('detail.unknownSize'),
            })}
          </span>
          <span>↓ {formatSpeed(task.download_speed)}</span>
          <span>↑ {formatSpeed(task.upload_speed)}</span>
          <span>
            {task.phase === 'metadata'
              ? t('detail.fetchingMetadata', { count: info?.connections ?? 0 })
              : task.seeding
                ? t('detail.seedingRatio', { ratio: (info?.ratio ?? 0).toFixed(2) })
                : task.status === 'active'
                  ? t('detail.left', { time: left === null ? '∞' : formatDuration(left) })
                  : null}
          </span>
        </div>
        {task.status === 'error' && task.error ? (
          <p className="task-error block" role="note">
            {task.error}
          </p>
        ) : null}
        {hasPlannedRetry(task) ? <RetryCountdown task={task} className="task-retrying block" /> : null}
        {waiting ? (
          <p className="task-waiting block" role="note">
            {waiting}
          </p>
        ) : null}
        <div className="detail-actions">
          <ActionButtons
            task={task}
            surface="detail"
            busyAction={actions.pending.get(task.id) ?? null}
            onAction={onAction}
          />
          {!isTorrentTask(task) ? (
            <Button variant="ghost" icon={<CopyIcon />} onClick={() => void copy(task.uri, 'link')}>
              {t('detail.copyLink')}
            </Button>
          ) : null}
          {magnet ? (
            <Button variant="ghost" icon={<CopyIcon />} onClick={() => void copy(magnet, 'magnet')}>
              {t('detail.copyMagnet')}
            </Button>
          ) : null}
        </div>
      </section>

      {task.status === 'active' ? (
        <section className="card" aria-labelledby="speed-title">
          <h2 id="speed-title" className="card-title">
            {t('tasks.col.speed')}
          </h2>
          <p className="muted small chart-axis">{t('detail.chartAxis')}</p>
          <SpeedChart samples={samples} windowSeconds={WINDOW_SECONDS} />
        </section>
      ) : null}

      {isCurrent(task.status) && task.status !== 'queued' ? (
        <section className="card" aria-labelledby="limits-title">
          <h2 id="limits-title" className="card-title">
            {t('detail.limits')}
          </h2>
          <LimitsForm taskId={task.id} />
        </section>
      ) : null}

      {info && (info.bittorrent || info.servers.length > 0) ? (
        <section className="card" aria-labelledby="peers-title">
          <h2 id="peers-title" className="card-title">
            {info.bittorrent ? t('detail.peers') : t('detail.servers')}
          </h2>
          {info.bittorrent ? <PeersTable peers={info.peers} /> : null}
          {info.servers.length > 0 ? <ServersTable servers={info.servers} /> : null}
        </section>
      ) : null}

      <section className="card" aria-labelledby="about-title">
        <h2 id="about-title" className="card-title">
          {t('detail.details')}
        </h2>
        <dl className="info-grid">
          <Info label={t('detail.source')}>
            <span className="break mono">{task.uri}</span>
          </Info>
          <Info label={t('detail.status')}>
            <StatusBadge status={task.status} seeding={task.seeding} />
          </Info>
          <Info label={t('tasks.col.size')}>
            {task.total_length > 0 ? formatBytes(task.total_length) : t('detail.unknown')}
          </Info>
          <Info label={t('detail.downloaded')}>{formatBytes(task.completed_length)}</Info>
          <Info label={t('detail.added')}>{formatDateTime(task.created_at)}</Info>
          <Info label={t('detail.updated')}>{formatDateTime(task.updated_at)}</Info>
          {task.artifact_path ? (
            <Info label={t('detail.savedAs')}>
              <span className="break mono">{task.artifact_path}</span>
            </Info>
          ) : null}
          <Info label={t('detail.gid')}>
            <span className="mono">{task.gid ?? '—'}</span>
          </Info>
          {info ? (
            <>
              <Info label={t('detail.connections')}>{info.connections}</Info>
              <Info label={t('detail.piecesLabel')}>
                {info.num_pieces} × {formatBytes(info.piece_length)}
              </Info>
              {info.info_hash ? (
                <Info label={t('detail.infoHash')}>
                  <span className="break mono">{info.info_hash}</span>
                </Info>
              ) : null}
              {info.info_hash ? <Info label={t('detail.seeders')}>{info.num_seeders}</Info> : null}
              {info.seeder !== null ? (
                <Info label={t('detail.seeding')}>{info.seeder ? t('common.yes') : t('common.no')}</Info>
              ) : null}
            </>
          ) : (
            <Info label="aria2">{t('detail.noLive')}</Info>
          )}
          {info?.bittorrent ? (
            <>
              {info.bittorrent.name ? (
                <Info label={t('detail.torrentName')}>{info.bittorrent.name}</Info>
              ) : null}
              {info.bittorrent.comment ? (
                <Info label={t('detail.comment')}>{info.bittorrent.comment}</Info>
              ) : null}
              {info.bittorrent.creation_date ? (
                <Info label={t('detail.created')}>
                  {formatDateTime(new Date(info.bittorrent.creation_date * 1000).toISOString())}
                </Info>
              ) : null}
              {info.bittorrent.mode ? <Info label={t('detail.mode')}>{info.bittorrent.mode}</Info> : null}
            </>
          ) : null}
        </dl>
        {info?.bitfield ? <PieceMap bitfield={info.bitfield} numPieces={info.num_pieces} /> : null}
        {trackers.length ? (
          <details className="disclosure">
            <summary>{t('detail.trackers', { count: trackers.length })}</summary>
            <ul className="plain-list mono small">
              {trackers.map((t) => (
                <li key={t} className="break">
                  {t}
                </li>
              ))}
            </ul>
          </details>
        ) : null}
      </section>

      <section className="card" aria-labelledby="files-title">
        <h2 id="files-title" className="card-title">
          {t('nav.files')}
        </h2>
        {files.isLoading && needFiles ? (
          <Spinner label={t('detail.loadingFiles')} />
        ) : info?.bittorrent && isCurrent(task.status) && task.phase !== 'metadata' && fileList.length > 1 ? (
          <FileSelection taskId={task.id} files={fileList} />
        ) : (
          <FilesTable files={fileList} />
        )}
      </section>
      <ConfirmDialog {...actions.confirmDialog} />
      <RetryDialog {...actions.retryDialog} />
    </div>
  );
}
