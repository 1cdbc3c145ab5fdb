import { z } from 'zod';

export const errorBody = z.object({ detail: z.string() });
export type ErrorBody = z.infer<typeof errorBody>;

/** A path id: a positive integer (anything else is 422). */
export const idParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

export const isoTime = z.string().describe('ISO 8601 UTC, to the second');
