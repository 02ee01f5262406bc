/**
 * In-process micro-benchmark of the geo domain (services/geo/src/domain): point lookup, pair features, a
 * 50-point batch, and index load time and memory in a fresh process.
 *
 *   node loadtest/scenarios/geo-domain.bench.ts        (standalone; BENCH_QUICK=1 for a short run)
 *   pnpm bench                                         (as one scenario of the suite)
 *
 * Goals (from the geo service's SLOs): point lookup <= 10 us, all geodata loaded <= 1.5 s after start.
 * Figures are printed and returned; nothing here asserts on speed (speed is shown by benchmarks only).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  formatMachineInfo,
  machineInfo,
  printTable,
  seededRandom,
  type ScenarioOptions,
} from '../lib/index.ts';

// The domain is imported dynamically through a computed URL: the loadtest TypeScript project does not
// reference services/geo (a static import would break `tsc -b` with a rootDir error), so the part of the
// API used here is described structurally below. A drift in that API fails this benchmark at run time.
const DOMAIN_URL = new URL('../../services/geo/src/domain/index.ts', import.meta.url);

interface LatLng {
  readonly lat: number;
  readonly lng: number;
}
interface GeoIndexLike {
  lookup(lat: number, lng: number): { readonly inServiceArea: boolean };
  features(origin: LatLng, destination: LatLng): unknown;
  featuresBatch(shared: LatLng, others: readonly LatLng[], sharedEnd?: 'origin' | 'destination'): unknown[];
  stats(): { readonly vertices: number; readonly typedArrayBytes: number };
}
interface GeoDomain {
  loadGeoIndex(dataDir: string): Promise<GeoIndexLike>;
  readonly DEFAULT_DATA_DIR: string;
}

/** Seoul's bounding box (dong layer extent, rounded outwards). */
const BBOX = { minLat: 37.428, maxLat: 37.702, minLng: 126.764, maxLng: 127.184 } as const;

export interface GeoDomainFigures {
  readonly lookup: TimingFigures & { readonly inServiceShare: number };
  readonly featuresPair: TimingFigures;
  readonly featuresBatch50: TimingFigures;
  readonly load: LoadFigures;
  readonly goals: { readonly lookupMeanUs: 10; readonly readyMs: 1500 };
}

export interface TimingFigures {
  readonly n: number;
  /** Mean from one timer around the whole loop: free of per-call timer overhead. */
  readonly meanUs: number;
  /** Percentiles from individually timed calls (each includes about 0.05 us of timer overhead). */
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

export interface LoadFigures {
  /** loadGeoIndex() alone, in a fresh process (modules already imported). */
  readonly loadMs: number;
  /** From process start to index ready: Node start-up, module imports, file reads, parse, build. */
  readonly readyMs: number;
  /** JS heap retained by the index: heap used after a full GC, after loading minus before (modules imported). */
  readonly heapUsedDeltaMb: number;
  /** Heap used in that process after loading, modules included. */
  readonly heapUsedMb: number;
  /** The index's typed arrays (coordinates, offsets, R-tree), held outside the JS heap. */
  readonly typedArraysMb: number;
  readonly vertices: number;
}

function randomPoints(n: number, seed: number): LatLng[] {
  const next = seededRandom(seed);
  return Array.from({ length: n }, () => ({
    lat: BBOX.minLat + next() * (BBOX.maxLat - BBOX.minLat),
    lng: BBOX.minLng + next() * (BBOX.maxLng - BBOX.minLng),
  }));
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/**
 * Times `n` calls of `call(i)` twice: once as a tight loop for the mean, once call by call for the
 * distribution. `sink` keeps results alive so the JIT cannot drop the work.
 */
function time(n: number, call: (i: number) => unknown): TimingFigures {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink += call(i) === undefined ? 0 : 1;
  const meanUs = ((performance.now() - t0) * 1000) / n;
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    sink += call(i) === undefined ? 0 : 1;
    samples[i] = (performance.now() - s) * 1000;
  }
  if (sink < 0) console.log(sink);
  samples.sort();
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    n,
    meanUs: r(meanUs),
    p50Us: r(percentile(samples, 0.5)),
    p99Us: r(percentile(samples, 0.99)),
    maxUs: r(samples[n - 1]!),
  };
}

/** Loads the index in a fresh Node process, so start-up and memory are measured as a pod would see them. */
async function measureLoad(dataDir: string): Promise<LoadFigures> {
  const script = `
    const t0 = performance.now();
    const { loadGeoIndex } = await import(${JSON.stringify(DOMAIN_URL.href)});
    const t1 = performance.now();
    globalThis.gc();
    const before = process.memoryUsage();
    const index = await loadGeoIndex(${JSON.stringify(dataDir)});
    const t2 = performance.now();
    globalThis.gc();
    const after = process.memoryUsage();
    const s = index.stats();
    process.stdout.write(JSON.stringify({
      loadMs: t2 - t1, importMs: t1 - t0, readyMs: t2,
      heapDelta: after.heapUsed - before.heapUsed, heapUsed: after.heapUsed,
      typedArrayBytes: s.typedArrayBytes, vertices: s.vertices,
    }));`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--input-type=module', '-e', script],
    { timeout: 60_000 },
  );
  const m = JSON.parse(stdout) as {
    loadMs: number;
    readyMs: number;
    heapDelta: number;
    heapUsed: number;
    typedArrayBytes: number;
    vertices: number;
  };
  const mb = (b: number) => Math.round((b / 2 ** 20) * 100) / 100;
  return {
    loadMs: Math.round(m.loadMs * 10) / 10,
    readyMs: Math.round(m.readyMs * 10) / 10,
    heapUsedDeltaMb: mb(m.heapDelta),
    heapUsedMb: mb(m.heapUsed),
    typedArraysMb: mb(m.typedArrayBytes),
    vertices: m.vertices,
  };
}

export async function run(opts?: Partial<ScenarioOptions>): Promise<GeoDomainFigures> {
  const quick = opts?.quick ?? process.env.BENCH_QUICK === '1';
  const geo = (await import(DOMAIN_URL.href)) as GeoDomain;
  const index = await geo.loadGeoIndex(geo.DEFAULT_DATA_DIR);

  const nPoints = quick ? 20_000 : 200_000;
  const points = randomPoints(nPoints, 1);
  const pairs = randomPoints(2_000, 2);
  const batches = Array.from({ length: 64 }, (_, b) => randomPoints(50, 100 + b));

  // Warm-up, so the JIT has compiled the hot paths before anything is timed.
  for (let i = 0; i < 30_000; i++) index.lookup(points[i % nPoints]!.lat, points[i % nPoints]!.lng);
  for (let i = 0; i < 2_000; i++) index.featuresBatch(pairs[i % 2000]!, batches[i % 64]!);

  let inService = 0;
  for (const p of points) if (index.lookup(p.lat, p.lng).inServiceArea) inService++;

  const lookup = time(nPoints, (i) => index.lookup(points[i]!.lat, points[i]!.lng));
  const nPairs = quick ? 10_000 : 100_000;
  const featuresPair = time(nPairs, (i) => index.features(pairs[i % 2000]!, pairs[(i * 7 + 1) % 2000]!));
  const nBatches = quick ? 500 : 5_000;
  const featuresBatch50 = time(nBatches, (i) => index.featuresBatch(pairs[i % 2000]!, batches[i % 64]!));
  const load = await measureLoad(geo.DEFAULT_DATA_DIR);

  const figures: GeoDomainFigures = {
    lookup: { ...lookup, inServiceShare: Math.round((inService / nPoints) * 1000) / 1000 },
    featuresPair,
    featuresBatch50,
    load,
    goals: { lookupMeanUs: 10, readyMs: 1500 },
  };

  console.log('geo-domain: in-process micro-benchmark of services/geo/src/domain');
  console.log(formatMachineInfo(opts?.machine ?? machineInfo()));
  printTable(
    [
      { case: 'lookup (random point in bbox)', ...lookup },
      { case: 'features (one pair)', ...featuresPair },
      { case: 'featuresBatch (1 shared + 50)', ...featuresBatch50 },
    ],
    ['case', 'n', 'meanUs', 'p50Us', 'p99Us', 'maxUs'],
  );
  console.log(`${(figures.lookup.inServiceShare * 100).toFixed(1)} % of the random points fall inside Seoul`);
  printTable([{ ...load }]);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(
    `goals: lookup mean ${lookup.meanUs} us <= 10 us: ${verdict(lookup.meanUs <= 10)}; ` +
      `ready ${load.readyMs} ms <= 1500 ms: ${verdict(load.readyMs <= 1500)}`,
  );
  return figures;
}

if (import.meta.main) await run();
