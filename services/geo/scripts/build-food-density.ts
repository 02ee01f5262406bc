/**
 * Derives data/dong-food-density.json: a food density and region class per administrative dong.
 *
 *   node services/geo/scripts/build-food-density.ts [stations.csv] [out.json]
 *
 * Input: the station table in /work/shared/data/seoul-poi (no licence stated, so it is read here and never
 * committed; only this per-dong aggregate is). Each row gives a subway station's position and the number of
 * food/drink shops within 500 m of it.
 *
 * Method (why in brackets):
 *  1. Keep stations inside Seoul's dongs. [The source counted only Seoul shops, so stations outside Seoul
 *     read 0 and would wrongly pull border dongs down.]
 *  2. Estimate a shop surface S(x) = sum_s c_s K(d_s) / (K0 + sum_s K(d_s)) with a Gaussian kernel
 *     K(d) = exp(-d^2 / 2 sigma^2), sigma = 600 m, and a zero-shop prior of weight K0 = K(1000 m).
 *     [A kernel average alone would give a dong 3 km from any station the average of far stations; the prior
 *     lets the estimate fall towards 0 away from stations, where shops really are sparser. Near a station
 *     S is about 0.8 of its count.]
 *  3. A dong's foodDensity is the mean of S over the centres of the H3 resolution-9 cells (about 0.1 km2)
 *     inside it, or over its vertex centroid when it is smaller than one cell. [An area mean, so a large dong
 *     with one busy corner does not read as dense everywhere.]
 *  4. regionClass from fixed thresholds (src/domain/region-class.ts).
 * Unit: estimated food/drink shops within 500 m of a typical point in the dong.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cellToLatLng, polygonToCells } from 'h3-js';
import {
  COORD_SCALE,
  DONGS_FILE,
  FOOD_DENSITY_FILE,
  FOOD_DENSITY_FORMAT,
  dongsFileSchema,
  type FoodDensityFile,
} from '../src/domain/data-format.ts';
import { buildGeoIndex } from '../src/domain/geo-index.ts';
import { haversineM } from '../src/domain/geometry.ts';
import { REGION_CLASSES, REGION_THRESHOLDS, classifyFoodDensity } from '../src/domain/region-class.ts';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, '..', 'data');
const source = process.argv[2] ?? '/work/shared/data/seoul-poi/subway_bus_shop_merged_result_optimized.csv';
const out = process.argv[3] ?? join(dataDir, FOOD_DENSITY_FILE);

const SIGMA_M = 600;
const PRIOR_DISTANCE_M = 1000;
const kernel = (d: number): number => Math.exp(-(d * d) / (2 * SIGMA_M * SIGMA_M));
const K0 = kernel(PRIOR_DISTANCE_M);

const dongsFile = dongsFileSchema.parse(JSON.parse(readFileSync(join(dataDir, DONGS_FILE), 'utf8')));

// An index with placeholder densities: only its point-in-dong test is used here.
const placeholder: FoodDensityFile = {
  format: FOOD_DENSITY_FORMAT,
  method: 'placeholder',
  unit: '',
  thresholds: { ...REGION_THRESHOLDS },
  dongs: Object.fromEntries(dongsFile.dongs.map((d) => [d.code, { foodDensity: 0, regionClass: 'urban' }])),
};
const index = buildGeoIndex(dongsFile, placeholder);

const lines = readFileSync(source, 'utf8')
  .replace(/^\uFEFF/, '')
  .trim()
  .split('\n');
const header = lines[0]!.split(',');
const col = (name: string): number => {
  const i = header.indexOf(name);
  if (i < 0) throw new Error(`column ${name} missing from ${source}`);
  return i;
};
const [iLat, iLng, iShops] = [col('위도'), col('경도'), col('주변_상가_수')];
const stations: { lat: number; lng: number; shops: number }[] = [];
for (const line of lines.slice(1)) {
  const cells = line.split(',');
  const lat = Number(cells[iLat]);
  const lng = Number(cells[iLng]);
  const shops = Number(cells[iShops]);
  if (![lat, lng, shops].every(Number.isFinite)) throw new Error(`bad row: ${line}`);
  if (index.lookup(lat, lng).inServiceArea) stations.push({ lat, lng, shops });
}

function surface(lat: number, lng: number): number {
  let num = 0;
  let den = K0;
  for (const s of stations) {
    const d = haversineM(lat, lng, s.lat, s.lng);
    if (d > 5 * SIGMA_M) continue;
    const k = kernel(d);
    num += s.shops * k;
    den += k;
  }
  return num / den;
}

function decodeRing(ring: readonly number[]): [number, number][] {
  const pts: [number, number][] = [];
  let x = 0;
  let y = 0;
  for (let k = 0; k < ring.length; k += 2) {
    x += ring[k]!;
    y += ring[k + 1]!;
    pts.push([x / COORD_SCALE, y / COORD_SCALE]);
  }
  return pts;
}

const result: FoodDensityFile['dongs'] = {};
const counts = Object.fromEntries(REGION_CLASSES.map((c) => [c, 0])) as Record<string, number>;
for (const d of dongsFile.dongs) {
  const polygons = d.polygons.map((p) => p.map(decodeRing));
  const cells = polygons.flatMap((p) => polygonToCells(p, 9, true));
  const samples =
    cells.length > 0
      ? cells.map((c) => cellToLatLng(c))
      : polygons.map((p) => {
          const outer = p[0]!;
          const sum = outer.reduce((a, [x, y]) => [a[0]! + x, a[1]! + y], [0, 0]);
          return [sum[1]! / outer.length, sum[0]! / outer.length];
        });
  const mean = samples.reduce((a, [lat, lng]) => a + surface(lat!, lng!), 0) / samples.length;
  const foodDensity = Math.round(mean * 10) / 10;
  const regionClass = classifyFoodDensity(foodDensity);
  counts[regionClass]!++;
  result[d.code] = { foodDensity, regionClass };
}

const file: FoodDensityFile = {
  format: FOOD_DENSITY_FORMAT,
  method:
    `Gaussian kernel (sigma ${SIGMA_M} m, zero-shop prior at ${PRIOR_DISTANCE_M} m) over ${stations.length} ` +
    'Seoul subway stations weighted by food/drink shops within 500 m, averaged over H3 r9 cell centres per dong; ' +
    'derived from rfqjntds2b-sudo/Seoul-subway-commercial-analysis (see data/ATTRIBUTION.md)',
  unit: 'estimated food/drink shops within 500 m of a typical point in the dong',
  thresholds: { ...REGION_THRESHOLDS },
  dongs: result,
};
const body = Object.entries(result)
  .map(([code, v]) => `    ${JSON.stringify(code)}: ${JSON.stringify(v)}`)
  .join(',\n');
const head = JSON.stringify({ ...file, dongs: {} }, null, 2).replace(/"dongs": \{\}\n}$/, '');
writeFileSync(out, `${head}"dongs": {\n${body}\n  }\n}\n`);
console.log(`wrote ${out}: ${Object.keys(result).length} dongs from ${stations.length} stations`, counts);
