'use client';

import { type FormEvent, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { TextField } from '../../components/Field';
import { QuotaBar } from '../../components/QuotaBar';
import { Spinner } from '../../components/Spinner';
import { api, errorDetail } from '../../lib/api';
import { formatDateTime, formatQuota } from '../../lib/format';
import { t } from '../../lib/i18n';
import { useStats } from '../tasks/queries';
import { TokensSection } from '../tokens/TokensSection';
import { useMe } from './useMe';

/** The first problem with a password change, or null. */
export function passwordProblem(current: string, next: string, confirm: string): string | null {
  if (!current) return t('profile.enterCurrent');
  if (next.length < 8) return t('profile.tooShort', { min: 8 });
  if (next !== confirm) return t('profile.noMatch');
  if (next === current) return t('profile.same');
  return null;
}

export function ProfilePage() {
  const me = useMe();
  const stats = useStats();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const problem = passwordProblem(current, next, confirm);
    setError(problem);
    if (problem || busy) return;
    setBusy(true);
    try {
      await api.changePassword(current, next);
      toast.success(t('profile.changed'));
      setCurrent('');
      setNext('');
      setConfirm('');
    } catch (err) {
      setError(errorDetail(err));
    } finally {
      setBusy(false);
    }
  }

  const user = me.data;
  return (
    <div className="profile-page">
      <div className="page-head">
        <h1>{t('nav.profile')}</h1>
      </div>
      <section className="card" aria-labelledby="account-title">
        <h2 id="account-title" className="card-title">
          {t('profile.account')}
        </h2>
        {user ? (
          <dl className="info-grid">
            <div className="info">
              <dt>{t('login.username')}</dt>
              <dd>{user.username}</dd>
            </div>
            <div className="info">
              <dt>{t('profile.role')}</dt>
              <dd>{user.is_admin ? t('roles.admin') : t('roles.user')}</dd>
            </div>
            <div className="info">
              <dt>{t('profile.quota')}</dt>
              <dd>{formatQuota(user.quota)}</dd>
            </div>
            <div className="info">
              <dt>{t('profile.memberSince')}</dt>
              <dd>{formatDateTime(user.created_at)}</dd>
            </div>
            {stats.data ? (
              <div className="info wide">
                <dt>{t('stats.storage')}</dt>
                <dd>
                  <QuotaBar used={stats.data.used_space} quota={stats.data.quota} />
                </dd>
              </div>
            ) : null}
          </dl>
        ) : (
          <Spinner />
        )}
      </section>
      <section className="card narrow" aria-labelledby="password-title">
        <h2 id="password-title" className="card-title">
          {t('profile.changePassword')}
        </h2>
        <form className="stack" onSubmit={onSubmit} noValidate>
          <TextField
            label={t('profile.current')}
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.currentTarget.value)}
          />
          <TextField
            label={t('profile.new')}
            type="password"
            autoComplete="new-password"
            hint={t('profile.minHint', { min: 8 })}
            value={next}
            onChange={(e) => setNext(e.currentTarget.value)}
          />
          <TextField
            label={t('profile.confirm')}
            type="password"
            autoComplete="new-password"
            value={confirm}
            onChange={(e) => setConfirm(e.currentTarget.value)}
          />
          {error ? (
            <p className="form-error" role="alert">
              {error}
            </p>
          ) : null}
          <div>
            <Button type="submit" variant="primary" busy={busy}>
              {t('profile.changePassword')}
            </Button>
          </div>
        </form>
      </section>
      <TokensSection />
    </div>
  );
}
