import {
  type FeatureSpec,
  type InferenceBackend,
  type InferenceResult,
  type ModelSignature,
} from './model.ts';

/**
 * The cold-start and fallback model: delivery minutes from distance and hour of day only.
 *
 *   speed_kmh = 13 during Seoul's meal peaks (11:00-13:59 and 17:00-20:59), else 18
 *   p50 = 12 + 60 * distance_km / speed_kmh          (12 min: median preparation + hand-over)
 *   p10 = 0.8 * p50
 *   p90 = 1.3 * p50 + 5
 *
 * Unknown distance (NaN or no such column) counts as 3 km, the typical delivery radius; unknown hour
 * counts as off-peak. Deliberately wide and pessimistic: it keeps a promise roughly right while the
 * trained model is missing or failing, and every answer from it is marked as a fallback.
 */
export const HEURISTIC_VERSION = 'heuristic';

const PREP_MINUTES = 12;
const PEAK_KMH = 13;
const OFF_PEAK_KMH = 18;
const DEFAULT_DISTANCE_KM = 3;

export interface HeuristicColumns {
  readonly distance: number | undefined;
  readonly hour: number | undefined;
}

/** Finds the distance and hour columns by name, else by unit; either may be absent. */
export function heuristicColumns(features: readonly FeatureSpec[]): HeuristicColumns {
  const find = (names: readonly string[], unit: string): number | undefined => {
    const byName = features.findIndex((f) => names.includes(f.name));
    if (byName >= 0) return byName;
    const byUnit = features.findIndex((f) => f.unit === unit);
    return byUnit >= 0 ? byUnit : undefined;
  };
  return {
    distance: find(['distance_km', 'distance'], 'km'),
    hour: find(['hour_of_day', 'hour'], 'hour'),
  };
}

export function isPeakHour(hour: number): boolean {
  if (!Number.isFinite(hour)) return false;
  const h = Math.floor(((hour % 24) + 24) % 24);
  return (h >= 11 && h <= 13) || (h >= 17 && h <= 20);
}

export function heuristicMinutes(
  distanceKm: number,
  hour: number,
): { p10: number; p50: number; p90: number } {
  const km = Number.isFinite(distanceKm) && distanceKm >= 0 ? distanceKm : DEFAULT_DISTANCE_KM;
  const speed = isPeakHour(hour) ? PEAK_KMH : OFF_PEAK_KMH;
  const p50 = PREP_MINUTES + (60 * km) / speed;
  return { p10: 0.8 * p50, p50, p90: 1.3 * p50 + 5 };
}

/** Runs the heuristic over a validated batch laid out by `signature`. */
export function runHeuristic(
  signature: ModelSignature,
  input: Float32Array,
  rows: number,
  outputs: readonly string[],
): InferenceResult {
  const width = signature.features.length;
  const cols = heuristicColumns(signature.features);
  const p10 = new Float32Array(rows);
  const p50 = new Float32Array(rows);
  const p90 = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const distance = cols.distance === undefined ? Number.NaN : input[r * width + cols.distance]!;
    const hour = cols.hour === undefined ? Number.NaN : input[r * width + cols.hour]!;
    const m = heuristicMinutes(distance, hour);
    p10[r] = m.p10;
    p50[r] = m.p50;
    p90[r] = m.p90;
  }
  const all: Record<string, Float32Array> = { p10, p50, p90 };
  const result: Record<string, ArrayLike<number>> = {};
  // An output the heuristic does not know is answered with its median rather than dropped, so the
  // response keeps the shape the caller asked for.
  for (const name of outputs) result[name] = all[name] ?? p50;
  return result;
}

export function heuristicBackend(signature: ModelSignature): InferenceBackend {
  return {
    kind: 'heuristic',
    infer: (input, rows, outputs) => Promise.resolve(runHeuristic(signature, input, rows, outputs)),
    close: () => Promise.resolve(),
  };
}
