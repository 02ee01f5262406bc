/**
 * What the estimate path falls back on when a dependency fails: distance and service area computed here,
 * region defaults, and the guarded call (deadline, breaker, at most one retry) every dependency goes through.
 */
import type { CircuitBreaker } from '@eta/cache';
import type { RegionClass } from './stores.ts';

export interface LatLng {
  readonly lat: number;
  readonly lng: number;
}

/** The mean radius the models' training used for distance_km (ml metadata: R = 6371.0088 km). */
const EARTH_RADIUS_KM = 6371.0088;

export function haversineKm(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Seoul's bounding box (the extent of Geo's dong polygons, 126.7643-127.1836 E, 37.4290-37.7011 N) plus
 * about 500 m. Used only while Geo is unreachable: coarser than the polygons (it takes in bits of Gwacheon
 * or Bucheon), but it still refuses a Busan or Incheon address instead of estimating a 300 km ride.
 */
export const SEOUL_BOUNDS = { minLat: 37.424, maxLat: 37.706, minLng: 126.758, maxLng: 127.19 } as const;

export function inSeoulBounds(p: LatLng): boolean {
  return (
    p.lat >= SEOUL_BOUNDS.minLat &&
    p.lat <= SEOUL_BOUNDS.maxLat &&
    p.lng >= SEOUL_BOUNDS.minLng &&
    p.lng <= SEOUL_BOUNDS.maxLng
  );
}

/**
 * Streets are not straight lines: without Geo's road estimate the straight distance is stretched by a
 * typical Seoul circuity (Geo's band factor is 1.28-1.40 for 0.5-3 km trips).
 */
export const FALLBACK_CIRCUITY = 1.35;

/** Rider speeds of the ML proxy's own heuristic: slower in Seoul's meal peaks. */
export function riderSpeedKmh(hour: number): number {
  const peak = (hour >= 11 && hour <= 13) || (hour >= 17 && hour <= 20);
  return peak ? 13 : 18;
}

/** Minutes on the road for a road distance; used to split a model's total into prep and travel. */
export function travelMinutes(roadKm: number, hour: number): number {
  return (60 * roadKm) / riderSpeedKmh(hour);
}

/**
 * Last rung of the ladder: typical order-to-door minutes by region class, used only when not even the
 * store's own settings could be read. Denser regions have shorter trips; the range is wide on purpose.
 */
export const REGION_DEFAULT_MINUTES: Readonly<Record<RegionClass | 'unknown', number>> = {
  metropolitan: 30,
  urban: 35,
  'semi-urban': 40,
  unknown: 35,
};

// ---------------------------------------------------------------------------------------------------
// Guarded calls

/** Why a dependency call did not produce a usable answer. */
export type FailureKind =
  | 'timeout'
  | 'connect'
  /** It answered 5xx. */
  | 'status'
  /** It answered 4xx: up, but it refused what we sent. */
  | 'rejected'
  | 'bad-body'
  /** The breaker is open: not even tried. */
  | 'breaker-open'
  /** Not enough of the request's budget left to try. */
  | 'no-budget'
  /** The model's layout is not (yet) known to agree with this code's vectors. */
  | 'layout'
  /** The ML proxy answered with its own heuristic instead of the model. */
  | 'model-fallback';

export class DependencyFailure extends Error {
  readonly dependency: string;
  readonly kind: FailureKind;
  constructor(dependency: string, kind: FailureKind, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'DependencyFailure';
    this.dependency = dependency;
    this.kind = kind;
  }
}

export interface Budget {
  /** Whole milliseconds left. */
  remainingMs(): number;
}

/** A budget that ends `ms` from now or with `parent`, minus `reserveMs`, whichever is earlier. */
export function budgetWithin(parent: Budget | undefined, ms: number, reserveMs = 0): Budget {
  const start = performance.now();
  const parentLeft = parent === undefined ? Infinity : parent.remainingMs() - reserveMs;
  const end = start + Math.max(0, Math.min(ms, parentLeft));
  return { remainingMs: () => Math.max(0, Math.floor(end - performance.now())) };
}

export interface CallObserver {
  /** One per attempt that went out, and one per call that did not (breaker, budget). */
  observe(dependency: string, operation: string, outcome: 'ok' | FailureKind, seconds: number): void;
}

export interface GuardOptions {
  readonly dependency: string;
  readonly breaker: CircuitBreaker;
  readonly observer: CallObserver;
  /** Below this many ms left a call is not started: it could not finish anyway. */
  readonly minBudgetMs: number;
  /** Retry once after a connection failure (refused/reset), which fails fast and is safe to repeat. */
  readonly retryConnect: boolean;
  /** Maps a thrown error to its kind; errors it returns undefined for are rethrown as they are (bugs). */
  readonly classify: (err: unknown) => FailureKind | undefined;
}

/**
 * Runs `attempt` under the dependency's breaker and the request's budget. Timeouts are never retried (a
 * retry has no budget either), connection failures at most once and only while budget remains, so an
 * outage costs each request one fast failure and, once the breaker opens, nothing at all.
 */
export async function guardedCall<T>(
  opts: GuardOptions,
  operation: string,
  budget: Budget,
  attempt: (timeoutBudget: Budget) => Promise<T>,
): Promise<T> {
  for (let tries = 0; ; tries++) {
    if (budget.remainingMs() < opts.minBudgetMs) {
      opts.observer.observe(opts.dependency, operation, 'no-budget', 0);
      throw new DependencyFailure(
        opts.dependency,
        'no-budget',
        `${opts.dependency}: no budget left for ${operation}`,
      );
    }
    if (!opts.breaker.tryAcquire()) {
      opts.observer.observe(opts.dependency, operation, 'breaker-open', 0);
      throw new DependencyFailure(opts.dependency, 'breaker-open', `${opts.dependency}: circuit open`);
    }
    const started = performance.now();
    try {
      const result = await attempt(budget);
      opts.breaker.success();
      opts.observer.observe(opts.dependency, operation, 'ok', (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      const kind = err instanceof DependencyFailure ? err.kind : opts.classify(err);
      if (kind === undefined) {
        // Not the dependency's fault; the breaker must still hear back or a half-open probe never ends.
        opts.breaker.success();
        throw err;
      }
      // A 4xx or a body we cannot read says the dependency is up and we asked wrongly; only failures to
      // answer at all count towards opening the breaker.
      if (kind === 'timeout' || kind === 'connect' || kind === 'status') opts.breaker.failure();
      else opts.breaker.success();
      opts.observer.observe(opts.dependency, operation, kind, (performance.now() - started) / 1000);
      if (kind === 'connect' && opts.retryConnect && tries === 0) continue;
      throw err instanceof DependencyFailure
        ? err
        : new DependencyFailure(
            opts.dependency,
            kind,
            `${opts.dependency} ${operation}: ${String((err as Error).message)}`,
            err,
          );
    }
  }
}
