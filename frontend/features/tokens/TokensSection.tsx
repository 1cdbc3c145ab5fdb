'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { TextField } from '../../components/Field';
import { Spinner } from '../../components/Spinner';
import { errorDetail } from '../../lib/api';
import { copyText } from '../../lib/clipboard';
import { formatDateTime } from '../../lib/format';
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
      toast.success('Token revoked.');
      if (created?.id === id) setCreated(null);
      void queryClient.invalidateQueries({ queryKey: TOKENS_KEY });
    },
    onError: (err) => toast.error(errorDetail(err)),
    onSettled: () => setRevoking(null),
  });

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    setError(trimmed ? null : 'Give the token a name, e.g. "AriaNg on my laptop".');
    if (trimmed && !create.isPending) create.mutate(trimmed);
  }

  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title" className="card-title">
        API tokens
      </h2>
      <p className="muted">
        A token lets a script or an aria2 client (AriaNg, a browser extension, aria2p) act as you. Treat it
        like a password.
      </p>
      <form className="stack" onSubmit={onSubmit} noValidate>
        <TextField
          label="Token name"
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
            Create token
          </Button>
        </div>
      </form>
      {created ? (
        <div className="token-secret" role="status" aria-label="New token">
          <p>
            <strong>Copy this token now: it is shown only once.</strong>
          </p>
          <code className="mono break" data-testid="new-token">
            {created.token}
          </code>
          <div>
            <Button
              size="sm"
              onClick={async () =>
                (await copyText(created.token)) ? toast.success('Token copied.') : toast.error('Copy failed.')
              }
            >
              Copy token
            </Button>
            <Button size="sm" onClick={() => setCreated(null)}>
              Done
            </Button>
          </div>
        </div>
      ) : null}
      {tokens.isLoading ? (
        <Spinner label="Loading your tokens" />
      ) : tokens.error ? (
        <p className="form-error">{errorDetail(tokens.error)}</p>
      ) : (tokens.data ?? []).length === 0 ? (
        <p className="muted">No tokens yet.</p>
      ) : (
        <ul className="share-list" aria-label="API tokens">
          {(tokens.data ?? []).map((t) => (
            <li key={t.id} className="share-row" data-token-id={t.id}>
              <div className="share-main">
                <span className="break">{t.name}</span>
              </div>
              <dl className="share-meta">
                <div>
                  <dt>Created</dt>
                  <dd>{formatDateTime(t.created_at)}</dd>
                </div>
                <div>
                  <dt>Last used</dt>
                  <dd>{t.last_used_at ? formatDateTime(t.last_used_at) : 'Never'}</dd>
                </div>
              </dl>
              <div className="share-actions">
                <Button
                  size="sm"
                  variant="danger"
                  aria-label={`Revoke ${t.name}`}
                  onClick={() => setRevoking(t)}
                >
                  Revoke
                </Button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this token?"
        message={`Anything using "${revoking?.name ?? ''}" stops working at once.`}
        confirmLabel="Revoke"
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
      <h3 id="clients-title">Use with aria2 clients</h3>
      <dl className="info-grid">
        <div className="info wide">
          <dt>RPC URL</dt>
          <dd className="mono break">{setup.rpcUrl}</dd>
        </div>
        <div className="info wide">
          <dt>WebSocket</dt>
          <dd className="mono break">{setup.wsUrl}</dd>
        </div>
        <div className="info">
          <dt>Secret</dt>
          <dd>one of your tokens</dd>
        </div>
      </dl>
      <ul>
        <li>
          <strong>AriaNg</strong>: AriaNg Settings → RPC: address <code>{setup.host}</code>, port{' '}
          <code>{setup.port}</code>, path <code>/jsonrpc</code>, protocol{' '}
          <code>{setup.secure ? 'HTTPS or WebSocket (Secure)' : 'HTTP or WebSocket'}</code>, secret token:
          your token.
        </li>
        <li>
          <strong>Browser extension</strong> (Aria2 Explorer, aria2 integration and the like): RPC URL{' '}
          <code>{setup.rpcUrl}</code>, secret: your token.
        </li>
        <li>
          <strong>aria2p</strong>: <code>{aria2pCommand(setup)}</code>
        </li>
      </ul>
    </section>
  );
}
