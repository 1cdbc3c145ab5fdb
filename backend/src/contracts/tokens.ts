import { z } from 'zod';
import { isoTime, safeText } from './common.js';

export const TOKEN_NAME_MAX = 100;

export const apiToken = z.object({
  id: z.number().int(),
  name: z.string(),
  created_at: isoTime,
  last_used_at: isoTime.nullable().describe('updated at most once a minute'),
});
export type ApiToken = z.infer<typeof apiToken>;

export const createdApiToken = z.object({
  id: z.number().int(),
  name: z.string(),
  token: z.string().describe('the secret: shown this once, only its hash is kept'),
  created_at: isoTime,
});
export type CreatedApiToken = z.infer<typeof createdApiToken>;

export const createTokenBody = z.strictObject({
  name: safeText()
    .trim()
    .min(1, 'must not be empty')
    .max(TOKEN_NAME_MAX, `must be at most ${TOKEN_NAME_MAX} characters`),
});
export type CreateTokenBody = z.infer<typeof createTokenBody>;
