import type { ListTasksQuery, Task, TaskFile } from '../../contracts/tasks.js';
import { NotFoundError, taskNotFound } from '../../domain/errors.js';
import { isCurrent, TORRENT_URI } from '../../domain/task-status.js';
import type { DaemonStatus } from '../../gateway/types.js';
import type { TaskRow } from '../../repositories/tasks.js';
import * as repo from '../../repositories/tasks.js';
import type { Actor, ServiceContext } from '../context.js';
import { ignored } from '../ignored.js';
import type { SpeedHistory } from '../speed-history.js';
import { filesOf, filesOnDisk, peersOf, serversOf } from '../task-detail.js';

/** Reading a user's tasks: the list, one task, its detail from the daemon, its files, its stored torrent. */
export class TaskQueryService {
  constructor(
    private readonly ctx: Pick<ServiceContext, 'db' | 'nodes' | 'logger'>,
    /** The last few minutes of each running task's speed (the sync engine records them). */
    private readonly speeds: SpeedHistory,
  ) {}

  async list(actor: Actor, query: ListTasksQuery): Promise<{ items: Task[]; total: number }> {
    // The queue view lists in aria2's real order unless another order is asked for.
    const sort = query.sort ?? (query.view === 'current' ? 'position' : 'created_at');
    const order = query.order ?? (sort === 'position' ? 'asc' : 'desc');
    const { rows, total } = await repo.listTasks(this.ctx.db, actor.id, { ...query, sort, order });
    return { items: rows, total };
  }

  async getRow(actor: Actor, id: number): Promise<TaskRow> {
    const row = await repo.getTask(this.ctx.db, actor.id, id);
    if (!row) throw taskNotFound();
    return row;
  }

  async get(actor: Actor, id: number): Promise<Task> {
    return repo.toTask(await this.getRow(actor, id));
  }

  /** An uploaded torrent's stored .torrent file and a file name for it. */
  async torrentFile(actor: Actor, id: number): Promise<{ name: string; data: Buffer }> {
    const row = await this.getRow(actor, id);
    if (row.uri !== TORRENT_URI || !row.torrent)
      throw new NotFoundError('This task has no stored .torrent file');
    const base = (row.name ?? '').replace(/[/\\\0]/g, '_').trim() || `task-${row.id}`;
    return { name: `${base}.torrent`, data: row.torrent };
  }

  /** The daemon's full view of a task, or null when it no longer knows it (or is away). */
  async daemonStatus(row: TaskRow): Promise<DaemonStatus | null> {
    if (!row.gid) return null;
    const gateway = this.ctx.nodes.forTask(row);
    if (!gateway.connected) return null;
    const status = await gateway
      .status(row.gid, 'detail')
      .catch(ignored(this.ctx.logger, 'the daemon did not tell a download it was asked about'));
    return status ?? null;
  }

  filesOf(row: TaskRow, status: DaemonStatus): TaskFile[] {
    return filesOf(row.dir, status);
  }

  /** The daemon's peers and servers of a download; empty where it has none (or refuses). */
  private async connectionsOf(row: TaskRow & { gid: string }, status: DaemonStatus) {
    const gateway = this.ctx.nodes.forTask(row);
    const [peers, servers] = await Promise.all([
      status.bittorrent ? gateway.peers([row.gid]).catch(() => []) : [],
      gateway.servers([row.gid]).catch(() => []),
    ]);
    const p = peers[0];
    const s = servers[0];
    return {
      peers: p?.ok ? peersOf(p.value, status.numPieces) : [],
      servers: s?.ok ? serversOf(s.value) : [],
    };
  }

  async detail(actor: Actor, id: number) {
    const row = await this.getRow(actor, id);
    const status = await this.daemonStatus(row);
    const bt = status?.bittorrent;
    const links = status && row.gid ? await this.connectionsOf({ ...row, gid: row.gid }, status) : null;
    const task = repo.toTask(row);
    if (status && isCurrent(row.status) && (status.totalLength > 0 || status.completedLength > 0)) {
      // The header shows aria2's figures of this moment, the same the files are shared out from.
      task.total_length = status.totalLength;
      task.completed_length = status.completedLength;
    }
    return {
      ...task,
      speed_history: row.status === 'active' ? this.speeds.get(row.id) : [],
      detail: status
        ? {
            files: this.filesOf(row, status),
            peers: links?.peers ?? [],
            servers: links?.servers ?? [],
            upload_length: status.uploadLength,
            ratio: status.completedLength > 0 ? status.uploadLength / status.completedLength : 0,
            num_pieces: status.numPieces,
            piece_length: status.pieceLength,
            bitfield: status.bitfield ?? null,
            connections: status.connections,
            num_seeders: status.numSeeders,
            seeder: status.seeder ?? null,
            info_hash: status.infoHash ?? row.info_hash,
            bittorrent: bt
              ? {
                  name: bt.info?.name ?? null,
                  comment: bt.comment ?? null,
                  creation_date: bt.creationDate ?? null,
                  mode: bt.mode ?? null,
                  announce_list: bt.announceList ?? [],
                }
              : null,
          }
        : null,
    };
  }

  async files(actor: Actor, id: number): Promise<TaskFile[]> {
    const row = await this.getRow(actor, id);
    const status = await this.daemonStatus(row);
    if (status) return this.filesOf(row, status);
    if (row.status === 'complete' && row.artifact_path) {
      return [
        {
          index: 1,
          path: row.artifact_path,
          length: row.total_length,
          completed_length: row.total_length,
          selected: true,
        },
      ];
    }
    // A download aria2 forgot (failed, stopped, restarted) may have left partial files in its folder.
    if (row.status !== 'complete') return filesOnDisk(row.dir);
    return [];
  }
}
