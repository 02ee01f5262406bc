/** Spherical-earth helpers. Distances use the IUGG mean radius; at Seoul's scale the error against the
 * ellipsoid is under 0.5 %, far below what a delivery estimate can resolve. */
export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;

/** Great-circle distance in metres (haversine: well conditioned for the short distances we mostly see). */
export function haversineM(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLng = (lng2 - lng1) * RAD;
  const s = Math.sin(dLat / 2);
  const t = Math.sin(dLng / 2);
  const a = s * s + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * t * t;
  // min() guards asin against a rounding overshoot above 1 for antipodal points.
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Initial great-circle bearing from point 1 to point 2 in degrees, 0 = north, clockwise, in [0, 360). */
export function initialBearingDeg(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const p1 = lat1 * RAD;
  const p2 = lat2 * RAD;
  const dl = (lng2 - lng1) * RAD;
  const y = Math.sin(dl) * Math.cos(p2);
  const x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
  const deg = Math.atan2(y, x) / RAD;
  // atan2 gives (-180, 180]; the -0 and 360 cases would break "in [0, 360)" for callers that bucket it.
  const norm = (deg + 360) % 360;
  return norm === 360 || Object.is(norm, -0) ? 0 : norm;
}

/**
 * Even-odd crossing test of (x, y) against one ring stored in `coords` (interleaved x, y) from vertex
 * `start` (inclusive) to `end` (exclusive); the ring closes implicitly. Returns true when the horizontal ray
 * from the point crosses the ring an odd number of times. Callers XOR this over a polygon's outer ring and
 * holes, which handles holes without knowing which ring is which.
 */
export function ringCrossingOdd(
  coords: Float64Array,
  start: number,
  end: number,
  x: number,
  y: number,
): boolean {
  let inside = false;
  let j = end - 1;
  for (let i = start; i < end; j = i++) {
    const xi = coords[2 * i]!;
    const yi = coords[2 * i + 1]!;
    const xj = coords[2 * j]!;
    const yj = coords[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
