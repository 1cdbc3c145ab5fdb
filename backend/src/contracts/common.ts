import { z } from 'zod';

export const errorBody = z.object({ detail: z.string() });
export type ErrorBody = z.infer<typeof errorBody>;

/**
 * A path id as written: decimal digits only, a positive safe integer (anything else is 422). Number()
 * alone would take "1e3", "0x10", "+7" or " 7".
 */
export const idParams = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().int().max(Number.MAX_SAFE_INTEGER, 'must be a positive integer')),
});

export const isoTime = z.string().describe('ISO 8601 UTC, to the second');
