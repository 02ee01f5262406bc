import type { PreviewPoint } from '@eta/contracts';
import type { DeadlineLike } from '@eta/service-kit';
import { EstimateService, type EstimateDeps } from './estimate.ts';
import type { LatLng } from './fallback.ts';
import { seoulTime } from './features.ts';

/**
 * The owner's preview: what a customer would be shown at each hour of the coming day under the store's
 * CURRENT settings. Every point is the real precise estimate (EstimateService.precise: Geo, the model with
 * its fallback ladder, busy mode and clamps), not a re-implementation, so the preview cannot drift from
 * what customers see.
 *
 * The 24 points are the next 24 hours: the current hour at `now`, every other hour at half past on its
 * next occurrence (later today, or tomorrow for hours already gone). Busy mode therefore shows where it
 * will really apply (it ends by itself), and the weekday feature is the real one for each point.
 */

/** Seoul City Hall: the reference point of the default destination's direction. */
export const SEOUL_CENTRE: LatLng = { lat: 37.5663, lng: 126.9779 };
/** A typical delivery distance in Seoul (a customer a short ride away). */
export const TYPICAL_DELIVERY_KM = 1.5;

const KM_PER_DEG_LAT = 111.32;

/**
 * The default destination: 1.5 km from the store in the direction of Seoul City Hall, or away from it when
 * the store is within 1.5 km of it (due south when the store is at City Hall). Towards the centre keeps the
 * point inside Seoul for stores near the city's edge; deterministic, so the owner sees the same preview on
 * every load, and answered in the response so admin-web can show where it is.
 */
export function defaultDestination(store: LatLng): LatLng {
  const kmPerDegLng = KM_PER_DEG_LAT * Math.cos((store.lat * Math.PI) / 180);
  const dx = (SEOUL_CENTRE.lng - store.lng) * kmPerDegLng;
  const dy = (SEOUL_CENTRE.lat - store.lat) * KM_PER_DEG_LAT;
  const dist = Math.hypot(dx, dy);
  let ux = 0;
  let uy = -1;
  if (dist >= 0.01) {
    const sign = dist >= TYPICAL_DELIVERY_KM ? 1 : -1;
    ux = (sign * dx) / dist;
    uy = (sign * dy) / dist;
  }
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    lat: round(store.lat + (uy * TYPICAL_DELIVERY_KM) / KM_PER_DEG_LAT),
    lng: round(store.lng + (ux * TYPICAL_DELIVERY_KM) / kmPerDegLng),
  };
}

const HOUR_MS = 3_600_000;

/** The instant of each Seoul hour 0..23 in the next 24 hours (see the module comment), by hour. */
export function previewInstants(now: Date): Date[] {
  const current = seoulTime(now).hour;
  const startOfHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS; // Seoul is a whole-hour offset
  const out: Date[] = [];
  for (let hour = 0; hour < 24; hour++) {
    const ahead = (hour - current + 24) % 24;
    out.push(ahead === 0 ? now : new Date(startOfHour + ahead * HOUR_MS + HOUR_MS / 2));
  }
  return out;
}

export interface PreviewDeps extends Omit<EstimateDeps, 'now'> {
  /** How many hours are estimated at once (each is one Geo and one or two model calls). Default 4. */
  readonly concurrency?: number;
}

/**
 * The 24 points. Throws what EstimateService.precise throws (STORE_NOT_FOUND, OUT_OF_SERVICE_AREA) when the
 * first hour does, so a bad destination is one clear error, not 24.
 */
export async function previewDay(
  deps: PreviewDeps,
  storeId: number,
  destination: LatLng,
  now: Date,
  deadline: DeadlineLike | undefined,
): Promise<PreviewPoint[]> {
  const instants = previewInstants(now);
  const points: PreviewPoint[] = new Array<PreviewPoint>(24);
  const estimateAt = async (hour: number): Promise<void> => {
    const at = instants[hour]!;
    // A service whose clock reads `at`: the estimate's time features AND busy-mode expiry use it.
    const service = new EstimateService({ ...deps, now: () => at });
    const a = await service.precise({ storeId, destination }, deadline);
    points[hour] = {
      hour,
      etaMinutes: a.etaMinutes,
      low: a.range.low,
      high: a.range.high,
      source: a.source,
    };
  };
  const order = Array.from({ length: 24 }, (_, h) => (seoulTime(now).hour + h) % 24);
  await estimateAt(order[0]!);
  const rest = order.slice(1);
  const workers = Array.from({ length: Math.max(1, deps.concurrency ?? 4) }, async () => {
    for (let h = rest.shift(); h !== undefined; h = rest.shift()) await estimateAt(h);
  });
  await Promise.all(workers);
  return points;
}
