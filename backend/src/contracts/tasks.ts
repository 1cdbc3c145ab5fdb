import { z } from 'zod';
import { MAX_IDS_PER_CALL, MAX_URIS_PER_BATCH, TASK_STATUSES } from '../domain/task-rules.js';
import { isoTime, safeText } from './common.js';

export const taskStatus = z.enum(TASK_STATUSES);

export const task = z.object({
  id: z.number().int(),
  owner_id: z.number().int(),
  gid: z.string().nullable(),
  uri: z.string().describe('credentials masked as ***:***'),
  status: taskStatus,
  name: z.string().nullable(),
  total_length: z.number().int(),
  completed_length: z.number().int(),
  download_speed: z.number().int(),
  upload_speed: z.number().int(),
  error: z.string().nullable(),
  created_at: isoTime,
  updated_at: isoTime,
  artifact_path: z.string().nullable(),
  artifact_token: z.string().nullable(),
  waiting_reason: z
    .enum(['queue', 'user_limit', 'slots'])
    .nullable()
    .describe(
      "why a waiting task waits: 'queue' (next in aria2's queue), 'user_limit' (its owner has max_active_per_user downloads running), 'slots' (every download slot is in use); null when not waiting",
    ),
  attempt: z.number().int().min(1).describe('1 for a first try; one more for each automatic retry'),
  next_retry_at: isoTime
    .nullable()
    .describe('when the server retries this failed task; null when none is planned'),
  position: z
    .number()
    .int()
    .nullable()
    .describe(
      "a waiting task's place among its owner's waiting tasks in aria2's queue (0 first); null otherwise",
    ),
  phase: z
    .enum(['metadata'])
    .nullable()
    .describe("'metadata' while a magnet fetches its metadata (the task is active); null otherwise"),
  seeding: z.boolean().describe('a finished torrent that still uploads to peers'),
});
export type Task = z.infer<typeof task>;
export type TaskStatus = z.infer<typeof taskStatus>;

/** 1-16, as a number or a string of digits (aria2's options are strings on the wire); nothing else. */
const connections = z
  .union([
    z.number(),
    safeText()
      .regex(/^\d{1,2}$/, 'must be a whole number')
      .transform(Number),
  ])
  .pipe(z.number().int().min(1).max(16));
/** All header lines of one task together: far above any real use, small enough to store per task. */
export const MAX_HEADERS_LENGTH = 16 * 1024;
const sizeOption = safeText().regex(/^\d+[KkMm]?$/, 'must be a number of bytes, optionally with K or M');
/**
 * The aria2 options a user may set; anything else is 422. Every string is safeText: no line break or
 * other control character can reach aria2's session file.
 */
export const taskOptions = z.strictObject({
  out: safeText()
    .min(1)
    .max(255)
    .refine((v) => !/[/\\\0]/.test(v) && v !== '.' && v !== '..', 'must be a plain file name')
    .optional(),
  split: connections.optional(),
  'max-connection-per-server': connections.optional(),
  'max-download-limit': sizeOption.optional(),
  header: z
    .array(safeText().min(1).max(8192))
    .max(32)
    .refine(
      (lines) => lines.reduce((n, line) => n + line.length, 0) <= MAX_HEADERS_LENGTH,
      'all headers together must be at most 16 KiB',
    )
    .optional(),
  referer: safeText().max(8192).optional(),
  'user-agent': safeText().max(1024).optional(),
  checksum: safeText()
    .max(140)
    .regex(/^(md5|sha-1|sha-224|sha-256|sha-384|sha-512)=[0-9a-fA-F]+$/, 'must be TYPE=HEXDIGEST')
    .optional(),
  'max-upload-limit': sizeOption.optional(),
  'select-file': safeText()
    .regex(/^\d{1,7}(,\d{1,7}){0,99999}$/, 'must be file indexes such as 1,3')
    .optional()
    .describe('prefer select_files'),
  'seed-ratio': z
    .union([
      z.number().min(0).max(1000),
      safeText().regex(/^\d{1,4}(\.\d{1,3})?$/, 'must be a ratio such as 1.5'),
    ])
    .optional()
    .describe('a torrent seeds until it uploaded this many times its size (0: no ratio)'),
  'seed-time': z
    .union([
      z.number().min(0).max(525_600),
      safeText().regex(/^\d{1,6}(\.\d{1,3})?$/, 'must be minutes such as 30 or 0.5'),
    ])
    .optional()
    .describe('a torrent seeds for this many minutes (fractions too) after it finished (0: not at all)'),
});
export type TaskOptions = z.infer<typeof taskOptions>;

/** The options a current download can change: the add whitelist but its file name. */
export const changeOptionsBody = taskOptions
  .omit({ out: true })
  .refine((o) => Object.keys(o).length > 0, 'options: give at least one option to change');

export const uri = safeText()
  .min(1)
  .max(16 * 1024, 'must be at most 16 KiB');
/** What every add may carry besides its source (docs/auto-retry.md). */
const addExtras = {
  auto_retry: z
    .number()
    .int()
    .min(0)
    .max(10)
    .optional()
    .describe(
      'automatic retries of passing failures for this task; default: the auto_retry_attempts setting',
    ),
  allow_duplicate: z
    .boolean()
    .optional()
    .describe('add even when one of your current tasks already downloads this URI or info hash'),
};
/** Files of a torrent by aria2's 1-based index. */
export const fileIndexes = z.array(z.number().int().min(1).max(1_000_000)).min(1).max(100_000);
const selectFiles = fileIndexes
  .optional()
  .describe("a torrent's files to download, by 1-based index (a magnet's once its metadata is known)");
export const createTaskBody = z.strictObject({
  uri,
  options: taskOptions.optional(),
  select_files: selectFiles,
  ...addExtras,
});
export const batchCreateBody = z.strictObject({
  uris: z.array(uri).min(1).max(MAX_URIS_PER_BATCH),
  options: taskOptions.optional(),
  ...addExtras,
});
export type AddExtras = { auto_retry?: number; allow_duplicate?: boolean };
export const duplicateBody = z.object({
  detail: z.string().describe('This download is already in your list'),
  task_id: z.number().int().describe('the current task that already downloads it'),
});
export const batchCreateResponse = z.object({
  created: z.array(task),
  failed: z.array(z.object({ uri: z.string(), detail: z.string() })),
});
export const torrentBody = z.strictObject({
  // No length cap here: the route's body limit bounds it, and an over-16-MiB file is 413, not 422.
  torrent: safeText().min(1).describe('base64 of the .torrent file (at most 16 MiB decoded)'),
  options: taskOptions.optional(),
  ...addExtras,
  select_files: selectFiles,
});
/** aria2's `select-file` value of a list of indexes: sorted, each once. */
export const selectFileOption = (indexes: readonly number[]): string =>
  [...new Set(indexes)].sort((a, b) => a - b).join(',');
export const selectFilesBody = z.strictObject({ selected: fileIndexes });

export const listTasksQuery = z.strictObject({
  view: z.enum(['current', 'history', 'all']).default('all'),
  status: taskStatus.optional(),
  q: safeText().max(1000).optional(),
  sort: z
    .enum(['created_at', 'updated_at', 'name', 'size', 'speed', 'progress', 'position'])
    .optional()
    .describe("default 'position' (aria2's queue order) for view=current, else 'created_at'"),
  order: z.enum(['asc', 'desc']).optional().describe("default 'asc' for sort=position, else 'desc'"),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});
export type ListTasksQuery = z.infer<typeof listTasksQuery>;
export const taskList = z.object({ items: z.array(task), total: z.number().int() });

export const taskFile = z.object({
  index: z.number().int(),
  path: z.string().describe('relative to the task folder'),
  length: z.number().int(),
  completed_length: z.number().int(),
  selected: z.boolean(),
});
export type TaskFile = z.infer<typeof taskFile>;

export const peer = z.object({
  address: z.string(),
  client: z.string().nullable(),
  download_speed: z.number().int(),
  upload_speed: z.number().int(),
  progress: z.number().min(0).max(1),
  seeder: z.boolean(),
});
export const server = z.object({
  file_index: z.number().int(),
  uri: z.string(),
  current_uri: z.string(),
  download_speed: z.number().int(),
});
export const speedSample = z.object({
  t: isoTime,
  down: z.number().int(),
  up: z.number().int(),
});

export const taskDetail = task.extend({
  speed_history: z
    .array(speedSample)
    .describe('the last few minutes of a running task, one sample a second; empty when it does not run'),
  detail: z
    .object({
      files: z.array(taskFile),
      peers: z.array(peer),
      servers: z.array(server),
      upload_length: z.number().int(),
      ratio: z.number().describe('bytes uploaded per byte downloaded'),
      num_pieces: z.number().int(),
      piece_length: z.number().int(),
      bitfield: z.string().nullable(),
      connections: z.number().int(),
      num_seeders: z.number().int(),
      seeder: z.boolean().nullable(),
      info_hash: z.string().nullable(),
      bittorrent: z
        .object({
          name: z.string().nullable(),
          comment: z.string().nullable(),
          creation_date: z.number().int().nullable(),
          mode: z.string().nullable(),
          announce_list: z.array(z.array(z.string())),
        })
        .nullable(),
    })
    .nullable(),
});

export const statusChangeBody = z.strictObject({ status: z.enum(['pause', 'resume', 'stop']) });
export const positionBody = z.strictObject({
  position: z.number().int().min(-1_000_000).max(1_000_000),
  how: z.enum(['POS_SET', 'POS_CUR', 'POS_END']),
});
export const deleteFilesQuery = z.strictObject({ delete_files: z.enum(['true', 'false']).default('false') });
export const clearHistoryQuery = deleteFilesQuery.extend({
  status: z
    .enum(['complete', 'error', 'removed'])
    .optional()
    .describe('only the finished tasks of this status (default: all three)'),
});

export const retryFilter = z.strictObject({
  view: z.enum(['current', 'history', 'all']).optional(),
  status: taskStatus.optional(),
  q: safeText().max(1000).optional(),
});
export type RetryFilter = z.infer<typeof retryFilter>;
/** Either `ids` (at most 1000, each answered) or `filter` (every match, counted); one object so errors name the field. */
export const retryBatchBody = z
  .strictObject({
    ids: z
      .array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER))
      .min(1)
      .max(MAX_IDS_PER_CALL)
      .optional(),
    filter: retryFilter.optional().describe('every retryable task of the caller that matches; no limit'),
  })
  .refine((b) => (b.ids === undefined) !== (b.filter === undefined), {
    message: 'give either ids or filter',
    path: ['ids'],
  });
export const retryOneBody = z
  .strictObject({
    uri: uri.optional().describe('a new source (a link that expired); checked like an add'),
  })
  .nullish();
export const retryResult = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), task }),
  z.object({ id: z.number().int(), ok: z.literal(false), status: z.number().int(), detail: z.string() }),
]);
export type RetryResult = z.infer<typeof retryResult>;
export const retryIdsResponse = z.object({ results: z.array(retryResult) });
export const retryFilterResponse = z.object({
  retried: z.number().int(),
  failed: z
    .array(z.object({ id: z.number().int(), status: z.number().int(), detail: z.string() }))
    .describe('the first 100 failures'),
});
export const retryBatchResponse = z.union([retryIdsResponse, retryFilterResponse]);

/** The ids of a bulk action: 1 to 1000, each answered on its own. */
const bulkIds = z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).min(1).max(1000);
export const bulkStatusBody = z.strictObject({ ids: bulkIds, status: statusChangeBody.shape.status });
export const bulkDeleteBody = z.strictObject({ ids: bulkIds, delete_files: z.boolean().optional() });
/** One id's outcome: the single action's answer (`task` when it has one), or its error status and sentence. */
export const bulkResult = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), task: task.optional() }),
  z.object({ id: z.number().int(), ok: z.literal(false), status: z.number().int(), detail: z.string() }),
]);
export type BulkResult = z.infer<typeof bulkResult>;
export const bulkResponse = z.object({ results: z.array(bulkResult) });
