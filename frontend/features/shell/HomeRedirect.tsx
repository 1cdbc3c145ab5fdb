'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { t } from '../../lib/i18n';

/** `/` is the tasks page. */
export function HomeRedirect() {
  const router = useRouter();
  useEffect(() => {
    router.replace('/tasks');
  }, [router]);
  return (
    <p className="muted">
      {t('home.opening')} <Link href="/tasks">{t('home.yourTasks')}</Link>…
    </p>
  );
}
