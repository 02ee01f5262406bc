// The geo domain's public surface: the HTTP layer and the benchmarks import from here only.
import { fileURLToPath } from 'node:url';
export {
  MAX_BATCH,
  GeoIndex,
  buildGeoIndex,
  loadGeoIndex,
  type DongRef,
  type GeoIndexStats,
  type GuRef,
  type H3Cells,
  type LatLng,
  type PairFeatures,
  type RegionBlock,
  type SharedEnd,
} from './geo-index.ts';
export { GeoDataError, GeoInputError, type GeoInputErrorCode } from './errors.ts';
export { EARTH_RADIUS_M, haversineM, initialBearingDeg } from './geometry.ts';
export { HAN_RIVER_CROSSING_PENALTY_M, circuityFactor, estimateRoadDistanceM, hanRiverBank } from './road.ts';
export { REGION_CLASSES, REGION_THRESHOLDS, classifyFoodDensity, type RegionClass } from './region-class.ts';
export { DONGS_FILE, FOOD_DENSITY_FILE } from './data-format.ts';

/** services/geo/data, resolved from this file so it works from any working directory (and in the image). */
export const DEFAULT_DATA_DIR: string = fileURLToPath(new URL('../../data', import.meta.url));
