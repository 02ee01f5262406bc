/**
 * Derives the meal-peak scenario's committed aggregates from the shared reference data, which is never
 * committed (see /work/shared/data/README.md and loadtest/meal-peak/README.md):
 *
 *   node loadtest/lib/meal-peak/build-data.ts [--orders <orders-train.csv.gz>] [--stations <stations.csv>]
 *
 *   loadtest/meal-peak/demand-curve.json   share of orders per 15-minute slot (96 numbers) and the counts
 *   loadtest/meal-peak/hot-spots.json      per-station destination weights inside the service area
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadServiceArea } from './area.ts';
import { csvText, deriveDemandCurve } from './demand.ts';
import { deriveHotSpots, HOT_SPOTS_FORMAT, HOT_SPOTS_METHOD, type HotSpotsFile } from './hotspots.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OUT = join(ROOT, 'loadtest', 'meal-peak');

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '/work/shared/data/food-delivery-india/orders-train.csv.gz' },
    stations: {
      type: 'string',
      default: '/work/shared/data/seoul-poi/subway_bus_shop_merged_result_optimized.csv',
    },
  },
  strict: true,
});

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** Git's blob id, as /work/shared/data/README.md lists them. */
const gitBlob = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

const ordersCsv = csvText(readFileSync(values.orders));
const curve = deriveDemandCurve(ordersCsv, {
  dataset:
    'Kaggle "Food Delivery Dataset" (Gaurav Malik), train.csv, via noturbob/Food-Delivery-Time-Analysis',
  file: 'food-delivery-india/orders-train.csv.gz (about 80 % of train.csv; see /work/shared/data/README.md)',
  uncompressedSha256: sha256(ordersCsv),
  column: 'Time_Orderd',
  licence: 'unclear: no rows are committed, only these per-slot aggregates',
});
// The two arrays one line each, a slot per number: readable, and a change shows as one line in a diff.
const compactArrays = (text: string) =>
  text.replace(/\[\s+([-\d.e,\s]+?)\s+\]/g, (_m, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`);
writeFileSync(join(OUT, 'demand-curve.json'), compactArrays(JSON.stringify(curve, null, 2)) + '\n');

const stationsBuf = readFileSync(values.stations);
const inArea = await loadServiceArea(ROOT);
const { spots, rows } = deriveHotSpots(stationsBuf.toString('utf8'), inArea);
const hot: HotSpotsFile = {
  format: HOT_SPOTS_FORMAT,
  source: {
    repository: 'rfqjntds2b-sudo/Seoul-subway-commercial-analysis',
    file: 'data/processed/subway_bus_shop_merged_result_optimized.csv (seoul-poi/ in the shared data)',
    gitBlob: gitBlob(stationsBuf),
    column: '총_유입_인구 (subway alightings, May 2026, plus bus alightings within 500 m, annual log)',
    serviceArea: 'services/geo/data (Geo dong polygons)',
    licence: 'none stated: the table is not committed, only these derived per-station weights',
  },
  method: HOT_SPOTS_METHOD,
  rows,
  spots,
};
// One spot per line: the file stays readable and its diffs small.
const head = JSON.stringify({ ...hot, spots: [] }, null, 2).replace(/"spots": \[\]\n}$/, '');
writeFileSync(
  join(OUT, 'hot-spots.json'),
  `${head}"spots": [\n${spots.map((s) => `    ${JSON.stringify(s)}`).join(',\n')}\n  ]\n}\n`,
);

const top = spots.slice(0, 10).map((s) => `${s.name} ${(s.weight * 100).toFixed(2)}%`);
console.log(
  `demand curve: ${curve.rows.used} of ${curve.rows.total} orders (${curve.rows.missing} missing, ` +
    `${curve.rows.invalid} invalid); hot spots: ${rows.used} stations in the area of ${rows.total} ` +
    `(${rows.outside} outside, ${rows.invalid} invalid); top 10: ${top.join(', ')}`,
);
