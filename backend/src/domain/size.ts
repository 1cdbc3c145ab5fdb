import { ForbiddenError } from './errors.js';

const GB = 1024 ** 3;
/** "X.XX GB" with GB = 1024³ bytes, as the quota messages show sizes. */
export const formatGb = (bytes: number): string => `${(bytes / GB).toFixed(2)} GB`;

export interface SpaceLimits {
  freeDisk: number;
  minFreeDisk: number;
  maxTaskSize: number;
  /** 0 means unlimited. */
  quota: number;
  usedSpace: number;
}

/** Bytes the user may still add; Infinity when the quota is unlimited. */
export function availableSpace(quota: number, usedSpace: number): number {
  return quota === 0 ? Number.POSITIVE_INFINITY : Math.max(0, quota - usedSpace);
}

/** The checks before a download is added or retried, in the order API.md "Retry" step 3 gives. */
export function checkSpaceBeforeAdd(limits: SpaceLimits, size: number | null): void {
  if (limits.freeDisk < limits.minFreeDisk) {
    throw new ForbiddenError(`Insufficient disk space, remaining ${formatGb(limits.freeDisk)}`);
  }
  const available = availableSpace(limits.quota, limits.usedSpace);
  if (available <= 0) throw new ForbiddenError('Your storage quota is used up');
  if (size === null) return;
  if (size > limits.maxTaskSize) {
    throw new ForbiddenError(`File size ${formatGb(size)} exceeds limit ${formatGb(limits.maxTaskSize)}`);
  }
  if (size > available) {
    throw new ForbiddenError(
      `File size ${formatGb(size)} exceeds your available space ${formatGb(available)}`,
    );
  }
}

/** Why a download whose size became known must be cancelled, or null when it fits. */
export function sizeOverLimit(
  limits: Pick<SpaceLimits, 'maxTaskSize' | 'quota' | 'usedSpace'>,
  size: number,
): string | null {
  if (size > limits.maxTaskSize) {
    return `Cancelled: size ${formatGb(size)} exceeds limit ${formatGb(limits.maxTaskSize)}`;
  }
  const available = availableSpace(limits.quota, limits.usedSpace);
  if (size > available) {
    return `Cancelled: size ${formatGb(size)} exceeds your available space ${formatGb(available)}`;
  }
  return null;
}
