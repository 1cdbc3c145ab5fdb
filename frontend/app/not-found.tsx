'use client';

import Link from 'next/link';
import { t } from '../lib/i18n';

export default function NotFound() {
  return (
    <div className="empty">
      <p className="empty-title">{t('notFound.title')}</p>
      <p>
        <Link href="/tasks">{t('notFound.link')}</Link>
      </p>
    </div>
  );
}
