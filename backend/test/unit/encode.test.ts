import { serializerCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { responseSerializer } from '../../src/app.js';
import { encodeTask, encodeTaskList } from '../../src/contracts/encode.js';
import { type Task, task, taskList } from '../../src/contracts/tasks.js';

/** What the zod response check answered before the pre-built encoders: the reference output. */
const viaZod = (schema: unknown, data: unknown) =>
  serializerCompiler({ schema: schema as never, method: 'GET', url: '/api/tasks', httpStatus: '200' })(data);

const odd = [
  '\uD800', // lone high surrogate
  'a\uDC00b', // lone low surrogate
  '\uDBFF\uDFFF\uD83D\uDE00', // well-formed pairs
  '\u0000\u0001\u0008\t\n\u000b\f\r\u001b\u001f\u007f', // control characters
  '\u2028\u2029', // line and paragraph separators
  '"quoted" \\back\\slash / </script>',
  'ünïcødé 中文 🙂',
  '',
];

const base: Task = {
  id: 1,
  owner_id: 2,
  gid: '2089b05ecca3d829',
  uri: 'http://127.0.0.1:8080/file.iso',
  status: 'complete',
  name: 'file.iso',
  total_length: 1048576,
  completed_length: 1048576,
  download_speed: 0,
  upload_speed: 0,
  error: null,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:01Z',
  artifact_path: 'file.iso',
  artifact_token: 'tok',
  waiting_reason: null,
  attempt: 1,
  next_retry_at: null,
  position: null,
  phase: null,
  seeding: false,
};

/** Every field with every kind of value it takes: nulls, odd strings, extremes. */
function samples(): Task[] {
  const out: Task[] = [base];
  const nulls: Task = {
    ...base,
    gid: null,
    name: null,
    error: null,
    artifact_path: null,
    artifact_token: null,
  };
  out.push(nulls);
  for (const s of odd) {
    out.push({ ...base, uri: s, name: s, error: s, gid: s, artifact_path: s, artifact_token: s });
    out.push({ ...base, created_at: s, updated_at: s, next_retry_at: s });
  }
  out.push({
    ...base,
    id: Number.MAX_SAFE_INTEGER,
    total_length: Number.MAX_SAFE_INTEGER,
    completed_length: 0,
    download_speed: 123456789,
    upload_speed: 987654321,
    status: 'waiting',
    waiting_reason: 'user_limit',
    position: 0,
    attempt: 11,
    next_retry_at: '2026-01-01T00:05:00Z',
  });
  out.push({ ...base, status: 'waiting', waiting_reason: 'slots', position: 41 });
  out.push({ ...base, status: 'waiting', waiting_reason: 'queue', position: 3 });
  out.push({ ...base, status: 'active', phase: 'metadata', uri: 'magnet:?xt=urn:btih:abc' });
  out.push({ ...base, status: 'active', seeding: true });
  for (const status of ['paused', 'error', 'removed', 'complete'] as const) out.push({ ...base, status });
  // A property the schema does not name is left out, as the zod check stripped it.
  out.push({ ...base, secret: 'hash' } as Task);
  return out;
}

describe('pre-built task encoders', () => {
  it('write the same JSON as the zod response check for every Task field', () => {
    const items = samples();
    const list = { items, total: 123456 };
    expect(encodeTaskList(list)).toBe(viaZod(taskList, list));
    for (const t of items) expect(encodeTask(t)).toBe(viaZod(task, t));
    expect(encodeTaskList({ items: [], total: 0 })).toBe('{"items":[],"total":0}');
    // Every field of the schema is written, in its order, and nothing else.
    expect(Object.keys(JSON.parse(encodeTask({ ...base, secret: 'x' } as Task)))).toEqual(
      Object.keys(task.shape),
    );
    expect(encodeTaskList(list)).not.toContain('hash');
  });

  it('answer the task responses; every other response still goes through zod', () => {
    const compile = (schema: unknown) =>
      responseSerializer({ schema: schema as never, method: 'GET', url: '/api/tasks', httpStatus: '200' });
    const list = { items: samples(), total: 7 };
    expect(compile(taskList)(list)).toBe(encodeTaskList(list));
    expect(compile(task)(base)).toBe(encodeTask(base));
    const other = taskList.shape.total;
    expect(compile(other)(5)).toBe('5');
    expect(() => compile(other)('five')).toThrow();
  });
});
