/**
 * Admission control: refuse work this process cannot finish in time, early and cheaply, instead of
 * queueing it until every answer is late.
 *
 * Two signals, either of which refuses a request with 503 OVERLOADED and `Retry-After` before its body is
 * read:
 * - requests in flight (admitted and not yet answered) at `maxInFlight`: the requests waiting on a slow
 *   dependency cannot pile up without bound (Little's law: at 4,000/s and 250 ms that would be 1,000);
 * - a standing queue in front of the handlers: the event loop's lag, sampled every `tickMs`, stayed above
 *   `maxQueueMs` for a whole `windowMs` (its minimum over the window is above the target, as in CoDel)
 *   while at least `queueMinInFlight` requests are in flight. Requests that wait in the socket buffers
 *   while the loop is saturated are invisible to any count, but they show as lag; a single long turn (a
 *   GC, a large batch) does not, and neither does a process merely starved of CPU by its neighbours while
 *   it has little to do (a test runner beside a database), since that is no queue of requests.
 * The lag is also what a request waited before its handler ran (`queuedMs`), and counts against its budget.
 */

export interface AdmissionOptions {
  /** Admitted requests in flight at once; 0 = no limit. */
  readonly maxInFlight: number;
  /** Standing event-loop lag above which requests are refused; 0 = off. */
  readonly maxQueueMs: number;
  /** How long the lag must stay above maxQueueMs. Default 100 ms. */
  readonly windowMs?: number;
  /** In-flight requests below which lag alone refuses nothing. Default 16. */
  readonly queueMinInFlight?: number;
  /** Lag sampling period. Default 5 ms. */
  readonly tickMs?: number;
  readonly now?: () => number;
}

export type Refusal = 'in-flight' | 'queue';

export interface Admission {
  /** Admits one request (then call `done` exactly once), or says why not. */
  tryAdmit(): Refusal | null;
  done(): void;
  /** How long work waits for the event loop now, ms: the latest lag sample. */
  queuedMs(): number;
  inFlight(): number;
  /** True while the standing-queue signal refuses work. */
  queueing(): boolean;
  close(): void;
}

export function createAdmission(opts: AdmissionOptions): Admission {
  const now = opts.now ?? (() => performance.now());
  const tickMs = opts.tickMs ?? 5;
  const windowMs = opts.windowMs ?? 100;
  const queueMinInFlight = opts.queueMinInFlight ?? 16;
  let inFlight = 0;
  let lastLag = 0;
  /** Smallest lag seen in the current window; `standing` says whether the last whole window stayed above target. */
  let windowMin = Infinity;
  let windowStart = now();
  let standing = false;
  let expected = now() + tickMs;

  // Sampled even with maxQueueMs off: queuedMs() still takes the wait off each request's budget.
  const timer = setInterval(() => {
    const at = now();
    lastLag = Math.max(0, at - expected);
    expected = at + tickMs;
    if (lastLag < windowMin) windowMin = lastLag;
    if (at - windowStart >= windowMs) {
      standing = opts.maxQueueMs > 0 && windowMin > opts.maxQueueMs;
      windowMin = Infinity;
      windowStart = at;
    } else if (standing && lastLag <= opts.maxQueueMs) {
      // The queue drained: admit again at once rather than at the end of the window.
      standing = false;
    }
  }, tickMs);
  timer.unref();

  return {
    tryAdmit() {
      if (standing && inFlight >= queueMinInFlight) return 'queue';
      if (opts.maxInFlight > 0 && inFlight >= opts.maxInFlight) return 'in-flight';
      inFlight += 1;
      return null;
    },
    done() {
      inFlight -= 1;
    },
    queuedMs: () => Math.max(lastLag, now() - expected),
    inFlight: () => inFlight,
    queueing: () => standing,
    close() {
      clearInterval(timer);
    },
  };
}
