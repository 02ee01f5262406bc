import { describe, expect, it } from 'vitest';
import { createCoalescer, type DeadlineLike } from '../src/index.ts';

const budget = (ms: number): DeadlineLike => ({ remainingMs: () => ms });

interface Sent {
  readonly items: readonly number[];
  readonly budgetMs: number;
}

/** A coalescer over numbers whose dependency doubles each one; every call it makes is recorded. */
function doubling(
  opts: { maxWeight?: number; weight?: (n: number) => number; refuse?: (n: number) => boolean } = {},
) {
  const sent: Sent[] = [];
  const sizes: number[] = [];
  const c = createCoalescer<number, number>({
    maxWeight: opts.maxWeight ?? 100,
    ...(opts.weight ? { weight: opts.weight } : {}),
    onBatch: (n) => sizes.push(n),
    send: async (items, b) => {
      sent.push({ items: [...items], budgetMs: b.remainingMs() });
      return items.map((n) => (opts.refuse?.(n) ? new Error(`refused ${n}`) : n * 2));
    },
  });
  return { c, sent, sizes };
}

describe('createCoalescer', () => {
  it('sends the items submitted in one turn as one call, and answers each with its own result', async () => {
    const { c, sent, sizes } = doubling();
    const answers = await Promise.all([1, 2, 3, 4].map((n) => c.submit(n, budget(100))));
    expect(answers).toEqual([2, 4, 6, 8]);
    expect(sent.map((s) => s.items)).toEqual([[1, 2, 3, 4]]);
    expect(sizes).toEqual([4]);
  });

  it('does not hold a lone item back: it is sent at the end of the turn it was submitted in', async () => {
    const { c, sent } = doubling();
    const answer = c.submit(7, budget(100));
    expect(sent).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([{ items: [7], budgetMs: 100 }]);
    expect(await answer).toBe(14);
  });

  it('items of different turns go in different calls', async () => {
    const { c, sent } = doubling();
    const first = c.submit(1, budget(100));
    await new Promise((r) => setImmediate(r));
    const second = c.submit(2, budget(100));
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    expect(sent.map((s) => s.items)).toEqual([[1], [2]]);
  });

  it('sends under the tightest budget of the batch', async () => {
    const { c, sent } = doubling();
    await Promise.all([c.submit(1, budget(90)), c.submit(2, budget(12)), c.submit(3, budget(40))]);
    expect(sent).toEqual([{ items: [1, 2, 3], budgetMs: 12 }]);
  });

  it('sends the queue first when the next item would pass the weight limit', async () => {
    const { c, sent } = doubling({ maxWeight: 10, weight: (n) => n });
    await Promise.all([4, 5, 3, 2].map((n) => c.submit(n, budget(100))));
    expect(sent.map((s) => s.items)).toEqual([
      [4, 5],
      [3, 2],
    ]);
  });

  it('an item at or over the limit goes alone and leaves the queue as it was', async () => {
    const { c, sent } = doubling({ maxWeight: 10, weight: (n) => n });
    const answers = await Promise.all([1, 12, 2].map((n) => c.submit(n, budget(100))));
    expect(answers).toEqual([2, 24, 4]);
    expect(sent.map((s) => s.items)).toEqual([[12], [1, 2]]);
  });

  it('an item refused alone fails only its own request', async () => {
    const { c } = doubling({ refuse: (n) => n === 2 });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => c.submit(n, budget(100))));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toEqual(new Error('refused 2'));
  });

  it('a failed call fails every request of the batch with its error', async () => {
    const boom = new Error('dependency down');
    const c = createCoalescer<number, number>({
      maxWeight: 100,
      send: () => Promise.reject(boom),
    });
    const settled = await Promise.allSettled([1, 2].map((n) => c.submit(n, budget(100))));
    expect(settled).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
    ]);
  });

  it('a send that throws at once fails the batch instead of escaping', async () => {
    const boom = new Error('bug');
    const c = createCoalescer<number, number>({
      maxWeight: 100,
      send: () => {
        throw boom;
      },
    });
    await expect(c.submit(1, budget(100))).rejects.toBe(boom);
  });

  it('a call that answers the wrong number of results fails the batch rather than mismatching answers', async () => {
    const c = createCoalescer<number, number>({ maxWeight: 100, send: async () => [1] });
    const settled = await Promise.allSettled([1, 2].map((n) => c.submit(n, budget(100))));
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(String((settled[0] as PromiseRejectedResult).reason)).toMatch(/1 results for 2 items/);
  });
});

describe('createCoalescer with holdWhileBusyMs', () => {
  /** A coalescer whose calls settle only when the test says so. */
  function gated(holdWhileBusyMs: number) {
    const calls: { items: number[]; settle: () => void }[] = [];
    const c = createCoalescer<number, number>({
      maxWeight: 100,
      holdWhileBusyMs,
      send: (items) =>
        new Promise((resolve) => {
          calls.push({ items: [...items], settle: () => resolve(items.map((n) => n * 2)) });
        }),
    });
    return { c, calls };
  }
  const endOfTurn = () => new Promise((r) => setImmediate(r));

  it('sends at once while nothing is in flight, then holds the next items until the call settles', async () => {
    const { c, calls } = gated(60_000);
    const first = c.submit(1, budget(100));
    await endOfTurn();
    expect(calls.map((x) => x.items)).toEqual([[1]]);

    // Three more turns while the first call is out: nothing is sent.
    const held = [c.submit(2, budget(100))];
    await endOfTurn();
    held.push(c.submit(3, budget(100)));
    await endOfTurn();
    held.push(c.submit(4, budget(100)));
    await endOfTurn();
    expect(calls.map((x) => x.items)).toEqual([[1]]);

    calls[0]!.settle();
    expect(await first).toBe(2);
    await endOfTurn();
    expect(calls.map((x) => x.items)).toEqual([[1], [2, 3, 4]]);
    calls[1]!.settle();
    expect(await Promise.all(held)).toEqual([4, 6, 8]);
  });

  it('sends the held items when the hold runs out, even if the call in flight never settles', async () => {
    const { c, calls } = gated(5);
    void c.submit(1, budget(100));
    await endOfTurn();
    const held = c.submit(2, budget(100));
    await endOfTurn();
    expect(calls).toHaveLength(1);
    // Waits for the condition, not a time: the hold's timer fires once 5 ms have passed.
    while (calls.length < 2) await new Promise((r) => setTimeout(r, 1));
    expect(calls[1]!.items).toEqual([2]);
    calls[1]!.settle();
    expect(await held).toBe(4);
  });

  it('holds nothing when 0, and a failed call releases the held items too', async () => {
    const off = gated(0);
    void off.c.submit(1, budget(100));
    await endOfTurn();
    void off.c.submit(2, budget(100));
    await endOfTurn();
    expect(off.calls.map((x) => x.items)).toEqual([[1], [2]]);

    let fail: (err: Error) => void = () => {};
    const failing = createCoalescer<number, number>({
      maxWeight: 100,
      holdWhileBusyMs: 60_000,
      send: (items) =>
        items[0] === 1
          ? new Promise((_, reject) => (fail = reject))
          : Promise.resolve(items.map((n) => n * 2)),
    });
    const firstOutcome = failing.submit(1, budget(100)).catch((err: Error) => err.message);
    await endOfTurn();
    const second = failing.submit(2, budget(100));
    await endOfTurn();
    fail(new Error('down'));
    expect(await firstOutcome).toBe('down');
    expect(await second).toBe(4);
  });
});
