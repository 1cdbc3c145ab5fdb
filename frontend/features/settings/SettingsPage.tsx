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
  const num = (v: string, name: string, min = 0): number | string => {
    const n = Number(v);
    return v.trim() === '' || !Number.isFinite(n) || n < min
      ? `${name} must be a number of at least ${min}.`
      : n;
  };
  if (draft.maxTaskSizeGb !== initial.maxTaskSizeGb) {
    const n = num(draft.maxTaskSizeGb, 'Maximum task size');
    if (typeof n === 'string') return n;
    patch.max_task_size = gbToBytes(n);
  }
  if (draft.minFreeDiskGb !== initial.minFreeDiskGb) {
    const n = num(draft.minFreeDiskGb, 'Minimum free disk');
    if (typeof n === 'string') return n;
    patch.min_free_disk = gbToBytes(n);
  }
  if (draft.defaultQuotaGb !== initial.defaultQuotaGb) {
    const n = num(draft.defaultQuotaGb, 'Default quota');
    if (typeof n === 'string') return n;
    patch.default_quota = gbToBytes(n);
  }
  if (draft.allowPrivateNetwork !== initial.allowPrivateNetwork)
    patch.allow_private_network = draft.allowPrivateNetwork;
  if (draft.maxConcurrent !== initial.maxConcurrent) {
    const n = num(draft.maxConcurrent, 'Concurrent downloads', 1);
    if (typeof n === 'string') return n;
    if (!Number.isInteger(n) || n > 1000)
      return 'Concurrent downloads must be a whole number from 1 to 1000.';
    patch.max_concurrent_downloads = n;
  }
  if (draft.maxActivePerUser !== initial.maxActivePerUser) {
    const n = num(draft.maxActivePerUser, 'Running downloads per user');
    if (typeof n === 'string') return n;
    if (!Number.isInteger(n) || n > 1000)
      return 'Running downloads per user must be a whole number from 0 to 1000.';
    patch.max_active_per_user = n;
  }
  if (draft.maxOverallLimitMib !== initial.maxOverallLimitMib) {
    const n = num(draft.maxOverallLimitMib, 'Overall speed limit');
    if (typeof n === 'string') return n;
    patch.max_overall_download_limit = Math.round(n * MIB);
  }
  if (draft.maxCurrentTasks !== initial.maxCurrentTasks) {
    const n = num(draft.maxCurrentTasks, 'Downloads in progress per user', 1);
    if (typeof n === 'string') return n;
    if (!Number.isInteger(n) || n > 1_000_000)
      return 'Downloads in progress per user must be a whole number from 1 to 1000000.';
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
        Server
      </h2>
      {machine.isLoading ? (
        <Spinner label="Loading server state" />
      ) : m ? (
        <dl className="info-grid">
          <div className="info">
            <dt>aria2</dt>
            <dd>
              <span className={`badge ${m.aria2.connected ? 'badge-complete' : 'badge-error'}`}>
                {m.aria2.connected ? 'Connected' : 'Disconnected'}
              </span>
            </dd>
          </div>
          <div className="info">
            <dt>aria2 version</dt>
            <dd>{m.aria2.version ?? '—'}</dd>
          </div>
          <div className="info">
            <dt>Health</dt>
            <dd>{health.data ? (health.data.status === 'ok' ? 'OK' : 'Degraded') : '—'}</dd>
          </div>
          <div className="info wide">
            <dt>Disk</dt>
            <dd>
              <QuotaBar used={m.disk_used} quota={m.disk_total} label="Used" />
              <span className="muted small">{formatBytes(m.disk_free)} free</span>
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
      toast.success('Settings saved');
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
      toast.info('Nothing changed');
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
        <h1>Settings</h1>
      </div>
      <section className="card" aria-labelledby="limits-title">
        <h2 id="limits-title" className="card-title">
          Limits
        </h2>
        {config.isLoading || !draft ? (
          config.error ? (
            <EmptyState title="The settings could not be loaded.">
              <p>{errorDetail(config.error)}</p>
            </EmptyState>
          ) : (
            <Spinner label="Loading settings" />
          )
        ) : (
          <form className="stack" onSubmit={onSubmit} noValidate>
            <div className="options-grid">
              <TextField
                label="Maximum task size (GB)"
                type="number"
                min={0}
                step="any"
                hint="A download announced larger than this is refused."
                value={draft.maxTaskSizeGb}
                onChange={set('maxTaskSizeGb')}
              />
              <TextField
                label="Minimum free disk (GB)"
                type="number"
                min={0}
                step="any"
                hint="New downloads are refused below this much free space."
                value={draft.minFreeDiskGb}
                onChange={set('minFreeDiskGb')}
              />
              <TextField
                label="Default quota (GB)"
                type="number"
                min={0}
                step="any"
                hint="For new users. 0 = unlimited."
                value={draft.defaultQuotaGb}
                onChange={set('defaultQuotaGb')}
              />
              <TextField
                label="Concurrent downloads"
                type="number"
                min={1}
                max={1000}
                step={1}
                hint="Downloads aria2 runs at once, for all users together."
                value={draft.maxConcurrent}
                onChange={set('maxConcurrent')}
              />
              <TextField
                label="Running downloads per user"
                type="number"
                min={0}
                max={1000}
                step={1}
                hint="No user runs more at once; free slots go round-robin to users who wait. 0 = no limit."
                value={draft.maxActivePerUser}
                onChange={set('maxActivePerUser')}
              />
              <TextField
                label="Overall speed limit (MiB/s)"
                type="number"
                min={0}
                step="any"
                hint="0 = unlimited."
                value={draft.maxOverallLimitMib}
                onChange={set('maxOverallLimitMib')}
              />
              <TextField
                label="Downloads in progress per user"
                type="number"
                min={1}
                max={1_000_000}
                step={1}
                hint="Queued, active, waiting and paused tasks one user may have."
                value={draft.maxCurrentTasks}
                onChange={set('maxCurrentTasks')}
              />
            </div>
            <Checkbox
              label="Allow downloads from private networks (loopback, LAN, link-local)"
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
                Save settings
              </Button>
            </div>
          </form>
        )}
      </section>
      <MachinePanel />
    </div>
  );
}
