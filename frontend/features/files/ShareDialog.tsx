'use client';

import { type FormEvent, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { Dialog } from '../../components/Dialog';
import { SelectField, TextField } from '../../components/Field';
import { CopyIcon } from '../../components/Icons';
import { errorDetail } from '../../lib/api';
import { copyText } from '../../lib/clipboard';
import type { CreateShareBody, FileEntry, Share } from '../../lib/files-api';
import { t } from '../../lib/i18n';
import { absoluteShareUrl, EXPIRY_CHOICES, type ExpiryChoice, expiryToIso, parseMaxDownloads } from './paths';

/** Copies a share's link, saying so in a toast. */
export async function copyShareLink(share: Pick<Share, 'url'>): Promise<void> {
  const ok = await copyText(absoluteShareUrl(share.url, window.location.origin));
  if (ok) toast.success(t('detail.linkCopied'));
  else toast.error(t('shares.copyFailed'));
}

/** Builds the request body of the share form (a sentence when a field is wrong). */
export function shareBody(
  path: string,
  form: { expiry: ExpiryChoice; password: string; maxDownloads: string },
  now: Date = new Date(),
): { body?: CreateShareBody; error?: string } {
  const max = parseMaxDownloads(form.maxDownloads);
  if (max.error) return { error: max.error };
  const body: CreateShareBody = { path };
  const expires = expiryToIso(form.expiry, now);
  if (expires) body.expires_at = expires;
  if (form.password) body.password = form.password;
  if (max.value !== undefined) body.max_downloads = max.value;
  return { body };
}

/**
 * A link to one file or folder that works without an account: an expiry, a password and a
 * maximum number of downloads, all optional. Once created, the link shows with a copy button.
 */
export function ShareDialog({
  entry,
  onClose,
  onCreate,
}: {
  entry: FileEntry;
  onClose: () => void;
  onCreate: (body: CreateShareBody) => Promise<Share>;
}) {
  const [expiry, setExpiry] = useState<ExpiryChoice>('7d');
  const [password, setPassword] = useState('');
  const [maxDownloads, setMaxDownloads] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [maxError, setMaxError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Share | null>(null);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const { body, error: problem } = shareBody(entry.path, { expiry, password, maxDownloads });
    setMaxError(problem ?? null);
    setError(null);
    if (!body) return;
    setBusy(true);
    try {
      setCreated(await onCreate(body));
    } catch (err) {
      setError(errorDetail(err));
    } finally {
      setBusy(false);
    }
  }

  const title = t('shares.title', { name: entry.name });
  if (created) {
    const link = absoluteShareUrl(created.url, window.location.origin);
    return (
      <Dialog
        open
        onClose={onClose}
        title={title}
        description={t('shares.createdHint')}
        footer={
          <>
            <Button icon={<CopyIcon />} onClick={() => void copyShareLink(created)}>
              {t('detail.copyLink')}
            </Button>
            <Button variant="primary" onClick={onClose}>
              {t('tokens.done')}
            </Button>
          </>
        }
      >
        <TextField
          label={t('shares.link')}
          readOnly
          value={link}
          className="input mono"
          onFocus={(e) => e.currentTarget.select()}
        />
      </Dialog>
    );
  }

  return (
    <Dialog
      open
      onClose={busy ? () => {} : onClose}
      title={title}
      description={t('shares.hint')}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" form="share-form" variant="primary" busy={busy}>
            {t('shares.create')}
          </Button>
        </>
      }
    >
      <form id="share-form" className="stack" onSubmit={(e) => void onSubmit(e)} noValidate>
        <SelectField
          label={t('shares.expires')}
          options={EXPIRY_CHOICES.map((c) => ({ ...c, label: t(c.label) }))}
          value={expiry}
          onChange={(e) => setExpiry(e.currentTarget.value as ExpiryChoice)}
        />
        <TextField
          label={t('login.password')}
          type="password"
          autoComplete="new-password"
          hint={t('shares.passwordHint')}
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <TextField
          label={t('shares.max')}
          type="number"
          min={1}
          step={1}
          inputMode="numeric"
          hint={t('shares.maxHint')}
          value={maxDownloads}
          error={maxError}
          onChange={(e) => setMaxDownloads(e.currentTarget.value)}
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}
