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
  /**
   * What the user's current downloads of known size will still write (their sizes minus the bytes
   * they already hold): taken from the quota until they end, so downloads added together fit it.
   */
  reserved: number;
}

/** Bytes the user may still add; Infinity when the quota is unlimited. */
export function availableSpace(quota: number, usedSpace: number, reserved = 0): number {
  return quota === 0 ? Number.POSITIVE_INFINITY : Math.max(0, quota - usedSpace - reserved);
}

/** What one current download still reserves: its known size minus what it holds, never negative. */
export function reservation(totalLength: number, completedLength: number): number {
  return Math.max(0, totalLength - completedLength);
}

/** The limits once a download of `size` (null: unknown, reserving nothing) has been accepted. */
export function withReserved(limits: SpaceLimits, size: number | null): SpaceLimits {
  return size ? { ...limits, reserved: limits.reserved + size } : limits;
}

/** The checks before a download is added or retried, in this order: free disk, the maximum task size, the quota left. */
export function checkSpaceBeforeAdd(limits: SpaceLimits, size: number | null): void {
  if (limits.freeDisk < limits.minFreeDisk) {
    throw new ForbiddenError(`Insufficient disk space, remaining ${formatGb(limits.freeDisk)}`);
  }
  const available = availableSpace(limits.quota, limits.usedSpace, limits.reserved);
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
  limits: Pick<SpaceLimits, 'maxTaskSize' | 'quota' | 'usedSpace' | 'reserved'>,
  size: number,
): string | null {
  if (size > limits.maxTaskSize) {
    return `Cancelled: size ${formatGb(size)} exceeds limit ${formatGb(limits.maxTaskSize)}`;
  }
  const available = availableSpace(limits.quota, limits.usedSpace, limits.reserved);
  if (size > available) {
    return `Cancelled: size ${formatGb(size)} exceeds your available space ${formatGb(available)}`;
  }
  return null;
}
