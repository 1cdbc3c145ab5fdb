import { describe, expect, it } from 'vitest';
import { diff, MISPLACED_ERROR, type SyncRow } from '../../src/domain/sync.js';
import type { DaemonStatus } from '../../src/gateway/types.js';

const NOW = '2026-01-23T10:00:00Z';
const DIR = '/data/downloads/7/.incomplete/abc';

function row(over: Partial<SyncRow> = {}): SyncRow {
  return {
    id: 1,
    owner_id: 7,
    gid: 'abc',
    origin_gid: null,
    status: 'active',
    name: 'file.bin',
    total_length: 1000,
    completed_length: 100,
    download_speed: 10,
    upload_speed: 0,
    error: null,
    info_hash: null,
    held_for: null,
    dir: DIR,
    artifact_path: null,
    artifact_token: null,
    finished_at: null,
    counted_bytes: 0,
    ...over,
  };
}

function status(over: Partial<DaemonStatus> = {}): DaemonStatus {
  return {
    gid: 'abc',
    status: 'active',
    totalLength: 1000,
    completedLength: 100,
    uploadLength: 0,
    downloadSpeed: 10,
    uploadSpeed: 0,
    connections: 1,
    numSeeders: 0,
    numPieces: 0,
    pieceLength: 0,
    files: [
      { index: 1, path: `${DIR}/file.bin`, length: 1000, completedLength: 100, selected: true, uris: [] },
    ],
    metadata: false,
    ...over,
  };
}

describe('the sync diff of a row and its download', () => {
  it('nothing changed: an empty patch and nothing to do', () => {
    const d = diff(row(), status(), NOW);
    expect(d.patch).toEqual({});
    expect(d).toMatchObject({
      status: 'active',
      follow: null,
      recheckSize: null,
      completes: false,
      failed: false,
    });
  });

  it('poll: progress and speeds change, and only then the row is written', () => {
    const d = diff(row(), status({ completedLength: 400, downloadSpeed: 99 }), NOW);
    expect(d.patch).toMatchObject({ completed_length: 400, download_speed: 99, updated_at: NOW });
    expect(d.completes).toBe(false);
  });

  it('a held paused download is waiting; speeds drop to 0 when not active', () => {
    const d = diff(row({ held_for: 'slots' }), status({ status: 'paused', downloadSpeed: 5 }), NOW);
    expect(d.patch).toMatchObject({ status: 'waiting', download_speed: 0 });
    expect(diff(row(), status({ status: 'paused' }), NOW).patch.status).toBe('paused');
  });

  it('complete: it finishes (files to move), with its finish time', () => {
    const d = diff(row(), status({ status: 'complete', completedLength: 1000 }), NOW);
    expect(d.completes).toBe(true);
    expect(d.patch).toMatchObject({
      status: 'complete',
      completed_length: 1000,
      finished_at: NOW,
      error: null,
    });
    // A row already complete does not finish twice.
    expect(
      diff(
        row({ status: 'complete', completed_length: 1000, download_speed: 0 }),
        status({ status: 'complete', completedLength: 1000, downloadSpeed: 0 }),
        NOW,
      ).completes,
    ).toBe(false);
  });

  it("error: the daemon's reason (URIs masked) and code, a finish time, and the daemon forgets it", () => {
    const d = diff(
      row(),
      status({ status: 'error', errorCode: '3', errorMessage: 'Resource not found: http://u:secret@host/x' }),
      NOW,
    );
    expect(d.failed).toBe(true);
    expect(d.patch).toMatchObject({ status: 'error', error_code: '3', finished_at: NOW, download_speed: 0 });
    expect(d.patch.error).toMatch(/Resource not found/);
    expect(d.patch.error).not.toContain('secret');
    expect(diff(row(), status({ status: 'error' }), NOW).patch.error).toBe('aria2 error unknown');
  });

  it('followedBy: a finished metadata download hands the task to the real download', () => {
    const d = diff(
      row({ gid: 'meta' }),
      status({ gid: 'meta', status: 'complete', followedBy: ['real'] }),
      NOW,
    );
    expect(d.follow).toBe('real');
    expect(d.patch).toMatchObject({ gid: 'real', origin_gid: 'meta', status: 'active' });
    expect(d.completes).toBe(false);
    // A task that followed once keeps its first origin.
    expect(
      diff(
        row({ gid: 'b', origin_gid: 'a' }),
        status({ gid: 'b', status: 'complete', followedBy: ['c'] }),
        NOW,
      ).patch.origin_gid,
    ).toBe('a');
  });

  it('metadata phase: no name from the metadata entry; the size, once known, is checked again', () => {
    const meta = status({
      totalLength: 0,
      completedLength: 0,
      metadata: true,
      files: [{ index: 1, path: '[METADATA]hash', length: 0, completedLength: 0, selected: true, uris: [] }],
    });
    const d = diff(row({ name: null, total_length: 0, completed_length: 0 }), meta, NOW);
    expect(d.patch.name).toBeUndefined();
    expect(d.recheckSize).toBeNull();
    const known = diff(
      row({ total_length: 0, completed_length: 0 }),
      status({ totalLength: 5000, completedLength: 0, bittorrent: { info: { name: 'movie' } } }),
      NOW,
    );
    expect(known.recheckSize).toBe(5000);
    expect(known.patch).toMatchObject({ total_length: 5000, name: 'movie' });
  });

  it('a waiting download the daemon knows no size of keeps the size and progress the row knows', () => {
    const d = diff(
      row({ status: 'waiting', download_speed: 0 }),
      status({ status: 'waiting', totalLength: 0, completedLength: 0, downloadSpeed: 0 }),
      NOW,
    );
    expect(d.patch).toEqual({});
  });

  it('reconcile: a download written outside its folder is misplaced, and its row says why', () => {
    const userDir = '/data/downloads/7';
    expect(diff(row(), status({ dir: DIR }), NOW, userDir).misplaced).toBe(false);
    const d = diff(row(), status({ dir: '/etc' }), NOW, userDir);
    expect(d.misplaced).toBe(true);
    expect(d.patch).toEqual({
      status: 'error',
      error: MISPLACED_ERROR,
      download_speed: 0,
      upload_speed: 0,
      finished_at: NOW,
      updated_at: NOW,
    });
    // The row's own folder, but that folder is not inside the owner's.
    expect(diff(row({ dir: '/tmp/x' }), status({ dir: '/tmp/x' }), NOW, userDir).misplaced).toBe(true);
  });
});
