/**
 * Spherical-earth helpers with Geo's radius (services/geo/src/domain/geometry.ts, the IUGG mean radius the
 * model's loader uses too), so a distance kept here is the distance Geo measures.
 */
import type { LatLng } from '@eta/contracts';

export const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/** Great-circle distance in metres (haversine). */
export function haversineM(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const s = Math.sin(((lat2 - lat1) * RAD) / 2);
  const t = Math.sin(((lng2 - lng1) * RAD) / 2);
  const a = s * s + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * t * t;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** The point `distanceM` along the great circle leaving `from` at `bearingDeg` (clockwise from north). */
export function destinationPoint(from: LatLng, distanceM: number, bearingDeg: number): LatLng {
  const d = distanceM / EARTH_RADIUS_M;
  const th = bearingDeg * RAD;
  const p1 = from.lat * RAD;
  const l1 = from.lng * RAD;
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(th));
  const l2 =
    l1 + Math.atan2(Math.sin(th) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  return { lat: p2 / RAD, lng: l2 / RAD };
}

/** Degrees to 6 decimals (about 0.1 m): what the suite's stores and the benchmarks' destinations carry. */
export function round6(p: LatLng): LatLng {
  return { lat: Math.round(p.lat * 1e6) / 1e6, lng: Math.round(p.lng * 1e6) / 1e6 };
}
