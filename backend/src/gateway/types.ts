/**
 * What the controller needs of a download daemon, in its own words. A daemon (today aria2, in
 * `aria2/gateway.ts`) is reached only through this interface: services and jobs never see its method
 * names, status words, error codes or how it batches calls. Batch verbs take many ids and answer one
 * outcome per id, in order; they reject (with a GatewayError) only when the daemon answered none of it.
 */

/** The name of the daemon a task runs on (a column of the task). */
export type NodeName = string;

/** The node every task ran on before there were several. */
export const LOCAL_NODE: NodeName = 'local';

/** A download's state as the daemon reports it, in the controller's status names. */
export type DaemonState = 'active' | 'waiting' | 'paused' | 'complete' | 'error' | 'removed';

/**
 * Which fields a status look-up fills (the rest keep their zero values):
 * - `state`: id, status, following (what a queue decision needs);
 * - `progress`: state plus sizes, speeds, error, followedBy and info hash (the once-a-second pass);
 * - `sync`: progress plus folder, files and torrent info (a row brought up to date);
 * - `detail`: everything, pieces and connections too (the task page).
 */
export type StatusFields = 'state' | 'progress' | 'sync' | 'detail';

export interface DaemonFile {
  /** 1-based, as the daemon numbers a torrent's files. */
  index: number;
  /** Absolute path the daemon writes (or a name while only the metadata is known). */
  path: string;
  length: number;
  completedLength: number;
  selected: boolean;
  uris: { uri: string; status: string }[];
}

export interface DaemonStatus {
  /** The daemon's id of the download (the task row's `gid`). */
  gid: string;
  status: DaemonState;
  totalLength: number;
  completedLength: number;
  uploadLength: number;
  downloadSpeed: number;
  uploadSpeed: number;
  connections: number;
  numSeeders: number;
  numPieces: number;
  pieceLength: number;
  /** Hex bitfield of the pieces the daemon has (detail only). */
  bitfield?: string;
  infoHash?: string;
  /** The daemon's code of a failure, as stored on the row (`error_code`). */
  errorCode?: string;
  errorMessage?: string;
  /** A metadata download (magnet, .torrent URL) that finished names the real download here. */
  followedBy?: string[];
  /** The metadata download this one follows. */
  following?: string;
  belongsTo?: string;
  /** The folder the daemon writes in (sync and detail). */
  dir?: string;
  files: DaemonFile[];
  /** Only the metadata is being fetched (a magnet before its torrent is known). */
  metadata: boolean;
  seeder?: boolean;
  bittorrent?: {
    announceList?: string[][];
    comment?: string;
    creationDate?: number;
    mode?: string;
    info?: { name?: string };
  };
}

/** Daemon options of a download, by the option names the task options use (strings on the wire). */
export type DaemonOptions = Record<string, string | string[]>;

/** One download to add: from URIs or from a .torrent file. */
export type AddRequest = (
  | { uris: string[]; torrent?: undefined }
  | { torrent: Buffer; webSeeds?: string[]; uris?: undefined }
) & {
  /** The id the controller chose for it (stored on the row first, so no download is ever unowned). */
  gid?: string;
  options?: DaemonOptions;
  /** Added paused: it starts when resumed. */
  paused?: boolean;
  /** Its place in the daemon's queue (0 first); at the end without. */
  position?: number;
};

export interface Added {
  gid: string;
  /** Its `progress` status, read in the same round trip when the request named its gid; null otherwise. */
  status: DaemonStatus | null;
}

/** One outcome of a batch verb. */
export type ItemResult<T> = { ok: true; value: T } | { ok: false; error: GatewayError };

/** What the daemon holds, read in one round trip; each part is null when not asked for or refused. */
export interface Snapshot {
  active: DaemonStatus[] | null;
  /** In queue order. */
  waiting: DaemonStatus[] | null;
  stopped: DaemonStatus[] | null;
  sessionId: string | null;
}

export interface SnapshotRequest {
  active?: StatusFields;
  /** `ids`: only the gids, in queue order (the rest of each status at its zero value). */
  waiting?: StatusFields | 'ids';
  stopped?: StatusFields;
  session?: boolean;
}

export interface DaemonPeer {
  ip: string;
  port: number;
  /** Percent-encoded, as the peer sent it. */
  peerId: string | undefined;
  downloadSpeed: number;
  uploadSpeed: number;
  seeder: boolean;
  bitfield: string | undefined;
}

export interface DaemonServer {
  /** The file the connection serves (1-based). */
  fileIndex: number;
  uri: string;
  currentUri: string;
  downloadSpeed: number;
}

export interface DaemonHealth {
  connected: boolean;
  /** The daemon's version, only while connected. */
  version: string | null;
}

/** A hint that a download changed; the controller reads its status to learn what happened. */
export interface DownloadEvent {
  kind: 'started' | 'paused' | 'stopped' | 'complete' | 'error';
  gid: string;
}

export interface GatewayEvents {
  connected: [];
  disconnected: [reason: string];
  download: [DownloadEvent];
}

/**
 * Why a call failed:
 * - `unavailable`: no answer (not connected, timed out, connection lost);
 * - `not_found`: the daemon does not know the download;
 * - `refused`: the daemon answered and refused (the download is in another state, a bad option);
 * - `invalid`: never sent (too large for the daemon, text it could not read).
 */
export type GatewayErrorKind = 'unavailable' | 'not_found' | 'refused' | 'invalid';

/** A failed daemon call: names the node and the operation, keeps the daemon's reason. */
export class GatewayError extends Error {
  constructor(
    readonly node: NodeName,
    readonly operation: string,
    readonly kind: GatewayErrorKind,
    readonly reason: string,
  ) {
    super(`download daemon ${node}: ${operation} failed: ${reason}`);
    this.name = 'GatewayError';
  }

  /** The daemon answered (and said no): the download changed state meanwhile, not an outage. */
  get answered(): boolean {
    return this.kind === 'refused' || this.kind === 'not_found';
  }
}

/** The verbs of one download daemon. */
export interface DownloadGateway {
  readonly node: NodeName;
  /** Open and answering. */
  readonly connected: boolean;

  /** Connects and keeps reconnecting until close(); resolves on the first success. */
  start(): Promise<void>;
  /** Disconnects for good. */
  close(): Promise<void>;
  health(): DaemonHealth;

  on<E extends keyof GatewayEvents>(event: E, listener: (...args: GatewayEvents[E]) => void): this;
  off<E extends keyof GatewayEvents>(event: E, listener: (...args: GatewayEvents[E]) => void): this;

  add(requests: readonly AddRequest[]): Promise<ItemResult<Added>[]>;
  statuses(gids: readonly string[], fields: StatusFields): Promise<ItemResult<DaemonStatus>[]>;
  /** One status; rejects with the GatewayError of the look-up. */
  status(gid: string, fields: StatusFields): Promise<DaemonStatus>;
  snapshot(request: SnapshotRequest): Promise<Snapshot>;

  pause(gids: readonly string[]): Promise<ItemResult<void>[]>;
  resume(gids: readonly string[]): Promise<ItemResult<void>[]>;
  /** Stops running, waiting or paused downloads (their result stays until forgotten). */
  stop(gids: readonly string[]): Promise<ItemResult<void>[]>;
  /** Forgets the results of stopped downloads. */
  forget(gids: readonly string[]): Promise<ItemResult<void>[]>;

  changeOptions(changes: readonly { gid: string; options: DaemonOptions }[]): Promise<ItemResult<void>[]>;
  changeGlobalOptions(options: DaemonOptions): Promise<void>;
  /** Moves a waiting download to `index` (0 first) of the daemon's queue; answers where it landed. */
  move(gid: string, index: number): Promise<number>;

  files(gids: readonly string[]): Promise<ItemResult<DaemonFile[]>[]>;
  peers(gids: readonly string[]): Promise<ItemResult<DaemonPeer[]>[]>;
  servers(gids: readonly string[]): Promise<ItemResult<DaemonServer[]>[]>;

  /** Changes on every start of the daemon: a restart detector. */
  sessionId(): Promise<string>;
  saveSession(): Promise<void>;
}
