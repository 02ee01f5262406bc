/**
 * What the estimate path falls back on when a dependency fails: distance and service area computed here,
 * region defaults, and the failure every port throws (DependencyFailure). The guard around the calls
 * (deadline, breaker, at most one retry) is @eta/service-kit's dependency(), used by the adapters.
 */
import type { CallFailureKind, DeadlineLike } from '@eta/service-kit';
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
// Dependency failures (the calls themselves run through @eta/service-kit's dependency(), in adapters/)

/**
 * Why a dependency call did not produce a usable answer: the kit's kinds (timeout, connect, status for a
 * 5xx, rejected for a 4xx, bad-body, breaker-open, no-budget) and the estimate path's own.
 */
export type FailureKind =
  | CallFailureKind
  /** The model's layout is not (yet) known to agree with this code's vectors. */
  | 'layout'
  /** The ML proxy answered with its own heuristic instead of the model. */
  | 'model-fallback';

/** What every port call throws when its dependency gave no usable answer; the ladder falls back on it. */
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

/** A budget that ends `ms` from now or with `parent`, minus `reserveMs`, whichever is earlier. */
export function budgetWithin(parent: DeadlineLike | undefined, ms: number, reserveMs = 0): DeadlineLike {
  const start = performance.now();
  const parentLeft = parent === undefined ? Infinity : parent.remainingMs() - reserveMs;
  const end = start + Math.max(0, Math.min(ms, parentLeft));
  return { remainingMs: () => Math.max(0, Math.floor(end - performance.now())) };
}
