import type { Logger } from './logger.js';

/**
 * A catch handler for a daemon call whose failure changes nothing (the download may be gone already, the
 * next pass repairs): the failure is logged once at debug level instead of vanishing.
 */
export function ignored(logger: Logger, what: string): (err: unknown) => undefined {
  return (err) => {
    logger.debug({ err: err instanceof Error ? err.message : String(err) }, what);
    return undefined;
  };
}
