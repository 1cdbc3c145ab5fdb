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

/** A lone UTF-16 surrogate (half of a pair without its other half). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0 control characters and DEL: line breaks would become lines of aria2's session file. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Well-formed Unicode (no lone surrogate) without control characters. */
export function isSafeText(value: string): boolean {
  return !LONE_SURROGATE.test(value) && !CONTROL.test(value);
}

export const SAFE_TEXT_MESSAGE = 'must be well-formed Unicode without control characters';

/**
 * Every string a request may carry: aria2 reads options back from its session file line by line (a
 * line break would add options), and answers a lone surrogate with bytes that are not UTF-8. Request
 * schemas build their strings from this, never from a bare z.string().
 */
export const safeText = () => z.string().refine(isSafeText, SAFE_TEXT_MESSAGE);

/** Well-formed Unicode only (control characters allowed): for secrets that are hashed, never stored. */
export const wellFormedText = () =>
  z.string().refine((v) => !LONE_SURROGATE.test(v), 'must be well-formed Unicode');

export const isoTime = z.string().describe('ISO 8601 UTC, to the second');
