'use client';

import Link from 'next/link';
import { useEffect, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { ArrowDownIcon, ArrowUpIcon, BellIcon } from '../../components/Icons';
import { QuotaBar } from '../../components/QuotaBar';
import { formatSpeed } from '../../lib/format';
import { t } from '../../lib/i18n';
import {
  disableNotifications,
  enableNotifications,
  notificationsEnabled,
  notificationsSupported,
} from '../../lib/notifications';
import { useStats } from './queries';

function NotificationToggle() {
  const [supported, setSupported] = useState(false);
  const [on, setOn] = useState(false);
  useEffect(() => {
    setSupported(notificationsSupported());
    setOn(notificationsEnabled());
  }, []);
  if (!supported) return null;
  return (
    <Button
      size="sm"
      variant="ghost"
      icon={<BellIcon />}
      aria-pressed={on}
      title={t('notify.hint')}
      onClick={async () => {
        if (on) {
          disableNotifications();
          setOn(false);
          return;
        }
        const granted = await enableNotifications();
        setOn(granted);
        if (!granted) toast.error(t('notify.blocked'));
      }}
    >
      {on ? t('notify.on') : t('notify.off')}
    </Button>
  );
}

/** Total speed, active downloads and the quota, kept live by the socket's `stats`. */
export function TasksHeader() {
  const { data: stats } = useStats();
  return (
    <section className="stats-bar" aria-label={t('stats.label')}>
      <div className="stats-speeds">
        <span className="stat" title={t('stats.downSpeedTotal')}>
          <ArrowDownIcon />
          <span className="sr-only">{t('stats.downSpeed')} </span>
          <strong>{formatSpeed(stats?.download_speed ?? 0)}</strong>
        </span>
        <span className="stat" title={t('stats.upSpeedTotal')}>
          <ArrowUpIcon />
          <span className="sr-only">{t('stats.upSpeed')} </span>
          <strong>{formatSpeed(stats?.upload_speed ?? 0)}</strong>
        </span>
        <span className="stat muted">{stats ? t('stats.active', { count: stats.active_count }) : '—'}</span>
      </div>
      <Link href="/files" className="stats-quota quota-link" prefetch={false} title={t('stats.quotaLink')}>
        {stats ? (
          <QuotaBar used={stats.used_space} quota={stats.quota} label={t('stats.storage')} />
        ) : (
          <QuotaBar used={0} quota={0} />
        )}
      </Link>
      <NotificationToggle />
    </section>
  );
}
