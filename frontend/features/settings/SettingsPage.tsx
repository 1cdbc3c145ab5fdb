'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { EmptyState } from '../../components/EmptyState';
import { Checkbox, TextField } from '../../components/Field';
import { QuotaBar } from '../../components/QuotaBar';
import { Spinner } from '../../components/Spinner';
import { api, errorDetail } from '../../lib/api';
import { bytesToGb, formatBytes, gbToBytes } from '../../lib/format';
import { t } from '../../lib/i18n';
import type { Settings, SettingsPatch } from '../../lib/types';

export const configKey = ['config'] as const;
export const machineKey = ['machine'] as const;
const MIB = 1024 * 1024;

interface Draft {
  maxTaskSizeGb: string;
  minFreeDiskGb: string;
  defaultQuotaGb: string;
  allowPrivateNetwork: boolean;
  maxConcurrent: string;
  maxActivePerUser: string;
  maxOverallLimitMib: string;
  maxCurrentTasks: string;
}

function toDraft(s: Settings): Draft {
  return {
    maxTaskSizeGb: String(bytesToGb(s.max_task_size)),
    minFreeDiskGb: String(bytesToGb(s.min_free_disk)),
    defaultQuotaGb: String(bytesToGb(s.default_quota)),
    allowPrivateNetwork: s.allow_private_network,
    maxConcurrent: String(s.max_concurrent_downloads),
    maxActivePerUser: String(s.max_active_per_user),
    maxOverallLimitMib: String(Math.round((s.max_overall_download_limit / MIB) * 100) / 100),
    maxCurrentTasks: String(s.max_current_tasks_per_user),
  };
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
  if (draft.maxTaskSizeGb !== initial.maxTaskSizeGb) {
    const n = num(draft.maxTaskSizeGb, 'settings.field.maxTaskSize');
    if (typeof n === 'string') return n;
    patch.max_task_size = gbToBytes(n);
  }
  if (draft.minFreeDiskGb !== initial.minFreeDiskGb) {
    const n = num(draft.minFreeDiskGb, 'settings.field.minFreeDisk');
    if (typeof n === 'string') return n;
    patch.min_free_disk = gbToBytes(n);
  }
  if (draft.defaultQuotaGb !== initial.defaultQuotaGb) {
    const n = num(draft.defaultQuotaGb, 'settings.field.defaultQuota');
    if (typeof n === 'string') return n;
    patch.default_quota = gbToBytes(n);
  }
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
  if (draft.maxOverallLimitMib !== initial.maxOverallLimitMib) {
    const n = num(draft.maxOverallLimitMib, 'settings.field.overall');
    if (typeof n === 'string') return n;
    patch.max_overall_download_limit = Math.round(n * MIB);
  }
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
              <TextField
                label={t('settings.maxTaskSize')}
                type="number"
                min={0}
                step="any"
                hint={t('settings.maxTaskSizeHint')}
                value={draft.maxTaskSizeGb}
                onChange={set('maxTaskSizeGb')}
              />
              <TextField
                label={t('settings.minFreeDisk')}
                type="number"
                min={0}
                step="any"
                hint={t('settings.minFreeDiskHint')}
                value={draft.minFreeDiskGb}
                onChange={set('minFreeDiskGb')}
              />
              <TextField
                label={t('settings.defaultQuota')}
                type="number"
                min={0}
                step="any"
                hint={t('settings.defaultQuotaHint')}
                value={draft.defaultQuotaGb}
                onChange={set('defaultQuotaGb')}
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
              <TextField
                label={t('settings.overall')}
                type="number"
                min={0}
                step="any"
                hint={t('settings.unlimitedHint')}
                value={draft.maxOverallLimitMib}
                onChange={set('maxOverallLimitMib')}
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
              onChange={(e) => {
                const checked = e.currentTarget.checked;
                setDraft((d) => (d ? { ...d, allowPrivateNetwork: checked } : d));
              }}
            />
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
