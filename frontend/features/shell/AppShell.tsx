'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { type ReactNode, useEffect, useState } from 'react';
import { MenuIcon } from '../../components/Icons';
import { api } from '../../lib/api';
import { t } from '../../lib/i18n';
import { FirstPasswordGate } from '../auth/ChoosePassword';
import { useMe } from '../auth/useMe';
import { LanguageSwitch } from './LanguageSwitch';
import { LiveSync, useLiveState } from './live-sync';
import { ShortcutSheet } from './ShortcutSheet';
import { ThemeSwitch } from './ThemeSwitch';

const LINKS: readonly { href: string; label: string; admin?: boolean }[] = [
  { href: '/tasks', label: 'nav.tasks' },
  { href: '/history', label: 'nav.history' },
  { href: '/files', label: 'nav.files' },
  { href: '/users', label: 'nav.users', admin: true },
  { href: '/settings', label: 'nav.settings', admin: true },
  { href: '/profile', label: 'nav.profile' },
];

function normalize(pathname: string): string {
  const p = pathname.replace(/\.html$/, '').replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

function LiveIndicator() {
  const state = useLiveState();
  const label =
    state === 'open'
      ? t('live.open')
      : state === 'closed'
        ? t('live.closed')
        : state === 'connecting'
          ? t('live.connecting')
          : t('live.reconnecting');
  return (
    <span className={`live live-${state}`} title={t('live.title', { state: label })}>
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
  // The phone's menu (navigation and the header's settings); closed again on every page change.
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    if (pathname) setMenuOpen(false);
  }, [pathname]);
  // The export's <title> is English; the page's own language names the tab.
  useEffect(() => {
    const key =
      pathname === '/tasks/detail'
        ? 'detail.title'
        : isLogin
          ? 'login.title'
          : LINKS.find((l) => l.href === pathname)?.label;
    if (key) document.title = `${t(key)} · ${t('app.name')}`;
  }, [pathname, isLogin]);

  if (isLogin)
    return (
      <main className="page page-login">
        <div className="login-lang">
          <LanguageSwitch />
          <ThemeSwitch />
        </div>
        {children}
      </main>
    );

  const current = `/${pathname.split('/')[1] ?? ''}`;
  return (
    <LiveSync enabled={Boolean(user)}>
      <a className="skip-link" href="#main">
        {t('nav.skip')}
      </a>
      <header className={`topbar${menuOpen ? ' is-open' : ''}`}>
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
          <span>{t('app.name')}</span>
        </Link>
        <div className="topbar-quick">
          <LiveIndicator />
          <ShortcutSheet />
          <button
            type="button"
            className="icon-btn menu-toggle"
            aria-expanded={menuOpen}
            aria-controls="topbar-menu"
            aria-label={t('shell.menu')}
            title={t('shell.menu')}
            onClick={() => setMenuOpen((o) => !o)}
          >
            <MenuIcon />
          </button>
        </div>
        {/* A phone shows this behind the menu button; a wider screen lays it out in the bar itself. */}
        <div className="topbar-menu" id="topbar-menu">
          <nav aria-label={t('nav.main')} className="nav">
            <ul>
              {LINKS.filter((l) => !l.admin || user?.is_admin).map((l) => (
                <li key={l.href}>
                  <Link href={l.href} aria-current={current === l.href ? 'page' : undefined}>
                    {t(l.label)}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="topbar-end">
            <LanguageSwitch />
            <ThemeSwitch />
            {user ? (
              <span className="whoami" title={user.is_admin ? t('roles.admin') : t('roles.user')}>
                {user.username}
              </span>
            ) : null}
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              onClick={() => void signOut(() => qc.clear())}
            >
              {t('nav.signOut')}
            </button>
          </div>
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <FirstPasswordGate>{children}</FirstPasswordGate>
      </main>
    </LiveSync>
  );
}
