'use client';

import { MAX_TORRENT_BYTES, MAX_URIS_PER_BATCH } from '@rules';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useCallback, useId, useRef, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { TextAreaField, TextField, UnitField } from '../../components/Field';
import { PlusIcon, UploadIcon } from '../../components/Icons';
import { errorDetail } from '../../lib/api';
import { translateDetail } from '../../lib/api-messages';
import { fileToBase64, isTorrentFile } from '../../lib/base64';
import { toUnitDraft, type UnitDraft, unitDraftToBytes } from '../../lib/format';
import { t } from '../../lib/i18n';
import {
  type AddExtras,
  createTasksWith,
  createTaskWith,
  DUPLICATE_DETAIL,
  duplicateTaskId,
  type TorrentExtras,
  uploadTorrentWith,
} from '../../lib/retry-api';
import { readTorrentFile, type TorrentInfo } from '../../lib/torrent-file';
import type { Task, TaskOptions } from '../../lib/types';
import { outageReason, useOutage } from '../shell/live-sync';
import { upsertTask, upsertTasks } from './cache';
import { DuplicateNotice } from './DuplicateNotice';
import { taskTitle } from './TaskRow';

// The server's limits: a larger file is refused, a longer list is sent in chunks.
const BATCH_LIMIT = MAX_URIS_PER_BATCH;

export interface OptionsDraft {
  out: string;
  split: string;
  connections: string;
  /** The download speed limit (bytes per second once sent); empty = none set. */
  limit: UnitDraft;
  referer: string;
  userAgent: string;
  headers: string;
  checksum: string;
}

export const EMPTY_OPTIONS: OptionsDraft = {
  out: '',
  split: '',
  connections: '',
  limit: toUnitDraft(null, 'speed'),
  referer: '',
  userAgent: '',
  headers: '',
  checksum: '',
};

/** The aria2 options of the form, only those filled in (undefined when none). */
export function toTaskOptions(draft: OptionsDraft): TaskOptions | undefined {
  const o: TaskOptions = {};
  if (draft.out.trim()) o.out = draft.out.trim();
  if (draft.split.trim()) o.split = Number(draft.split);
  if (draft.connections.trim()) o['max-connection-per-server'] = Number(draft.connections);
  const limit = unitDraftToBytes(draft.limit, 'speed');
  if (typeof limit === 'number') o['max-download-limit'] = String(limit);
  if (draft.referer.trim()) o.referer = draft.referer.trim();
  if (draft.userAgent.trim()) o['user-agent'] = draft.userAgent.trim();
  const headers = draft.headers
    .split('\n')
    .map((h) => h.trim())
    .filter(Boolean);
  if (headers.length) o.header = headers;
  if (draft.checksum.trim()) o.checksum = draft.checksum.trim();
  return Object.keys(o).length ? o : undefined;
}

/** Splits pasted text into URIs: one per line, blanks and duplicates dropped. */
export function parseUriLines(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const uri = line.trim();
    if (!uri || uri.startsWith('#') || seen.has(uri)) continue;
    seen.add(uri);
    out.push(uri);
  }
  return out;
}

/**
 * The text of an add field once the links sent from it are added: those lines go, anything typed
 * meanwhile (another link) stays.
 */
export function withoutSubmitted(text: string, submitted: readonly string[]): string {
  const sent = new Set(submitted);
  return text
    .split(/\r?\n/)
    .filter((line) => !sent.has(line.trim()))
    .join('\n')
    .trim();
}

/**
 * Asks which files of a multi-file .torrent to download: the indexes, undefined for all of them, or
 * null when the user gave up adding it.
 */
export type ChooseTorrentFiles = (
  fileName: string,
  info: TorrentInfo,
) => Promise<number[] | undefined | null>;

/** Adding downloads: one URI, many URIs (the batch endpoint), .torrent files (base64 JSON). */
export function useAddTasks() {
  const qc = useQueryClient();

  const addOne = useCallback(
    async (
      uri: string,
      options?: TaskOptions,
      extras: AddExtras = {},
      onDuplicate?: (taskId: number) => void,
    ): Promise<Task | null> => {
      try {
        const task = await createTaskWith(uri, options, extras);
        upsertTask(qc, task);
        if (task.status === 'error')
          toast.error(t('add.addedButFailed', { error: task.error ?? t('add.unknownError') }));
        else toast.success(t('add.added', { name: taskTitle(task) }));
        return task;
      } catch (err) {
        const existing = duplicateTaskId(err);
        if (existing !== null && onDuplicate) onDuplicate(existing);
        else toast.error(t('add.addFailed', { detail: errorDetail(err) }));
        return null;
      }
    },
    [qc],
  );

  const addMany = useCallback(
    async (uris: string[], options?: TaskOptions, extras: AddExtras = {}): Promise<boolean> => {
      const created: Task[] = [];
      const failed: { uri: string; detail: string }[] = [];
      try {
        for (let i = 0; i < uris.length; i += BATCH_LIMIT) {
          const result = await createTasksWith(uris.slice(i, i + BATCH_LIMIT), options, extras);
          created.push(...result.created);
          failed.push(...result.failed);
          upsertTasks(qc, result.created);
        }
      } catch (err) {
        toast.error(t('add.addManyFailed', { detail: errorDetail(err) }));
        return false;
      }
      if (created.length) toast.success(t('add.addedCount', { count: created.length }));
      // Links already in the list are not errors: they can be added anyway, in one more request.
      const duplicates = failed.filter((f) => f.detail === DUPLICATE_DETAIL).map((f) => f.uri);
      const others = failed.filter((f) => f.detail !== DUPLICATE_DETAIL);
      if (duplicates.length) {
        toast.warning(t('add.duplicates', { count: duplicates.length }), {
          description: duplicates.slice(0, 5).join('\n'),
          action: {
            label: t('add.addAnyway'),
            onClick: () => void addManyRef.current(duplicates, options, { ...extras, allow_duplicate: true }),
          },
        });
      }
      if (others.length) {
        toast.error(t('add.notAdded', { count: others.length }), {
          description: others
            .slice(0, 5)
            .map((f) => `${f.uri} — ${translateDetail(f.detail)}`)
            .join('\n'),
        });
      }
      return failed.length === 0;
    },
    [qc],
  );
  const addManyRef = useRef(addMany);
  addManyRef.current = addMany;

  const uploadTorrents = useCallback(
    async (files: readonly File[], options?: TaskOptions, choose?: ChooseTorrentFiles) => {
      for (const file of files) {
        if (!isTorrentFile(file)) {
          toast.error(t('add.notTorrent', { name: file.name }));
          continue;
        }
        if (file.size > MAX_TORRENT_BYTES) {
          toast.error(t('add.torrentTooLarge', { name: file.name, mib: MAX_TORRENT_BYTES / (1024 * 1024) }));
          continue;
        }
        // A folder of files is offered to choose from; a file this cannot read goes as it is, and the
        // server says what is wrong with it.
        const info = choose ? await readTorrentFile(file) : null;
        const first: TorrentExtras = {};
        if (choose && info?.multiFile && info.files.length > 1) {
          const picked = await choose(file.name, info);
          if (picked === null) continue;
          if (picked) first.select_files = picked;
        }
        const base64 = await fileToBase64(file);
        const add = async (extras: TorrentExtras) => {
          try {
            const task = await uploadTorrentWith(base64, options, extras);
            upsertTask(qc, task);
            toast.success(t('add.added', { name: task.name ?? file.name }));
          } catch (err) {
            if (duplicateTaskId(err) !== null && !extras.allow_duplicate) {
              toast.warning(`${file.name}: ${translateDetail(DUPLICATE_DETAIL)}`, {
                action: {
                  label: t('add.addAnyway'),
                  onClick: () => void add({ ...extras, allow_duplicate: true }),
                },
              });
            } else toast.error(t('add.uploadFailed', { name: file.name, detail: errorDetail(err) }));
          }
        };
        await add(first);
      }
    },
    [qc],
  );

  return { addOne, addMany, uploadTorrents };
}

function OptionsFields({ draft, onChange }: { draft: OptionsDraft; onChange: (d: OptionsDraft) => void }) {
  const set = (key: keyof OptionsDraft) => (e: { currentTarget: { value: string } }) =>
    onChange({ ...draft, [key]: e.currentTarget.value });
  return (
    <div className="options-grid">
      <TextField
        label={t('add.opt.out')}
        hint={t('add.opt.outHint')}
        value={draft.out}
        onChange={set('out')}
      />
      <TextField
        label={t('add.opt.connections')}
        type="number"
        min={1}
        max={16}
        inputMode="numeric"
        value={draft.connections}
        onChange={set('connections')}
      />
      <TextField
        label={t('add.opt.split')}
        hint={t('add.opt.splitHint')}
        type="number"
        min={1}
        max={16}
        value={draft.split}
        onChange={set('split')}
      />
      <UnitField
        label={t('add.opt.limit')}
        hint={t('add.opt.limitHint')}
        kind="speed"
        value={draft.limit}
        onChange={(limit) => onChange({ ...draft, limit })}
      />
      <TextField label={t('add.opt.referer')} value={draft.referer} onChange={set('referer')} />
      <TextField label={t('add.opt.userAgent')} value={draft.userAgent} onChange={set('userAgent')} />
      <TextAreaField
        label={t('add.opt.headers')}
        hint={t('add.opt.headersHint')}
        rows={2}
        value={draft.headers}
        onChange={set('headers')}
      />
      <TextField
        label={t('add.opt.checksum')}
        hint={t('add.opt.checksumHint')}
        value={draft.checksum}
        onChange={set('checksum')}
      />
    </div>
  );
}

/** The "Add downloads" panel. */
export function AddTasks({
  onUploadFiles,
}: {
  onUploadFiles: (files: File[], options?: TaskOptions) => Promise<void>;
}) {
  const { addOne, addMany } = useAddTasks();
  const [uri, setUri] = useState('');
  const [many, setMany] = useState('');
  const [draft, setDraft] = useState<OptionsDraft>(EMPTY_OPTIONS);
  const [busy, setBusy] = useState<'one' | 'many' | 'torrent' | null>(null);
  /** The add the server found already in the list: which task has it, and what to add anyway. */
  const [duplicate, setDuplicate] = useState<{ taskId: number; uri: string; options?: TaskOptions } | null>(
    null,
  );
  const fileRef = useRef<HTMLInputElement>(null);
  const fileId = useId();
  const outage = useOutage();

  async function submitOne(event: FormEvent) {
    event.preventDefault();
    const lines = parseUriLines(uri);
    if (lines.length === 0 || busy) return;
    setBusy('one');
    setDuplicate(null);
    const options = toTaskOptions(draft);
    const ok =
      lines.length > 1
        ? await addMany(lines, options)
        : await addOne(lines[0]!, options, {}, (taskId) => setDuplicate({ taskId, uri: lines[0]!, options }));
    // Only what was sent goes: a link typed while this add ran stays in the field.
    if (ok) setUri((current) => withoutSubmitted(current, lines));
    setBusy(null);
  }

  async function addAnyway() {
    if (!duplicate || busy) return;
    setBusy('one');
    const task = await addOne(duplicate.uri, duplicate.options, { allow_duplicate: true });
    if (task) {
      setDuplicate(null);
      setUri((current) => withoutSubmitted(current, [duplicate.uri]));
    }
    setBusy(null);
  }

  async function submitMany(event: FormEvent) {
    event.preventDefault();
    const uris = parseUriLines(many);
    if (uris.length === 0 || busy) {
      if (uris.length === 0) toast.info(t('add.pasteOnePerLine'));
      return;
    }
    setBusy('many');
    const ok = await addMany(uris, toTaskOptions(draft));
    if (ok) setMany((current) => withoutSubmitted(current, uris));
    setBusy(null);
  }

  async function onFiles(files: FileList | null) {
    if (!files || files.length === 0) return;
    setBusy('torrent');
    await onUploadFiles(Array.from(files), toTaskOptions(draft));
    setBusy(null);
    if (fileRef.current) fileRef.current.value = '';
  }

  return (
    <section className="card add-card" aria-labelledby="add-title">
      <h2 id="add-title" className="card-title">
        {t('add.title')}
      </h2>
      <form className="add-row" onSubmit={submitOne}>
        <TextField
          label={t('add.url')}
          fieldClassName="grow"
          type="text"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          placeholder={t('add.urlPlaceholder')}
          value={uri}
          onChange={(e) => {
            setUri(e.currentTarget.value);
            setDuplicate(null);
          }}
        />
        <Button
          type="submit"
          variant="primary"
          icon={<PlusIcon />}
          busy={busy === 'one'}
          disabled={!uri.trim() || outage !== null}
          title={outageReason(outage)}
        >
          {t('add.add')}
        </Button>
        <div className="upload">
          <input
            ref={fileRef}
            id={fileId}
            className="sr-only"
            type="file"
            accept=".torrent,application/x-bittorrent"
            multiple
            onChange={(e) => void onFiles(e.currentTarget.files)}
          />
          <label htmlFor={fileId} className={`btn btn-secondary${busy === 'torrent' ? ' is-busy' : ''}`}>
            <UploadIcon />
            <span className="btn-label">{t('add.upload')}</span>
          </label>
        </div>
      </form>
      {duplicate ? (
        <DuplicateNotice
          message={translateDetail(DUPLICATE_DETAIL)}
          taskId={duplicate.taskId}
          busy={busy === 'one'}
          onAddAnyway={() => void addAnyway()}
          onDismiss={() => setDuplicate(null)}
        />
      ) : null}
      <details className="disclosure">
        <summary>{t('add.many')}</summary>
        <form onSubmit={submitMany} className="stack">
          <TextAreaField
            label={t('add.manyLabel')}
            rows={5}
            spellCheck={false}
            value={many}
            onChange={(e) => setMany(e.currentTarget.value)}
          />
          <div>
            <Button type="submit" variant="primary" busy={busy === 'many'}>
              {t('add.addAll')}
            </Button>
            <span className="hint inline-hint">
              {t('add.linkCount', { count: parseUriLines(many).length })}
            </span>
          </div>
        </form>
      </details>
      <details className="disclosure">
        <summary>{t('add.options')}</summary>
        <p className="hint">{t('add.optionsHint')}</p>
        <OptionsFields draft={draft} onChange={setDraft} />
        <Button size="sm" variant="ghost" onClick={() => setDraft(EMPTY_OPTIONS)}>
          {t('add.resetOptions')}
        </Button>
      </details>
      <p className="hint drop-hint">{t('add.dropTip')}</p>
    </section>
  );
}
