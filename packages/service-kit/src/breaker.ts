/**
 * Circuit breaker for one dependency (an upstream service, the cache's Redis). A slow or dead dependency
 * must cost each request at most one timeout while the breaker is closed, and nothing at all once it has
 * opened: after `failureThreshold` consecutive failures callers stop asking it and take their fallback.
 * After `resetAfterMs` exactly one request is let through as a probe (half-open); its success closes the
 * breaker, its failure re-opens it for another `resetAfterMs`.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly resetAfterMs: number;
  readonly now?: () => number;
  readonly onStateChange?: (to: BreakerState, from: BreakerState) => void;
}

export interface CircuitBreaker {
  readonly state: BreakerState;
  /** True if a call may go out now; in half-open, true only for the single probe. */
  tryAcquire(): boolean;
  success(): void;
  failure(): void;
}

export function createBreaker(opts: BreakerOptions): CircuitBreaker {
  const now = opts.now ?? Date.now;
  const threshold = Math.max(1, opts.failureThreshold);
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probeInFlight = false;

  const moveTo = (to: BreakerState): void => {
    if (to === state) return;
    const from = state;
    state = to;
    opts.onStateChange?.(to, from);
  };

  return {
    get state() {
      return state;
    },
    tryAcquire() {
      if (state === 'closed') return true;
      if (state === 'open') {
        if (now() - openedAt < opts.resetAfterMs) return false;
        moveTo('half-open');
      }
      // Half-open: concurrent requests must not all pile onto a dependency that may still be hanging.
      if (probeInFlight) return false;
      probeInFlight = true;
      return true;
    },
    success() {
      failures = 0;
      probeInFlight = false;
      moveTo('closed');
    },
    failure() {
      probeInFlight = false;
      failures += 1;
      if (state === 'half-open' || (state === 'closed' && failures >= threshold)) {
        openedAt = now();
        moveTo('open');
      }
    },
  };
}

/** Breaker state as a gauge value: 0 closed, 1 half-open, 2 open (alert on > 0 for long). */
export const breakerStateValue: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};
