import { TASK_MESSAGES } from '@rules';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { TORRENT_RETRY_DETAIL } from '../../lib/retry-api';
import type { Task, TaskStatus } from '../../lib/types';
import { ActionButtons } from './ActionButtons';
import {
  type ActionRunner,
  actionForKey,
  actionLabel,
  actionsFor,
  actionVariant,
  bulkTargets,
  detailActions,
  isActionEnabled,
  keptFiles,
  rowActions,
  TASK_ACTIONS,
  type TaskActionId,
} from './actions';

function task(status: TaskStatus, patch: Partial<Task> = {}): Task {
  return {
    id: 1,
    owner_id: 1,
    gid: null,
    uri: 'https://example.com/a.zip',
    status,
    name: 'a.zip',
    total_length: 0,
    completed_length: 0,
    download_speed: 0,
    upload_speed: 0,
    error: null,
    created_at: '2026-01-23T10:00:00Z',
    updated_at: '2026-01-23T10:00:00Z',
    artifact_path: null,
    artifact_token: null,
    waiting_reason: null,
    attempt: 1,
    next_retry_at: null,
    position: null,
    phase: null,
    seeding: false,
    ...patch,
  };
}

const labels = (t: Task) => rowActions(t).map((a) => actionLabel(a, t));

/** A runner that records what the registry asked of it. */
function recorder() {
  const calls: unknown[][] = [];
  const rec =
    <R,>(name: string, answer: R) =>
    (...args: unknown[]): Promise<R> => {
      calls.push([name, ...args]);
      return Promise.resolve(answer);
    };
  const runner: ActionRunner = {
    changeStatus: rec('changeStatus', undefined),
    changeStatusBulk: rec('changeStatusBulk', undefined),
    retry: rec('retry', null),
    retrySelected: rec('retrySelected', undefined),
    requestRetry: rec('requestRetry', undefined),
    cancelPlannedRetry: rec('cancelPlannedRetry', undefined),
    move: rec('move', true),
    deleteTasks: rec('deleteTasks', 1),
  };
  return { runner, calls };
}

describe('the action registry', () => {
  it('gives each status its row buttons', () => {
    expect(labels(task('active'))).toEqual(['Pause', 'Delete']);
    expect(labels(task('waiting'))).toEqual(['Pause', 'Delete']);
    expect(labels(task('paused'))).toEqual(['Resume', 'Delete']);
    expect(labels(task('error'))).toEqual(['Retry', 'Delete']);
    expect(labels(task('removed'))).toEqual(['Start again', 'Delete']);
    expect(labels(task('complete'))).toEqual(['Delete']);
    expect(labels(task('complete', { artifact_token: 'tok' }))).toEqual(['Download', 'Delete']);
    expect(labels(task('queued'))).toEqual(['Delete']);
  });

  it('offers Download only on a finished task that has its file', () => {
    const done = task('complete', { artifact_token: 'tok', artifact_path: 'a.zip' });
    expect(isActionEnabled('download', done)).toBe(true);
    // The file was deleted on the Files page: the row stays, without its token.
    expect(isActionEnabled('download', { ...done, artifact_token: null })).toBe(false);
    for (const status of ['active', 'waiting', 'paused', 'queued', 'error', 'removed'] as const) {
      expect(isActionEnabled('download', task(status, { artifact_token: 'tok' }))).toBe(false);
    }
    expect(actionForKey('d', done)).toBeUndefined();
  });

  it('shows Retry on a failed torrent (the click explains why it cannot retry)', () => {
    expect(labels(task('error', { uri: '[torrent]' }))).toContain('Retry');
  });

  it('batch retry targets failed and stopped non-torrent tasks (stopped ones retry one by one too)', () => {
    const tasks = [
      task('error', { id: 1 }),
      task('error', { id: 2, uri: '[torrent]' }),
      task('removed', { id: 3 }),
      task('active', { id: 4 }),
    ];
    expect(bulkTargets('retry', tasks).map((t) => t.id)).toEqual([1, 3]);
    expect(bulkTargets('pause', tasks).map((t) => t.id)).toEqual([4]);
    expect(bulkTargets('delete', tasks)).toHaveLength(4);
  });

  it('offers stop and queue moves on the detail page', () => {
    expect(detailActions(task('waiting')).map((a) => a.id)).toEqual([
      'pause',
      'stop',
      'moveTop',
      'moveBottom',
      'delete',
    ]);
    expect(isActionEnabled('moveTop', task('active'))).toBe(false);
  });

  it('offers Retry now and Cancel on a task the server will retry', () => {
    const planned = task('error', { next_retry_at: '2026-01-23T10:01:00Z', attempt: 1 } as Partial<Task>);
    expect(labels(planned)).toEqual(['Retry now', 'Cancel', 'Delete']);
    expect(detailActions(planned).map((a) => a.id)).toContain('cancelRetry');
    expect(isActionEnabled('cancelRetry', task('error'))).toBe(false);
  });

  it('maps keys to the row actions that apply', () => {
    expect(actionForKey('p', task('active'))?.id).toBe('pause');
    expect(actionForKey('P', task('paused'))?.id).toBe('resume');
    expect(actionForKey('r', task('error'))?.id).toBe('retry');
    expect(actionForKey('r', task('active'))).toBeUndefined();
    expect(actionForKey('Delete', task('complete'))?.id).toBe('delete');
  });
});

describe('the registry runs its actions', () => {
  it('runs each single action with the request it stands for', async () => {
    const t = task('waiting', { id: 7 });
    const expected: [TaskActionId, unknown[]][] = [
      ['pause', ['changeStatus', t, 'pause']],
      ['resume', ['changeStatus', t, 'resume']],
      ['stop', ['changeStatus', t, 'stop']],
      ['retry', ['retry', t, 'history', undefined]],
      ['retryLink', ['requestRetry', t, 'link', undefined]],
      ['cancelRetry', ['cancelPlannedRetry', t]],
      ['moveTop', ['move', t, 'top']],
      ['moveBottom', ['move', t, 'bottom']],
      ['delete', ['deleteTasks', [t], false]],
    ];
    for (const [id, call] of expected) {
      const { runner, calls } = recorder();
      await TASK_ACTIONS[id].run?.(runner, t, { surface: 'history' });
      expect(calls, id).toEqual([call]);
    }
  });

  it('runs the toolbar actions on the whole selection in one call each', async () => {
    const tasks = [task('active', { id: 1 }), task('error', { id: 2 })];
    const expected: [TaskActionId, unknown[]][] = [
      ['pause', ['changeStatusBulk', tasks, 'pause']],
      ['resume', ['changeStatusBulk', tasks, 'resume']],
      ['stop', ['changeStatusBulk', tasks, 'stop']],
      ['retry', ['retrySelected', tasks]],
      ['delete', ['deleteTasks', tasks, true]],
    ];
    for (const [id, call] of expected) {
      const { runner, calls } = recorder();
      await TASK_ACTIONS[id].runBulk?.(runner, tasks, { surface: 'tasks', checked: true });
      expect(calls, id).toEqual([call]);
    }
  });

  it('calls a delete’s `after` only when something was deleted', async () => {
    let left = 0;
    const after = () => {
      left += 1;
    };
    const { runner } = recorder();
    await TASK_ACTIONS.delete.run?.(runner, task('complete'), { surface: 'detail', after });
    expect(left).toBe(1);
    runner.deleteTasks = () => Promise.resolve(0);
    await TASK_ACTIONS.delete.run?.(runner, task('complete'), { surface: 'detail', after });
    expect(left).toBe(1);
  });

  it('asks before Stop and Delete, in the words of the dialogs', () => {
    const one = [task('active', { name: 'slow.bin' })];
    const two = [task('active', { id: 1 }), task('paused', { id: 2 })];
    const stop = TASK_ACTIONS.stop.confirm!;
    expect(stop.title(one)).toBe('Stop “slow.bin”?');
    expect(stop.confirmLabel).toBe('Stop download');
    expect(stop.cancelLabel).toBe('Keep downloading');
    expect(stop.message(one)).toMatch(/moves to the history as stopped/);
    const del = TASK_ACTIONS.delete.confirm!;
    expect(del.title(one)).toBe('Delete “slow.bin”?');
    expect(del.title(two)).toBe('Delete 2 tasks?');
    expect(del.message(one)).toContain(keptFiles());
    expect(del.message(two)).toMatch(/^Running downloads stop/);
    expect(del.checkboxLabel).toBe('Also delete files');
    // The others run at once.
    for (const id of ['pause', 'resume', 'retry', 'cancelRetry', 'moveTop'] as const)
      expect(TASK_ACTIONS[id].confirm).toBeUndefined();
  });

  it('gives History rows the buttons of Tasks rows, and the detail page its own set', () => {
    for (const t of [task('error'), task('complete', { artifact_token: 'tok' }), task('removed')]) {
      expect(actionsFor('history', t)).toEqual(actionsFor('tasks', t));
    }
    const failed = task('error');
    expect(detailActions(failed).map((a) => actionLabel(a, failed, 'detail'))).toEqual([
      'Retry',
      'Delete',
      'Retry with a new link…',
    ]);
    const failedTorrent = task('error', { uri: '[torrent]' });
    expect(detailActions(failedTorrent).map((a) => a.id)).toEqual(['retry', 'delete', 'downloadTorrent']);
    const done = task('complete', { artifact_token: 'tok' });
    expect(actionLabel(TASK_ACTIONS.download, done, 'detail')).toBe('Download file');
    expect(actionVariant(TASK_ACTIONS.download, 'detail')).toBe('primary');
    expect(actionVariant(TASK_ACTIONS.download)).toBe('secondary');
    expect(actionVariant(TASK_ACTIONS.delete)).toBe('danger');
  });

  it('draws the buttons of a row from the registry: links for files, buttons with their icons', () => {
    const html = (t: Task, surface: 'tasks' | 'detail', busy: TaskActionId | null = null) =>
      renderToStaticMarkup(
        <ActionButtons task={t} surface={surface} busyAction={busy} onAction={() => {}} />,
      );
    const done = html(task('complete', { artifact_token: 'a/b' }), 'tasks');
    expect(done).toContain(
      '<a class="btn btn-secondary btn-sm" href="/api/tasks/artifacts/a%2Fb" download="">',
    );
    expect(done).toContain('<span class="btn-label">Download</span>');
    expect(done).toContain('class="btn btn-danger btn-sm"');
    expect(done.match(/<svg/g)).toHaveLength(2);
    const running = html(task('active'), 'tasks', 'pause');
    // The running action spins; the others wait for it.
    expect(running).toMatch(/<button[^>]*disabled=""[^>]*aria-busy="true"[^>]*><span class="spinner"/);
    expect(running).toMatch(/<button[^>]*class="btn btn-danger btn-sm"[^>]*disabled=""/);
    const detail = html(task('error', { id: 5, uri: '[torrent]' }), 'detail');
    expect(detail).toContain('<a class="btn btn-ghost" href="/api/tasks/5/torrent" download="">');
  });

  it('says why a torrent task is not retried in the server’s words', () => {
    expect(TORRENT_RETRY_DETAIL).toBe(TASK_MESSAGES.torrentRetry);
  });
});
