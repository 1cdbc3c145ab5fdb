import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import { filesApi } from './files-api';

type FetchArgs = [string, RequestInit];
let calls: FetchArgs[];
let respond: (url: string, init: RequestInit) => Response;

beforeEach(() => {
  calls = [];
  respond = () => new Response(null, { status: 204 });
  vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
    calls.push([url, init]);
    return Promise.resolve(respond(url, init));
  });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('files api', () => {
  it('lists a folder by its path, the top folder as an empty path', async () => {
    respond = () => json({ path: '', entries: [], used_space: 0, quota: 0 });
    await filesApi.listFiles('');
    await filesApi.listFiles('Movies/2024 & more');
    expect(calls.map(([url]) => url)).toEqual([
      '/api/files?path=',
      `/api/files?path=${encodeURIComponent('Movies/2024 & more').replace(/%20/g, '+')}`,
    ]);
    expect(new URL(calls[1]![0], 'http://x').searchParams.get('path')).toBe('Movies/2024 & more');
  });

  it('builds download links the browser opens directly: one path, or every selected path', () => {
    const one = new URL(filesApi.fileContentUrl('a b/c#d.iso'), 'http://x');
    expect(one.pathname).toBe('/api/files/content');
    expect(one.searchParams.getAll('path')).toEqual(['a b/c#d.iso']);
    const zip = new URL(filesApi.filesArchiveUrl(['a', 'b/c', 'd?e']), 'http://x');
    expect(zip.pathname).toBe('/api/files/archive');
    expect(zip.searchParams.getAll('path')).toEqual(['a', 'b/c', 'd?e']);
  });

  it('deletes several paths in one request and returns what it freed', async () => {
    respond = () => json({ deleted: 2, freed: 2048 });
    expect(await filesApi.deleteFiles(['a.bin', 'Movies'])).toEqual({ deleted: 2, freed: 2048 });
    const [url, init] = calls[0]!;
    expect(init.method).toBe('DELETE');
    expect(new URL(url, 'http://x').searchParams.getAll('path')).toEqual(['a.bin', 'Movies']);
    expect(new URL(url, 'http://x').pathname).toBe('/api/files');
  });

  it('moves, makes folders and shares with JSON bodies', async () => {
    respond = () => json({});
    await filesApi.moveFile('a.bin', 'Old/a.bin');
    await filesApi.createFolder('Old');
    await filesApi.createShare({ path: 'a.bin', max_downloads: 3 });
    await filesApi.revokeShare(7);
    expect(calls.map(([url, init]) => [init.method, url, init.body])).toEqual([
      ['POST', '/api/files/move', JSON.stringify({ from: 'a.bin', to: 'Old/a.bin' })],
      ['POST', '/api/files/folder', JSON.stringify({ path: 'Old' })],
      ['POST', '/api/shares', JSON.stringify({ path: 'a.bin', max_downloads: 3 })],
      ['DELETE', '/api/shares/7', undefined],
    ]);
  });

  it('throws the server’s sentence on a refusal', async () => {
    respond = () => json({ detail: 'In use by a running download' }, 409);
    const err = await filesApi.moveFile('.incomplete/x', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(409);
    expect((err as ApiError).detail).toBe('In use by a running download');
  });
});
