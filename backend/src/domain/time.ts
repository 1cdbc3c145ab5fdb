/** Now as the API shows times: ISO 8601 UTC to the second, with a Z. */
export const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
