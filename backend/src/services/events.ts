import { EventEmitter } from 'node:events';
import type { Db } from '../db/index.js';
import { getTasksAnyOwner, type TaskRow } from '../repositories/tasks.js';

/** The rows the events carry, and their public view: listeners (the hub, jobs) need no repository. */
export type { TaskRow } from '../repositories/tasks.js';
export { toTask } from '../repositories/tasks.js';

/** Which sessions ended: one (by its id hash, on logout or expiry), or a user's, all or all but one. */
export type SessionsEnded = { idHash: string } | { userId: number; exceptIdHash: string | null };

/** A revoked API token (`tokenId`), or all of a user's (null: the user was deleted). */
export interface TokenRevoked {
  userId: number;
  tokenId: number | null;
}

/** Admin settings changed on an instance (`origin`): the others read them again. */
export interface SettingsChanged {
  origin: string;
  keys: string[];
}

/** What the live hub hears from the services: always the owner's task rows, ended sessions and revoked tokens. */
export interface ControllerEventMap {
  task_update: [row: TaskRow];
  /** `replacedBy`: the new task's id when a retry replaced it. */
  task_removed: [ownerId: number, taskId: number, replacedBy?: number];
  sessions_ended: [ended: SessionsEnded];
  /** Sockets opened with the token close at once. */
  token_revoked: [revoked: TokenRevoked];
  settings_changed: [changed: SettingsChanged];
}

type EventName = keyof ControllerEventMap;

/** How the events reach the other instances on one database (PostgreSQL NOTIFY; db/notify.ts). */
export interface EventLink {
  /** This instance's id: its own messages, heard back, are dropped. */
  origin: string;
  /** The largest message `send` takes. */
  maxBytes: number;
  send(message: string): Promise<void>;
  /** The task rows of these ids as they are now (an update message carries ids, not rows). */
  readRows(ids: readonly number[]): Promise<TaskRow[]>;
  /** A message could not be sent or read: the others miss an event, nothing else. */
  failed(err: unknown): void;
}

/** One message on the link: an event with its arguments, or task updates by row id. */
type Message =
  | { o: string; e: 'task_update'; ids: number[] }
  | { o: string; e: Exclude<EventName, 'task_update'>; a: unknown[] };

/**
 * The events of the services. Listeners (the socket hub, the RPC, the jobs) hear every event of this
 * instance and, once `link` is set, those of the other instances on the database: each event emitted
 * here is also sent to them (task updates by id, gathered over one turn of the event loop and re-read
 * on arrival, as a row can exceed a message), and theirs are emitted here as they arrive, in order.
 */
export class ControllerEvents extends EventEmitter<ControllerEventMap> {
  private link: EventLink | null = null;
  private outbox: Message[] = [];
  /** The ids of the outbox's last message when it is a task update. */
  private lastIds: Set<number> | null = null;
  private flushing: NodeJS.Immediate | null = null;
  private arriving: Promise<void> = Promise.resolve();
  /**
   * What this instance's listeners last heard of each task: the text of a row re-read for another
   * instance, or a row emitted here without its .torrent (made text only when a re-read is compared
   * with it; the .torrent is not kept alive by it). A re-read equal to it is not heard again: two
   * updates re-read as one state, or a state the sync of this instance emitted before another
   * instance's update of the same task arrived.
   */
  private readonly lastHeard = new Map<number, string | ShownRow>();

  constructor() {
    super();
    this.setMaxListeners(0);
  }

  /** A task row changed: its owner's sockets get it. */
  taskUpdate(row: TaskRow): void {
    this.emit('task_update', row);
  }

  /** A task row went (deleted, or replaced by `replacedBy` in a retry). */
  taskRemoved(ownerId: number, id: number, replacedBy?: number): void {
    this.emit('task_removed', ownerId, id, replacedBy);
  }

  /** Sends every event from now on to the other instances too, and hears theirs through `receive`. */
  connect(link: EventLink): void {
    this.link = link;
  }

  /** Stops sending (pending messages are sent first). */
  async disconnect(): Promise<void> {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    await this.flush();
    await this.arriving;
    this.link = null;
  }

  override emit<K extends EventName>(event: K, ...args: ControllerEventMap[K]): boolean;
  override emit(event: EventName, ...args: unknown[]): boolean {
    const heard = (super.emit as (e: EventName, ...a: unknown[]) => boolean)(event, ...args);
    if (this.link) {
      if (event === 'task_update') {
        const shown = shownOf(args[0] as TaskRow);
        this.remember(shown.id, shown);
      } else if (event === 'task_removed') this.lastHeard.delete(args[1] as number);
      this.queue(event, args);
    }
    return heard;
  }

  private queue(event: EventName, args: unknown[]): void {
    const origin = this.link!.origin;
    const last = this.outbox[this.outbox.length - 1];
    if (event === 'task_update') {
      const id = (args[0] as TaskRow).id;
      // A set beside the ids: a pass of 1,000 updates would otherwise search the list 1,000 times.
      if (last?.e === 'task_update' && this.lastIds) {
        if (!this.lastIds.has(id)) {
          this.lastIds.add(id);
          last.ids.push(id);
        }
      } else {
        this.outbox.push({ o: origin, e: 'task_update', ids: [id] });
        this.lastIds = new Set([id]);
      }
    } else {
      // undefined (a task removed without replacement) does not survive JSON in an array; null does.
      this.outbox.push({ o: origin, e: event, a: args.map((a) => a ?? null) });
    }
    this.flushing ??= setImmediate(() => {
      this.flushing = null;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const link = this.link;
    const messages = this.outbox;
    this.outbox = [];
    this.lastIds = null;
    if (!link) return;
    for (const message of messages) {
      for (const text of split(message, link.maxBytes)) {
        await link.send(text).catch((err) => link.failed(err));
      }
    }
  }

  private isNews(row: TaskRow): boolean {
    const text = JSON.stringify(shownOf(row));
    const last = this.lastHeard.get(row.id);
    if (last !== undefined && (typeof last === 'string' ? last : JSON.stringify(last)) === text) return false;
    this.remember(row.id, text);
    return true;
  }

  private remember(id: number, shown: string | ShownRow): void {
    this.lastHeard.delete(id);
    this.lastHeard.set(id, shown);
    if (this.lastHeard.size > MAX_HEARD) this.lastHeard.delete(this.lastHeard.keys().next().value!);
  }

  /** A message from the link; this instance's own are dropped (they were heard when emitted). */
  receive(text: string): void {
    const link = this.link;
    if (!link) return;
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch (err) {
      link.failed(err);
      return;
    }
    if (message.o === link.origin) return;
    const hear = (super.emit as (e: EventName, ...a: unknown[]) => boolean).bind(this);
    this.arriving = this.arriving.then(async () => {
      try {
        if (message.e === 'task_update') {
          for (const row of await link.readRows(message.ids)) if (this.isNews(row)) hear('task_update', row);
        } else if (message.e === 'task_removed') {
          const [ownerId, taskId, replacedBy] = message.a as [number, number, number | null];
          this.lastHeard.delete(taskId);
          hear('task_removed', ownerId, taskId, replacedBy ?? undefined);
        } else hear(message.e, ...message.a);
      } catch (err) {
        link.failed(err);
      }
    });
  }
}

/** A row as its listeners show it: without the .torrent (kept in the database, never sent). */
type ShownRow = Omit<TaskRow, 'torrent'>;

function shownOf(row: TaskRow): ShownRow {
  const { torrent: _, ...shown } = row;
  return shown;
}

/** The most rows remembered for `isNews`; the oldest are forgotten first. */
const MAX_HEARD = 10_000;

/** A message as texts of at most `maxBytes` (task updates split by ids; the others are small). */
function split(message: Message, maxBytes: number): string[] {
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text) <= maxBytes || message.e !== 'task_update' || message.ids.length < 2)
    return [text];
  const half = Math.ceil(message.ids.length / 2);
  return [
    ...split({ ...message, ids: message.ids.slice(0, half) }, maxBytes),
    ...split({ ...message, ids: message.ids.slice(half) }, maxBytes),
  ];
}

/** The task rows of these ids as they are now (what an update from another instance names). */
export function rowsByIds(db: Db, ids: readonly number[]): Promise<TaskRow[]> {
  return getTasksAnyOwner(db, ids);
}
