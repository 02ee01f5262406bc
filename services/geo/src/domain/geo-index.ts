import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Flatbush from 'flatbush';
import { cellToParent, latLngToCell } from 'h3-js';
import {
  COORD_SCALE,
  DONGS_FILE,
  FOOD_DENSITY_FILE,
  dongsFileSchema,
  foodDensityFileSchema,
  type DongsFile,
  type FoodDensityFile,
} from './data-format.ts';
import { GeoDataError, GeoInputError } from './errors.ts';
import { haversineM, initialBearingDeg, ringCrossingOdd } from './geometry.ts';
import type { RegionClass } from './region-class.ts';
import { estimateRoadDistanceM, hanRiverBank } from './road.ts';

export interface LatLng {
  readonly lat: number;
  readonly lng: number;
}

export interface GuRef {
  readonly code: string;
  readonly name: string;
}

export interface DongRef {
  /** 10-digit MOIS administrative code (행정기관코드), e.g. 1114055000. */
  readonly code: string;
  readonly name: string;
  readonly regionClass: RegionClass;
  /** Estimated food/drink shops within 500 m of a typical point of the dong (see data/ATTRIBUTION.md). */
  readonly foodDensity: number;
}

export interface H3Cells {
  readonly r7: string;
  readonly r8: string;
  readonly r9: string;
}

/**
 * Where a point is. H3 cells are computed for every valid point, inside Seoul or not: they are defined on the
 * whole globe and callers use them as cache and aggregation keys regardless of the service area.
 */
export interface RegionBlock {
  readonly inServiceArea: boolean;
  readonly gu?: GuRef;
  readonly dong?: DongRef;
  readonly h3: H3Cells;
}

export interface PairFeatures {
  /** Great-circle (haversine) distance in metres. */
  readonly distanceM: number;
  /** Estimated road distance in metres (see road.ts for how and why). */
  readonly roadDistanceM: number;
  /** Initial bearing from origin to destination, degrees clockwise from north, in [0, 360). */
  readonly bearingDeg: number;
  readonly origin: RegionBlock;
  readonly destination: RegionBlock;
  /** False unless both ends are in a dong and it is the same one. */
  readonly sameDong: boolean;
  readonly sameGu: boolean;
  /** Both ends in Seoul and on opposite banks of the Han river. */
  readonly crossesHanRiver: boolean;
}

/** Which end of every pair the shared point of a batch is. */
export type SharedEnd = 'origin' | 'destination';

export const MAX_BATCH = 500;

export interface GeoIndexStats {
  readonly gus: number;
  readonly dongs: number;
  readonly polygons: number;
  readonly rings: number;
  readonly vertices: number;
  /** Bytes held in typed arrays (coordinates, offsets, spatial index). */
  readonly typedArrayBytes: number;
}

/**
 * Reads the committed data files from `dataDir` (services/geo/data) and builds the index. Throws
 * GeoDataError when a file is missing or does not match its schema, so the service never turns ready on bad
 * geodata.
 */
export async function loadGeoIndex(dataDir: string): Promise<GeoIndex> {
  const [dongs, density] = await Promise.all([
    readJson(join(dataDir, DONGS_FILE)),
    readJson(join(dataDir, FOOD_DENSITY_FILE)),
  ]);
  return buildGeoIndex(dongs, density);
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new GeoDataError(`cannot read geodata file ${path}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new GeoDataError(`geodata file ${path} is not valid JSON`, { cause: err });
  }
}

/** Builds the index from already parsed file contents (validated here); the pure half of loadGeoIndex. */
export function buildGeoIndex(dongsJson: unknown, foodDensityJson: unknown): GeoIndex {
  const dongs = dongsFileSchema.safeParse(dongsJson);
  if (!dongs.success) throw new GeoDataError(`${DONGS_FILE}: ${summarize(dongs.error.issues)}`);
  const density = foodDensityFileSchema.safeParse(foodDensityJson);
  if (!density.success) throw new GeoDataError(`${FOOD_DENSITY_FILE}: ${summarize(density.error.issues)}`);
  return new GeoIndex(dongs.data, density.data);
}

function summarize(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  return shown.join('; ') + (issues.length > 5 ? `; and ${issues.length - 5} more` : '');
}

/**
 * Seoul's administrative dongs in memory, for point lookups and pair features.
 *
 * Layout: all vertices live in one Float64Array (x = lng, y = lat, interleaved) and the ring / polygon
 * structure in Uint32Array offsets, so the heap holds a handful of large buffers instead of tens of thousands
 * of small arrays that a full GC would have to walk. A Flatbush R-tree over polygon bounding boxes narrows a
 * lookup to the two or three polygons whose box contains the point; an exact even-odd test settles it.
 */
export class GeoIndex {
  private readonly coords: Float64Array;
  /** Vertex offset of ring i is ringStart[i]; ringStart[rings] = total vertices. */
  private readonly ringStart: Uint32Array;
  /** Ring offset of polygon p is polyRingStart[p]; polyRingStart[polygons] = total rings. */
  private readonly polyRingStart: Uint32Array;
  private readonly polyDong: Uint32Array;
  private readonly tree: Flatbush;
  private readonly dongRefs: readonly DongRef[];
  private readonly dongGu: readonly GuRef[];
  private readonly guRefs: readonly GuRef[];
  private readonly bbox: readonly [minX: number, minY: number, maxX: number, maxY: number];

  // Query state for the Flatbush filter callback: kept on the instance so a lookup allocates no closure.
  private qx = 0;
  private qy = 0;
  private hit = -1;

  constructor(dongsFile: DongsFile, densityFile: FoodDensityFile) {
    const guByCode = new Map<string, GuRef>();
    for (const g of dongsFile.gus) {
      if (guByCode.has(g.code)) throw new GeoDataError(`gu ${g.code} is listed twice`);
      guByCode.set(g.code, Object.freeze({ code: g.code, name: g.name }));
    }
    this.guRefs = [...guByCode.values()];

    let vertices = 0;
    let rings = 0;
    let polygons = 0;
    for (const d of dongsFile.dongs) {
      polygons += d.polygons.length;
      for (const p of d.polygons) {
        rings += p.length;
        for (const r of p) vertices += r.length / 2;
      }
    }
    this.coords = new Float64Array(vertices * 2);
    this.ringStart = new Uint32Array(rings + 1);
    this.polyRingStart = new Uint32Array(polygons + 1);
    this.polyDong = new Uint32Array(polygons);
    this.tree = new Flatbush(Math.max(polygons, 1));

    const dongRefs: DongRef[] = [];
    const dongGu: GuRef[] = [];
    const seen = new Set<string>();
    let v = 0;
    let ri = 0;
    let pi = 0;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (const [di, d] of dongsFile.dongs.entries()) {
      if (seen.has(d.code)) throw new GeoDataError(`dong ${d.code} is listed twice`);
      seen.add(d.code);
      const gu = guByCode.get(d.gu);
      if (!gu) throw new GeoDataError(`dong ${d.code} names unknown gu ${d.gu}`);
      const dens = densityFile.dongs[d.code];
      if (!dens) throw new GeoDataError(`${FOOD_DENSITY_FILE} has no entry for dong ${d.code} (${d.name})`);
      dongRefs.push(
        Object.freeze({
          code: d.code,
          name: d.name,
          regionClass: dens.regionClass,
          foodDensity: dens.foodDensity,
        }),
      );
      dongGu.push(gu);

      for (const polygon of d.polygons) {
        this.polyRingStart[pi] = ri;
        this.polyDong[pi] = di;
        let pMinX = Infinity;
        let pMinY = Infinity;
        let pMaxX = -Infinity;
        let pMaxY = -Infinity;
        for (const ring of polygon) {
          this.ringStart[ri++] = v;
          let ix = 0;
          let iy = 0;
          for (let k = 0; k < ring.length; k += 2) {
            ix += ring[k]!;
            iy += ring[k + 1]!;
            const x = ix / COORD_SCALE;
            const y = iy / COORD_SCALE;
            this.coords[2 * v] = x;
            this.coords[2 * v + 1] = y;
            v++;
            if (x < pMinX) pMinX = x;
            if (y < pMinY) pMinY = y;
            if (x > pMaxX) pMaxX = x;
            if (y > pMaxY) pMaxY = y;
          }
        }
        if (!(pMinX >= -180 && pMaxX <= 180 && pMinY >= -90 && pMaxY <= 90)) {
          throw new GeoDataError(`dong ${d.code} has coordinates outside lat/lng range`);
        }
        this.tree.add(pMinX, pMinY, pMaxX, pMaxY);
        pi++;
        minX = Math.min(minX, pMinX);
        minY = Math.min(minY, pMinY);
        maxX = Math.max(maxX, pMaxX);
        maxY = Math.max(maxY, pMaxY);
      }
    }
    this.ringStart[ri] = v;
    this.polyRingStart[pi] = ri;
    this.tree.finish();
    this.dongRefs = dongRefs;
    this.dongGu = dongGu;
    this.bbox = [minX, minY, maxX, maxY];
  }

  /** Region and H3 cells of a point. Throws GeoInputError (INVALID_COORDINATES) for a non-finite or out-of-range point. */
  lookup(lat: number, lng: number): RegionBlock {
    checkLatLng(lat, lng, '');
    return this.region(lat, lng);
  }

  /** Distances, bearing and the region of both ends. Throws GeoInputError for an invalid point. */
  features(origin: LatLng, destination: LatLng): PairFeatures {
    checkPoint(origin, 'origin');
    checkPoint(destination, 'destination');
    return this.pair(
      origin,
      this.region(origin.lat, origin.lng),
      destination,
      this.region(destination.lat, destination.lng),
    );
  }

  /**
   * Features for one shared point against up to MAX_BATCH others; the shared point is looked up once. With
   * sharedEnd 'origin' (a store and its candidate customers) each pair runs shared -> other; with
   * 'destination' each runs other -> shared. The whole batch is validated before any work, and an invalid
   * point throws a GeoInputError whose `field` names it (e.g. `others[12].lat`), so the caller can answer 400
   * with the exact place.
   */
  featuresBatch(shared: LatLng, others: readonly LatLng[], sharedEnd: SharedEnd = 'origin'): PairFeatures[] {
    if (sharedEnd !== 'origin' && sharedEnd !== 'destination') {
      throw new GeoInputError('INVALID_BATCH', 'sharedEnd', "sharedEnd must be 'origin' or 'destination'");
    }
    if (!Array.isArray(others)) throw new GeoInputError('INVALID_BATCH', 'others', 'others must be an array');
    if (others.length > MAX_BATCH) {
      throw new GeoInputError(
        'BATCH_TOO_LARGE',
        'others',
        `a batch holds at most ${MAX_BATCH} points, got ${others.length}`,
      );
    }
    checkPoint(shared, 'shared');
    for (let i = 0; i < others.length; i++) checkPoint(others[i], `others[${i}]`);

    const sharedRegion = this.region(shared.lat, shared.lng);
    const out = new Array<PairFeatures>(others.length);
    for (let i = 0; i < others.length; i++) {
      const other = others[i]!;
      const otherRegion = this.region(other.lat, other.lng);
      out[i] =
        sharedEnd === 'origin'
          ? this.pair(shared, sharedRegion, other, otherRegion)
          : this.pair(other, otherRegion, shared, sharedRegion);
    }
    return out;
  }

  /** Every dong with its gu, in code order (for listings, tests and data checks). */
  dongs(): readonly { readonly dong: DongRef; readonly gu: GuRef }[] {
    return this.dongRefs.map((dong, i) => ({ dong, gu: this.dongGu[i]! }));
  }

  gus(): readonly GuRef[] {
    return this.guRefs;
  }

  stats(): GeoIndexStats {
    const polygons = this.polyDong.length;
    return {
      gus: this.guRefs.length,
      dongs: this.dongRefs.length,
      polygons,
      rings: this.ringStart.length - 1,
      vertices: this.coords.length / 2,
      typedArrayBytes:
        this.coords.byteLength +
        this.ringStart.byteLength +
        this.polyRingStart.byteLength +
        this.polyDong.byteLength +
        this.tree.data.byteLength,
    };
  }

  private region(lat: number, lng: number): RegionBlock {
    const r9 = latLngToCell(lat, lng, 9);
    const h3: H3Cells = { r7: cellToParent(r9, 7), r8: cellToParent(r9, 8), r9 };
    const di = this.findDong(lng, lat);
    if (di < 0) return { inServiceArea: false, h3 };
    return { inServiceArea: true, gu: this.dongGu[di]!, dong: this.dongRefs[di]!, h3 };
  }

  /** Index of the dong containing (x, y), or -1. On a shared border the lowest index wins, deterministically. */
  private findDong(x: number, y: number): number {
    const [minX, minY, maxX, maxY] = this.bbox;
    if (x < minX || x > maxX || y < minY || y > maxY) return -1;
    this.qx = x;
    this.qy = y;
    this.hit = -1;
    this.tree.search(x, y, x, y, this.polygonFilter);
    return this.hit;
  }

  /** Flatbush filter: tests the polygon exactly and records the hit; returns false so no result array grows. */
  private readonly polygonFilter = (p: number): boolean => {
    const d = this.polyDong[p]!;
    if (this.hit !== -1 && d >= this.hit) return false;
    let inside = false;
    const end = this.polyRingStart[p + 1]!;
    for (let r = this.polyRingStart[p]!; r < end; r++) {
      if (ringCrossingOdd(this.coords, this.ringStart[r]!, this.ringStart[r + 1]!, this.qx, this.qy)) {
        inside = !inside;
      }
    }
    if (inside) this.hit = d;
    return false;
  };

  private pair(o: LatLng, or: RegionBlock, d: LatLng, dr: RegionBlock): PairFeatures {
    const distanceM = haversineM(o.lat, o.lng, d.lat, d.lng);
    const crossesHanRiver =
      or.gu !== undefined && dr.gu !== undefined && hanRiverBank(or.gu.code) !== hanRiverBank(dr.gu.code);
    return {
      distanceM,
      roadDistanceM: estimateRoadDistanceM(distanceM, crossesHanRiver),
      bearingDeg: initialBearingDeg(o.lat, o.lng, d.lat, d.lng),
      origin: or,
      destination: dr,
      sameDong: or.dong !== undefined && or.dong === dr.dong,
      sameGu: or.gu !== undefined && or.gu === dr.gu,
      crossesHanRiver,
    };
  }
}

/** Total over any input: wrong types, NaN, ±Infinity and out-of-range values all become GeoInputError. */
function checkLatLng(lat: unknown, lng: unknown, prefix: string): void {
  if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) {
    throw new GeoInputError(
      'INVALID_COORDINATES',
      `${prefix}lat`,
      `${prefix}lat must be a finite number in [-90, 90], got ${describe(lat)}`,
    );
  }
  if (typeof lng !== 'number' || !Number.isFinite(lng) || lng < -180 || lng > 180) {
    throw new GeoInputError(
      'INVALID_COORDINATES',
      `${prefix}lng`,
      `${prefix}lng must be a finite number in [-180, 180], got ${describe(lng)}`,
    );
  }
}

function checkPoint(p: unknown, field: string): void {
  if (typeof p !== 'object' || p === null) {
    throw new GeoInputError('INVALID_COORDINATES', field, `${field} must be an object with lat and lng`);
  }
  const { lat, lng } = p as { lat?: unknown; lng?: unknown };
  checkLatLng(lat, lng, `${field}.`);
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'nothing';
  return `a ${v === null ? 'null' : typeof v}`;
}
