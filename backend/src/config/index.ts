import path from 'node:path';
import { z } from 'zod';
import type { DatabaseTarget } from '../db/index.js';

export const GiB = 1024 ** 3;

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => ['true', '1', 'yes'].includes(v));
const byteCount = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of bytes')
  .transform((v) => Number(v))
  .refine((v) => Number.isSafeInteger(v), 'is too large');
const port = z
  .string()
  .regex(/^\d+$/, 'must be a port number')
  .transform(Number)
  .refine((v) => v >= 0 && v <= 65535, 'must be between 0 and 65535');

/** The environment the controller reads; each key is a variable of the README's "Configuration" table. */
const environmentSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(8000),
  DATA_DIR: z.string().min(1).default('./data'),
  DOWNLOAD_DIR: z.string().min(1).optional(),
  ARIA2_RPC_URL: z
    .string()
    .regex(
      /^(https?|wss?):\/\/[^\s]+$/,
      'must be an http(s) or ws(s) URL such as http://127.0.0.1:6800/jsonrpc',
    )
    .optional(),
  ARIA2_RPC_SECRET: z.string().optional(),
  ARIA2_NODES: z.string().optional(),
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((o) => o.trim().replace(/\/+$/, ''))
        .filter(Boolean),
    )
    .refine(
      (list) => list.every((o) => /^https?:\/\/[^/\s]+$/.test(o)),
      'must be origins like https://example.com',
    ),
  COOKIE_SECURE: boolean.default(false),
  TRUST_PROXY: boolean.default(false),
  SESSION_TTL_DAYS: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of days')
    .transform(Number)
    .refine((v) => v > 0 && v <= 3650, 'must be more than 0 and at most 3650 days')
    .default(7),
  ADMIN_USERNAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,50}$/, 'must be 1-50 letters, digits, dots, underscores or dashes')
    .default('admin'),
  ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  ALLOW_PRIVATE_NETWORK: boolean.optional(),
  MAX_TASK_SIZE: byteCount.optional(),
  MIN_FREE_DISK: byteCount.optional(),
  DEFAULT_QUOTA: byteCount.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .refine(
      (v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/[^\s/]+\/[^\s/?]+/.test(v),
      'must be sqlite:<file> or postgres://user:password@host:port/database',
    )
    .optional(),
});

/** Settings an admin can change at run time; a variable that is set overrides the stored value at start. */
export interface SettingsSeed {
  allow_private_network?: boolean;
  max_task_size?: number;
  min_free_disk?: number;
  default_quota?: number;
}

/** The variable that seeds each setting of `SettingsSeed`. */
export const SETTING_VARIABLES = Object.freeze({
  allow_private_network: 'ALLOW_PRIVATE_NETWORK',
  max_task_size: 'MAX_TASK_SIZE',
  min_free_disk: 'MIN_FREE_DISK',
  default_quota: 'DEFAULT_QUOTA',
} as const satisfies Record<keyof SettingsSeed, string>);

/** The settings a variable pinned at this start, each with its variable's name. */
export type PinnedSettings = {
  -readonly [K in keyof typeof SETTING_VARIABLES]?: (typeof SETTING_VARIABLES)[K];
};

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly downloadDir: string;
  /** DATABASE_URL: the embedded SQLite file (the default, under DATA_DIR) or a PostgreSQL URL. */
  readonly database: DatabaseTarget;
  /** null: the controller runs its own aria2c. */
  readonly aria2RpcUrl: string | null;
  readonly aria2RpcSecret: string | null;
  /** ARIA2_NODES: the download daemons; null: one node, the embedded aria2c (or ARIA2_RPC_URL). */
  readonly nodes: readonly NodeConfig[] | null;
  readonly allowedOrigins: readonly string[];
  readonly cookieSecure: boolean;
  readonly trustProxy: boolean;
  readonly sessionTtlMs: number;
  readonly adminUsername: string;
  readonly adminPassword: string | null;
  readonly settingsSeed: Readonly<SettingsSeed>;
  readonly logLevel: string;
}

export class ConfigError extends Error {}

function databaseTarget(url: string | undefined, dataDir: string): DatabaseTarget {
  if (url === undefined) return { kind: 'sqlite', file: path.join(dataDir, 'controller.db') };
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    return { kind: 'sqlite', file: file === ':memory:' ? file : path.resolve(file) };
  }
  return { kind: 'postgres', url };
}

/** One download daemon of ARIA2_NODES: `dir` is its folder as aria2 sees it, `mount` as the controller does. */
export interface NodeConfig {
  readonly id: string;
  readonly rpcUrl: string;
  readonly secret: string | null;
  readonly dir: string;
  readonly mount: string;
}

const absolutePath = z
  .string()
  .refine((p) => path.isAbsolute(p), 'must be an absolute path')
  .transform((p) => path.resolve(p));
const nodesSchema = z
  .array(
    z.strictObject({
      id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1-32 lowercase letters, digits or dashes'),
      rpc_url: z.string().regex(/^(https?|wss?):\/\/[^\s]+$/, 'must be an http(s) or ws(s) URL'),
      secret: z.string().optional(),
      dir: absolutePath,
      mount: absolutePath.optional(),
    }),
  )
  .min(1, 'must name at least one node')
  .refine((list) => new Set(list.map((n) => n.id)).size === list.length, 'has two nodes with the same id');

/** ARIA2_NODES, checked; an error names the node and field, never a value (the secrets are in it). */
function parseNodes(text: string): NodeConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text it could not read: the message is not shown.
    throw new ConfigError('Invalid ARIA2_NODES: must be a JSON array of {id, rpc_url, secret, dir, mount}');
  }
  const parsed = nodesSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [index, field] = issue.path;
    const where = typeof index === 'number' ? ` node ${index + 1}${field ? ` ${String(field)}` : ''}` : '';
    const message = issue.code === 'invalid_type' ? 'is missing or not the right type' : issue.message;
    throw new ConfigError(`Invalid ARIA2_NODES:${where}: ${message}`);
  }
  return parsed.data.map((n) => ({
    id: n.id,
    rpcUrl: n.rpc_url,
    secret: n.secret || null,
    dir: n.dir,
    mount: n.mount ?? n.dir,
  }));
}

// DATABASE_URL may hold the database's password; ARIA2_NODES holds the daemons' secrets.
const SECRET_VARIABLES = new Set(['ADMIN_PASSWORD', 'ARIA2_RPC_SECRET', 'DATABASE_URL', 'ARIA2_NODES']);

/** Validates the environment once; a bad value throws one line naming the variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    // Secrets are named, never echoed into a log.
    const shown = SECRET_VARIABLES.has(name) ? '' : `=${JSON.stringify(env[name] ?? '')}`;
    throw new ConfigError(`Invalid ${name}${shown}: ${issue.message}`);
  }
  const e = parsed.data;
  if (e.ARIA2_RPC_SECRET && !e.ARIA2_RPC_URL) {
    throw new ConfigError(
      'Invalid ARIA2_RPC_SECRET: set ARIA2_RPC_URL too, or leave both unset to use the embedded aria2',
    );
  }
  if (e.ARIA2_NODES && (e.ARIA2_RPC_URL || e.ARIA2_RPC_SECRET)) {
    throw new ConfigError('Invalid ARIA2_NODES: set either ARIA2_NODES or ARIA2_RPC_URL, not both');
  }
  const nodes = e.ARIA2_NODES ? parseNodes(e.ARIA2_NODES) : null;
  const dataDir = path.resolve(e.DATA_DIR);
  const seed: SettingsSeed = {};
  if (e.ALLOW_PRIVATE_NETWORK !== undefined) seed.allow_private_network = e.ALLOW_PRIVATE_NETWORK;
  if (e.MAX_TASK_SIZE !== undefined) seed.max_task_size = e.MAX_TASK_SIZE;
  if (e.MIN_FREE_DISK !== undefined) seed.min_free_disk = e.MIN_FREE_DISK;
  if (e.DEFAULT_QUOTA !== undefined) seed.default_quota = e.DEFAULT_QUOTA;
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    dataDir,
    downloadDir: path.resolve(e.DOWNLOAD_DIR ?? path.join(dataDir, 'downloads')),
    database: Object.freeze(databaseTarget(e.DATABASE_URL, dataDir)),
    aria2RpcUrl: e.ARIA2_RPC_URL ?? null,
    aria2RpcSecret: e.ARIA2_RPC_SECRET ?? null,
    nodes: nodes && Object.freeze(nodes.map((n) => Object.freeze(n))),
    allowedOrigins: Object.freeze(e.ALLOWED_ORIGINS),
    cookieSecure: e.COOKIE_SECURE,
    trustProxy: e.TRUST_PROXY,
    sessionTtlMs: e.SESSION_TTL_DAYS * 24 * 3600 * 1000,
    adminUsername: e.ADMIN_USERNAME,
    adminPassword: e.ADMIN_PASSWORD ?? null,
    settingsSeed: Object.freeze(seed),
    logLevel: e.LOG_LEVEL,
  });
}

/** The admin settings of /api/config. */
export interface Settings {
  max_task_size: number;
  min_free_disk: number;
  default_quota: number;
  allow_private_network: boolean;
  max_concurrent_downloads: number;
  max_overall_download_limit: number;
  /** Running downloads per user at most (0: no per-user limit); see `SECURITY.md`, fair sharing. */
  max_active_per_user: number;
  /** Queued, active, waiting and paused tasks one user may have at once. */
  max_current_tasks_per_user: number;
  /** Automatic retries of passing failures (0: off), first delay and longest delay (docs/auto-retry.md). */
  auto_retry_attempts: number;
  auto_retry_delay_s: number;
  auto_retry_max_delay_s: number;
  /** A finished torrent seeds until it uploaded this many times its size (0: no ratio). */
  seed_ratio: number;
  /** A finished torrent seeds this many minutes (0: it stops at once unless a ratio is set). */
  seed_time_min: number;
}

/** Defaults of the admin settings (`/api/config`, described in the OpenAPI document). */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  max_task_size: 10 * GiB,
  min_free_disk: 1 * GiB,
  default_quota: 100 * GiB,
  allow_private_network: false,
  max_concurrent_downloads: 5,
  max_overall_download_limit: 0,
  max_active_per_user: 3,
  max_current_tasks_per_user: 1000,
  auto_retry_attempts: 3,
  auto_retry_delay_s: 30,
  auto_retry_max_delay_s: 3600,
  seed_ratio: 0,
  seed_time_min: 0,
});
