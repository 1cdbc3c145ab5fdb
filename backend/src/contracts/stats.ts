import { z } from 'zod';
import { TASK_STATUSES } from '../domain/task-rules.js';

export const stats = z.object({
  used_space: z.number().int(),
  quota: z.number().int(),
  available_space: z
    .number()
    .int()
    .describe('bytes the caller may still add: quota left, bounded by the disk'),
  download_speed: z.number().int(),
  upload_speed: z.number().int(),
  active_count: z.number().int(),
  waiting_counts: z
    .object({
      user_limit: z
        .object({ running: z.number().int(), limit: z.number().int() })
        .describe(
          "the caller's downloads running (seeding torrents not counted) and max_active_per_user (0: no limit)",
        ),
      slots: z
        .object({ running: z.number().int(), limit: z.number().int() })
        .describe(
          "downloads running on the caller's node (seeding torrents not counted) and max_concurrent_downloads",
        ),
    })
    .describe("what a waiting task's waiting_reason counts: 'user_limit' and 'slots'"),
  status_counts: z
    .object(Object.fromEntries(TASK_STATUSES.map((s) => [s, z.number().int()])) as StatusCountShape)
    .describe("the caller's tasks in each status (what a list of that status totals)"),
});
type StatusCountShape = Record<(typeof TASK_STATUSES)[number], z.ZodNumber>;
export type Stats = z.infer<typeof stats>;

export const aria2State = z.object({ connected: z.boolean(), version: z.string().nullable() });
export const nodeHealth = aria2State.extend({ id: z.string().describe('the node id (ARIA2_NODES)') });
export const nodeStats = nodeHealth.extend({
  disk_total: z.number().int(),
  disk_used: z.number().int(),
  disk_free: z.number().int(),
  users: z.number().int().describe('users who live on the node'),
});
export const machineStats = z.object({
  disk_total: z.number().int().describe("the first node's disk (the only one with a single node)"),
  disk_used: z.number().int(),
  disk_free: z.number().int(),
  aria2: aria2State.describe("the first node's daemon"),
  nodes: z.array(nodeStats).describe('every download daemon, its disk and its users'),
});
export const health = z.object({
  status: z.enum(['ok', 'degraded']).describe('degraded while any node is away'),
  aria2: aria2State.describe("the first node's daemon"),
  nodes: z.array(nodeHealth),
});
export type HealthBody = z.infer<typeof health>;

export const settings = z.object({
  max_task_size: z.number().int().min(0),
  min_free_disk: z.number().int().min(0),
  default_quota: z.number().int().min(0),
  allow_private_network: z.boolean(),
  max_concurrent_downloads: z.number().int().min(1).max(1000),
  max_overall_download_limit: z.number().int().min(0),
  max_active_per_user: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .describe(
      'running downloads per user at most; free slots go round-robin to users who wait; 0 = no limit',
    ),
  max_current_tasks_per_user: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .describe('queued, active, waiting and paused tasks one user may have; an add past it is 403'),
  auto_retry_attempts: z
    .number()
    .int()
    .min(0)
    .max(10)
    .describe('automatic retries of a download that failed for a passing reason; 0 = off'),
  auto_retry_delay_s: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .describe('seconds before the first automatic retry; doubles with each attempt'),
  auto_retry_max_delay_s: z.number().int().min(1).max(604_800).describe('the longest delay between retries'),
  seed_ratio: z
    .number()
    .min(0)
    .max(1000)
    .describe('a finished torrent seeds until it uploaded this many times its size; 0 = no ratio'),
  seed_time_min: z
    .number()
    .int()
    .min(0)
    .max(525_600)
    .describe('a finished torrent seeds this many minutes; 0 = none (a task may set its own in options)'),
  pinned: z
    .object({
      allow_private_network: z.literal('ALLOW_PRIVATE_NETWORK').optional(),
      max_task_size: z.literal('MAX_TASK_SIZE').optional(),
      min_free_disk: z.literal('MIN_FREE_DISK').optional(),
      default_quota: z.literal('DEFAULT_QUOTA').optional(),
    })
    .describe(
      'the settings an environment variable set at this start, each with its variable: the variable wins again at every start (a PUT still applies until then)',
    ),
});
export type SettingsBody = z.infer<typeof settings>;
export const settingsPatch = settings.omit({ pinned: true }).partial().strict();
