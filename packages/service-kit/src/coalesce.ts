/**
 * Request coalescing for dependency calls: the requests that reach the same call in one turn of the event
 * loop share one call instead of making one each (the BFF's precise estimates share one Geo call and one ML
 * proxy call this way).
 *
 * An item waits at most until the end of the current turn (a `setImmediate`), so a lone request is sent as
 * soon as its own handler has run, and coalescing costs nothing when traffic is light. Under load a turn
 * handles many sockets, batches grow by themselves, and the CPU spent per request on HTTP framing, JSON and
 * validation — in the caller and in the dependency — falls exactly when the cores are scarce (the same
 * idea as Triton's dynamic batcher, but without a timer that holds requests back).
 *
 * With `holdWhileBusyMs`, a turn's items that find a call of this coalescer still in flight wait for it
 * to settle (or that long) instead, as Nagle's algorithm holds small writes while one is unacknowledged:
 * a batch then gathers the requests of a whole round trip, not of one turn. Still nothing waits while the
 * dependency is idle.
 *
 * A batch is sent under the tightest deadline of its members, so no member waits past its own. A failed
 * call fails every member with the same error (each then takes its own fallback); an item the dependency
 * refused alone fails only its member.
 */
import type { DeadlineLike } from './deadline.ts';

export interface CoalesceOptions<I, R> {
  /** Most weight one call carries; a batch that would pass it is sent first. */
  readonly maxWeight: number;
  /** An item's weight (rows for the ML proxy); 1 when not given. */
  readonly weight?: (item: I) => number;
  /**
   * One dependency call for all items, in order: one result per item, or an Error for an item the
   * dependency refused alone. A rejection fails every item with that error.
   */
  readonly send: (items: readonly I[], deadline: DeadlineLike) => Promise<readonly (R | Error)[]>;
  /** Told the size of every batch sent (for the batch-size histogram). */
  readonly onBatch?: (items: number) => void;
  /**
   * Hold while busy (Nagle's rule, with a cap): when a call of this coalescer is still in flight at the
   * end of the turn, the queued items wait for a call to settle, or this many milliseconds, whichever
   * comes first, and then go in one call. An idle dependency is never waited for, so a lone request costs
   * nothing; under load the batches grow with the calls' round trip instead of one turn. 0 (the default):
   * never hold.
   */
  readonly holdWhileBusyMs?: number;
}

export interface Coalescer<I, R> {
  submit(item: I, deadline: DeadlineLike): Promise<R>;
}

interface Member<I, R> {
  readonly item: I;
  readonly budget: DeadlineLike;
  readonly resolve: (r: R) => void;
  readonly reject: (err: unknown) => void;
}

export function createCoalescer<I, R>(opts: CoalesceOptions<I, R>): Coalescer<I, R> {
  const weigh = opts.weight ?? (() => 1);
  const holdMs = opts.holdWhileBusyMs ?? 0;
  let queue: Member<I, R>[] = [];
  let queued = 0;
  let scheduled = false;
  let inFlight = 0;
  let hold: NodeJS.Timeout | undefined;

  function settled(): void {
    inFlight--;
    // Items held for this call go now.
    if (hold !== undefined) flush();
  }

  function dispatch(batch: readonly Member<I, R>[]): void {
    let tightest = batch[0]!.budget;
    let least = tightest.remainingMs();
    for (let i = 1; i < batch.length; i++) {
      const ms = batch[i]!.budget.remainingMs();
      if (ms < least) {
        least = ms;
        tightest = batch[i]!.budget;
      }
    }
    opts.onBatch?.(batch.length);
    const items = batch.map((m) => m.item);
    let sent: Promise<readonly (R | Error)[]>;
    try {
      sent = opts.send(items, tightest);
    } catch (err) {
      for (const m of batch) m.reject(err);
      return;
    }
    inFlight++;
    sent.then(
      (results) => {
        settled();
        if (results.length !== batch.length) {
          const err = new Error(
            `coalesced call answered ${results.length} results for ${batch.length} items`,
          );
          for (const m of batch) m.reject(err);
          return;
        }
        for (let i = 0; i < batch.length; i++) {
          const r = results[i]!;
          if (r instanceof Error) batch[i]!.reject(r);
          else batch[i]!.resolve(r);
        }
      },
      (err: unknown) => {
        settled();
        for (const m of batch) m.reject(err);
      },
    );
  }

  function flush(): void {
    if (hold !== undefined) {
      clearTimeout(hold);
      hold = undefined;
    }
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    queued = 0;
    dispatch(batch);
  }

  function endOfTurn(): void {
    scheduled = false;
    if (queue.length === 0) return;
    if (holdMs > 0 && inFlight > 0) {
      hold = setTimeout(flush, holdMs);
      return;
    }
    flush();
  }

  return {
    submit(item, budget) {
      return new Promise<R>((resolve, reject) => {
        const member: Member<I, R> = { item, budget, resolve, reject };
        const w = weigh(item);
        if (w >= opts.maxWeight) {
          // Too big to share a call: sent alone, now, leaving the queue as it is.
          dispatch([member]);
          return;
        }
        if (queued + w > opts.maxWeight) flush();
        queue.push(member);
        queued += w;
        if (!scheduled && hold === undefined) {
          scheduled = true;
          setImmediate(endOfTurn);
        }
      });
    },
  };
}
