/** Limits of the HTTP server, read by the app and by the routes that raise them. */

export const JSON_BODY_LIMIT = 1024 * 1024;
/** A 16 MiB torrent as base64 in JSON, or as a multipart file, with room for the envelope. */
export const TORRENT_BODY_LIMIT = 23 * 1024 * 1024;

/** How long a client may take to send a whole request (a 16 MiB torrent needs ~4 Mbit/s). */
export const REQUEST_TIMEOUT_MS = 30_000;
