'use client';

import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { UnitField } from '../../components/Field';
import { ProgressBar } from '../../components/ProgressBar';
import { api, errorDetail } from '../../lib/api';
import {
  formatBytes,
  formatPercent,
  formatSpeed,
  toUnitDraft,
  type UnitDraft,
  unitDraftToBytes,
} from '../../lib/format';
import { t } from '../../lib/i18n';
import type { TaskDetail, TaskFile } from '../../lib/types';
import { taskKeys } from './cache';

type Info = NonNullable<TaskDetail['detail']>;

/** The download and upload limits of a current download, applied at once (unlimited = 0). */
export function LimitsForm({ taskId }: { taskId: number }) {
  const qc = useQueryClient();
  const [down, setDown] = useState<UnitDraft>(() => toUnitDraft(null, 'speed'));
  const [up, setUp] = useState<UnitDraft>(() => toUnitDraft(null, 'speed'));
  const [busy, setBusy] = useState(false);
  const downBytes = unitDraftToBytes(down, 'speed');
  const upBytes = unitDraftToBytes(up, 'speed');
  const bad = (v: number | 'empty' | 'invalid') => (v === 'invalid' ? t('limits.bad') : null);
  const nothing = downBytes === 'empty' && upBytes === 'empty';
  const invalid = downBytes === 'invalid' || upBytes === 'invalid';
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (invalid || nothing) return;
    setBusy(true);
    try {
      // aria2 takes a plain number of bytes per second.
      await api.changeTaskOptions(taskId, {
        ...(typeof downBytes === 'number' ? { 'max-download-limit': String(downBytes) } : {}),
        ...(typeof upBytes === 'number' ? { 'max-upload-limit': String(upBytes) } : {}),
      });
      toast.success(t('limits.applied'));
      void qc.invalidateQueries({ queryKey: taskKeys.detail(taskId) });
    } catch (err) {
      toast.error(errorDetail(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="limits-form" onSubmit={(e) => void onSubmit(e)} aria-label={t('limits.label')}>
      <UnitField
        label={t('limits.down')}
        name="max-download-limit"
        kind="speed"
        unlimitable
        value={down}
        placeholder={t('limits.downPlaceholder')}
        error={bad(downBytes)}
        onChange={setDown}
      />
      <UnitField
        label={t('limits.up')}
        name="max-upload-limit"
        kind="speed"
        unlimitable
        value={up}
        placeholder={t('limits.upPlaceholder')}
        error={bad(upBytes)}
        onChange={setUp}
      />
      <Button type="submit" busy={busy} disabled={nothing || invalid}>
        {t('limits.apply')}
      </Button>
    </form>
  );
}

/** A torrent's files with a checkbox each; the selection is sent as one change. */
export function FileSelection({ taskId, files }: { taskId: number; files: readonly TaskFile[] }) {
  const qc = useQueryClient();
  const [chosen, setChosen] = useState(() => new Set(files.filter((f) => f.selected).map((f) => f.index)));
  const [busy, setBusy] = useState(false);
  const key = files.map((f) => `${f.index}:${f.selected}`).join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset only when the server's selection changes
  useEffect(() => {
    setChosen(new Set(files.filter((f) => f.selected).map((f) => f.index)));
  }, [key]);
  const changed = files.some((f) => f.selected !== chosen.has(f.index));
  const size = files.reduce((n, f) => n + (chosen.has(f.index) ? f.length : 0), 0);
  const apply = async () => {
    setBusy(true);
    try {
      await api.selectTaskFiles(
        taskId,
        [...chosen].sort((a, b) => a - b),
      );
      toast.success(t('selection.applied'));
      void qc.invalidateQueries({ queryKey: taskKeys.detail(taskId) });
    } catch (err) {
      toast.error(errorDetail(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">{t('selection.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('actions.download')}</th>
            <th scope="col">{t('detail.file')}</th>
            <th scope="col" className="num">
              {t('tasks.col.size')}
            </th>
            <th scope="col">{t('detail.progress')}</th>
          </tr>
        </thead>
        <tbody>
          {files.map((f) => {
            const p = f.length > 0 ? f.completed_length / f.length : 0;
            return (
              <tr key={f.index}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={t('torrentFiles.file', {
                      path: f.path || t('detail.fileIndex', { index: f.index }),
                    })}
                    checked={chosen.has(f.index)}
                    onChange={(e) => {
                      const next = new Set(chosen);
                      if (e.target.checked) next.add(f.index);
                      else next.delete(f.index);
                      setChosen(next);
                    }}
                  />
                </td>
                <td className="break">{f.path || t('detail.fileIndex', { index: f.index })}</td>
                <td className="num">{formatBytes(f.length)}</td>
                <td className="progress-cell">
                  <ProgressBar value={p} label={`${f.path}: ${formatPercent(p)}`} />
                  <span className="muted small">{formatPercent(p)}</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="muted small">
        {t('torrentFiles.selected', { count: files.length, chosen: chosen.size, size: formatBytes(size) })}
      </p>
      <Button onClick={() => void apply()} busy={busy} disabled={!changed || chosen.size === 0}>
        {t('selection.apply')}
      </Button>
    </div>
  );
}

export function PeersTable({ peers }: { peers: Info['peers'] }) {
  if (peers.length === 0) return <p className="muted">{t('peers.none')}</p>;
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">{t('peers.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('peers.address')}</th>
            <th scope="col">{t('peers.client')}</th>
            <th scope="col" className="num">
              {t('peers.down')}
            </th>
            <th scope="col" className="num">
              {t('peers.up')}
            </th>
            <th scope="col">{t('detail.progress')}</th>
          </tr>
        </thead>
        <tbody>
          {peers.map((p) => (
            <tr key={p.address}>
              <td className="mono">{p.address}</td>
              <td>{p.client ?? t('detail.unknown')}</td>
              <td className="num">{formatSpeed(p.download_speed)}</td>
              <td className="num">{formatSpeed(p.upload_speed)}</td>
              <td>{p.seeder ? t('peers.seeder') : formatPercent(p.progress)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ServersTable({ servers }: { servers: Info['servers'] }) {
  if (servers.length === 0) return <p className="muted">{t('servers.none')}</p>;
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">{t('servers.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('detail.file')}</th>
            <th scope="col">{t('servers.server')}</th>
            <th scope="col" className="num">
              {t('tasks.col.speed')}
            </th>
          </tr>
        </thead>
        <tbody>
          {servers.map((s) => (
            <tr key={`${s.file_index} ${s.uri} ${s.current_uri}`}>
              <td className="num">{s.file_index}</td>
              <td className="break mono">{s.current_uri}</td>
              <td className="num">{formatSpeed(s.download_speed)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
