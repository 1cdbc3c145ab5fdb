/**
 * Which failures the server retries by itself, and when (docs/auto-retry.md). aria2 reports a failure
 * as an `errorCode` (its exit status list) and a message; HTTP answers it has no code of its own for
 * (500, 429, 403, ...) come as 22 with `status=NNN` in the message.
 */

/** aria2 codes of failures that may pass: the network, the server's load, time. */
export const PASSING_CODES: ReadonlySet<string> = new Set([
  '1', // unknown error (a refused or broken connection)
  '2', // timeout
  '5', // too slow (--lowest-speed-limit)
  '6', // network problem (reset, unreachable)
  '19', // name resolution failed
  '29', // the server is temporarily overloaded or in maintenance (HTTP 503)
]);
export const HTTP_PROTOCOL_ERROR = '22';

/** The HTTP status in aria2's message of a code-22 failure, if any. */
function httpStatusIn(message: string | null): number | null {
  const m = /status=(\d{3})\b/.exec(message ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * Whether a failure may pass: network errors, timeouts, resets, HTTP 5xx and 429. Everything else
 * lasts (404, 401/403, a bad checksum, disk, quota or size, the controller's own refusals: no code).
 */
export function isPassingFailure(code: string | null, message: string | null): boolean {
  if (code === null) return false;
  if (PASSING_CODES.has(code)) return true;
  if (code === HTTP_PROTOCOL_ERROR) {
    const status = httpStatusIn(message);
    return status !== null && (status >= 500 || status === 429);
  }
  return false;
}

export interface AutoRetrySettings {
  auto_retry_attempts: number;
  auto_retry_delay_s: number;
  auto_retry_max_delay_s: number;
}

/** How many automatic retries a task gets: its own number from the add, else the setting. */
export function retriesAllowed(own: number | null, settings: AutoRetrySettings): number {
  return own ?? settings.auto_retry_attempts;
}

/** Seconds to wait after attempt `attempt` failed: the first delay, doubling, at most the longest. */
export function retryDelaySeconds(attempt: number, settings: AutoRetrySettings): number {
  const doubled = settings.auto_retry_delay_s * 2 ** Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(doubled, settings.auto_retry_max_delay_s);
}
