'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { api } from '../../lib/api';
import { useMe } from '../auth/useMe';
import { LiveSync, useLiveState } from './live-sync';

const LINKS: readonly { href: string; label: string; admin?: boolean }[] = [
  { href: '/tasks', label: 'Tasks' },
  { href: '/history', label: 'History' },
  { href: '/files', label: 'Files' },
  { href: '/users', label: 'Users', admin: true },
  { href: '/settings', label: 'Settings', admin: true },
  { href: '/profile', label: 'Profile' },
];

function normalize(pathname: string): string {
  const p = pathname.replace(/\.html$/, '').replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

function LiveIndicator() {
  const state = useLiveState();
  const label =
    state === 'open'
      ? 'Live'
      : state === 'closed'
        ? 'Offline'
        : state === 'connecting'
          ? 'Connecting'
          : 'Reconnecting';
  return (
    <span className={`live live-${state}`} title={`Live updates: ${label}`}>
      <span className="live-dot" aria-hidden="true" />
      <span className="live-text">{label}</span>
    </span>
  );
}

async function signOut(clear: () => void) {
  try {
    await api.logout();
  } catch {
    // signed out either way
  }
  clear();
  window.location.assign('/login');
}

/** The page frame: navigation (admin pages only for admins), live updates, and the page. */
export function AppShell({ children }: { children: ReactNode }) {
  const pathname = normalize(usePathname() ?? '/');
  const isLogin = pathname === '/login';
  const qc = useQueryClient();
  const me = useMe(!isLogin);
  const user = me.data;

  if (isLogin) return <main className="page page-login">{children}</main>;

  const current = `/${pathname.split('/')[1] ?? ''}`;
  return (
    <LiveSync enabled={Boolean(user)}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/tasks" className="brand">
          <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <path
              d="M12 3v12M7 10l5 5 5-5M5 21h14"
              fill="none"
              stroke="currentColor"
              strokeWidth="2.2"
              strokeLinecap="round"
              strokeLinejoin="round"
            />
          </svg>
          <span>aria2 controller</span>
        </Link>
        <nav aria-label="Main" className="nav">
          <ul>
            {LINKS.filter((l) => !l.admin || user?.is_admin).map((l) => (
              <li key={l.href}>
                <Link href={l.href} aria-current={current === l.href ? 'page' : undefined}>
                  {l.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-end">
          <LiveIndicator />
          {user ? (
            <span className="whoami" title={user.is_admin ? 'Administrator' : 'User'}>
              {user.username}
            </span>
          ) : null}
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            onClick={() => void signOut(() => qc.clear())}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        {children}
      </main>
    </LiveSync>
  );
}
