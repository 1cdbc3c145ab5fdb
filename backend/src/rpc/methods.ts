import { createHash, randomBytes } from 'node:crypto';
import { type TaskOptions, taskOptions } from '../contracts/tasks.js';
import { DomainError } from '../domain/errors.js';
import { HISTORY_STATUSES, type TaskStatus } from '../domain/task-status.js';
import type { StatusFields } from '../gateway/types.js';
import type { Actor, Logger } from '../services/context.js';
import type { TaskRow } from '../services/events.js';
import type { SettingsService } from '../services/settings.js';
import type { StatsService } from '../services/stats.js';
import { filesOf } from '../services/task-detail.js';
import type { TaskViewsService, ViewRow } from '../services/task-views.js';
import type { Subfolder } from '../services/tasks/add.js';
import type { TaskServices } from '../services/tasks.js';
import { type Aria2Struct, aria2Files, aria2Status, pick, type TaskView, VIRTUAL_ROOT } from './status.js';

/** An error in aria2's shape: `{code, message}` (1 for every failure of a method, as aria2 answers). */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** The services the RPC calls: the same ones the REST routes call. */
export interface RpcServices {
  tasks: TaskServices;
  stats: StatsService;
  settings: SettingsService;
  views: TaskViewsService;
}

/** The methods a client may call, as aria2 1.36 names them. */
export const METHODS = [
  'aria2.addUri',
  'aria2.addTorrent',
  'aria2.addMetalink',
  'aria2.remove',
  'aria2.forceRemove',
  'aria2.pause',
  'aria2.pauseAll',
  'aria2.forcePause',
  'aria2.forcePauseAll',
  'aria2.unpause',
  'aria2.unpauseAll',
  'aria2.tellStatus',
  'aria2.getUris',
  'aria2.getFiles',
  'aria2.getPeers',
  'aria2.getServers',
  'aria2.tellActive',
  'aria2.tellWaiting',
  'aria2.tellStopped',
  'aria2.changePosition',
  'aria2.changeUri',
  'aria2.getOption',
  'aria2.changeOption',
  'aria2.getGlobalOption',
  'aria2.changeGlobalOption',
  'aria2.getGlobalStat',
  'aria2.purgeDownloadResult',
  'aria2.removeDownloadResult',
  'aria2.getVersion',
  'aria2.getSessionInfo',
  'aria2.shutdown',
  'aria2.forceShutdown',
  'aria2.saveSession',
  'system.multicall',
  'system.listMethods',
  'system.listNotifications',
] as const;

export const NOTIFICATIONS = [
  'aria2.onDownloadStart',
  'aria2.onDownloadPause',
  'aria2.onDownloadStop',
  'aria2.onDownloadComplete',
  'aria2.onDownloadError',
  'aria2.onBtDownloadComplete',
] as const;

/** The methods aria2 answers without the secret. */
export const OPEN_METHODS = new Set(['system.listMethods', 'system.listNotifications']);

/** The most statuses one list call answers (the REST list's page limit). */
export const MAX_LIST = 1000;
const WAITING: readonly TaskStatus[] = ['queued', 'waiting', 'paused'];
const GID = /^[0-9a-fA-F]{16}$/;
/** The version told to clients when the daemon is away: the aria2 release whose methods these are. */
const ARIA2_VERSION = '1.36.0';

const invalid = (message: string) => new RpcError(1, message);
const gidNotFound = (gid: string) => invalid(`GID ${gid} is not found`);

function stringParam(params: readonly unknown[], i: number, name: string): string {
  const v = params[i];
  if (typeof v !== 'string') throw invalid(`Invalid ${name}: must be a string`);
  return v;
}

function intParam(params: readonly unknown[], i: number, name: string, fallback?: number): number {
  const v = params[i] ?? fallback;
  const n = typeof v === 'string' && /^-?\d{1,9}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || Math.abs(n) > 1_000_000_000)
    throw invalid(`Invalid ${name}: must be a whole number`);
  return n;
}

function keysParam(params: readonly unknown[], i: number): string[] | undefined {
  const v = params[i];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > 100 || !v.every((k) => typeof k === 'string' && k.length <= 64))
    throw invalid('Invalid keys: must be a list of key names');
  return v;
}

/**
 * The keys a task's row answers by itself: the sync engine refreshes its lengths and speeds once a
 * second while it runs, as often as aria2's clients poll. (`connections`, `numSeeders` and
 * `uploadLength` are in no once-a-second read of the daemon either: they read 0 unless a detail read
 * is made for other keys.)
 */
const ROW_KEYS = new Set([
  'gid',
  'status',
  'totalLength',
  'completedLength',
  'downloadSpeed',
  'uploadSpeed',
  'errorCode',
  'errorMessage',
  'infoHash',
  'seeder',
  'dir',
  'connections',
  'numSeeders',
  'uploadLength',
  'verifiedLength',
  'verifyIntegrityPending',
  'following',
  'followedBy',
  'belongsTo',
]);

/**
 * The status fields of the daemon the keys asked need: none when the rows answer them all (AriaNg's
 * lists), more for files and torrent info, everything for the pieces.
 */
function fieldsFor(keys: readonly string[] | undefined): StatusFields | null {
  if (!keys || keys.length === 0) return 'detail';
  if (keys.every((k) => ROW_KEYS.has(k))) return null;
  if (keys.includes('bitfield') || keys.includes('numPieces') || keys.includes('pieceLength'))
    return 'detail';
  return keys.some((k) => k === 'files' || k === 'bittorrent') ? 'sync' : 'progress';
}

/** How long a user's getGlobalStat is shared by their clients (they poll it about once a second). */
const GLOBAL_STAT_MS = 1000;
/**
 * How long one answer of a list call that needs the daemon's figures (files, pieces) is shared by the
 * same user's identical calls: clients polling together read the daemon once. Any change of one of the
 * user's tasks that the answer holds or lists ends it sooner (`taskUpdated`).
 */
const SHARED_LIST_MS = 100;
/** Users whose shared lists are kept at most; past it the stale ones go. */
const SHARED_LIST_USERS = 10_000;
/**
 * How long the lists answered from the task rows alone (AriaNg's key lists) are kept: a user's active
 * rows, brought up to date by the task events (the same events the live view shows), and the answers
 * of `tellWaiting` and `tellStopped`, ended by any event of a task they hold or whose status they list.
 * A client polling once a second then costs no query on most polls, and a change that came without an
 * event (or an event another instance failed to send) shows within this.
 */
const KEPT_ROWS_MS = 5000;

/** A list call's answer, kept until `until`; `ids`, the tasks it holds, once they are read. */
interface SharedList {
  until: number;
  statuses: readonly string[];
  ids?: Set<number>;
  answer: Promise<Aria2Struct[]>;
}

/** A user's active rows in the database's order, and the answers built from them, by key list. */
interface ActiveRows {
  at: number;
  rows: ViewRow[];
  byId: Map<number, number>;
  answers: Map<string, Aria2Struct[]>;
}

/**
 * The subfolder of the user's folder that an add's `dir` names: `/downloads` itself is the folder ('');
 * `/downloads/<path>` that path, checked again by the storage (symlinks, existing files). Any other
 * folder (a server path, `..`, a control character) is refused.
 */
function subfolderOf(dir: unknown): Subfolder {
  if (typeof dir !== 'string') throw invalid('Invalid options.dir: must be a string');
  const trimmed = dir.replace(/\/+$/, '');
  if (trimmed === VIRTUAL_ROOT) return { path: '', field: 'options.dir' };
  if (!trimmed.startsWith(`${VIRTUAL_ROOT}/`))
    throw invalid(`Invalid options.dir: must be ${VIRTUAL_ROOT} or a folder inside it`);
  // The rest is checked as any path inside the user's folder (no `..`, `.` or empty names).
  return { path: trimmed.slice(VIRTUAL_ROOT.length + 1), field: 'options.dir' };
}

/**
 * aria2's options of an add or change, as the task options the REST API takes (the same whitelist),
 * and for an add the subfolder its `dir` names. Anything else is refused, naming the option.
 */
export function taskOptionsOf(
  raw: unknown,
  { forAdd }: { forAdd: boolean },
): { options: TaskOptions | undefined; subfolder: Subfolder | undefined } {
  if (raw === undefined || raw === null) return { options: undefined, subfolder: undefined };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('Invalid options: must be an object');
  const given: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  let subfolder: Subfolder | undefined;
  if ('dir' in given) {
    if (!forAdd) throw invalid("Invalid options.dir: a download's folder cannot be changed");
    subfolder = subfolderOf(given.dir);
    delete given.dir;
  }
  if (typeof given.header === 'string') given.header = [given.header];
  const shape = forAdd ? taskOptions.shape : { ...taskOptions.shape, out: undefined };
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(shape, key) || (shape as Record<string, unknown>)[key] === undefined)
      throw invalid(`Invalid options.${key}: this option cannot be set`);
  }
  const parsed = taskOptions.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.map((k) => `.${String(k)}`).join('') ?? '';
    throw invalid(`Invalid options${at}: ${issue?.message ?? 'is invalid'}`);
  }
  return { options: Object.keys(parsed.data).length > 0 ? parsed.data : undefined, subfolder };
}

/** "1.2.3.4:6881" or "[::1]:6881" as aria2's ip and port. */
function splitAddress(address: string): { ip: string; port: string } {
  const m = /^\[(.*)\]:(\d+)$/.exec(address) ?? /^(.*):(\d+)$/.exec(address);
  return m ? { ip: m[1]!, port: m[2]! } : { ip: address, port: '0' };
}

/**
 * aria2's methods for one user, on the controller's services: every gid is looked up among the user's
 * own tasks (another user's is not found), lists and totals are the user's, and the daemon-wide
 * methods (shutdown, saveSession, changeGlobalOption) change nothing.
 */
export class RpcMethods {
  /** Stable for this process and user, as aria2's changes on every start. */
  private readonly sessionSalt = randomBytes(16).toString('hex');
  private readonly globalStats = new Map<number, { at: number; stat: Promise<Aria2Struct> }>();
  /** Per user: the answers of their list calls under way or just given, by method and parameters. */
  private readonly lists = new Map<number, Map<string, SharedList>>();
  /** Per user: their active rows (see KEPT_ROWS_MS). */
  private readonly active = new Map<number, ActiveRows>();
  /** Per user: bumped by each event that could change their active rows while they are being read. */
  private readonly activeChanges = new Map<number, number>();
  /** Database reads of active rows, for the tests that keep this memory honest. */
  activeReads = 0;

  constructor(
    private readonly s: RpcServices,
    private readonly logger: Logger,
  ) {}

  /** One method call as `actor` (the secret already checked and taken off `params`). */
  async call(actor: Actor, method: string, params: readonly unknown[]): Promise<unknown> {
    try {
      return await this.run(actor, method, params);
    } catch (err) {
      throw this.asRpcError(err);
    }
  }

  private asRpcError(err: unknown): RpcError {
    if (err instanceof RpcError) return err;
    if (err instanceof DomainError) return new RpcError(1, err.detail);
    this.logger.error({ err: (err as Error)?.message }, 'an RPC method failed');
    return new RpcError(1, 'Internal error');
  }

  private async row(actor: Actor, params: readonly unknown[]): Promise<ViewRow> {
    const gid = stringParam(params, 0, 'GID');
    if (!GID.test(gid)) throw invalid(`Invalid GID ${gid.slice(0, 32)}`);
    const row = await this.s.views.byGid(actor, gid.toLowerCase());
    if (!row) throw gidNotFound(gid);
    return row;
  }

  /** The rows with the daemon's status of each for `fields`; with null, the rows alone. */
  private async views(
    actor: Actor,
    rows: readonly ViewRow[],
    fields: StatusFields | null,
  ): Promise<TaskView[]> {
    const statuses = fields === null ? [] : await this.s.views.statuses(rows, fields);
    const userDir = await this.s.views.userDir(actor.id);
    return rows.map((row, i) => ({ row, status: statuses[i] ?? null, userDir }));
  }

  /** A task's status object with only the keys asked; its files are worked out only when asked for. */
  private structOf(view: TaskView, keys?: readonly string[]): Aria2Struct {
    const withFiles = !keys || keys.length === 0 || keys.includes('files');
    const files = withFiles && view.status ? filesOf(view.row.dir, view.status) : null;
    return pick(aria2Status(view, files, keys), keys);
  }

  /**
   * A task row changed: the user's shared lists that held it or list its new status read the rows
   * again; their active rows take the new row in place when it stays active in the same place.
   */
  taskUpdated(row: TaskRow): void {
    const owner = row.owner_id;
    const mine = this.lists.get(owner);
    if (mine)
      for (const [k, e] of mine)
        if (!e.ids || e.ids.has(row.id) || e.statuses.includes(row.status)) mine.delete(k);
    const entry = this.active.get(owner);
    const at = entry?.byId.get(row.id);
    if (entry && at !== undefined) {
      const old = entry.rows[at]!;
      const inPlace =
        row.status === 'active' &&
        row.replaced_by === null &&
        row.finished_at === null &&
        row.queue_position === old.queue_position &&
        row.created_at === old.created_at;
      if (inPlace) {
        entry.rows[at] = row;
        entry.answers.clear();
        return;
      }
    }
    if (at !== undefined || row.status === 'active') this.forgetActive(owner);
  }

  /** A task row went: the user's lists that held it are read again. */
  taskRemoved(owner: number, id: number): void {
    const mine = this.lists.get(owner);
    if (mine) for (const [k, e] of mine) if (!e.ids || e.ids.has(id)) mine.delete(k);
    if (this.active.get(owner)?.byId.has(id)) this.forgetActive(owner);
  }

  private forgetActive(owner: number): void {
    this.active.delete(owner);
    this.activeChanges.set(owner, (this.activeChanges.get(owner) ?? 0) + 1);
  }

  /** The user's active rows: from memory, or read and then kept unless an event came during the read. */
  private async activeRows(actor: Actor): Promise<ActiveRows> {
    const now = Date.now();
    const kept = this.active.get(actor.id);
    if (kept && now - kept.at < KEPT_ROWS_MS) return kept;
    this.active.delete(actor.id);
    const before = this.activeChanges.get(actor.id) ?? 0;
    this.activeReads++;
    const rows = await this.s.views.page(actor, ['active'], 0, MAX_LIST);
    const entry: ActiveRows = {
      at: now,
      rows,
      byId: new Map(rows.map((r, i) => [r.id, i])),
      answers: new Map(),
    };
    if ((this.activeChanges.get(actor.id) ?? 0) === before) {
      if (this.active.size >= SHARED_LIST_USERS) {
        for (const [id, e] of this.active) if (now - e.at >= KEPT_ROWS_MS) this.active.delete(id);
        if (this.activeChanges.size >= SHARED_LIST_USERS) this.activeChanges.clear();
      }
      this.active.set(actor.id, entry);
    }
    return entry;
  }

  /** tellActive: from the kept rows when the keys need nothing of the daemon (AriaNg's lists). */
  private async tellActive(actor: Actor, keys: string[] | undefined): Promise<Aria2Struct[]> {
    const fields = fieldsFor(keys);
    if (fields !== null) {
      return this.sharedList(
        actor,
        JSON.stringify(['active', keys]),
        ['active'],
        SHARED_LIST_MS,
        async () => {
          const rows = await this.s.views.page(actor, ['active'], 0, MAX_LIST);
          const answer = (await this.views(actor, rows, fields)).map((v) => this.structOf(v, keys));
          return { ids: rows.map((r) => r.id), answer };
        },
      );
    }
    const entry = await this.activeRows(actor);
    const key = JSON.stringify(keys);
    let answer = entry.answers.get(key);
    if (!answer) {
      answer = (await this.views(actor, entry.rows, null)).map((v) => this.structOf(v, keys));
      // Only if no event replaced a row meanwhile (the answers were cleared then).
      if (this.active.get(actor.id) === entry && entry.answers.size < 16) entry.answers.set(key, answer);
    }
    return answer;
  }

  /**
   * The answer of a list call, shared with the user's identical calls for `keepMs`. Each
   * caller gets the same objects: they are only serialised.
   */
  private sharedList(
    actor: Actor,
    key: string,
    statuses: readonly TaskStatus[],
    keepMs: number,
    compute: () => Promise<{ ids: number[]; answer: Aria2Struct[] }>,
  ): Promise<Aria2Struct[]> {
    const now = Date.now();
    let mine = this.lists.get(actor.id);
    const hit = mine?.get(key);
    if (hit && now < hit.until) return hit.answer;
    if (!mine) {
      if (this.lists.size >= SHARED_LIST_USERS) {
        for (const [id, m] of this.lists)
          if ([...m.values()].every((e) => now >= e.until)) this.lists.delete(id);
      }
      mine = new Map();
      this.lists.set(actor.id, mine);
    }
    for (const [k, e] of mine) if (now >= e.until) mine.delete(k);
    // Until the rows are read, any change of the user's tasks ends the entry (its rows are not known yet).
    const entry: SharedList = {
      until: now + keepMs,
      statuses,
      answer: compute().then(({ ids, answer }) => {
        entry.ids = new Set(ids);
        return answer;
      }),
    };
    const { answer } = entry;
    mine.set(key, entry);
    answer.catch(() => {
      if (this.lists.get(actor.id)?.get(key) === entry) this.lists.get(actor.id)?.delete(key);
    });
    return answer;
  }

  /** The user's totals, shared by their clients for a second (one computation, however many poll). */
  private globalStat(actor: Actor): Promise<Aria2Struct> {
    const now = Date.now();
    const hit = this.globalStats.get(actor.id);
    if (hit && now - hit.at < GLOBAL_STAT_MS) return hit.stat;
    const stat = this.computeGlobalStat(actor);
    this.globalStats.set(actor.id, { at: now, stat });
    stat.catch(() => this.globalStats.delete(actor.id));
    if (this.globalStats.size > 10_000) {
      for (const [id, g] of this.globalStats) if (now - g.at >= GLOBAL_STAT_MS) this.globalStats.delete(id);
    }
    return stat;
  }

  private async computeGlobalStat(actor: Actor): Promise<Aria2Struct> {
    const { views } = this.s;
    const [counts, speeds] = await Promise.all([views.counts(actor), views.speeds(actor)]);
    const n = (list: readonly TaskStatus[]) => list.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
    const stopped = n(HISTORY_STATUSES);
    return {
      downloadSpeed: String(speeds.download_speed),
      uploadSpeed: String(speeds.upload_speed),
      numActive: String(counts.active ?? 0),
      numWaiting: String(n(WAITING)),
      numStopped: String(Math.min(stopped, MAX_LIST)),
      numStoppedTotal: String(stopped),
    };
  }

  /** A page as aria2 pages: a negative offset counts from the end and lists backwards. */
  private list(actor: Actor, statuses: readonly TaskStatus[], params: readonly unknown[]) {
    const offset = intParam(params, 0, 'offset');
    const num = Math.min(MAX_LIST, Math.max(0, intParam(params, 1, 'num')));
    const keys = keysParam(params, 2);
    // Rows alone change only with a task event, which ends the entry; the daemon's figures change without one.
    const keepMs = fieldsFor(keys) === null ? KEPT_ROWS_MS : SHARED_LIST_MS;
    return this.sharedList(actor, JSON.stringify([statuses, offset, num, keys]), statuses, keepMs, () =>
      this.listPage(actor, statuses, offset, num, keys),
    );
  }

  private async listPage(
    actor: Actor,
    statuses: readonly TaskStatus[],
    offset: number,
    num: number,
    keys: string[] | undefined,
  ): Promise<{ ids: number[]; answer: Aria2Struct[] }> {
    let rows: ViewRow[];
    if (offset >= 0) rows = await this.s.views.page(actor, statuses, offset, num);
    else {
      const counts = await this.s.views.counts(actor);
      const total = statuses.reduce((n, s) => n + (counts[s] ?? 0), 0);
      const last = total + offset;
      if (last < 0) return { ids: [], answer: [] };
      const first = Math.max(0, last - num + 1);
      rows = (await this.s.views.page(actor, statuses, first, last - first + 1)).reverse();
    }
    const answer = (await this.views(actor, rows, fieldsFor(keys))).map((v) => this.structOf(v, keys));
    return { ids: rows.map((r) => r.id), answer };
  }

  private async setStatusOfAll(actor: Actor, from: readonly TaskStatus[], action: 'pause' | 'resume') {
    const rows = await this.s.views.page(actor, from, 0, MAX_LIST);
    if (rows.length > 0)
      await this.s.tasks.control.changeStatusMany(
        actor,
        rows.map((r) => r.id),
        action,
      );
    return 'OK';
  }

  private async run(actor: Actor, method: string, params: readonly unknown[]): Promise<unknown> {
    const { tasks, views } = this.s;
    switch (method) {
      case 'aria2.addUri': {
        const uris = params[0];
        if (!Array.isArray(uris) || uris.length === 0 || uris.length > 100 || typeof uris[0] !== 'string')
          throw invalid('Invalid uris: must be a list of URIs');
        // aria2 takes several URIs as mirrors of one file; the controller downloads from the first.
        const { options, subfolder } = taskOptionsOf(params[1], { forAdd: true });
        const task = await tasks.add.create(actor, uris[0], options, undefined, subfolder);
        return task.gid;
      }
      case 'aria2.addTorrent': {
        const b64 = stringParam(params, 0, 'torrent');
        if (!/^[A-Za-z0-9+/=\s]+$/.test(b64)) throw invalid('Invalid torrent: not base64');
        const { options, subfolder } = taskOptionsOf(params[2], { forAdd: true });
        const torrent = Buffer.from(b64, 'base64');
        const task = await tasks.add.createTorrent(actor, torrent, options, undefined, subfolder);
        return task.gid;
      }
      case 'aria2.addMetalink':
        throw invalid('Metalink downloads are not supported');
      case 'aria2.remove':
      case 'aria2.forceRemove': {
        const row = await this.row(actor, params);
        await tasks.control.changeStatus(actor, row.id, 'stop');
        return row.gid;
      }
      case 'aria2.pause':
      case 'aria2.forcePause': {
        const row = await this.row(actor, params);
        await tasks.control.changeStatus(actor, row.id, 'pause');
        return row.gid;
      }
      case 'aria2.unpause': {
        const row = await this.row(actor, params);
        await tasks.control.changeStatus(actor, row.id, 'resume');
        return row.gid;
      }
      case 'aria2.pauseAll':
      case 'aria2.forcePauseAll':
        return this.setStatusOfAll(actor, ['active', 'waiting'], 'pause');
      case 'aria2.unpauseAll':
        return this.setStatusOfAll(actor, ['paused'], 'resume');
      case 'aria2.tellStatus': {
        const row = await this.row(actor, params);
        const keys = keysParam(params, 1);
        const [view] = await this.views(actor, [row], fieldsFor(keys));
        return this.structOf(view!, keys);
      }
      case 'aria2.getFiles': {
        const [view] = await this.views(actor, [await this.row(actor, params)], 'sync');
        return aria2Files(view!, view!.status ? filesOf(view!.row.dir, view!.status) : null);
      }
      case 'aria2.getUris': {
        const [view] = await this.views(actor, [await this.row(actor, params)], 'sync');
        const files = aria2Files(view!, view!.status ? filesOf(view!.row.dir, view!.status) : null);
        return (files[0]?.uris as unknown[]) ?? [];
      }
      case 'aria2.getPeers': {
        const row = await this.row(actor, params);
        const detail = (await tasks.query.detail(actor, row.id)).detail;
        return (detail?.peers ?? []).map((p) => ({
          peerId: '',
          ...splitAddress(p.address),
          bitfield: '',
          amChoking: 'true',
          peerChoking: 'true',
          downloadSpeed: String(p.download_speed),
          uploadSpeed: String(p.upload_speed),
          seeder: String(p.seeder),
        }));
      }
      case 'aria2.getServers': {
        const row = await this.row(actor, params);
        const detail = (await tasks.query.detail(actor, row.id)).detail;
        const byFile = new Map<number, Aria2Struct[]>();
        for (const s of detail?.servers ?? []) {
          byFile.set(s.file_index, [
            ...(byFile.get(s.file_index) ?? []),
            { uri: s.uri, currentUri: s.current_uri, downloadSpeed: String(s.download_speed) },
          ]);
        }
        return [...byFile].map(([index, servers]) => ({ index: String(index), servers }));
      }
      case 'aria2.tellActive':
        return this.tellActive(actor, keysParam(params, 0));
      case 'aria2.tellWaiting':
        return this.list(actor, WAITING, params);
      case 'aria2.tellStopped':
        return this.list(actor, HISTORY_STATUSES, params);
      case 'aria2.changePosition': {
        const row = await this.row(actor, params);
        const pos = intParam(params, 1, 'pos');
        const how = params[2];
        if (how !== 'POS_SET' && how !== 'POS_CUR' && how !== 'POS_END')
          throw invalid('Invalid how: must be POS_SET, POS_CUR or POS_END');
        return tasks.control.changePosition(actor, row.id, pos, how);
      }
      case 'aria2.changeUri':
        throw invalid("A download's URIs cannot be changed; retry it with a new URI instead");
      case 'aria2.changeOption': {
        const row = await this.row(actor, params);
        const { options } = taskOptionsOf(params[1], { forAdd: false });
        if (options) await tasks.control.changeOptions(actor, row.id, options);
        return 'OK';
      }
      case 'aria2.getOption': {
        const row = await this.row(actor, params);
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(await views.options(row))) {
          if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String) : String(v);
        }
        const [view] = await this.views(actor, [row], 'state');
        out.dir = aria2Status(view!, null, ['dir']).dir as string;
        return out;
      }
      case 'aria2.getGlobalOption': {
        const s = this.s.settings.get();
        return {
          dir: VIRTUAL_ROOT,
          'max-concurrent-downloads': String(s.max_concurrent_downloads),
          'max-overall-download-limit': String(s.max_overall_download_limit),
          'max-overall-upload-limit': '0',
          'seed-ratio': String(s.seed_ratio),
          'seed-time': String(s.seed_time_min),
          continue: 'true',
        };
      }
      case 'aria2.changeGlobalOption':
        // The daemon is shared by every user: nothing of it is changed for one.
        return 'OK';
      case 'aria2.getGlobalStat':
        return { ...(await this.globalStat(actor)) };
      case 'aria2.purgeDownloadResult':
        await tasks.remove.clearHistory(actor, false);
        return 'OK';
      case 'aria2.removeDownloadResult': {
        const row = await this.row(actor, params);
        if (!(HISTORY_STATUSES as readonly string[]).includes(row.status))
          throw invalid(`Could not remove download result of GID#${row.gid}`);
        await tasks.remove.delete(actor, row.id, false);
        return 'OK';
      }
      case 'aria2.getVersion': {
        const version = (await this.s.stats.machine()).aria2.version ?? ARIA2_VERSION;
        return { version, enabledFeatures: ['BitTorrent', 'GZip', 'HTTPS', 'Message Digest'] };
      }
      case 'aria2.getSessionInfo':
        return {
          sessionId: createHash('sha1').update(`${this.sessionSalt}:${actor.id}`).digest('hex'),
        };
      case 'aria2.saveSession':
      case 'aria2.shutdown':
      case 'aria2.forceShutdown':
        // The daemon is the controller's, shared by every user: the call is answered and ignored.
        return 'OK';
      case 'system.listMethods':
        return [...METHODS];
      case 'system.listNotifications':
        return [...NOTIFICATIONS];
      default:
        throw new RpcError(-32601, 'Method not found.');
    }
  }
}
