/**
 * Pure rules of the Files page: paths relative to the user's folder, breadcrumbs, names the server
 * accepts, what a selection holds and frees, and the share dialog's expiry choices.
 */

import { type FileEntry, type FileListing, INCOMPLETE_DIR } from '../../lib/files-api';
import { t } from '../../lib/i18n';

/** `""` is the user's folder itself. */
export function joinPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export interface Crumb {
  label: string;
  path: string;
}

/** The trail from the user's folder (`Files`) to `path`. */
export function breadcrumbs(path: string): Crumb[] {
  const crumbs: Crumb[] = [{ label: t('nav.files'), path: '' }];
  let at = '';
  for (const segment of path.split('/').filter(Boolean)) {
    at = joinPath(at, segment);
    crumbs.push({ label: segment, path: at });
  }
  return crumbs;
}

/** The Files page of a folder. */
export function filesHref(path: string): string {
  return path ? `/files?path=${encodeURIComponent(path)}` : '/files';
}

/** The folder a `?path=` asks for, or `""` when it is not one the server would accept. */
export function folderFromQuery(raw: string | null): string {
  if (!raw) return '';
  return checkPath(raw) === null ? raw : '';
}

// Control characters (C0, DEL, C1) are refused by the server in any path.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why a single name (a new folder, a rename) would be refused, or null when it is fine. */
export function checkName(name: string): string | null {
  if (name.trim() === '') return t('files.name.empty');
  if (name.includes('/')) return t('files.name.slash');
  if (name === '.' || name === '..') return t('files.name.dots');
  if (CONTROL.test(name)) return t('files.name.control');
  if (new TextEncoder().encode(name).length > 255) return t('files.name.long');
  return null;
}

/** Why a folder path typed by the user (`""` is the top folder) would be refused, or null. */
export function checkPath(path: string): string | null {
  if (path === '') return null;
  if (path.startsWith('/')) return t('files.path.leadingSlash');
  if (new TextEncoder().encode(path).length > 4096) return t('files.path.long');
  for (const segment of path.split('/')) {
    if (segment === '') return t('files.path.empty');
    const problem = checkName(segment);
    if (problem) return problem;
  }
  return null;
}

/** A typed destination folder, tidied: surrounding spaces and slashes dropped. */
export function tidyFolder(input: string): string {
  return input.trim().replace(/^\/+|\/+$/g, '');
}

/** Entries a running download is writing: shown, never renamed, moved, shared or deleted. */
export function isLocked(entry: Pick<FileEntry, 'task_id'>): boolean {
  return entry.task_id !== null;
}

/**
 * A listing split for display: at the top folder the `.incomplete` folder is not a normal row, its
 * contents show under "In progress" instead.
 */
export function splitListing(listing: FileListing): { entries: FileEntry[]; hasIncomplete: boolean } {
  if (listing.path !== '') return { entries: listing.entries, hasIncomplete: false };
  const entries = listing.entries.filter((e) => !(e.type === 'dir' && e.name === INCOMPLETE_DIR));
  return { entries, hasIncomplete: entries.length !== listing.entries.length };
}

/** Folders first, then by name (the server's order; kept when the client changes a listing). */
export function sortEntries(entries: readonly FileEntry[]): FileEntry[] {
  return [...entries].sort((a, b) => {
    if (a.type !== b.type) return a.type === 'dir' ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/** The selected entries that can be acted on (in listing order). */
export function selectedEntries(entries: readonly FileEntry[], selected: ReadonlySet<string>): FileEntry[] {
  return entries.filter((e) => selected.has(e.path) && !isLocked(e));
}

/** Keeps only the selected paths still listed (and not locked). */
export function pruneSelection(selected: ReadonlySet<string>, entries: readonly FileEntry[]): Set<string> {
  const listed = new Set(entries.filter((e) => !isLocked(e)).map((e) => e.path));
  const next = new Set([...selected].filter((p) => listed.has(p)));
  return next.size === selected.size ? (selected as Set<string>) : next;
}

export function totalSize(entries: readonly Pick<FileEntry, 'size'>[]): number {
  return entries.reduce((sum, e) => sum + Math.max(0, e.size), 0);
}

/** “report.pdf” or “3 items”. */
export function describeEntries(entries: readonly Pick<FileEntry, 'name'>[]): string {
  return entries.length === 1
    ? t('files.quoted', { name: entries[0]!.name })
    : t('files.items', { count: entries.length });
}

export const EXPIRY_CHOICES = [
  { value: 'never', label: 'common.never' },
  { value: '1h', label: 'shares.expiry.1h' },
  { value: '1d', label: 'shares.expiry.1d' },
  { value: '7d', label: 'shares.expiry.7d' },
  { value: '30d', label: 'shares.expiry.30d' },
] as const;
export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number]['value'];

const EXPIRY_MS: Record<Exclude<ExpiryChoice, 'never'>, number> = {
  '1h': 3600_000,
  '1d': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};

/** The API's time form: ISO 8601 UTC to the second, with a `Z`. */
export function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export function expiryToIso(choice: ExpiryChoice, now: Date = new Date()): string | undefined {
  if (choice === 'never') return undefined;
  return isoSeconds(new Date(now.getTime() + EXPIRY_MS[choice]));
}

/** What the maximum-downloads field holds: empty is unlimited; else a whole number from 1. */
export function parseMaxDownloads(input: string): { value?: number; error?: string } {
  const text = input.trim();
  if (text === '') return {};
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) return { error: t('shares.badMax') };
  return { value: n };
}

/** A share's link as someone else will open it. */
export function absoluteShareUrl(url: string, origin: string): string {
  try {
    return new URL(url, origin).href;
  } catch {
    return url;
  }
}
