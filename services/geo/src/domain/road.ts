/**
 * Road distance estimate from the great-circle distance, used until a routed distance is available.
 *
 * Why a detour (circuity) factor by distance band and not a Manhattan (L1) blend: Seoul's streets do not
 * form one axis-aligned grid (Gangnam's grid is rotated, the old city north of the river is organic), so an
 * L1 distance in any fixed frame would make the estimate depend on bearing in a way the streets do not.
 * Network-circuity studies of large cities find road/straight ratios of roughly 1.2 to 1.4 that fall with
 * distance: short trips pay a large share for access (alley to street, one-way loops, U-turns), long trips
 * run on arterials. The knots below encode that shape; they are priors to calibrate against routed
 * distances, and the delivery-time model sees the great-circle distance too, so it can learn the residual.
 *
 * The Han river is the one barrier a band factor cannot see: it is about 1 km wide with a bridge every 1 to
 * 2 km, so a trip between the two banks pays an extra detour to reach a bridge. The bank is known from the
 * gu (the river separates 14 northern from 11 southern gu exactly).
 */
const CIRCUITY_KNOTS: readonly (readonly [distanceM: number, factor: number])[] = [
  [0, 1.45],
  [500, 1.4],
  [1_000, 1.35],
  [3_000, 1.28],
  [8_000, 1.22],
  [20_000, 1.18],
];

/** Half of a typical bridge spacing: the average extra way to the nearest bridge and back on the far side. */
export const HAN_RIVER_CROSSING_PENALTY_M = 700;

/** Piecewise-linear circuity for a great-circle distance; constant beyond the last knot. */
export function circuityFactor(distanceM: number): number {
  let [prevD, prevF] = CIRCUITY_KNOTS[0]!;
  if (!(distanceM > prevD)) return prevF;
  for (let i = 1; i < CIRCUITY_KNOTS.length; i++) {
    const [d, f] = CIRCUITY_KNOTS[i]!;
    if (distanceM <= d) return prevF + ((f - prevF) * (distanceM - prevD)) / (d - prevD);
    prevD = d;
    prevF = f;
  }
  return prevF;
}

export function estimateRoadDistanceM(distanceM: number, crossesHanRiver: boolean): number {
  return distanceM * circuityFactor(distanceM) + (crossesHanRiver ? HAN_RIVER_CROSSING_PENALTY_M : 0);
}

const SOUTH_BANK_GU = new Set([
  '11470', // 양천구
  '11500', // 강서구
  '11530', // 구로구
  '11545', // 금천구
  '11560', // 영등포구 (Yeouido counts as south: its short bridges are to the south bank)
  '11590', // 동작구
  '11620', // 관악구
  '11650', // 서초구
  '11680', // 강남구
  '11710', // 송파구
  '11740', // 강동구
]);

/** Which bank of the Han river a Seoul gu lies on. */
export function hanRiverBank(guCode: string): 'north' | 'south' {
  return SOUTH_BANK_GU.has(guCode) ? 'south' : 'north';
}
