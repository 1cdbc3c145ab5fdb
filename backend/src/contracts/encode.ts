import { type Task, task, taskList } from './tasks.js';

/**
 * Pre-built encoders for the responses that carry many tasks. The zod response check rebuilt every
 * task object and ran every field's checks before `JSON.stringify` (most of a 1,000-task page's
 * time); these copy each task's fields in the schema's order instead, so the JSON is the same byte for
 * byte: the same keys in the same order, nothing else (extra properties are dropped as zod strips
 * them), and every string escaped by `JSON.stringify` as before. The values are trusted: they are
 * built by the repositories' `toTask`, not taken from a request.
 */
function taskFields(t: Task): Task {
  return {
    id: t.id,
    owner_id: t.owner_id,
    gid: t.gid,
    uri: t.uri,
    status: t.status,
    name: t.name,
    total_length: t.total_length,
    completed_length: t.completed_length,
    download_speed: t.download_speed,
    upload_speed: t.upload_speed,
    error: t.error,
    created_at: t.created_at,
    updated_at: t.updated_at,
    artifact_path: t.artifact_path,
    artifact_token: t.artifact_token,
    waiting_reason: t.waiting_reason,
    attempt: t.attempt,
    next_retry_at: t.next_retry_at,
    position: t.position,
    phase: t.phase,
    seeding: t.seeding,
  };
}

export function encodeTask(value: Task): string {
  return JSON.stringify(taskFields(value));
}

export function encodeTaskList(value: { items: readonly Task[]; total: number }): string {
  return JSON.stringify({ items: value.items.map(taskFields), total: value.total });
}

/** The response schemas answered by a pre-built encoder rather than the zod check (app.ts). */
export const prebuiltEncoders: ReadonlyMap<unknown, (value: never) => string> = new Map<
  unknown,
  (value: never) => string
>([
  [task, encodeTask],
  [taskList, encodeTaskList],
]);
