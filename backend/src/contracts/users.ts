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
  must_change_password: z
    .boolean()
    .describe(
      'true while the user signs in with a password chosen for them (the generated first-admin password, or one an admin set with must_change_password); their own change-password clears it',
    ),
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
  must_change_password: z
    .boolean()
    .optional()
    .describe('ask the user to choose their own password at their first sign-in (default false)'),
});
export const updateUserBody = z.strictObject({
  username: username.optional(),
  password: password.optional(),
  is_admin: z.boolean().optional(),
  quota: quota.optional(),
  must_change_password: z
    .boolean()
    .optional()
    .describe('ask the user to choose their own password at their next sign-in; false clears the request'),
});
export const deleteUserQuery = z.strictObject({ delete_files: z.enum(['true', 'false']).optional() });
export type LoginBody = z.infer<typeof loginBody>;
export type CreateUserBody = z.infer<typeof createUserBody>;
export type UpdateUserBody = z.infer<typeof updateUserBody>;
