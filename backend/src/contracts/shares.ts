import { z } from 'zod';
import { isoTime } from './common.js';
import { userPath } from './files.js';

export const share = z.object({
  id: z.number().int(),
  path: z.string(),
  url: z.string().describe('/s/<token>, a path on this controller'),
  expires_at: isoTime.nullable(),
  has_password: z.boolean(),
  max_downloads: z.number().int().nullable(),
  downloads: z.number().int(),
  created_at: isoTime,
});
export type Share = z.infer<typeof share>;

export const createShareBody = z.strictObject({
  path: userPath,
  expires_at: z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 time, e.g. 2026-01-23T10:00:00Z' })
    .optional(),
  password: z.string().min(1, 'must not be empty').max(1024).optional(),
  max_downloads: z.number().int().min(1).max(1_000_000_000).optional(),
});
export type CreateShareBody = z.infer<typeof createShareBody>;

export const sharePasswordBody = z.strictObject({ password: z.string().max(1024) });
export const shareTokenParams = z.object({ token: z.string().min(1).max(200) });
