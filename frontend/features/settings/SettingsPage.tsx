'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { EmptyState } from '../../components/EmptyState';
import { Checkbox, TextField, UnitField } from '../../components/Field';
import { QuotaBar } from '../../components/QuotaBar';
import { Spinner } from '../../components/Spinner';
import { api, errorDetail } from '../../lib/api';
import {
  formatBytes,
  sameUnitValue,
  toUnitDraft,
  type UnitDraft,
  type UnitKind,
  unitDraftToBytes,
} from '../../lib/format';
import { t } from '../../lib/i18n';
import type { Settings, SettingsPatch } from '../../lib/types';

export const configKey = ['config'] as const;
export const machineKey = ['machine'] as const;

interface Draft {
  maxTaskSize: UnitDraft;
  minFreeDisk: UnitDraft;
  defaultQuota: UnitDraft;
  allowPrivateNetwork: boolean;
  maxConcurrent: string;
  maxActivePerUser: string;
  maxOverallLimit: UnitDraft;
  maxCurrentTasks: string;
}

function toDraft(s: Settings): Draft {
  return {
    maxTaskSize: toUnitDraft(s.max_task_size, 'size'),
    minFreeDisk: toUnitDraft(s.min_free_disk, 'size'),
    defaultQuota: toUnitDraft(s.default_quota, 'size', true),
    allowPrivateNetwork: s.allow_private_network,
    maxConcurrent: String(s.max_concurrent_downloads),
    maxActivePerUser: String(s.max_active_per_user),
    maxOverallLimit: toUnitDraft(s.max_overall_download_limit, 'speed', true),
    maxCurrentTasks: String(s.max_current_tasks_per_user),
  };
}

type Pinned = Settings['pinned'];
type UnitKey = 'maxTaskSize' | 'minFreeDisk' | 'defaultQuota' | 'maxOverallLimit';

/** The hint of a setting an environment variable pins: which one, and how to change it for good. */
function pinnedHint(pinned: Pinned, key: keyof Pinned): string | undefined {
  const variable = pinned[key];
  return variable ? t('settings.pinned.hint', { variable }) : undefined;
}

/** Only what changed, in the API's units; or a sentence naming the first bad field. */
export function settingsPatchFrom(draft: Draft, initial: Draft): SettingsPatch | string {
  const patch: SettingsPatch = {};
  // `name` is the field's catalog key.
  const num = (v: string, name: string, min = 0): number | string => {
    const n = Number(v);
    return v.trim() === '' || !Number.isFinite(n) || n < min
      ? t('settings.atLeast', { name: t(name), min })
      : n;
  };
  // A size or speed: its bytes when it changed, undefined when not, or the sentence of a bad one.
  const bytes = (key: UnitKey, kind: UnitKind, name: string) => {
    if (sameUnitValue(draft[key], initial[key], kind)) return undefined;
    const n = unitDraftToBytes(draft[key], kind);
    return typeof n === 'number' ? n : t('settings.atLeast', { name: t(name), min: 0 });
  };
  const size = bytes('maxTaskSize', 'size', 'settings.field.maxTaskSize');
  if (typeof size === 'string') return size;
  if (size !== undefined) patch.max_task_size = size;
  const disk = bytes('minFreeDisk', 'size', 'settings.field.minFreeDisk');
  if (typeof disk === 'string') return disk;
  if (disk !== undefined) patch.min_free_disk = disk;
  const quota = bytes('defaultQuota', 'size', 'settings.field.defaultQuota');
  if (typeof quota === 'string') return quota;
  if (quota !== undefined) patch.default_quota = quota;
  if (draft.allowPrivateNetwork !== initial.allowPrivateNetwork)
    patch.allow_private_network = draft.allowPrivateNetwork;
  if (draft.maxConcurrent !== initial.maxConcurrent) {
    const n = num(draft.maxConcurrent, 'settings.field.concurrent', 1);
    if (typeof n === 'string') return n;
    if (!Number.isInteger(n) || n > 1000)
      return t('settings.wholeNumber', { name: t('settings.field.concurrent'), min: 1, max: 1000 });
    patch.max_concurrent_downloads = n;
  }
  if (draft.maxActivePerUser !== initial.maxActivePerUser) {
    const n = num(draft.maxActivePerUser, 'settings.field.perUser');
    if (typeof n === 'string') return n;
    if (!Number.isInteger(n) || n > 1000)
      return t('settings.wholeNumber', { name: t('settings.field.perUser'), min: 0, max: 1000 });
    patch.max_active_per_user = n;
  }
  const overall = bytes('maxOverallLimit', 'speed', 'settings.field.overall');
  if (typeof overall === 'string') return overall;
  if (overall !== undefined) patch.max_overall_download_limit = overall;
  if (draft.maxCurrentTasks !== initial.maxCurrentTasks) {
    const n = num(draft.maxCurrentTasks, 'settings.field.inProgress', 1);
    if (typeof n === 'string') return n;
    if (!Number.isInteger(n) || n > 1_000_000)
      return t('settings.wholeNumber', { name: t('settings.field.inProgress'), min: 1, max: 1000000 });
    patch.max_current_tasks_per_user = n;
  }
  return patch;
}

function MachinePanel() {
  const machine = useQuery({ queryKey: machineKey, queryFn: api.getMachineStats, refetchInterval: 15_000 });
  const health = useQuery({ queryKey: ['health'], queryFn: api.health, refetchInterval: 15_000 });
  const m = machine.data;
  return (
    <section className="card" aria-labelledby="machine-title">
      <h2 id="machine-title" className="card-title">
        {t('settings.server')}
      </h2>
      {machine.isLoading ? (
        <Spinner label={t('settings.loadingServer')} />
      ) : m ? (
        <dl className="info-grid">
          <div className="info">
            <dt>aria2</dt>
            <dd>
              <span className={`badge ${m.aria2.connected ? 'badge-complete' : 'badge-error'}`}>
                {m.aria2.connected ? t('settings.connected') : t('settings.disconnected')}
              </span>
            </dd>
          </div>
          <div className="info">
            <dt>{t('settings.aria2Version')}</dt>
            <dd>{m.aria2.version ?? '—'}</dd>
          </div>
          <div className="info">
            <dt>{t('settings.health')}</dt>
            <dd>
              {health.data
                ? health.data.status === 'ok'
                  ? t('settings.healthOk')
                  : t('settings.degraded')
                : '—'}
            </dd>
          </div>
          <div className="info wide">
            <dt>{t('settings.disk')}</dt>
            <dd>
              <QuotaBar used={m.disk_used} quota={m.disk_total} label={t('users.used')} />
              <span className="muted small">{t('settings.free', { size: formatBytes(m.disk_free) })}</span>
            </dd>
          </div>
        </dl>
      ) : (
        <p className="form-error">{errorDetail(machine.error)}</p>
      )}
    </section>
  );
}

export function SettingsPage() {
  const qc = useQueryClient();
  const config = useQuery({ queryKey: configKey, queryFn: api.getConfig });
  const [draft, setDraft] = useState<Draft | null>(null);
  const [initial, setInitial] = useState<Draft | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (config.data) {
      const d = toDraft(config.data);
      setDraft(d);
      setInitial(d);
    }
  }, [config.data]);

  const save = useMutation({
    mutationFn: (patch: SettingsPatch) => api.updateConfig(patch),
    onSuccess: (saved) => {
      qc.setQueryData(configKey, saved);
      toast.success(t('settings.saved'));
    },
    onError: (err) => setError(errorDetail(err)),
  });

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!draft || !initial) return;
    const patch = settingsPatchFrom(draft, initial);
    if (typeof patch === 'string') {
      setError(patch);
      return;
    }
    setError(null);
    if (Object.keys(patch).length === 0) {
      toast.info(t('settings.nothingChanged'));
      return;
    }
    save.mutate(patch);
  }

  const set = (key: keyof Draft) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setDraft((d) => (d ? { ...d, [key]: value } : d));
  };
  const setUnit = (key: UnitKey) => (value: UnitDraft) => setDraft((d) => (d ? { ...d, [key]: value } : d));
  const pinned: Pinned = config.data?.pinned ?? {};

  return (
    <div className="settings-page">
      <div className="page-head">
        <h1>{t('nav.settings')}</h1>
      </div>
      <section className="card" aria-labelledby="limits-title">
        <h2 id="limits-title" className="card-title">
          {t('detail.limits')}
        </h2>
        {config.isLoading || !draft ? (
          config.error ? (
            <EmptyState title={t('settings.loadFailed')}>
              <p>{errorDetail(config.error)}</p>
            </EmptyState>
          ) : (
            <Spinner label={t('settings.loading')} />
          )
        ) : (
          <form className="stack" onSubmit={onSubmit} noValidate>
            <div className="options-grid">
              <UnitField
                label={t('settings.maxTaskSize')}
                kind="size"
                hint={pinnedHint(pinned, 'max_task_size') ?? t('settings.maxTaskSizeHint')}
                readOnly={Boolean(pinned.max_task_size)}
                value={draft.maxTaskSize}
                onChange={setUnit('maxTaskSize')}
              />
              <UnitField
                label={t('settings.minFreeDisk')}
                kind="size"
                hint={pinnedHint(pinned, 'min_free_disk') ?? t('settings.minFreeDiskHint')}
                readOnly={Boolean(pinned.min_free_disk)}
                value={draft.minFreeDisk}
                onChange={setUnit('minFreeDisk')}
              />
              <UnitField
                label={t('settings.defaultQuota')}
                kind="size"
                unlimitable
                hint={pinnedHint(pinned, 'default_quota') ?? t('settings.defaultQuotaHint')}
                readOnly={Boolean(pinned.default_quota)}
                value={draft.defaultQuota}
                onChange={setUnit('defaultQuota')}
              />
              <TextField
                label={t('settings.field.concurrent')}
                type="number"
                min={1}
                max={1000}
                step={1}
                hint={t('settings.concurrentHint')}
                value={draft.maxConcurrent}
                onChange={set('maxConcurrent')}
              />
              <TextField
                label={t('settings.field.perUser')}
                type="number"
                min={0}
                max={1000}
                step={1}
                hint={t('settings.perUserHint')}
                value={draft.maxActivePerUser}
                onChange={set('maxActivePerUser')}
              />
              <UnitField
                label={t('settings.overall')}
                kind="speed"
                unlimitable
                hint={t('settings.unlimitedHint')}
                value={draft.maxOverallLimit}
                onChange={setUnit('maxOverallLimit')}
              />
              <TextField
                label={t('settings.field.inProgress')}
                type="number"
                min={1}
                max={1_000_000}
                step={1}
                hint={t('settings.inProgressHint')}
                value={draft.maxCurrentTasks}
                onChange={set('maxCurrentTasks')}
              />
            </div>
            <Checkbox
              label={t('settings.privateNetwork')}
              checked={draft.allowPrivateNetwork}
              disabled={Boolean(pinned.allow_private_network)}
              aria-describedby={pinned.allow_private_network ? 'private-network-pinned' : undefined}
              onChange={(e) => {
                const checked = e.currentTarget.checked;
                setDraft((d) => (d ? { ...d, allowPrivateNetwork: checked } : d));
              }}
            />
            {pinned.allow_private_network ? (
              <span id="private-network-pinned" className="hint">
                {pinnedHint(pinned, 'allow_private_network')}
              </span>
            ) : null}
            {error ? (
              <p className="form-error" role="alert">
                {error}
              </p>
            ) : null}
            <div>
              <Button type="submit" variant="primary" busy={save.isPending}>
                {t('settings.save')}
              </Button>
            </div>
          </form>
        )}
      </section>
      <MachinePanel />
    </div>
  );
}
