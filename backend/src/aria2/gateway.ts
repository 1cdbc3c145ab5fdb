import { EventEmitter } from 'node:events';
import {
  type Added,
  type AddRequest,
  type DaemonFile,
  type DaemonHealth,
  type DaemonOptions,
  type DaemonPeer,
  type DaemonServer,
  type DaemonStatus,
  type DownloadEvent,
  type DownloadGateway,
  GatewayError,
  type GatewayEvents,
  type ItemResult,
  type NodeName,
  type Snapshot,
  type SnapshotRequest,
  type StatusFields,
} from '../gateway/types.js';
import type { Aria2Client, Aria2Notification, Call, MulticallResult } from './client.js';
import { Aria2Error } from './errors.js';
import { METADATA_PREFIX, stateFromAria2 } from './status.js';
import { type Aria2Status, type Aria2StatusKey, PROGRESS_KEYS, parseStatus, SYNC_KEYS } from './types.js';

export { stateFromAria2 } from './status.js';

/** The tellStatus keys of each field set; `detail` asks for every key. */
const KEYS: Record<StatusFields, readonly Aria2StatusKey[] | undefined> = {
  // `seeder`: a seeding torrent takes no download slot (the daemon runs with --bt-detach-seed-only).
  state: ['gid', 'status', 'following', 'seeder'],
  progress: PROGRESS_KEYS,
  sync: SYNC_KEYS,
  detail: undefined,
};
/** Only what says where a download stands in the queue. */
const ID_KEYS: readonly Aria2StatusKey[] = ['gid', 'status'];
/** aria2 keeps at most --max-download-result stopped results; this reads any queue whole. */
const WHOLE_LIST = 100_000;

const EVENT_KINDS: Record<Aria2Notification['method'], DownloadEvent['kind']> = {
  'aria2.onDownloadStart': 'started',
  'aria2.onDownloadPause': 'paused',
  'aria2.onDownloadStop': 'stopped',
  'aria2.onDownloadComplete': 'complete',
  'aria2.onDownloadError': 'error',
  // The download part of a torrent is done (it may go on seeding).
  'aria2.onBtDownloadComplete': 'complete',
};

/** aria2's view of a download in the controller's words. */
export function toDaemonStatus(s: Aria2Status): DaemonStatus {
  return {
    ...s,
    status: stateFromAria2(s.status),
    metadata: s.files.some((f) => f.path.startsWith(METADATA_PREFIX)),
  };
}

/** The kind of an aria2 failure: no answer, not sent, not known, or refused. */
function kindOf(err: Aria2Error): GatewayError['kind'] {
  if (err.code === undefined) {
    return /over aria2's limit|well-formed/.test(err.reason) ? 'invalid' : 'unavailable';
  }
  return /not found|no such download/i.test(err.reason) ? 'not_found' : 'refused';
}

/**
 * The aria2 implementation of the download-daemon gateway, on top of one `Aria2Client`: batch verbs
 * become `system.multicall`s (chunked by the client), field sets become key lists, aria2's status words
 * and error codes become the controller's. Nothing outside `aria2/` knows them.
 */
export class Aria2Gateway extends EventEmitter<GatewayEvents> implements DownloadGateway {
  private readonly onConnected = () => this.emit('connected');
  private readonly onDisconnected = (reason: string) => this.emit('disconnected', reason);
  private readonly onNotification = (n: Aria2Notification) =>
    this.emit('download', { kind: EVENT_KINDS[n.method], gid: n.gid });

  constructor(
    readonly node: NodeName,
    /** The raw client; only `aria2/` code and tests should reach for it. */
    readonly client: Aria2Client,
  ) {
    super();
    client.on('connected', this.onConnected);
    client.on('disconnected', this.onDisconnected);
    client.on('notification', this.onNotification);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  health(): DaemonHealth {
    return this.client.state;
  }

  start(): Promise<void> {
    return this.client.start();
  }

  async close(): Promise<void> {
    await this.client.close();
    this.client.off('connected', this.onConnected);
    this.client.off('disconnected', this.onDisconnected);
    this.client.off('notification', this.onNotification);
  }

  /** An aria2 failure as the gateway's, naming this node. */
  private error(operation: string, err: unknown): GatewayError {
    if (err instanceof GatewayError) return err;
    if (err instanceof Aria2Error) return new GatewayError(this.node, operation, kindOf(err), err.reason);
    return new GatewayError(
      this.node,
      operation,
      'unavailable',
      err instanceof Error ? err.message : String(err),
    );
  }

  /** A multicall whose results are mapped one by one; rejects only when aria2 answered none of it. */
  private async batch<T>(
    operation: string,
    calls: readonly Call[],
    map: (value: unknown) => T,
  ): Promise<ItemResult<T>[]> {
    if (calls.length === 0) return [];
    let results: MulticallResult[];
    try {
      results = await this.client.multicall(calls);
    } catch (err) {
      throw this.error(operation, err);
    }
    return results.map((r) => this.item(operation, r, map));
  }

  private item<T>(
    operation: string,
    r: MulticallResult | undefined,
    map: (value: unknown) => T,
  ): ItemResult<T> {
    if (!r) return { ok: false, error: new GatewayError(this.node, operation, 'unavailable', 'no answer') };
    if (!r.ok) return { ok: false, error: this.error(operation, r.error) };
    try {
      return { ok: true, value: map(r.value) };
    } catch (err) {
      return { ok: false, error: this.error(operation, err) };
    }
  }

  private async single<T>(operation: string, method: string, params: unknown[]): Promise<T> {
    try {
      return await this.client.call<T>(method, params);
    } catch (err) {
      throw this.error(operation, err);
    }
  }

  async add(requests: readonly AddRequest[]): Promise<ItemResult<Added>[]> {
    // Each add is followed in the same multicall by a look at the gid chosen for it, so one round trip
    // both hands the downloads over and learns their statuses.
    const calls: Call[] = [];
    /** Per request: where its add is in the multicall, and where the look at its status is. */
    const lookAt: [number, number | null][] = [];
    for (const req of requests) {
      const options: DaemonOptions = { ...req.options };
      if (req.gid) options.gid = req.gid;
      if (req.paused) options.pause = 'true';
      const tail = req.position === undefined ? [] : [req.position];
      const addAt = calls.length;
      calls.push(
        req.torrent
          ? {
              method: 'aria2.addTorrent',
              params: [req.torrent.toString('base64'), req.webSeeds ?? [], options, ...tail],
            }
          : { method: 'aria2.addUri', params: [req.uris, options, ...tail] },
      );
      if (req.gid) {
        lookAt.push([addAt, calls.length]);
        calls.push({ method: 'aria2.tellStatus', params: [req.gid, KEYS.progress] });
      } else lookAt.push([addAt, null]);
    }
    let results: MulticallResult[];
    try {
      results = await this.client.multicall(calls);
    } catch (err) {
      throw this.error('add', err);
    }
    return requests.map((_req, i) => {
      const [addAt, statusAt] = lookAt[i]!;
      const added = this.item('add', results[addAt], (v) => String(v));
      if (!added.ok) return added;
      const told = statusAt === null ? undefined : results[statusAt];
      return {
        ok: true,
        value: { gid: added.value, status: told?.ok ? toDaemonStatus(parseStatus(told.value)) : null },
      };
    });
  }

  statuses(gids: readonly string[], fields: StatusFields): Promise<ItemResult<DaemonStatus>[]> {
    const keys = KEYS[fields];
    return this.batch(
      'status',
      gids.map((gid) => ({ method: 'aria2.tellStatus', params: keys ? [gid, keys] : [gid] })),
      (v) => toDaemonStatus(parseStatus(v)),
    );
  }

  async status(gid: string, fields: StatusFields): Promise<DaemonStatus> {
    const keys = KEYS[fields];
    return toDaemonStatus(
      parseStatus(await this.single('status', 'aria2.tellStatus', keys ? [gid, keys] : [gid])),
    );
  }

  async snapshot(request: SnapshotRequest): Promise<Snapshot> {
    const calls: Call[] = [];
    const at: Partial<Record<keyof SnapshotRequest, number>> = {};
    const list = (part: 'active' | 'waiting' | 'stopped', method: string, paging: unknown[]) => {
      const fields = request[part];
      if (!fields) return;
      const keys = fields === 'ids' ? ID_KEYS : KEYS[fields];
      at[part] = calls.push({ method, params: keys ? [...paging, keys] : paging }) - 1;
    };
    if (request.session) at.session = calls.push({ method: 'aria2.getSessionInfo', params: [] }) - 1;
    list('active', 'aria2.tellActive', []);
    list('waiting', 'aria2.tellWaiting', [0, WHOLE_LIST]);
    list('stopped', 'aria2.tellStopped', [0, WHOLE_LIST]);
    let results: MulticallResult[];
    try {
      results = await this.client.multicall(calls);
    } catch (err) {
      throw this.error('snapshot', err);
    }
    const statuses = (part: 'active' | 'waiting' | 'stopped'): DaemonStatus[] | null => {
      const index = at[part];
      const r = index === undefined ? undefined : results[index];
      if (!r?.ok || !Array.isArray(r.value)) return null;
      return r.value.map((raw) => toDaemonStatus(parseStatus(raw)));
    };
    const info = at.session === undefined ? undefined : results[at.session];
    return {
      active: statuses('active'),
      waiting: statuses('waiting'),
      stopped: statuses('stopped'),
      sessionId: info?.ok ? String((info.value as { sessionId?: string }).sessionId ?? '') || null : null,
    };
  }

  private each(operation: string, method: string, gids: readonly string[]): Promise<ItemResult<void>[]> {
    return this.batch(
      operation,
      gids.map((gid) => ({ method, params: [gid] })),
      () => undefined,
    );
  }

  pause(gids: readonly string[]): Promise<ItemResult<void>[]> {
    return this.each('pause', 'aria2.pause', gids);
  }

  resume(gids: readonly string[]): Promise<ItemResult<void>[]> {
    return this.each('resume', 'aria2.unpause', gids);
  }

  stop(gids: readonly string[]): Promise<ItemResult<void>[]> {
    return this.each('stop', 'aria2.forceRemove', gids);
  }

  forget(gids: readonly string[]): Promise<ItemResult<void>[]> {
    return this.each('forget', 'aria2.removeDownloadResult', gids);
  }

  changeOptions(changes: readonly { gid: string; options: DaemonOptions }[]): Promise<ItemResult<void>[]> {
    return this.batch(
      'change options',
      changes.map((c) => ({ method: 'aria2.changeOption', params: [c.gid, c.options] })),
      () => undefined,
    );
  }

  async changeGlobalOptions(options: DaemonOptions): Promise<void> {
    await this.single('change global options', 'aria2.changeGlobalOption', [options]);
  }

  async move(gid: string, index: number): Promise<number> {
    return Number(await this.single('move', 'aria2.changePosition', [gid, index, 'POS_SET']));
  }

  files(gids: readonly string[]): Promise<ItemResult<DaemonFile[]>[]> {
    return this.batch(
      'files',
      gids.map((gid) => ({ method: 'aria2.getFiles', params: [gid] })),
      (v) => parseStatus({ files: v }).files,
    );
  }

  peers(gids: readonly string[]): Promise<ItemResult<DaemonPeer[]>[]> {
    return this.batch(
      'peers',
      gids.map((gid) => ({ method: 'aria2.getPeers', params: [gid] })),
      (v) =>
        (Array.isArray(v) ? (v as Record<string, string>[]) : []).map((p) => ({
          ip: String(p.ip ?? ''),
          port: Number(p.port ?? 0) || 0,
          peerId: p.peerId,
          downloadSpeed: Number(p.downloadSpeed ?? 0) || 0,
          uploadSpeed: Number(p.uploadSpeed ?? 0) || 0,
          seeder: p.seeder === 'true',
          bitfield: p.bitfield,
        })),
    );
  }

  servers(gids: readonly string[]): Promise<ItemResult<DaemonServer[]>[]> {
    return this.batch(
      'servers',
      gids.map((gid) => ({ method: 'aria2.getServers', params: [gid] })),
      (v) =>
        (Array.isArray(v) ? (v as { index: string; servers?: Record<string, string>[] }[]) : []).flatMap(
          (f) =>
            (f.servers ?? []).map((s) => ({
              fileIndex: Number(f.index) || 0,
              uri: String(s.uri ?? ''),
              currentUri: String(s.currentUri ?? s.uri ?? ''),
              downloadSpeed: Number(s.downloadSpeed ?? 0) || 0,
            })),
        ),
    );
  }

  async sessionId(): Promise<string> {
    const info = await this.single<{ sessionId: string }>('session info', 'aria2.getSessionInfo', []);
    return String(info.sessionId);
  }

  async saveSession(): Promise<void> {
    await this.single('save session', 'aria2.saveSession', []);
  }
}
