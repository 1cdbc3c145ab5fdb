/**
 * Typed fetch over the files and shares part of the HTTP contract: a user's own folder (list,
 * download, zip, move, new folder, delete) and the links that share one of its entries.
 * Paths are relative to the user's folder, `/`-separated; `""` is the folder itself.
 */

import type {
  CreateShareBody,
  DeleteResult as DeleteFilesResult,
  Entry as FileEntry,
  FileList as FileListing,
  Share,
} from '@contracts';
import { request } from './api';

export type { CreateShareBody, DeleteFilesResult, FileEntry, FileListing, Share };

/** The folder where running downloads are written. */
export const INCOMPLETE_DIR = '.incomplete';

function pathsQuery(paths: readonly string[]): string {
  const params = new URLSearchParams();
  for (const p of paths) params.append('path', p);
  return params.toString();
}

export function listFiles(path: string, signal?: AbortSignal): Promise<FileListing> {
  return request<FileListing>(`/api/files?${pathsQuery([path])}`, { signal });
}

/** A file, or a folder as a zip: a plain link the browser opens with the session cookie. */
export function fileContentUrl(path: string): string {
  return `/api/files/content?${pathsQuery([path])}`;
}

/** A zip of a selection. */
export function filesArchiveUrl(paths: readonly string[]): string {
  return `/api/files/archive?${pathsQuery(paths)}`;
}

/** Renames or moves inside the folder; `to`'s parent must exist. */
export function moveFile(from: string, to: string): Promise<FileEntry> {
  return request<FileEntry>('/api/files/move', { method: 'POST', body: { from, to } });
}

export function createFolder(path: string): Promise<FileEntry> {
  return request<FileEntry>('/api/files/folder', { method: 'POST', body: { path } });
}

export function deleteFiles(paths: readonly string[]): Promise<DeleteFilesResult> {
  return request<DeleteFilesResult>(`/api/files?${pathsQuery(paths)}`, { method: 'DELETE' });
}

export function listShares(): Promise<Share[]> {
  return request<Share[]>('/api/shares');
}

export function createShare(body: CreateShareBody): Promise<Share> {
  return request<Share>('/api/shares', { method: 'POST', body });
}

export function revokeShare(id: number): Promise<void> {
  return request<void>(`/api/shares/${id}`, { method: 'DELETE' });
}

export const filesApi = {
  listFiles,
  fileContentUrl,
  filesArchiveUrl,
  moveFile,
  createFolder,
  deleteFiles,
  listShares,
  createShare,
  revokeShare,
};
