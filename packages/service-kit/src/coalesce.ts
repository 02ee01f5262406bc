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
  let queue: Member<I, R>[] = [];
  let queued = 0;
  let scheduled = false;

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
    sent.then(
      (results) => {
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
        for (const m of batch) m.reject(err);
      },
    );
  }

  function flush(): void {
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    queued = 0;
    dispatch(batch);
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
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            flush();
          });
        }
      });
    },
  };
}
