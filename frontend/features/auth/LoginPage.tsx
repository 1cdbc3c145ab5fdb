'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Button } from '../../components/Button';
import { TextField } from '../../components/Field';
import { ApiError, api, errorDetail } from '../../lib/api';
import { t } from '../../lib/i18n';
import { safeNextPath } from '../../lib/navigation';
import { meKey } from '../tasks/cache';

export function LoginPage() {
  const router = useRouter();
  const qc = useQueryClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const userRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    userRef.current?.focus();
  }, []);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    if (!username.trim() || !password) {
      setError(t('login.enterBoth'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const user = await api.login(username.trim(), password);
      qc.clear();
      qc.setQueryData(meKey, user);
      const next = safeNextPath(new URLSearchParams(window.location.search).get('next'));
      router.replace(next);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError(t('login.wrong'));
      else setError(errorDetail(err));
      setBusy(false);
    }
  }

  return (
    <div className="login-card">
      <h1 className="login-title">
        <svg width="28" height="28" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path
            d="M12 3v12M7 10l5 5 5-5M5 21h14"
            fill="none"
            stroke="currentColor"
            strokeWidth="2.2"
            strokeLinecap="round"
            strokeLinejoin="round"
          />
        </svg>
        {t('app.name')}
      </h1>
      <p className="muted">{t('login.lead')}</p>
      <form onSubmit={onSubmit} className="stack" noValidate>
        <TextField
          ref={userRef}
          id="username"
          name="username"
          label={t('login.username')}
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={username}
          onChange={(e) => setUsername(e.currentTarget.value)}
        />
        <TextField
          id="password"
          name="password"
          type="password"
          label={t('login.password')}
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <Button type="submit" variant="primary" busy={busy}>
          {t('login.title')}
        </Button>
      </form>
    </div>
  );
}
