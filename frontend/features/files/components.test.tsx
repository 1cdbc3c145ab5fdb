import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { FileEntry, Share } from '../../lib/files-api';
import type { Task } from '../../lib/types';
import { TaskRow } from '../tasks/TaskRow';
import { keptFiles } from '../tasks/useTaskActions';
import { usedText } from '../users/UsersPage';
import { FileRow } from './FileRow';
import { deleteMessage, moveMessage, sharesOf } from './FilesPage';
import { shareBody } from './ShareDialog';
import { downloadsText } from './SharesList';

const noop = () => {};

function entry(path: string, patch: Partial<FileEntry> = {}): FileEntry {
  return {
    name: path.slice(path.lastIndexOf('/') + 1),
    path,
    type: 'file',
    size: 3 * 1024 * 1024,
    modified_at: '2026-01-23T10:00:00Z',
    task_id: null,
    ...patch,
  };
}

function share(id: number, path: string, patch: Partial<Share> = {}): Share {
  return {
    id,
    path,
    url: `/s/token${id}`,
    expires_at: null,
    has_password: false,
    max_downloads: null,
    downloads: 0,
    created_at: '2026-01-23T10:00:00Z',
    ...patch,
  };
}

const row = (e: FileEntry) =>
  renderToStaticMarkup(<FileRow entry={e} selected={false} busy={false} onToggle={noop} onAction={noop} />);

describe('a file row', () => {
  it('downloads a file from its name and its Download button, and offers rename, share and delete', () => {
    const html = row(entry('Music/a b.mp3'));
    // The name and the button: plain links the browser downloads from, with the session cookie.
    const links = html.match(/<a [^>]*href="\/api\/files\/content\?path=Music%2Fa\+b\.mp3"[^>]*download=""/g);
    expect(links).toHaveLength(2);
    expect(html).toContain('aria-label="Select a b.mp3"');
    for (const label of ['Rename a b.mp3', 'Share a b.mp3', 'Delete a b.mp3', 'Download a b.mp3']) {
      expect(html).toContain(`aria-label="${label}"`);
    }
    expect(html).toContain('3.00 MiB');
  });

  it('opens a folder from its name and downloads it as a zip', () => {
    const html = row(entry('Music', { type: 'dir' }));
    expect(html).toContain('href="/files?path=Music"');
    expect(html).toContain('aria-label="Download Music as zip"');
  });

  it('shows a running download with a link to its task and nothing to click on it', () => {
    const html = row(entry('.incomplete/big.iso', { task_id: 42 }));
    expect(html).toContain('href="/tasks/detail?id=42"');
    expect(html).not.toContain('type="checkbox"');
    expect(html).not.toContain('<button');
    expect(html).not.toContain('/api/files/content');
  });
});

describe('the delete confirmation', () => {
  it('says how much storage it frees, and which shared links it ends', () => {
    const a = entry('a.bin', { size: 1024 * 1024 });
    const dir = entry('Movies', { type: 'dir', size: 2 * 1024 * 1024 });
    const shares = [share(1, 'Movies/x.mkv'), share(2, 'Movies'), share(3, 'a.binary'), share(4, 'b.bin')];
    expect(sharesOf(shares, [dir]).map((s) => s.id)).toEqual([1, 2]);
    expect(deleteMessage([a], shares)).toBe('This frees 1.00 MiB of your storage.');
    expect(deleteMessage([a, dir], shares)).toBe(
      'This frees 3.00 MiB of your storage. Folders are deleted with everything in them. 2 shared links stop working.',
    );
    expect(deleteMessage([a], [share(5, 'a.bin')])).toBe(
      'This frees 1.00 MiB of your storage. Its shared link stops working.',
    );
  });
});

describe('the move toast', () => {
  it('says rename within a folder, move to another', () => {
    expect(moveMessage([{ from: 'a/b.iso', to: 'a/c.iso' }])).toBe('Renamed b.iso to c.iso');
    expect(moveMessage([{ from: 'b.iso', to: 'Old/b.iso' }])).toBe('Moved b.iso to Old');
    expect(moveMessage([{ from: 'Old/b.iso', to: 'b.iso' }])).toBe('Moved b.iso to the top folder');
    expect(moveMessage([{ from: 'b.iso', to: 'Old/c.iso' }])).toBe('Moved b.iso to Old/c.iso');
    expect(
      moveMessage([
        { from: 'a', to: 'x/a' },
        { from: 'b', to: 'x/b' },
      ]),
    ).toBe('Moved 2 items');
  });
});

describe('the share form', () => {
  const now = new Date('2026-01-23T10:00:00Z');
  it('sends only what was chosen', () => {
    expect(shareBody('a.bin', { expiry: 'never', password: '', maxDownloads: '' }, now)).toEqual({
      body: { path: 'a.bin' },
    });
    expect(shareBody('a.bin', { expiry: '1d', password: 'pw', maxDownloads: '3' }, now)).toEqual({
      body: { path: 'a.bin', expires_at: '2026-01-24T10:00:00Z', password: 'pw', max_downloads: 3 },
    });
    expect(
      shareBody('a.bin', { expiry: 'never', password: '', maxDownloads: '0' }, now).body,
    ).toBeUndefined();
  });

  it('shows downloads against their maximum', () => {
    expect(downloadsText(share(1, 'a', { downloads: 2, max_downloads: 10 }))).toBe('2 of 10');
    expect(downloadsText(share(1, 'a', { downloads: 2 }))).toBe('2');
  });
});

function task(patch: Partial<Task>): Task {
  return {
    id: 5,
    owner_id: 1,
    gid: null,
    uri: 'http://127.0.0.1/a.zip',
    status: 'complete',
    name: 'a.zip',
    total_length: 10,
    completed_length: 10,
    download_speed: 0,
    upload_speed: 0,
    error: null,
    created_at: '2026-01-23T10:00:00Z',
    updated_at: '2026-01-23T10:00:00Z',
    artifact_path: 'a.zip',
    artifact_token: 'tok/en',
    waiting_reason: null,
    attempt: 1,
    next_retry_at: null,
    position: null,
    phase: null,
    seeding: false,
    ...patch,
  };
}

const taskRow = (t: Task) =>
  renderToStaticMarkup(
    <TaskRow
      task={t}
      index={0}
      setSize={1}
      selected={false}
      busyAction={null}
      onToggle={noop}
      onAction={noop}
      y={0}
    />,
  );

describe('the tasks page', () => {
  it('has a Download link on a finished row, to its artifact', () => {
    const html = taskRow(task({}));
    expect(html).toMatch(
      /<a class="btn btn-secondary btn-sm" href="\/api\/tasks\/artifacts\/tok%2Fen" download="">/,
    );
    expect(html).toContain('Download</span>');
  });

  it('has none on a running row, or a finished one whose file was deleted', () => {
    expect(taskRow(task({ status: 'active', artifact_token: null }))).not.toContain('/api/tasks/artifacts/');
    expect(taskRow(task({ artifact_token: null, artifact_path: null }))).not.toContain('Download');
  });

  it('tells, before a delete, that kept files still count and where they are', () => {
    expect(keptFiles()).toMatch(/count against your storage quota/);
    expect(keptFiles()).toMatch(/Files page/);
  });
});

describe('the users page', () => {
  const user = {
    id: 1,
    username: 'a',
    is_admin: false,
    quota: 4 * 1024 ** 3,
    used_space: 0,
    created_at: '2026-01-23T10:00:00Z',
    node: 'local',
    must_change_password: false,
  };
  it('shows each user’s used space, and its share of their quota', () => {
    expect(usedText({ ...user, used_space: 1024 ** 3 })).toBe('1.00 GiB (25%)');
    expect(usedText({ ...user, quota: 0, used_space: 1024 ** 3 })).toBe('1.00 GiB');
    expect(usedText(user)).toBe('0 B (0%)');
  });
});
