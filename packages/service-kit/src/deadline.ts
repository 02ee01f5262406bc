import { performance } from 'node:perf_hooks';

/** Anything that can say how much time is left; the HTTP client accepts this. */
export interface DeadlineLike {
  remainingMs(): number;
}

/**
 * A point in time by which an answer is due. Kept on a monotonic clock, so wall-clock jumps (NTP) neither
 * expire nor extend it, and handed between services as a relative budget (see REQUEST_TIMEOUT_HEADER).
 */
export class Deadline implements DeadlineLike {
  /** The whole budget this deadline started with, in ms. */
  readonly budgetMs: number;
  readonly #at: number;
  #signal: AbortSignal | undefined;

  /** `spentMs`: how much of the budget is gone already (time the request waited before it was read). */
  constructor(budgetMs: number, spentMs = 0) {
    this.budgetMs = budgetMs;
    this.#at = performance.now() + budgetMs - spentMs;
  }

  /** A deadline `ms` from now; for work outside a request (start-up, consumers, jobs). */
  static after(ms: number): Deadline {
    return new Deadline(ms);
  }

  /** Whole milliseconds left, never negative. */
  remainingMs(): number {
    return Math.max(0, Math.floor(this.#at - performance.now()));
  }

  get expired(): boolean {
    return performance.now() >= this.#at;
  }

  /**
   * Aborts when the deadline passes; hand it to anything that takes an AbortSignal (pg queries, fetch)
   * so work nobody waits for any more stops. Created on first use: most requests never need one.
   */
  get signal(): AbortSignal {
    this.#signal ??= AbortSignal.timeout(Math.max(0, Math.ceil(this.#at - performance.now())));
    return this.#signal;
  }
}

/**
 * The budget for an inbound request: our own limit, or less when the caller says it has less left.
 * Returns undefined for a header that is not a whole number of ms, so a garbled header falls back to our
 * own limit rather than failing a request the caller still wants answered.
 */
export function inboundBudgetMs(header: string | string[] | undefined, ownLimitMs: number): number {
  if (typeof header !== 'string' || !/^-?\d{1,12}$/.test(header.trim())) return ownLimitMs;
  return Math.min(ownLimitMs, Number(header.trim()));
}
