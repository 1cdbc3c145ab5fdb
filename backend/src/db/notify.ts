import { sql } from 'kysely';
import type pg from 'pg';
import { type Db, loadPg } from './index.js';

/** The one PostgreSQL channel the controller instances tell each other their events on. */
export const EVENTS_CHANNEL = 'controller_events';
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; messages stay well under. */
export const MAX_NOTIFY_BYTES = 7000;
const RECONNECT_MS = 1000;

export interface NotifyChannel {
  send(payload: string): Promise<void>;
  close(): Promise<void>;
}

export interface NotifyHandlers {
  message(payload: string): void;
  /** LISTEN is in place (again): whatever was sent while it was not has been missed. */
  listening(): void;
  error(err: unknown): void;
}

/**
 * LISTEN on a connection of its own (pooled connections come and go; a listener must stay), sending
 * through the pool. A lost connection is opened again a second later.
 */
export async function openNotifyChannel(
  db: Db,
  url: string,
  handlers: NotifyHandlers,
): Promise<NotifyChannel> {
  let closed = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  const driver = await loadPg();

  const connect = async (): Promise<void> => {
    const c = new driver.Client({ connectionString: url });
    const lost = (err: unknown) => {
      if (client !== c) return;
      client = null;
      c.end().catch(() => undefined);
      if (closed) return;
      handlers.error(err);
      retry = setTimeout(() => {
        retry = null;
        connect().catch(lost);
      }, RECONNECT_MS);
    };
    client = c;
    c.on('error', lost);
    c.on('end', () => lost(new Error('the notification connection closed')));
    c.on('notification', (n) => {
      if (n.channel === EVENTS_CHANNEL && n.payload !== undefined) handlers.message(n.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (err) {
      lost(err);
      throw err;
    }
    handlers.listening();
  };
  await connect();

  return {
    async send(payload) {
      await sql`SELECT pg_notify(${EVENTS_CHANNEL}, ${payload})`.execute(db);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
