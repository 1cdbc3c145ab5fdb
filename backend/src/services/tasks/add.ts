import path from 'node:path';
import type { AddExtras, Task, TaskOptions } from '../../contracts/tasks.js';
import {
  BadRequestError,
  ConflictError,
  DuplicateError,
  InvalidInputError,
  tooManyCurrentTasks,
} from '../../domain/errors.js';
import { checkSpaceBeforeAdd, type SpaceLimits, withReserved } from '../../domain/size.js';
import { MAX_TORRENT_BYTES, TASK_MESSAGES } from '../../domain/task-rules.js';
import { TORRENT_URI } from '../../domain/task-status.js';
import { nowIso } from '../../domain/time.js';
import { parseTorrent } from '../../domain/torrent.js';
import { magnetInfoHash, maskUri, nameFromUri } from '../../domain/uri.js';
import type { TaskRow } from '../../repositories/tasks.js';
import * as repo from '../../repositories/tasks.js';
import type { Actor, ServiceContext } from '../context.js';
import { newGid } from '../handover.js';
import { guardSources } from '../network.js';
import type { Storage } from '../storage.js';
import type { HandOverService } from './hand-over.js';
import { HEAD_CONCURRENCY, mapLimit, type SourceChecks, validateUri } from './sources.js';
import type { SpaceService } from './space.js';

export const DUPLICATE_SENTENCE = new DuplicateError(0).detail;

/** The indexes of aria2's `select-file` value ("1,3"). */
function selectedIndexes(value: string): number[] {
  return value.split(',').map(Number);
}

/**
 * Adding downloads: by URI, many URIs, or a .torrent file. Each add is checked (source, duplicates,
 * disk, size, quota, current-tasks limit) before its row is inserted and handed to aria2.
 */
export class AddTasksService {
  constructor(
    private readonly ctx: Pick<ServiceContext, 'db' | 'settings' | 'events' | 'nodes'>,
    private readonly deps: {
      storage: Storage;
      sources: SourceChecks;
      space: SpaceService;
      handOver: HandOverService;
    },
  ) {}

  /**
   * The checks before adding one URI: disk, then size over the maximum, then size over the quota left.
   * Returns the size the HEAD reported (null when unknown), which the new row reserves.
   */
  async checkBeforeAdd(actor: Actor, uri: string, limits?: SpaceLimits): Promise<number | null> {
    const l = limits ?? (await this.deps.space.spaceLimits(actor.id));
    checkSpaceBeforeAdd(l, null);
    const size = await this.deps.sources.probe(uri);
    checkSpaceBeforeAdd(l, size);
    return size;
  }

  /**
   * How many more current tasks the user may add (max_current_tasks_per_user). Called inside the
   * transaction that inserts them, so concurrent adds cannot both take the last place.
   */
  private async currentTasksRoom(trx: repo.Runner, userId: number): Promise<number> {
    const limit = this.ctx.settings.get().max_current_tasks_per_user;
    return Math.max(0, limit - (await repo.countCurrentTasks(trx, userId)));
  }

  /**
   * Inserts one new row, reserving its known size (`total_length`), unless it no longer fits the
   * space left after what the user's other downloads reserve, or the user is at the current-tasks
   * limit (403 either way). The check and the insert share one transaction, so concurrent adds
   * cannot both take the same space or place.
   */
  private insertChecked(actor: Actor, limits: SpaceLimits, row: repo.NewTaskRow): Promise<TaskRow> {
    return this.ctx.db.transaction().execute(async (trx) => {
      checkSpaceBeforeAdd(
        await this.deps.space.spaceLimitsIn(trx, actor.id, limits),
        row.total_length || null,
      );
      if ((await this.currentTasksRoom(trx, actor.id)) < 1) {
        throw tooManyCurrentTasks(this.ctx.settings.get().max_current_tasks_per_user);
      }
      return repo.insertTask(trx, row);
    });
  }

  /** Refuses an add that one of the caller's current tasks already downloads, unless allowed. */
  private async refuseDuplicate(
    actor: Actor,
    uri: string | null,
    infoHash: string | null,
    extras: AddExtras | undefined,
  ): Promise<void> {
    if (extras?.allow_duplicate) return;
    const existing = await repo.findCurrentDuplicate(this.ctx.db, actor.id, uri, infoHash);
    if (existing !== undefined) throw new DuplicateError(existing);
  }

  private newRow(
    actor: Actor,
    node: string,
    fields: { uri: string; name: string | null; options: TaskOptions | undefined; autoRetry?: number },
  ): repo.NewTaskRow {
    const now = nowIso();
    const gid = newGid();
    return {
      owner_id: actor.id,
      gid,
      uri: fields.uri,
      display_uri: fields.uri === TORRENT_URI ? TORRENT_URI : maskUri(fields.uri),
      status: 'queued',
      name: fields.options?.out ?? fields.name,
      created_at: now,
      updated_at: now,
      options: JSON.stringify(fields.options ?? {}),
      // A folder of its own: two downloads of the same name never share a file or a control file,
      // and a retry reuses it to resume.
      dir: path.join(this.deps.storage.daemonIncompleteDir(node, actor.id), gid),
      info_hash: fields.uri.startsWith('magnet:') ? magnetInfoHash(fields.uri) : null,
      auto_retry: fields.autoRetry ?? null,
      // Every task runs on its owner's node.
      node,
    };
  }

  async create(actor: Actor, uriInput: string, options?: TaskOptions, extras?: AddExtras): Promise<Task> {
    const uri = validateUri(uriInput);
    await this.refuseDuplicate(actor, uri, uri.startsWith('magnet:') ? magnetInfoHash(uri) : null, extras);
    await this.deps.sources.guardHost(uri);
    const limits = await this.deps.space.spaceLimits(actor.id);
    const size = await this.checkBeforeAdd(actor, uri, limits);
    const row = await this.insertChecked(actor, limits, {
      ...this.newRow(actor, await this.deps.storage.nodeOf(actor.id), {
        uri,
        name: nameFromUri(uri),
        options,
        autoRetry: extras?.auto_retry,
      }),
      total_length: size ?? 0,
    });
    const [stored] = await this.deps.handOver.handOverRows([row]);
    this.ctx.events.taskUpdate(stored!);
    return repo.toTask(stored!);
  }

  async createBatch(
    actor: Actor,
    uris: readonly string[],
    options?: TaskOptions,
    extras?: AddExtras,
  ): Promise<{ created: Task[]; failed: { uri: string; detail: string }[] }> {
    const limits = await this.deps.space.spaceLimits(actor.id);
    // A URI twice in one batch is a duplicate too (the first one is added).
    const seen = new Set<string>();
    const checked = await mapLimit(uris, HEAD_CONCURRENCY, async (raw) => {
      try {
        const uri = validateUri(raw);
        const hash = uri.startsWith('magnet:') ? magnetInfoHash(uri) : null;
        const key = hash ? `btih:${hash.toLowerCase()}` : uri;
        if (!extras?.allow_duplicate && seen.has(key)) throw new ConflictError(DUPLICATE_SENTENCE);
        seen.add(key);
        await this.refuseDuplicate(actor, uri, hash, extras);
        await this.deps.sources.guardHost(uri);
        const size = await this.checkBeforeAdd(actor, uri, limits);
        return { ok: true as const, uri, size };
      } catch (err) {
        if (
          err instanceof InvalidInputError ||
          err instanceof BadRequestError ||
          err instanceof ConflictError ||
          (err as { status?: number }).status === 403
        ) {
          return { ok: false as const, uri: maskUri(raw), detail: (err as Error).message };
        }
        throw err;
      }
    });
    const node = await this.deps.storage.nodeOf(actor.id);
    const { rows, refused } = await this.ctx.db.transaction().execute(async (trx) => {
      // In the given order, each accepted URI reserves its size before the next is checked, and the
      // URIs past the user's current-tasks limit fail with its sentence; the first ones go in.
      let l = await this.deps.space.spaceLimitsIn(trx, actor.id, limits);
      let room = await this.currentTasksRoom(trx, actor.id);
      const limitDetail = tooManyCurrentTasks(this.ctx.settings.get().max_current_tasks_per_user).detail;
      const refused = new Map<number, string>();
      const accepted: { uri: string; size: number | null }[] = [];
      checked.forEach((c, i) => {
        if (!c.ok) return;
        try {
          checkSpaceBeforeAdd(l, c.size);
        } catch (err) {
          refused.set(i, (err as Error).message);
          return;
        }
        if (room > 0) {
          room--;
          l = withReserved(l, c.size);
          accepted.push(c);
        } else refused.set(i, limitDetail);
      });
      const rows = await repo.insertTasks(
        trx,
        accepted.map(({ uri, size }) => ({
          ...this.newRow(actor, node, {
            uri,
            name: nameFromUri(uri),
            options,
            autoRetry: extras?.auto_retry,
          }),
          total_length: size ?? 0,
        })),
      );
      return { rows, refused };
    });
    const stored = await this.deps.handOver.handOverRows(rows);
    for (const r of stored) this.ctx.events.taskUpdate(r);
    return {
      created: stored.map(repo.toTask),
      failed: checked.flatMap((c, i) => {
        if (!c.ok) return [{ uri: c.uri, detail: c.detail }];
        const detail = refused.get(i);
        return detail === undefined ? [] : [{ uri: maskUri(c.uri), detail }];
      }),
    };
  }

  async createTorrent(
    actor: Actor,
    torrent: Buffer,
    options?: TaskOptions,
    extras?: AddExtras,
  ): Promise<Task> {
    if (torrent.length > MAX_TORRENT_BYTES) {
      throw new InvalidInputError(`Invalid torrent: ${TASK_MESSAGES.torrentTooLarge}`);
    }
    const parsed = parseTorrent(torrent);
    await this.refuseDuplicate(actor, null, parsed.infoHash, extras);
    await guardSources(
      [...parsed.trackers, ...parsed.webSeeds],
      this.deps.sources.guard,
      'Invalid torrent file',
    );
    const chosen = options?.['select-file'] ? selectedIndexes(options['select-file']) : null;
    const missing = chosen?.find((i) => i > parsed.files.length);
    if (missing !== undefined)
      throw new InvalidInputError(`Invalid select_files: the torrent has no file ${missing}`);
    // Only what is selected is downloaded, so only that counts against the limits.
    const size = chosen
      ? chosen.reduce((sum, i) => sum + parsed.files[i - 1]!.length, 0)
      : parsed.totalLength;
    const row = await this.insertChecked(actor, await this.deps.space.spaceLimits(actor.id), {
      ...this.newRow(actor, await this.deps.storage.nodeOf(actor.id), {
        uri: TORRENT_URI,
        name: parsed.name,
        options,
        autoRetry: extras?.auto_retry,
      }),
      torrent,
      info_hash: parsed.infoHash,
      total_length: size,
    });
    const [stored] = await this.deps.handOver.handOverRows([row]);
    this.ctx.events.taskUpdate(stored!);
    return repo.toTask(stored!);
  }
}
