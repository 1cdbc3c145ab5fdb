/** A time as the API shows times: ISO 8601 UTC to the second, with a Z. */
export const isoAt = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Now as the API shows times. */
export const nowIso = (): string => isoAt(Date.now());
