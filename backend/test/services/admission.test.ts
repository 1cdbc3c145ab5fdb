/**
 * The fair admission (services/admission.ts) on a real SQLite file and a real aria2c: downloads are
 * handed to aria2 paused and held; a pass lets in as many as the slots and each user's room allow,
 * writes which are held and why, and a freed slot goes to the one waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTask } from '../../src/repositories/tasks.js';
import type { Actor } from '../../src/services/context.js';
import { waitFor } from '../helpers/aria2.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { type UnitContext, unitContext } from '../helpers/service-context.js';

describe('Admission on a real SQLite file and aria2c', () => {
  let u: UnitContext;
  let server: FileServer;
  let tasks: ReturnType<UnitContext['taskServices']>;
  let alice: Actor;
  let bob: Actor;
  let files = 0;

  beforeAll(async () => {
    server = await startFileServer();
    u = await unitContext({ ALLOW_PRIVATE_NETWORK: 'true', MIN_FREE_DISK: '0' }, { aria2: true });
    await u.ctx.settings.update({ max_concurrent_downloads: 2, max_active_per_user: 1 });
    tasks = u.taskServices();
    alice = await u.user('alice');
    bob = await u.user('bob');
  });
  afterAll(async () => {
    await tasks?.admission.stop();
    await u?.close();
    await server?.close();
  });

  function slowUrl(): string {
    const name = `/adm-${++files}.bin`;
    server.addFile(name, { size: 4 * 1024 * 1024 }, { throttle: 32 * 1024 });
    return server.url(name);
  }

  const aria2Status = async (owner: Actor, id: number) => {
    const row = (await getTask(u.db, owner.id, id))!;
    return (await u.aria2!.rpc<{ status: string }>('aria2.tellStatus', [row.gid, ['status']])).status;
  };

  it("holds a user's download past their room, lets another user's in, and gives a freed slot to the one held", async () => {
    const a1 = await tasks.add.create(alice, slowUrl());
    const a2 = await tasks.add.create(alice, slowUrl());
    const b1 = await tasks.add.create(bob, slowUrl());
    expect(await aria2Status(alice, a1.id)).toBe('active');
    expect(await aria2Status(bob, b1.id)).toBe('active');
    // Alice's second one waits for her room, held paused in aria2.
    expect(await aria2Status(alice, a2.id)).toBe('paused');
    expect(await getTask(u.db, alice.id, a2.id)).toMatchObject({ status: 'waiting', held_for: 'user_limit' });

    await tasks.control.changeStatus(alice, a1.id, 'stop');
    // aria2 frees the slot a moment after it answers the stop; a pass before that finds none free (the
    // running controller's next pass comes with aria2's notification of the stop; here, another pass).
    await waitFor(
      async () => {
        await tasks.admission.admit();
        return (await aria2Status(alice, a2.id)) === 'active';
      },
      10_000,
      'the held one to start',
    );
    expect((await getTask(u.db, alice.id, a2.id))!.held_for).toBeNull();
  });

  it('answers with the reason a pass just before gave, when its own pass has nothing to change', async () => {
    // Alice's room is taken (one running): a new one of hers is held for her limit by the add's pass.
    const a3 = await tasks.add.create(alice, slowUrl());
    expect(a3).toMatchObject({ status: 'waiting', waiting_reason: 'user_limit' });
    // A caller that handed the row over while that pass ran still holds it as it was before the pass.
    const before = { ...(await getTask(u.db, alice.id, a3.id))!, held_for: 'queue' };
    const [after] = await tasks.admission.admitAndRead([before]);
    expect(after).toMatchObject({ id: a3.id, status: 'waiting', held_for: 'user_limit' });
  });

  it('puts off a pass asked for just before a deferral began until the deferral ends, then runs one', async () => {
    const admission = tasks.admission as unknown as { pass: (...args: unknown[]) => unknown };
    const pass = admission.pass;
    let passes = 0;
    admission.pass = function (this: unknown, ...args: unknown[]) {
      passes++;
      return pass.apply(this, args);
    };
    // Started: a pass asked for runs on its own (the tests above call them).
    tasks.admission.start();
    try {
      await tasks.admission.admit();
      passes = 0;
      // Asked for (a download of someone's ended), then a retry by filter starts handing rows over.
      tasks.admission.soon(5);
      let during = -1;
      await tasks.admission.deferWhile(async () => {
        await new Promise((r) => setTimeout(r, 100));
        during = passes;
      });
      expect(during).toBe(0);
      await waitFor(() => passes === 1, 10_000, 'the pass put off');
    } finally {
      admission.pass = pass;
    }
  });
});
