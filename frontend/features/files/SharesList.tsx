'use client';

import Link from 'next/link';
import { Button } from '../../components/Button';
import { EmptyState } from '../../components/EmptyState';
import { CopyIcon } from '../../components/Icons';
import { Spinner } from '../../components/Spinner';
import { errorDetail } from '../../lib/api';
import type { Share } from '../../lib/files-api';
import { formatDateTime } from '../../lib/format';
import { filesHref, parentOf } from './paths';
import { copyShareLink } from './ShareDialog';

export function downloadsText(share: Pick<Share, 'downloads' | 'max_downloads'>): string {
  return share.max_downloads === null
    ? String(share.downloads)
    : `${share.downloads} of ${share.max_downloads}`;
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
      <h2 id="shares-title">Shared links</h2>
      {loading ? (
        <Spinner label="Loading your links" />
      ) : error ? (
        <EmptyState title="Your links could not be loaded.">
          <p>{errorDetail(error)}</p>
        </EmptyState>
      ) : shares.length === 0 ? (
        <p className="muted">No shared links. Use Share on a file or folder to make one.</p>
      ) : (
        <ul className="share-list" aria-label="Shared links">
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
                  <dt>Expires</dt>
                  <dd>{s.expires_at ? formatDateTime(s.expires_at) : 'Never'}</dd>
                </div>
                <div>
                  <dt>Downloads</dt>
                  <dd>{downloadsText(s)}</dd>
                </div>
                <div>
                  <dt>Password</dt>
                  <dd>{s.has_password ? 'Yes' : 'No'}</dd>
                </div>
              </dl>
              <div className="share-actions">
                <Button
                  size="sm"
                  icon={<CopyIcon />}
                  aria-label={`Copy the link to ${s.path}`}
                  onClick={() => void copyShareLink(s)}
                >
                  Copy link
                </Button>
                <Button
                  size="sm"
                  variant="danger"
                  busy={revoking === s.id}
                  aria-label={`Revoke the link to ${s.path}`}
                  onClick={() => onRevoke(s)}
                >
                  Revoke
                </Button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
