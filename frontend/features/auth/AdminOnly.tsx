'use client';

import Link from 'next/link';
import type { ReactNode } from 'react';
import { EmptyState } from '../../components/EmptyState';
import { Spinner } from '../../components/Spinner';
import { useMe } from './useMe';

/** Renders its children for administrators only. */
export function AdminOnly({ children }: { children: ReactNode }) {
  const me = useMe();
  if (me.isLoading) return <Spinner />;
  if (!me.data?.is_admin) {
    return (
      <EmptyState title="Administrators only.">
        <p>
          This page is for administrators. <Link href="/tasks">Back to your tasks</Link>
        </p>
      </EmptyState>
    );
  }
  return <>{children}</>;
}
