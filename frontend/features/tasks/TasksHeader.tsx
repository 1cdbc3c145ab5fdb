'use client';

import Link from 'next/link';
import { useEffect, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { ArrowDownIcon, ArrowUpIcon, BellIcon } from '../../components/Icons';
import { QuotaBar } from '../../components/QuotaBar';
import { formatSpeed } from '../../lib/format';
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
      title="Show a browser notification when a download completes or fails"
      onClick={async () => {
        if (on) {
          disableNotifications();
          setOn(false);
          return;
        }
        const granted = await enableNotifications();
        setOn(granted);
        if (!granted) toast.error('Notifications are blocked for this site in the browser settings.');
      }}
    >
      {on ? 'Notifications on' : 'Notify me'}
    </Button>
  );
}

/** Total speed, active downloads and the quota, kept live by the socket's `stats`. */
export function TasksHeader() {
  const { data: stats } = useStats();
  return (
    <section className="stats-bar" aria-label="Your downloads">
      <div className="stats-speeds">
        <span className="stat" title="Total download speed">
          <ArrowDownIcon />
          <span className="sr-only">Download speed </span>
          <strong>{formatSpeed(stats?.download_speed ?? 0)}</strong>
        </span>
        <span className="stat" title="Total upload speed">
          <ArrowUpIcon />
          <span className="sr-only">Upload speed </span>
          <strong>{formatSpeed(stats?.upload_speed ?? 0)}</strong>
        </span>
        <span className="stat muted">{stats ? `${stats.active_count} active` : '—'}</span>
      </div>
      <Link
        href="/files"
        className="stats-quota quota-link"
        prefetch={false}
        title="See and manage what fills your storage on the Files page"
      >
        {stats ? (
          <QuotaBar used={stats.used_space} quota={stats.quota} label="Storage" />
        ) : (
          <QuotaBar used={0} quota={0} />
        )}
      </Link>
      <NotificationToggle />
    </section>
  );
}
