import { InvalidInputError } from '../../domain/errors.js';
import { ALLOWED_SCHEMES, MAX_URI_LENGTH, magnetInfoHash, uriScheme } from '../../domain/uri.js';
import type { EgressGuard } from '../../egress/guard.js';
import { guardHost, probeSize } from '../network.js';

/** How many HEAD requests a batch (of adds or retries) sends at once. */
export const HEAD_CONCURRENCY = 32;

/** Runs `fn` over items with at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}

/** A URI the controller accepts: a known scheme, parseable, with a host (or a magnet with an info hash). */
export function validateUri(uri: string): string {
  const trimmed = uri.trim();
  if (trimmed.length === 0) throw new InvalidInputError('Invalid uri: it is empty');
  if (trimmed.length > MAX_URI_LENGTH) throw new InvalidInputError('Invalid uri: it is longer than 16 KiB');
  if (/[\s\0]/.test(trimmed))
    throw new InvalidInputError('Invalid uri: it contains white space or control characters');
  const scheme = uriScheme(trimmed);
  if (!scheme || !(ALLOWED_SCHEMES as readonly string[]).includes(scheme)) {
    throw new InvalidInputError(`Invalid uri: the scheme must be one of ${ALLOWED_SCHEMES.join(', ')}`);
  }
  if (scheme === 'magnet') {
    if (!magnetInfoHash(trimmed))
      throw new InvalidInputError('Invalid uri: a magnet link needs xt=urn:btih:<info hash>');
    return trimmed;
  }
  try {
    const url = new URL(trimmed);
    if (!url.hostname) throw new Error('no host');
  } catch {
    throw new InvalidInputError('Invalid uri: it is not a valid URL');
  }
  return trimmed;
}

/** The network checks of a source before it is added or retried: the egress guard, then a HEAD. */
export class SourceChecks {
  constructor(
    /** The network guard every add, retry and size check goes through. */
    readonly guard: EgressGuard,
  ) {}

  /** Refuses a URI whose host the guard does not allow. */
  guardHost(uri: string): Promise<void> {
    return guardHost(uri, this.guard);
  }

  /** The size a HEAD reports for http(s) URIs (null when unknown or not http). */
  probe(uri: string): Promise<number | null> {
    if (!/^https?:/i.test(uri)) return Promise.resolve(null);
    return probeSize(uri, { guard: this.guard });
  }
}
