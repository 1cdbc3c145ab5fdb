'use client';

import Link from 'next/link';
import { Button } from '../../components/Button';
import { EmptyState } from '../../components/EmptyState';
import { CopyIcon } from '../../components/Icons';
import { Spinner } from '../../components/Spinner';
import { errorDetail } from '../../lib/api';
import type { Share } from '../../lib/files-api';
import { formatDateTime } from '../../lib/format';
import { t } from '../../lib/i18n';
import { filesHref, parentOf } from './paths';
import { copyShareLink } from './ShareDialog';

export function downloadsText(share: Pick<Share, 'downloads' | 'max_downloads'>): string {
  return share.max_downloads === null
    ? String(share.downloads)
    : t('shares.downloadsOf', { count: share.downloads, max: share.max_downloads });
}

/** The caller's shared links, each with copy and revoke. */
export function SharesList({
  shares,
  loading,
  error,
  revoking,
  onRevoke,
}: {
  shares: readonly Share[];
  loading: boolean;
  error: unknown;
  revoking: number | null;
  onRevoke: (share: Share) => void;
}) {
  return (
    <section className="card" aria-labelledby="shares-title">
      <h2 id="shares-title">{t('shares.listTitle')}</h2>
      {loading ? (
        <Spinner label={t('shares.loading')} />
      ) : error ? (
        <EmptyState title={t('shares.loadFailed')}>
          <p>{errorDetail(error)}</p>
        </EmptyState>
      ) : shares.length === 0 ? (
        <p className="muted">{t('shares.none')}</p>
      ) : (
        <ul className="share-list" aria-label={t('shares.listTitle')}>
          {shares.map((s) => (
            <li key={s.id} className="share-row" data-share-id={s.id}>
              <div className="share-main">
                <Link href={filesHref(parentOf(s.path))} className="share-path break" prefetch={false}>
                  {s.path}
                </Link>
                <span className="mono small muted break">{s.url}</span>
              </div>
              <dl className="share-meta">
                <div>
                  <dt>{t('shares.expires')}</dt>
                  <dd>{s.expires_at ? formatDateTime(s.expires_at) : t('common.never')}</dd>
                </div>
                <div>
                  <dt>{t('shares.downloads')}</dt>
                  <dd>{downloadsText(s)}</dd>
                </div>
                <div>
                  <dt>{t('login.password')}</dt>
                  <dd>{s.has_password ? t('common.yes') : t('common.no')}</dd>
                </div>
              </dl>
              <div className="share-actions">
                <Button
                  size="sm"
                  icon={<CopyIcon />}
                  aria-label={t('shares.copyNamed', { path: s.path })}
                  onClick={() => void copyShareLink(s)}
                >
                  {t('detail.copyLink')}
                </Button>
                <Button
                  size="sm"
                  variant="danger"
                  busy={revoking === s.id}
                  aria-label={t('shares.revokeNamed', { path: s.path })}
                  onClick={() => onRevoke(s)}
                >
                  {t('tokens.revoke')}
                </Button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
