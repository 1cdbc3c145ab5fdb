import { describe, expect, it } from 'vitest';
import { chooseAdmissions } from '../../src/domain/admission.js';

/** Held downloads named `<owner><n>`, e.g. 'a1' is owner 1's first; `queue` is aria2's order. */
const OWNERS: Record<string, number> = { a: 1, b: 2, c: 3 };
const held = (...queue: string[]) => queue.map((key) => ({ owner: OWNERS[key[0]!]!, key }));
const running = (counts: Record<string, number>) =>
  new Map(Object.entries(counts).map(([k, n]) => [OWNERS[k]!, n]));

describe('chooseAdmissions', () => {
  it("gives a free slot to the user who has none running, whatever the other user's queue", () => {
    const choice = chooseAdmissions({
      freeSlots: 1,
      perUserLimit: 0,
      running: running({ a: 4 }),
      held: held('a5', 'a6', 'a7', 'b1'),
    });
    expect(choice.admit).toEqual(['b1']);
    expect(Object.fromEntries(choice.waiting)).toEqual({ a5: 'slots', a6: 'slots', a7: 'slots' });
  });

  it('goes round-robin between users who wait, keeping each user their own queue order', () => {
    const choice = chooseAdmissions({
      freeSlots: 5,
      perUserLimit: 0,
      running: new Map(),
      held: held('a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'c1'),
    });
    expect(choice.admit).toEqual(['a1', 'b1', 'c1', 'a2', 'b2']);
    expect(Object.fromEntries(choice.waiting)).toEqual({ a3: 'slots', a4: 'slots' });
  });

  it('never lets a user pass the per-user limit; their others wait for that reason', () => {
    const choice = chooseAdmissions({
      freeSlots: 10,
      perUserLimit: 2,
      running: running({ b: 1 }),
      held: held('a1', 'a2', 'a3', 'b1', 'b2'),
    });
    // a has none running: a1; then a and b both have 1 and a2 stands first in the queue: a2; then b1.
    expect(choice.admit).toEqual(['a1', 'a2', 'b1']);
    expect(Object.fromEntries(choice.waiting)).toEqual({ a3: 'user_limit', b2: 'user_limit' });
  });

  it('admits nothing without a free slot (or with fewer than none, after the slots were lowered)', () => {
    for (const freeSlots of [0, -2]) {
      const choice = chooseAdmissions({
        freeSlots,
        perUserLimit: 3,
        running: running({ a: 3, b: 1 }),
        held: held('a4', 'b2'),
      });
      expect(choice.admit).toEqual([]);
      expect(Object.fromEntries(choice.waiting)).toEqual({ a4: 'user_limit', b2: 'slots' });
    }
  });

  it('serves users with fewer running downloads first, ties by who stands first in the queue', () => {
    const choice = chooseAdmissions({
      freeSlots: 3,
      perUserLimit: 0,
      running: running({ a: 2, b: 1 }),
      held: held('a3', 'b2', 'c1', 'c2', 'b3'),
    });
    // c has none running: c1; then b (1) and c (1) tie and b2 stands first: b2; then c has fewest: c2.
    expect(choice.admit).toEqual(['c1', 'b2', 'c2']);
    expect(Object.fromEntries(choice.waiting)).toEqual({ a3: 'slots', b3: 'slots' });
  });

  it('with nothing held, admits nothing and names no reason', () => {
    const choice = chooseAdmissions({ freeSlots: 5, perUserLimit: 3, running: running({ a: 1 }), held: [] });
    expect(choice).toEqual({ admit: [], waiting: new Map() });
  });
});
