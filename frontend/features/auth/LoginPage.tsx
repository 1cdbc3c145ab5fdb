'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Button } from '../../components/Button';
import { TextField } from '../../components/Field';
import { Spinner } from '../../components/Spinner';
import { ApiError, api, errorDetail } from '../../lib/api';
import { t } from '../../lib/i18n';
import { safeNextPath } from '../../lib/navigation';
import { meKey } from '../tasks/cache';
import { ChoosePasswordForm } from './ChoosePassword';
import { useMe } from './useMe';

/** Where a signed-in visitor goes: the `next` of the address, or the Tasks page. */
function nextPath(): string {
  return safeNextPath(new URLSearchParams(window.location.search).get('next'));
}

export function LoginPage() {
  const router = useRouter();
  const qc = useQueryClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const userRef = useRef<HTMLInputElement>(null);
  // A session the browser already holds (a 401 here only means "not signed in").
  const me = useMe();
  /** The password just typed, when the account must choose its own before going on. */
  const [chosenFor, setChosenFor] = useState<string | null>(null);
  const signedIn = me.data && !me.data.must_change_password && chosenFor === null;

  useEffect(() => {
    if (signedIn) router.replace(nextPath());
  }, [signedIn, router]);

  const showForm = !me.isLoading && !me.data && chosenFor === null;
  useEffect(() => {
    if (showForm) userRef.current?.focus();
  }, [showForm]);

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
      if (user.must_change_password) {
        setChosenFor(password);
        setBusy(false);
      } else router.replace(nextPath());
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError(t('login.wrong'));
      else setError(errorDetail(err));
      setBusy(false);
    }
  }

  if (chosenFor !== null || me.data?.must_change_password)
    return (
      <div className="login-card">
        <ChoosePasswordForm knownCurrent={chosenFor ?? undefined} onDone={() => router.replace(nextPath())} />
      </div>
    );
  if (!showForm)
    return (
      <div className="login-card">
        <Spinner label={t('login.checking')} />
      </div>
    );

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
