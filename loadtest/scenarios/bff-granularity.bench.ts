/**
 * What the rough cache's H3 resolution costs and buys: for resolutions 7, 8 and 9 as the destination cell
 * of the key (store, cell, 15-minute bucket), the cache hit ratio over a simulated Seoul evening and the
 * error of the cached answer (eta-rough for the cell centre, as the cache serves it) against the answer for
 * the exact address.
 *
 *   node loadtest/scenarios/bff-granularity.bench.ts      (standalone; BENCH_QUICK=1 for a short run)
 *   pnpm bench bff-granularity
 *
 * Traffic: the BFF's own deterministic Seoul stores (5,000, placed by food-shop density); customers placed
 * with the same density weights (demand follows the restaurants' neighbourhoods), each with a home address.
 * Between 17:00 and 22:00 sessions arrive with an evening peak at 19:00; a session views its store list (the
 * 50 nearest stores within 3 km) one to several times a few minutes apart. A cached value lives until its
 * bucket ends or its jittered TTL (15 min, up to 10 % shorter) runs out, whichever is first, exactly as the
 * BFF configures @eta/cache; the cache is one shared tier (Redis L2), unbounded.
 *
 * Error: a uniform sample of the store estimates the evening asked for. Each is answered by the real models
 * in a spawned ml-proxy (V2 over HTTP), with features built by the BFF's own code (features.ts), region
 * classes from Geo's domain: the rough answer for the cell centre against (a) eta-precise for the exact
 * address (the brief's yardstick; it includes the two models' own difference, the same for every row) and
 * (b) eta-rough for the exact address (the error due to the cell alone).
 */
import { join } from 'node:path';
import { request } from 'undici';
import {
  printTable,
  runStandalone,
  seededRandom,
  spawnService,
  type ScenarioOptions,
  type SpawnedService,
} from '../lib/index.ts';

// The BFF and Geo code is imported through computed URLs: the loadtest TypeScript project does not
// reference services/* (a static import would break `tsc -b`), so the API used is described here and a
// drift in it fails this benchmark at run time.
interface LatLng {
  readonly lat: number;
  readonly lng: number;
}
type RegionClass = 'metropolitan' | 'urban' | 'semi-urban';
type OrderType = 'snack' | 'meal' | 'drinks' | 'buffet';
interface SeedStore {
  readonly store: {
    readonly id: number;
    readonly lat: number;
    readonly lng: number;
    readonly category: OrderType;
  };
}
interface Time {
  readonly hour: number;
  readonly dayOfWeek: number;
}
type Row = (number | null)[];
interface BffModules {
  roughCell(lat: number, lng: number, res: number): { cell: string; centre: LatLng };
  timeBucket(at: Date, minutes: number, storeId: number): number;
  bucketOffsetMs(storeId: number, minutes: number): number;
  roughRow(x: {
    distanceKm: number | null;
    time: Time;
    regionClass: RegionClass | null;
    orderType: OrderType;
  }): Row;
  preciseRow(x: Record<string, unknown>): Row;
  seoulTime(at: Date): Time;
  haversineKm(a: LatLng, b: LatLng): number;
  generateSeedStores(data: unknown, opts: { count: number; seed?: number; now: Date }): SeedStore[];
  loadSeedData(): Promise<unknown>;
}
interface GeoIndexLike {
  lookup(lat: number, lng: number): { inServiceArea: boolean; dong?: { regionClass: RegionClass } };
}

const here = (path: string) => new URL(path, import.meta.url).href;

async function loadModules(): Promise<{ bff: BffModules; geo: GeoIndexLike }> {
  const [key, features, fallback, seed, seedIo, geoDomain] = await Promise.all([
    import(here('../../services/vendor-bff/src/domain/estimate-rough-key.ts')),
    import(here('../../services/vendor-bff/src/domain/features.ts')),
    import(here('../../services/vendor-bff/src/domain/fallback.ts')),
    import(here('../../services/vendor-bff/src/domain/seed.ts')),
    import(here('../../services/vendor-bff/src/adapters/db/seed.ts')),
    import(here('../../services/geo/src/domain/index.ts')),
  ]);
  const bff = { ...key, ...features, ...fallback, ...seed, ...seedIo } as unknown as BffModules;
  const g = geoDomain as { loadGeoIndex(dir: string): Promise<GeoIndexLike>; DEFAULT_DATA_DIR: string };
  return { bff, geo: await g.loadGeoIndex(g.DEFAULT_DATA_DIR) };
}

const RESOLUTIONS = [7, 8, 9] as const;
const BUCKET_MINUTES = 15;
const TTL_MS = BUCKET_MINUTES * 60_000;
const JITTER = 0.1;
const LIST_SIZE = 50;
const LIST_RADIUS_KM = 3;

interface View {
  readonly at: Date;
  readonly customer: number;
}

export interface GranularityRow {
  readonly resolution: number;
  readonly cellsTouched: number;
  readonly lookups: number;
  readonly hitRatio: number;
  /** Against eta-precise for the exact address. */
  readonly maeVsPreciseMin: number;
  readonly p90AbsVsPreciseMin: number;
  /** Against eta-rough for the exact address: the part of the error due to the cell alone. */
  readonly maeVsRoughExactMin: number;
  readonly p90AbsVsRoughExactMin: number;
}

export interface GranularityFigures {
  readonly stores: number;
  readonly customers: number;
  readonly sessions: number;
  readonly views: number;
  readonly sampledPairs: number;
  readonly rows: readonly GranularityRow[];
}

/** Evening peak at 19:00 Seoul: a triangular density over 17:00-22:00, sampled by inversion. */
function eveningOffsetMs(u: number): number {
  // Triangle on [0, 5] h with mode 2 h.
  const a = 0;
  const b = 5;
  const c = 2;
  const f = (c - a) / (b - a);
  const h = u < f ? a + Math.sqrt(u * (b - a) * (c - a)) : b - Math.sqrt((1 - u) * (b - a) * (b - c));
  return h * 3_600_000;
}

async function infer(ml: SpawnedService, model: string, rows: readonly Row[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const res = await request(`${ml.origin}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-timeout-ms': '30000' },
      body: JSON.stringify({
        inputs: [
          { name: 'features', shape: [chunk.length, chunk[0]!.length], datatype: 'FP32', data: chunk.flat() },
        ],
        outputs: [{ name: 'p50' }],
      }),
    });
    const body = (await res.body.json()) as {
      parameters?: { fallback?: boolean };
      outputs?: { name: string; data: number[] }[];
      error?: string;
    };
    if (res.statusCode !== 200 || body.parameters?.fallback) {
      throw new Error(`${model} infer failed (${res.statusCode}): ${JSON.stringify(body).slice(0, 300)}`);
    }
    out.push(...body.outputs!.find((o) => o.name === 'p50')!.data);
  }
  return out;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const round2 = (x: number) => Math.round(x * 100) / 100;

export async function run(opts: ScenarioOptions): Promise<GranularityFigures> {
  const { bff, geo } = await loadModules();
  const random = seededRandom(20_261_125);
  const evening = new Date('2026-11-27T17:00:00+09:00'); // a Friday

  const stores = bff
    .generateSeedStores(await bff.loadSeedData(), { count: 5000, now: evening })
    .map((s) => s.store);
  const customerCount = opts.quick ? 3000 : 20_000;
  // Customers placed with the same density weights, from a different seed of the same generator.
  const customers: LatLng[] = bff
    .generateSeedStores(await bff.loadSeedData(), { count: customerCount, seed: 777, now: evening })
    .map((s) => ({ lat: s.store.lat, lng: s.store.lng }));

  // Each customer's store list: the 50 nearest stores within 3 km (what a list view asks estimates for).
  const lists: number[][] = customers.map((c) => {
    const near: [number, number][] = [];
    for (let i = 0; i < stores.length; i++) {
      const s = stores[i]!;
      // Cheap reject before the exact distance: 0.03 deg is about 3.3 km north-south.
      if (Math.abs(s.lat - c.lat) > 0.03 || Math.abs(s.lng - c.lng) > 0.04) continue;
      const d = bff.haversineKm(c, s);
      if (d <= LIST_RADIUS_KM) near.push([d, i]);
    }
    near.sort((x, y) => x[0] - y[0]);
    return near.slice(0, LIST_SIZE).map(([, i]) => i);
  });

  // Sessions over the evening; a customer may come back; each session views its list 1-6 times.
  const sessions = opts.quick ? 6000 : 40_000;
  const views: View[] = [];
  for (let s = 0; s < sessions; s++) {
    const customer = Math.floor(random() * customerCount);
    let t = evening.getTime() + eveningOffsetMs(random());
    let n = 1;
    while (n < 6 && random() < 0.6) n++;
    for (let v = 0; v < n; v++) {
      views.push({ at: new Date(t), customer });
      t += (1 + random() * 4) * 60_000; // back to the list 1-5 minutes later
    }
  }
  views.sort((a, b) => a.at.getTime() - b.at.getTime());

  // Hit ratio per resolution, with the BFF's key, bucket and jittered TTL.
  const cellCache = RESOLUTIONS.map(() => new Map<number, { cell: string; centre: LatLng }>());
  const cellOf = (r: number, customer: number) => {
    const cache = cellCache[r]!;
    let c = cache.get(customer);
    if (c === undefined) {
      const p = customers[customer]!;
      c = bff.roughCell(p.lat, p.lng, RESOLUTIONS[r]!);
      cache.set(customer, c);
    }
    return c;
  };
  const hitFigures = RESOLUTIONS.map((_, r) => {
    const expires = new Map<string, number>();
    const cells = new Set<string>();
    let hits = 0;
    let lookups = 0;
    const jitterRandom = seededRandom(99 + r);
    for (const view of views) {
      const now = view.at.getTime();
      const { cell } = cellOf(r, view.customer);
      cells.add(cell);
      for (const s of lists[view.customer]!) {
        lookups++;
        // Each store's buckets start at its own offset (estimate-rough-key.ts).
        const id = stores[s]!.id;
        const bucket = bff.timeBucket(view.at, BUCKET_MINUTES, id);
        const bucketEnd = (bucket + 1) * TTL_MS - bff.bucketOffsetMs(id, BUCKET_MINUTES);
        const key = `${id}:${cell}:${bucket}`;
        const until = expires.get(key);
        if (until !== undefined && until > now) hits++;
        else expires.set(key, Math.min(bucketEnd, now + TTL_MS * (1 - JITTER * jitterRandom())));
      }
    }
    return { cellsTouched: cells.size, lookups, hitRatio: lookups === 0 ? 0 : hits / lookups };
  });

  // Error on a uniform sample of the (view, store) lookups.
  const sampleSize = opts.quick ? 2000 : 15_000;
  const allLookups = views.reduce((n, v) => n + lists[v.customer]!.length, 0);
  const pairs: { view: View; store: number }[] = [];
  const keep = Math.min(1, sampleSize / Math.max(1, allLookups));
  for (const view of views) {
    for (const s of lists[view.customer]!) if (random() < keep) pairs.push({ view, store: s });
  }

  const regionOf = (p: LatLng): RegionClass | null => {
    const r = geo.lookup(p.lat, p.lng);
    return r.inServiceArea ? (r.dong?.regionClass ?? null) : null;
  };
  const roughAt = (dest: LatLng, s: number, at: Date) => {
    const st = stores[s]!;
    return bff.roughRow({
      distanceKm: bff.haversineKm(st, dest),
      time: bff.seoulTime(at),
      regionClass: regionOf(dest),
      orderType: st.category,
    });
  };

  const ml = await spawnService({
    entry: 'src/main.ts',
    cwd: join(opts.root, 'services', 'ml-proxy'),
    name: 'ml-proxy',
    env: {
      LOG_LEVEL: 'warn',
      SHUTDOWN_DELAY_MS: '0',
      MODEL_POLL_INTERVAL_SECONDS: '0',
      // Batches of 1,000 rows; the proxy's 50 ms per-call deadline is for live traffic, not this.
      MODEL_DEADLINE_MS: '30000',
    },
    stdout: 'ignore',
    readyTimeoutMs: 60_000,
  });
  let rows: GranularityRow[];
  try {
    const exactRough = await infer(
      ml,
      'eta-rough',
      pairs.map((p) => roughAt(customers[p.view.customer]!, p.store, p.view.at)),
    );
    const exactPrecise = await infer(
      ml,
      'eta-precise',
      pairs.map((p) => {
        const st = stores[p.store]!;
        const dest = customers[p.view.customer]!;
        return bff.preciseRow({
          distanceKm: bff.haversineKm(st, dest),
          time: bff.seoulTime(p.view.at),
          regionClass: regionOf(dest),
          orderType: st.category,
          // The BFF's defaults for a request that names no rider.
          riderAge: null,
          riderRating: null,
          vehicleType: 'motorcycle',
          vehicleCondition: 2,
          multipleDeliveries: null,
          festival: null,
        });
      }),
    );
    rows = [];
    for (const [r, resolution] of RESOLUTIONS.entries()) {
      // The cached value is computed at the start of its bucket's first miss; the hour is the same for the
      // whole bucket (15 minutes never straddle an hour), so the view's own time gives the same features.
      const centre = await infer(
        ml,
        'eta-rough',
        pairs.map((p) => roughAt(cellOf(r, p.view.customer).centre, p.store, p.view.at)),
      );
      const vsPrecise = centre.map((c, i) => Math.abs(c - exactPrecise[i]!)).sort((a, b) => a - b);
      const vsRough = centre.map((c, i) => Math.abs(c - exactRough[i]!)).sort((a, b) => a - b);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      rows.push({
        resolution,
        ...hitFigures[r]!,
        hitRatio: round2(hitFigures[r]!.hitRatio * 100) / 100,
        maeVsPreciseMin: round2(mean(vsPrecise)),
        p90AbsVsPreciseMin: round2(percentile(vsPrecise, 0.9)),
        maeVsRoughExactMin: round2(mean(vsRough)),
        p90AbsVsRoughExactMin: round2(percentile(vsRough, 0.9)),
      });
    }
  } finally {
    await ml.stop();
  }

  console.log(
    `\nrough cache key granularity: ${stores.length} stores, ${customerCount} customers, ${sessions} sessions, ` +
      `${views.length} list views (${allLookups} store estimates) 17:00-22:00, ${BUCKET_MINUTES}-min buckets, ` +
      `error on ${pairs.length} sampled estimates${opts.quick ? ' (BENCH_QUICK: sanity check only)' : ''}`,
  );
  printTable(
    rows.map((x) => ({
      'H3 res': x.resolution,
      'cells touched': x.cellsTouched,
      'hit ratio': `${(x.hitRatio * 100).toFixed(1)}%`,
      'MAE vs precise@addr': `${x.maeVsPreciseMin.toFixed(2)} min`,
      'p90 |err| vs precise': `${x.p90AbsVsPreciseMin.toFixed(2)} min`,
      'MAE vs rough@addr': `${x.maeVsRoughExactMin.toFixed(2)} min`,
      'p90 |err| vs rough@addr': `${x.p90AbsVsRoughExactMin.toFixed(2)} min`,
    })),
  );
  return {
    stores: stores.length,
    customers: customerCount,
    sessions,
    views: views.length,
    sampledPairs: pairs.length,
    rows,
  };
}

// Standalone: `node loadtest/scenarios/bff-granularity.bench.ts` (BENCH_QUICK=1 for a short run).
if (import.meta.main) await runStandalone(run);
