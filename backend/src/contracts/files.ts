import { z } from 'zod';
import { isoTime } from './common.js';

/**
 * A path relative to the user's folder, `/`-separated; `""` is the folder itself. The service checks
 * the rules (no empty, `.` or `..` segment, no control character, well-formed Unicode, at most 4 KiB)
 * and answers 422 naming the field; the schema only bounds the size of what is read.
 */
export const userPath = z
  .string()
  .max(16 * 1024)
  .describe("relative to the user's folder, / separated");

export const entry = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(['file', 'dir']),
  size: z.number().int().describe('bytes; a folder: the sum of what it holds'),
  modified_at: isoTime,
  task_id: z.number().int().nullable().describe('the current download writing there, if any'),
});
export type Entry = z.infer<typeof entry>;

export const fileList = z.object({
  path: z.string(),
  entries: z.array(entry).describe('folders first, then by name'),
  used_space: z.number().int(),
  quota: z.number().int().describe('bytes; 0 means unlimited'),
});
export type FileList = z.infer<typeof fileList>;

export const onePathQuery = z.strictObject({ path: userPath.default('') });

/** `?path=a&path=b…`: one or many (at most 1000). */
export const manyPathsQuery = z.strictObject({
  path: z.union([userPath, z.array(userPath).min(1).max(1000, 'at most 1000 paths')]),
});

export const moveBody = z.strictObject({ from: userPath, to: userPath });
export const folderBody = z.strictObject({ path: userPath });
export const deleteResult = z.object({
  deleted: z.number().int().describe('paths deleted'),
  freed: z.number().int().describe('bytes freed'),
});
export type DeleteResult = z.infer<typeof deleteResult>;
