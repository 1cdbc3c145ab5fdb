import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Aria2Client } from '../../src/aria2/client.js';
import { Aria2Gateway } from '../../src/aria2/gateway.js';
import { loadConfig } from '../../src/config/index.js';
import { type Db, openDatabase } from '../../src/db/index.js';
import { NodeRegistry } from '../../src/gateway/registry.js';
import type { Logger, ServiceContext } from '../../src/services/context.js';
import { ControllerEvents } from '../../src/services/events.js';
import { SettingsService } from '../../src/services/settings.js';

/** Every log call, serialised, so a test can prove no secret was logged. */
export class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  private record(level: string, obj: object | string, msg?: string) {
    this.lines.push(JSON.stringify({ level, obj, msg }));
  }
  info(obj: object | string, msg?: string) {
    this.record('info', obj, msg);
  }
  warn(obj: object | string, msg?: string) {
    this.record('warn', obj, msg);
  }
  error(obj: object | string, msg?: string) {
    this.record('error', obj, msg);
  }
  debug(obj: object | string, msg?: string) {
    this.record('debug', obj, msg);
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface UnitContext {
  ctx: ServiceContext;
  db: Db;
  dir: string;
  logger: CapturingLogger;
  close(): Promise<void>;
}

/**
 * A real ServiceContext over a real SQLite file in a temporary folder. aria2 is a client that is
 * never started: the account services do not call it.
 */
export async function unitContext(env: Record<string, string> = {}): Promise<UnitContext> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-controller-auth-'));
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', ...env });
  const db = await openDatabase(config.databaseFile);
  const aria2 = new Aria2Client({ url: 'ws://127.0.0.1:9/jsonrpc', secret: null });
  const nodes = new NodeRegistry([new Aria2Gateway('local', aria2)]);
  const logger = new CapturingLogger();
  const settings = new SettingsService(db, nodes.local, logger);
  await settings.load(config.settingsSeed);
  const ctx: ServiceContext = { config, db, nodes, events: new ControllerEvents(), settings, logger };
  return {
    ctx,
    db,
    dir,
    logger,
    async close() {
      await aria2.close();
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
