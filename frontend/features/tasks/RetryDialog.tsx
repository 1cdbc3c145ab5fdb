'use client';

import { type FormEvent, useEffect, useId, useState } from 'react';
import { Button } from '../../components/Button';
import { Dialog } from '../../components/Dialog';
import { TextField } from '../../components/Field';
import { DownloadIcon, RetryIcon, UploadIcon } from '../../components/Icons';
import { translateDetail } from '../../lib/api-messages';
import { t } from '../../lib/i18n';
import { TORRENT_RETRY_DETAIL, torrentUrl } from '../../lib/retry-api';
import type { RetryRequest } from './useTaskActions';

export interface RetryDialogProps {
  request: RetryRequest | null;
  busy: boolean;
  /** The server's refusal of the last attempt, shown in the dialog. */
  error: string | null;
  onSubmit: (uri?: string) => void;
  onCancel: () => void;
}

/**
 * The two retries that need a word from the user: a new link for a download whose link expired,
 * and a torrent task, which is re-added from the .torrent file the server kept.
 */
export function RetryDialog({ request, busy, error, onSubmit, onCancel }: RetryDialogProps) {
  const [uri, setUri] = useState('');
  const formId = useId();
  const open = request !== null;
  useEffect(() => {
    if (open) setUri('');
  }, [open]);
  const close = busy ? () => {} : onCancel;

  if (request?.mode === 'torrent') {
    return (
      <Dialog
        open={open}
        onClose={close}
        title={t('retry.torrentTitle')}
        description={<p>{translateDetail(TORRENT_RETRY_DETAIL)}</p>}
        footer={
          <>
            <Button onClick={onCancel} disabled={busy}>
              {t('common.cancel')}
            </Button>
            <Button variant="primary" icon={<UploadIcon />} busy={busy} onClick={() => onSubmit()}>
              {t('retry.reupload')}
            </Button>
          </>
        }
      >
        <p className="hint">
          {t('retry.reuploadHint')}{' '}
          <a href={torrentUrl(request.task.id)} download>
            <DownloadIcon /> {t('actions.downloadTorrent')}
          </a>
        </p>
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
      </Dialog>
    );
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(uri);
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      title={t('retry.linkTitle')}
      description={<p>{t('retry.linkHint')}</p>}
      footer={
        <>
          <Button onClick={onCancel} disabled={busy}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" form={formId} variant="primary" icon={<RetryIcon />} busy={busy}>
            {t('actions.retry')}
          </Button>
        </>
      }
    >
      <form id={formId} onSubmit={submit}>
        <TextField
          label={t('retry.newLink')}
          type="text"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          placeholder="https://…"
          hint={
            request ? <span className="break">{t('retry.was', { uri: request.task.uri })}</span> : undefined
          }
          value={uri}
          error={error}
          onChange={(e) => setUri(e.currentTarget.value)}
        />
      </form>
    </Dialog>
  );
}
