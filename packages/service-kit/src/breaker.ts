/**
 * Circuit breaker for one dependency (an upstream service, the cache's Redis). A slow or dead dependency
 * must cost each request at most one timeout while the breaker is closed, and nothing at all once it has
 * opened: after `failureThreshold` consecutive failures callers stop asking it and take their fallback.
 *
 * How an open breaker finds out that its dependency is back depends on whether the owner supplies a
 * `probe` (a cheap health call: GET /readyz, a Redis PING):
 *
 * - With a probe, recovery is found in the background, not by a request. `resetAfterMs` after opening, a
 *   timer runs the probe (half-open while it runs; requests are still refused): success closes the
 *   breaker, failure re-opens it and the next probe waits twice as long, up to `maxIntervalMs`, each wait
 *   stretched by up to a quarter at random so that many processes which opened together do not probe in
 *   step. So the state, its metric and the first request after a recovery all tell the truth without any
 *   request having to be answered degraded to find out. One probe at a time; the timer is unref'd and
 *   cleared when the breaker closes or is stopped. Since a health endpoint can answer while the real
 *   calls still fail (an overloaded upstream still passes its readiness probe), a breaker closed by a
 *   probe is on probation until a real call succeeds (or maxIntervalMs passes): its first failure
 *   re-opens it at once, with the longer wait.
 * - Without one, after `resetAfterMs` exactly one request is let through as the probe (half-open); its
 *   success closes the breaker, its failure re-opens it for another `resetAfterMs`. `state` reports the
 *   breaker as it is now: half-open once `resetAfterMs` has passed, since the next call would be let
 *   through, not open until some request happens to come along.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerProbe {
  /** Resolves when the dependency is healthy, rejects when it is not; `signal` aborts at `timeoutMs`. */
  readonly check: (signal: AbortSignal) => Promise<unknown>;
  /** A probe not settled by then counts as failed (default 1 s); the check should bound itself too. */
  readonly timeoutMs?: number;
  /** Longest wait between failed probes (default 4 x resetAfterMs, never below resetAfterMs). */
  readonly maxIntervalMs?: number;
}

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly resetAfterMs: number;
  readonly now?: () => number;
  readonly onStateChange?: (to: BreakerState, from: BreakerState) => void;
  /** Probes recovery in the background instead of with a request (see above). */
  readonly probe?: BreakerProbe;
  /** Source of the probe wait's jitter, in [0, 1); for tests. */
  readonly random?: () => number;
}

export interface CircuitBreaker {
  /** The state as of now (see above: half-open once a probe is due or running). */
  readonly state: BreakerState;
  /** True if a call may go out now; in half-open, true only for the single probe. */
  tryAcquire(): boolean;
  success(): void;
  failure(): void;
  /** Ends background probing for good (the owner is closing); the breaker still answers calls. */
  stop(): void;
}

/** Random stretch of a probe wait: up to this fraction of it. */
const PROBE_JITTER = 0.25;

export function createBreaker(opts: BreakerOptions): CircuitBreaker {
  const now = opts.now ?? (() => Date.now());
  const random = opts.random ?? Math.random;
  const threshold = Math.max(1, opts.failureThreshold);
  const probe = opts.probe;
  const maxIntervalMs = Math.max(opts.resetAfterMs, probe?.maxIntervalMs ?? opts.resetAfterMs * 4);
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  /** A request sent as the half-open probe (no background probe). */
  let probeInFlight = false;

  // Background probing.
  /** Failed probes (and failed probations) since a real call last succeeded: the backoff exponent. */
  let level = 0;
  /** How long after openedAt the next background probe is due. */
  let waitMs = opts.resetAfterMs;
  let timer: NodeJS.Timeout | undefined;
  /** Set while a background probe runs: aborts it. */
  let running: AbortController | undefined;
  /** The running probe's timeout. */
  let deadline: NodeJS.Timeout | undefined;
  /** Bumped whenever a background probe's answer stops mattering (closed by a call, stopped). */
  let generation = 0;
  /**
   * When a probe last closed the breaker, while no real call has succeeded since: a failure within
   * maxIntervalMs of it re-opens at once (a process with no traffic does not stay on probation forever).
   */
  let probationFrom: number | undefined;
  let stopped = false;

  const moveTo = (to: BreakerState): void => {
    if (to === state) return;
    const from = state;
    state = to;
    opts.onStateChange?.(to, from);
  };

  const cancelProbe = (): void => {
    clearTimeout(timer);
    timer = undefined;
    clearTimeout(deadline);
    deadline = undefined;
    generation += 1;
    running?.abort();
    running = undefined;
  };

  const close = (): void => {
    cancelProbe();
    failures = 0;
    probeInFlight = false;
    moveTo('closed');
  };

  const open = (): void => {
    openedAt = now();
    moveTo('open');
    if (probe === undefined || stopped) return;
    cancelProbe();
    waitMs = Math.min(opts.resetAfterMs * 2 ** level, maxIntervalMs) * (1 + PROBE_JITTER * random());
    timer = setTimeout(runProbe, waitMs);
    timer.unref();
  };

  function runProbe(): void {
    if (probe === undefined || stopped || state !== 'open' || running !== undefined) return;
    clearTimeout(timer);
    timer = undefined;
    const mine = ++generation;
    const abort = new AbortController();
    running = abort;
    moveTo('half-open');
    const timedOut = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => {
        abort.abort();
        reject(new Error('breaker probe timed out'));
      }, probe.timeoutMs ?? 1_000);
      deadline.unref();
    });
    let check: Promise<unknown>;
    try {
      check = Promise.resolve(probe.check(abort.signal));
    } catch (err) {
      check = Promise.reject(err);
    }
    check.catch(() => undefined);
    Promise.race([check, timedOut])
      .then(
        () => true,
        () => false,
      )
      .then((healthy) => {
        if (mine !== generation) return; // a real call closed the breaker meanwhile, or it was stopped
        clearTimeout(deadline);
        deadline = undefined;
        running = undefined;
        if (healthy) {
          probationFrom = now();
          close();
        } else {
          level += 1;
          open();
        }
      });
  }

  /** Without a background probe, an open breaker whose reset time has passed is half-open already. */
  const refresh = (): void => {
    if (state === 'open' && probe === undefined && now() - openedAt >= opts.resetAfterMs) {
      moveTo('half-open');
    }
  };

  return {
    get state() {
      refresh();
      return state;
    },
    tryAcquire() {
      if (state === 'closed') return true;
      if (probe !== undefined) {
        // Requests never probe; but a probe overdue (a timer held up by a busy loop, a clock of the
        // caller's) starts now rather than leave the breaker open.
        if (state === 'open' && now() - openedAt >= waitMs) runProbe();
        return false;
      }
      refresh();
      if (state === 'open') return false;
      // Half-open: concurrent requests must not all pile onto a dependency that may still be hanging.
      if (probeInFlight) return false;
      probeInFlight = true;
      return true;
    },
    success() {
      // A real call worked: whatever a probe would say, the dependency answers.
      level = 0;
      probationFrom = undefined;
      close();
    },
    failure() {
      failures += 1;
      if (state === 'closed') {
        const onProbation = probationFrom !== undefined && now() - probationFrom < maxIntervalMs;
        if (onProbation || failures >= threshold) {
          // The probe was wrong about the real calls: wait longer before the next one.
          if (onProbation) level += 1;
          probationFrom = undefined;
          open();
        }
      } else if (state === 'half-open' && probeInFlight) {
        // The request sent as the probe failed (without a background probe only).
        probeInFlight = false;
        open();
      }
    },
    stop() {
      stopped = true;
      cancelProbe();
    },
  };
}

/** Breaker state as a gauge value: 0 closed, 1 half-open, 2 open (alert on > 0 for long). */
export const breakerStateValue: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};
