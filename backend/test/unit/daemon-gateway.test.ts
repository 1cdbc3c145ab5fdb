import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Aria2Client } from '../../src/aria2/client.js';
import { Aria2Gateway, stateFromAria2, toDaemonStatus } from '../../src/aria2/gateway.js';
import { parseStatus } from '../../src/aria2/types.js';
import { openDatabase } from '../../src/db/index.js';
import { taskStatusOf } from '../../src/domain/task-status.js';
import { NodeRegistry } from '../../src/gateway/registry.js';
import { GatewayError } from '../../src/gateway/types.js';

describe("aria2's status words in the controller's names", () => {
  it('maps the six words one to one and anything else to error', () => {
    for (const word of ['active', 'waiting', 'paused', 'complete', 'error', 'removed'] as const) {
      expect(stateFromAria2(word)).toBe(word);
    }
    expect(stateFromAria2('seeding')).toBe('error');
    expect(stateFromAria2(undefined)).toBe('error');
    expect(stateFromAria2('')).toBe('error');
  });

  it('a held paused download is a waiting task; an owner-paused one is paused', () => {
    expect(taskStatusOf('paused', true)).toBe('waiting');
    expect(taskStatusOf('paused')).toBe('paused');
    expect(taskStatusOf('active', true)).toBe('active');
    expect(taskStatusOf('complete')).toBe('complete');
    expect(taskStatusOf(stateFromAria2('bogus'))).toBe('error');
  });

  it("turns aria2's all-strings answer into a DaemonStatus; a magnet's metadata phase is flagged", () => {
    const s = toDaemonStatus(
      parseStatus({
        gid: 'a1',
        status: 'active',
        totalLength: '100',
        completedLength: '40',
        files: [{ index: '1', path: '[METADATA]abc', length: '0', completedLength: '0', selected: 'true' }],
      }),
    );
    expect(s).toMatchObject({
      gid: 'a1',
      status: 'active',
      totalLength: 100,
      completedLength: 40,
      metadata: true,
    });
    const plain = toDaemonStatus(parseStatus({ gid: 'a2', status: 'weird', files: [] }));
    expect(plain).toMatchObject({ status: 'error', metadata: false, totalLength: 0 });
  });

  it('keeps every other key of the answer as it came, and adds none that aria2 did not send', () => {
    const s = parseStatus({
      gid: 'a3',
      status: 'active',
      downloadSpeed: '16384',
      errorCode: '0',
      verifiedLength: '7',
      seeder: 'true',
      bittorrent: { creationDate: '1700000000', info: { name: 'x' } },
    });
    expect(s).toEqual({
      gid: 'a3',
      status: 'active',
      totalLength: 0,
      completedLength: 0,
      uploadLength: 0,
      downloadSpeed: 16384,
      uploadSpeed: 0,
      connections: 0,
      numSeeders: 0,
      numPieces: 0,
      pieceLength: 0,
      files: [],
      errorCode: '0',
      verifiedLength: '7',
      seeder: true,
      bittorrent: { creationDate: 1700000000, info: { name: 'x' } },
    });
    expect(Object.keys(s)).not.toContain('infoHash');
    expect(Object.keys(parseStatus({ files: [] }))).not.toContain('gid');
  });
});

describe('the node registry', () => {
  const client = new Aria2Client({ url: 'ws://127.0.0.1:9/jsonrpc', secret: null });
  const local = new Aria2Gateway('local', client);

  it("hands out a task's node's gateway; an unknown node fails as an unavailable daemon", () => {
    const nodes = new NodeRegistry([local]);
    expect(nodes.first).toBe(local);
    expect(nodes.gatewayFor('local')).toBe(local);
    expect(nodes.forTask({ node: 'local' })).toBe(local);
    expect(nodes.list()).toEqual([local]);
    let err: unknown;
    try {
      nodes.forTask({ node: 'elsewhere' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ node: 'elsewhere', kind: 'unavailable' });
  });

  it('needs at least one node, and names unique', () => {
    expect(() => new NodeRegistry([])).toThrow(/No download daemon/);
    expect(() => new NodeRegistry([local, local])).toThrow(/Two download daemons/);
  });
});

describe('the node a task runs on', () => {
  it("is a column every task has, 'local' unless set", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-controller-node-'));
    const db = await openDatabase(path.join(dir, 'db.sqlite'));
    try {
      const user = await db
        .insertInto('users')
        .values({ username: 'u', password_hash: 'x', is_admin: 0, quota: 0, created_at: 'now' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const row = {
        owner_id: user.id,
        uri: 'http://127.0.0.1/x',
        display_uri: 'http://127.0.0.1/x',
        status: 'queued',
        created_at: 'now',
        updated_at: 'now',
        dir: '/tmp/x',
      };
      await db.insertInto('tasks').values(row).execute();
      await db
        .insertInto('tasks')
        .values({ ...row, node: 'second' })
        .execute();
      const nodes = await db.selectFrom('tasks').select('node').orderBy('id').execute();
      expect(nodes.map((n) => n.node)).toEqual(['local', 'second']);
    } finally {
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
