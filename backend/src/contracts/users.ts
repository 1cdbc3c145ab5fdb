import { z } from 'zod';
import { isoTime, safeText, wellFormedText } from './common.js';

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{1,50}$/;

export const user = z.object({
  id: z.number().int(),
  username: z.string(),
  is_admin: z.boolean(),
  quota: z.number().int().describe('bytes; 0 means unlimited'),
  used_space: z.number().int().describe("bytes in the user's folder, .incomplete/ included"),
  created_at: isoTime,
  node: z.string().describe('the download daemon (node id) the user lives on, fixed at creation'),
});
export type User = z.infer<typeof user>;

export const username = safeText().regex(
  USERNAME_PATTERN,
  'must be 1-50 letters, digits, dots, underscores or dashes',
);
export const password = wellFormedText().min(8, 'must be at least 8 characters').max(1024);
export const quota = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const loginBody = z.strictObject({
  username: safeText().max(200),
  password: wellFormedText().max(1024),
});
export const changePasswordBody = z.strictObject({
  current_password: wellFormedText().max(1024),
  new_password: password,
});
export const createUserBody = z.strictObject({
  username,
  password,
  is_admin: z.boolean().optional(),
  quota: quota.optional(),
  node: safeText()
    .max(100)
    .optional()
    .describe('the node id to live on; default: the node with the most free space (400 for an unknown id)'),
});
export const updateUserBody = z.strictObject({
  username: username.optional(),
  password: password.optional(),
  is_admin: z.boolean().optional(),
  quota: quota.optional(),
});
export const deleteUserQuery = z.strictObject({ delete_files: z.enum(['true', 'false']).optional() });
export type LoginBody = z.infer<typeof loginBody>;
export type CreateUserBody = z.infer<typeof createUserBody>;
export type UpdateUserBody = z.infer<typeof updateUserBody>;
