'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Dialog } from '../../components/Dialog';
import { EmptyState } from '../../components/EmptyState';
import { Checkbox, SelectField, TextField, UnitField } from '../../components/Field';
import { PlusIcon } from '../../components/Icons';
import { Spinner } from '../../components/Spinner';
import { api, errorDetail } from '../../lib/api';
import {
  formatBytes,
  formatDateTime,
  formatQuota,
  sameUnitValue,
  toUnitDraft,
  type UnitDraft,
  unitDraftToBytes,
} from '../../lib/format';
import { t } from '../../lib/i18n';
import type { CreateUserBody, UpdateUserBody, User } from '../../lib/types';
import { useMe } from '../auth/useMe';

export const usersKey = ['users'] as const;
const USERNAME = /^[A-Za-z0-9._-]{1,50}$/;

interface Draft {
  username: string;
  password: string;
  isAdmin: boolean;
  /** Empty = the default quota (new users); unlimited = 0. */
  quota: UnitDraft;
  /** Ask the user to choose their own password at their next sign-in (with a password set here). */
  mustChange: boolean;
  /** The node a new user lives on; empty = the node with the most free space. */
  node: string;
}

/** Checks a draft; the first problem as a sentence, or null. */
export function validateUserDraft(draft: Draft, creating: boolean): string | null {
  if (!USERNAME.test(draft.username)) return t('users.badUsername');
  if (creating && draft.password.length < 8) return t('users.shortPassword', { min: 8 });
  if (!creating && draft.password && draft.password.length < 8) return t('profile.tooShort', { min: 8 });
  const quota = unitDraftToBytes(draft.quota, 'size');
  if (quota === 'invalid' || (!creating && quota === 'empty')) return t('users.badQuota');
  return null;
}

/** The download daemons' ids (one unless ARIA2_NODES names several). */
function useNodeIds(): string[] {
  const health = useQuery({ queryKey: ['health'], queryFn: api.health });
  return health.data?.nodes.map((n) => n.id) ?? [];
}

function UserDialog({ user, open, onClose }: { user: User | null; open: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const creating = user === null;
  const nodeIds = useNodeIds();
  const me = useMe().data;
  const [draft, setDraft] = useState<Draft>(() => ({
    username: user?.username ?? '',
    password: '',
    isAdmin: user?.is_admin ?? false,
    quota: toUnitDraft(user ? user.quota : null, 'size', true),
    node: '',
    mustChange: true,
  }));
  const [initialQuota] = useState(draft.quota);
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: async (): Promise<User> => {
      const bytes = unitDraftToBytes(draft.quota, 'size');
      const quota = typeof bytes === 'number' ? bytes : undefined;
      if (creating) {
        const body: CreateUserBody = {
          username: draft.username,
          password: draft.password,
          is_admin: draft.isAdmin,
        };
        if (quota !== undefined) body.quota = quota;
        if (draft.node) body.node = draft.node;
        if (draft.mustChange) body.must_change_password = true;
        return api.createUser(body);
      }
      const body: UpdateUserBody = {};
      if (draft.username !== user.username) body.username = draft.username;
      if (draft.password) body.password = draft.password;
      // Admins choose their own password; anyone else may be asked to replace the one set here.
      if (draft.password && draft.mustChange && user.id !== me?.id) body.must_change_password = true;
      if (draft.isAdmin !== user.is_admin) body.is_admin = draft.isAdmin;
      if (quota !== undefined && !sameUnitValue(draft.quota, initialQuota, 'size')) body.quota = quota;
      return api.updateUser(user.id, body);
    },
    onSuccess: (saved) => {
      qc.setQueryData<User[]>(usersKey, (old) =>
        old ? (creating ? [...old, saved] : old.map((u) => (u.id === saved.id ? saved : u))) : old,
      );
      void qc.invalidateQueries({ queryKey: usersKey });
      toast.success(
        creating ? t('users.created', { name: saved.username }) : t('users.saved', { name: saved.username }),
      );
      onClose();
    },
    onError: (err) => setError(errorDetail(err)),
  });

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    const problem = validateUserDraft(draft, creating);
    setError(problem);
    if (!problem) save.mutate();
  }

  const formId = creating ? 'user-create' : `user-edit-${user.id}`;
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={creating ? t('users.new') : t('users.editNamed', { name: user.username })}
      footer={
        <>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" form={formId} variant="primary" busy={save.isPending}>
            {creating ? t('users.create') : t('common.save')}
          </Button>
        </>
      }
    >
      <form id={formId} className="stack" onSubmit={onSubmit} noValidate>
        <TextField
          label={t('login.username')}
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={draft.username}
          onChange={(e) => setDraft({ ...draft, username: e.currentTarget.value })}
        />
        <TextField
          label={creating ? t('login.password') : t('profile.new')}
          type="password"
          autoComplete="new-password"
          hint={creating ? t('profile.minHint', { min: 8 }) : t('users.keepPassword')}
          required={creating}
          value={draft.password}
          onChange={(e) => setDraft({ ...draft, password: e.currentTarget.value })}
        />
        {creating || (draft.password && user.id !== me?.id) ? (
          <Checkbox
            label={t('users.mustChange')}
            checked={draft.mustChange}
            onChange={(e) => setDraft({ ...draft, mustChange: e.currentTarget.checked })}
          />
        ) : null}
        <UnitField
          label={t('users.quotaGb')}
          kind="size"
          unlimitable
          hint={creating ? t('users.quotaHintNew') : t('users.quotaHint')}
          value={draft.quota}
          onChange={(quota) => setDraft({ ...draft, quota })}
        />
        {creating && nodeIds.length > 1 ? (
          <SelectField
            label={t('users.node')}
            hint={t('users.nodeHint')}
            value={draft.node}
            options={[
              { value: '', label: t('users.nodeAuto') },
              ...nodeIds.map((id) => ({ value: id, label: id })),
            ]}
            onChange={(e) => setDraft({ ...draft, node: e.currentTarget.value })}
          />
        ) : null}
        <Checkbox
          label={t('roles.admin')}
          checked={draft.isAdmin}
          onChange={(e) => setDraft({ ...draft, isAdmin: e.currentTarget.checked })}
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

/** The space a user's folder fills, and how much of the quota that is. */
export function usedText(user: User): string {
  const used = formatBytes(user.used_space);
  if (user.quota <= 0) return used;
  return `${used} (${Math.min(999, Math.round((user.used_space / user.quota) * 100))}%)`;
}

export function UsersPage() {
  const qc = useQueryClient();
  const me = useMe();
  const severalNodes = useNodeIds().length > 1;
  const users = useQuery({ queryKey: usersKey, queryFn: api.listUsers });
  const [editing, setEditing] = useState<User | null | undefined>(undefined);
  const [deleting, setDeleting] = useState<User | null>(null);
  const remove = useMutation({
    mutationFn: ({ user, deleteFiles }: { user: User; deleteFiles: boolean }) =>
      api.deleteUser(user.id, deleteFiles),
    onSuccess: (_, { user, deleteFiles }) => {
      qc.setQueryData<User[]>(usersKey, (old) => old?.filter((u) => u.id !== user.id));
      toast.success(
        deleteFiles
          ? t('users.deletedWithFiles', { name: user.username })
          : t('users.deleted', { name: user.username }),
      );
      setDeleting(null);
    },
    onError: (err) => toast.error(t('users.deleteFailed', { detail: errorDetail(err) })),
  });

  return (
    <div className="users-page">
      <div className="page-head">
        <h1>{t('nav.users')}</h1>
        <Button variant="primary" icon={<PlusIcon />} onClick={() => setEditing(null)}>
          {t('users.new')}
        </Button>
      </div>
      {/* A table on a wide screen; on a phone each user is a card (globals.css: .users-table). */}
      <section className="card users-card">
        {users.isLoading ? (
          <Spinner label={t('users.loading')} />
        ) : users.error ? (
          <EmptyState title={t('users.loadFailed')}>
            <p>{errorDetail(users.error)}</p>
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table users-table">
              <caption className="sr-only">{t('nav.users')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('login.username')}</th>
                  <th scope="col">{t('profile.role')}</th>
                  <th scope="col" className="num">
                    {t('users.used')}
                  </th>
                  <th scope="col" className="num">
                    {t('profile.quota')}
                  </th>
                  {severalNodes ? <th scope="col">{t('users.node')}</th> : null}
                  <th scope="col">{t('detail.created')}</th>
                  <th scope="col">
                    <span className="sr-only">{t('users.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {(users.data ?? []).map((u) => (
                  <tr key={u.id} data-user-id={u.id}>
                    <td className="user-name">
                      <strong>{u.username}</strong>
                      {u.id === me.data?.id ? <span className="muted small"> {t('users.you')}</span> : null}
                    </td>
                    <td data-label={t('profile.role')}>
                      {u.is_admin ? (
                        <span className="badge badge-admin">{t('users.adminBadge')}</span>
                      ) : (
                        t('roles.user')
                      )}
                    </td>
                    <td className="num" data-label={t('users.used')}>
                      {usedText(u)}
                    </td>
                    <td className="num" data-label={t('profile.quota')}>
                      {formatQuota(u.quota)}
                    </td>
                    {severalNodes ? (
                      <td data-testid="user-node" data-label={t('users.node')}>
                        {u.node}
                      </td>
                    ) : null}
                    <td data-label={t('detail.created')}>{formatDateTime(u.created_at)}</td>
                    <td className="row-actions">
                      <Button size="sm" onClick={() => setEditing(u)}>
                        {t('users.edit')}
                      </Button>
                      <Button
                        size="sm"
                        variant="danger"
                        onClick={() => setDeleting(u)}
                        disabled={u.id === me.data?.id}
                        title={u.id === me.data?.id ? t('users.cannotDeleteSelf') : undefined}
                      >
                        {t('actions.delete')}
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {editing !== undefined ? (
        <UserDialog key={editing?.id ?? 'new'} user={editing} open onClose={() => setEditing(undefined)} />
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title={t('users.deleteTitle', { name: deleting?.username ?? '' })}
        message={t('users.deleteMessage')}
        confirmLabel={t('actions.delete')}
        danger
        busy={remove.isPending}
        checkboxLabel={t('actions.alsoDeleteFiles')}
        onConfirm={(deleteFiles) => deleting && remove.mutate({ user: deleting, deleteFiles })}
        onCancel={() => setDeleting(null)}
      />
    </div>
  );
}
