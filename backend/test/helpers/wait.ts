/** Polls until the check passes; fails naming what it waited for. Not a timing assertion. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/**
 * Waits until `count` (of statements, requests, passes) has not moved for `quietMs`: whatever the
 * steps before set going has ended, and what is counted from now on is the next step's own.
 */
export async function waitUntilSteady(
  count: () => number,
  quietMs = 150,
  timeoutMs = 20_000,
  what = 'the controller to settle',
): Promise<void> {
  let seen = -1;
  await waitFor(
    async () => {
      const still = count() === seen;
      seen = count();
      await new Promise((r) => setTimeout(r, quietMs));
      return still && count() === seen;
    },
    timeoutMs,
    what,
  );
}
