'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { TextField } from '../../components/Field';
import { Rich } from '../../components/Rich';
import { Spinner } from '../../components/Spinner';
import { errorDetail } from '../../lib/api';
import { copyText } from '../../lib/clipboard';
import { formatDateTime } from '../../lib/format';
import { t } from '../../lib/i18n';
import {
  type ApiToken,
  type CreatedApiToken,
  createToken,
  listTokens,
  revokeToken,
} from '../../lib/tokens-api';
import { aria2pCommand, type ClientSetup, clientSetup } from './client-setup';

const TOKENS_KEY = ['tokens'] as const;

/** The caller's API tokens: create (secret shown once), list, revoke; and how aria2 clients use one. */
export function TokensSection() {
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: TOKENS_KEY, queryFn: listTokens });
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [setup, setSetup] = useState<ClientSetup | null>(null);
  useEffect(() => setSetup(clientSetup(window.location.origin)), []);

  const create = useMutation({
    mutationFn: (n: string) => createToken(n),
    onSuccess: (token) => {
      setCreated(token);
      setName('');
      void queryClient.invalidateQueries({ queryKey: TOKENS_KEY });
    },
    onError: (err) => setError(errorDetail(err)),
  });
  const revoke = useMutation({
    mutationFn: (id: number) => revokeToken(id),
    onSuccess: (_v, id) => {
      toast.success(t('tokens.revoked'));
      if (created?.id === id) setCreated(null);
      void queryClient.invalidateQueries({ queryKey: TOKENS_KEY });
    },
    onError: (err) => toast.error(errorDetail(err)),
    onSettled: () => setRevoking(null),
  });

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    setError(trimmed ? null : t('tokens.nameMissing'));
    if (trimmed && !create.isPending) create.mutate(trimmed);
  }

  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title" className="card-title">
        {t('tokens.title')}
      </h2>
      <p className="muted">{t('tokens.lead')}</p>
      <form className="stack" onSubmit={onSubmit} noValidate>
        <TextField
          label={t('tokens.name')}
          value={name}
          maxLength={100}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div>
          <Button type="submit" variant="primary" busy={create.isPending}>
            {t('tokens.create')}
          </Button>
        </div>
      </form>
      {created ? (
        <div className="token-secret" role="status" aria-label={t('tokens.new')}>
          <p>
            <strong>{t('tokens.copyNow')}</strong>
          </p>
          <code className="mono break" data-testid="new-token">
            {created.token}
          </code>
          <div>
            <Button
              size="sm"
              onClick={async () =>
                (await copyText(created.token))
                  ? toast.success(t('tokens.copied'))
                  : toast.error(t('tokens.copyFailed'))
              }
            >
              {t('tokens.copy')}
            </Button>
            <Button size="sm" onClick={() => setCreated(null)}>
              {t('tokens.done')}
            </Button>
          </div>
        </div>
      ) : null}
      {tokens.isLoading ? (
        <Spinner label={t('tokens.loading')} />
      ) : tokens.error ? (
        <p className="form-error">{errorDetail(tokens.error)}</p>
      ) : (tokens.data ?? []).length === 0 ? (
        <p className="muted">{t('tokens.none')}</p>
      ) : (
        <ul className="share-list" aria-label={t('tokens.title')}>
          {(tokens.data ?? []).map((token) => (
            <li key={token.id} className="share-row" data-token-id={token.id}>
              <div className="share-main">
                <span className="break">{token.name}</span>
              </div>
              <dl className="share-meta">
                <div>
                  <dt>{t('detail.created')}</dt>
                  <dd>{formatDateTime(token.created_at)}</dd>
                </div>
                <div>
                  <dt>{t('tokens.lastUsed')}</dt>
                  <dd>{token.last_used_at ? formatDateTime(token.last_used_at) : t('common.never')}</dd>
                </div>
              </dl>
              <div className="share-actions">
                <Button
                  size="sm"
                  variant="danger"
                  aria-label={t('tokens.revokeNamed', { name: token.name })}
                  onClick={() => setRevoking(token)}
                >
                  {t('tokens.revoke')}
                </Button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title={t('tokens.revokeTitle')}
        message={t('tokens.revokeMessage', { name: revoking?.name ?? '' })}
        confirmLabel={t('tokens.revoke')}
        danger
        busy={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate(revoking.id)}
        onCancel={() => setRevoking(null)}
      />
      {setup ? <ClientHelp setup={setup} /> : null}
    </section>
  );
}

/** How to point aria2's own clients at this controller. */
export function ClientHelp({ setup }: { setup: ClientSetup }) {
  return (
    <section className="stack" aria-labelledby="clients-title">
      <h3 id="clients-title">{t('tokens.clients')}</h3>
      <dl className="info-grid">
        <div className="info wide">
          <dt>{t('tokens.rpcUrl')}</dt>
          <dd className="mono break">{setup.rpcUrl}</dd>
        </div>
        <div className="info wide">
          <dt>{t('tokens.websocket')}</dt>
          <dd className="mono break">{setup.wsUrl}</dd>
        </div>
        <div className="info">
          <dt>{t('tokens.secret')}</dt>
          <dd>{t('tokens.secretValue')}</dd>
        </div>
      </dl>
      <ul>
        <li>
          <Rich
            text={t('tokens.ariang')}
            parts={{
              name: <strong>AriaNg</strong>,
              host: <code>{setup.host}</code>,
              port: <code>{setup.port}</code>,
              path: <code>/jsonrpc</code>,
              protocol: <code>{setup.secure ? t('tokens.protocolSecure') : t('tokens.protocolPlain')}</code>,
            }}
          />
        </li>
        <li>
          <Rich
            text={t('tokens.extension')}
            parts={{ name: <strong>{t('tokens.extensionName')}</strong>, url: <code>{setup.rpcUrl}</code> }}
          />
        </li>
        <li>
          <Rich
            text={t('tokens.aria2p')}
            parts={{ name: <strong>aria2p</strong>, command: <code>{aria2pCommand(setup)}</code> }}
          />
        </li>
      </ul>
    </section>
  );
}
