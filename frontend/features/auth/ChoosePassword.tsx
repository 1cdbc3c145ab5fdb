'use client';

import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { TextField } from '../../components/Field';
import { api, errorDetail } from '../../lib/api';
import { t } from '../../lib/i18n';
import type { User } from '../../lib/types';
import { meKey } from '../tasks/cache';
import { passwordProblem } from './ProfilePage';
import { useMe } from './useMe';

/**
 * Asks a user who signs in with a password chosen for them (generated, or set by an admin) for their
 * own. `knownCurrent` is the password just typed at sign-in, so it is not asked twice.
 */
export function ChoosePasswordForm({ knownCurrent, onDone }: { knownCurrent?: string; onDone: () => void }) {
  const qc = useQueryClient();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const old = knownCurrent ?? current;
    const problem = passwordProblem(old, next, confirm);
    setError(problem);
    if (problem || busy) return;
    setBusy(true);
    try {
      await api.changePassword(old, next);
      qc.setQueryData<User>(meKey, (me) => (me ? { ...me, must_change_password: false } : me));
      toast.success(t('firstPassword.changed'));
      onDone();
    } catch (err) {
      setError(errorDetail(err));
      setBusy(false);
    }
  }

  return (
    <section className="card stack" aria-labelledby="first-password-title">
      <h1 id="first-password-title" className="card-title">
        {t('firstPassword.title')}
      </h1>
      <p className="muted">{t('firstPassword.lead')}</p>
      <form className="stack" onSubmit={(e) => void onSubmit(e)} noValidate>
        {knownCurrent === undefined ? (
          <TextField
            label={t('profile.current')}
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(e) => setCurrent(e.currentTarget.value)}
          />
        ) : null}
        <TextField
          label={t('profile.new')}
          type="password"
          autoComplete="new-password"
          hint={t('profile.minHint', { min: 8 })}
          required
          value={next}
          onChange={(e) => setNext(e.currentTarget.value)}
        />
        <TextField
          label={t('profile.confirm')}
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          onChange={(e) => setConfirm(e.currentTarget.value)}
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <Button type="submit" variant="primary" busy={busy}>
          {t('firstPassword.submit')}
        </Button>
      </form>
    </section>
  );
}

/** Shows the pages only once the signed-in user has a password of their own. */
export function FirstPasswordGate({ children }: { children: ReactNode }) {
  const me = useMe();
  if (me.data?.must_change_password) return <ChoosePasswordForm onDone={() => undefined} />;
  return <>{children}</>;
}
