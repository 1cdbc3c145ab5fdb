'use client';

import Link from 'next/link';
import type { ReactNode } from 'react';
import { EmptyState } from '../../components/EmptyState';
import { Spinner } from '../../components/Spinner';
import { t } from '../../lib/i18n';
import { useMe } from './useMe';

/** Renders its children for administrators only. */
export function AdminOnly({ children }: { children: ReactNode }) {
  const me = useMe();
  if (me.isLoading) return <Spinner />;
  if (!me.data?.is_admin) {
    return (
      <EmptyState title={t('adminOnly.title')}>
        <p>
          {t('adminOnly.text')} <Link href="/tasks">{t('adminOnly.back')}</Link>
        </p>
      </EmptyState>
    );
  }
  return <>{children}</>;
}
