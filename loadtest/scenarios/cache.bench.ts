/**
 * In-process micro-benchmark of @eta/cache: what a lookup costs on each tier.
 *
 *   node loadtest/scenarios/cache.bench.ts     (standalone; BENCH_QUICK=1 for a short run)
 *   pnpm bench cache                           (as one scenario of the suite)
 *
 * L1 rows always run. L2 rows need REDIS_URL (a Redis on loopback; keys go under a unique prefix and
 * are deleted afterwards); without it they are reported as skipped. The L2 figures are a real round
 * trip to Redis, so they say as much about the machine and Redis as about the cache.
 * Figures are printed and returned; nothing here asserts on speed.
 */
import { randomUUID } from 'node:crypto';
import { closeRedis, createCacheRedis, createTieredCache } from '@eta/cache';
import {
  formatMachineInfo,
  machineInfo,
  printTable,
  seededRandom,
  type ScenarioOptions,
} from '../lib/index.ts';

// The loadtest package does not depend on ioredis itself; the client type comes through the cache's API.
type Redis = ReturnType<typeof createCacheRedis>;

export interface TimingFigures {
  readonly n: number;
  /** Mean from one timer around the whole loop: free of per-call timer overhead. */
  readonly meanUs: number;
  /** Percentiles from individually timed calls (each includes the timer overhead reported alongside). */
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

export interface CacheBenchFigures {
  /** Cost of one performance.now() pair, included in every individually timed sample. */
  readonly timerOverheadUs: number;
  readonly l1: {
    /** get() of a fresh key held in L1. */
    readonly hit: TimingFigures;
    /** getMany() of 50 keys, all in L1. */
    readonly getMany50Hit: TimingFigures;
    /** get() of a new key in an L1-only cache: coalescing bookkeeping, a trivial compute, sizing, LRU insert. */
    readonly missCompute: TimingFigures;
  };
  /** Undefined when REDIS_URL is not set or Redis is not reachable (see l2Skipped). */
  readonly l2?: {
    /** get() that misses L1 and finds the value in Redis: one GET round trip, decode, L1 insert. */
    readonly hit: TimingFigures;
    /** getMany() of 50 keys missing L1, found in Redis: one MGET. */
    readonly getMany50Hit: TimingFigures;
  };
  readonly l2Skipped?: string;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/**
 * Times `n` awaited calls twice: a tight loop for the mean, then call by call for the distribution.
 * Sub-microsecond values need performance.now()'s fractional precision, hence no 1 us histogram here.
 */
async function time(n: number, call: (i: number) => Promise<unknown>): Promise<TimingFigures> {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink += (await call(i)) === undefined ? 0 : 1;
  const meanUs = ((performance.now() - t0) * 1000) / n;
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    sink += (await call(i)) === undefined ? 0 : 1;
    samples[i] = (performance.now() - s) * 1000;
  }
  // Keeps the results observable so the JIT cannot drop the work.
  if (sink < 0) console.log(sink);
  samples.sort();
  return {
    n,
    meanUs: round(meanUs),
    p50Us: round(percentile(samples, 0.5)),
    p90Us: round(percentile(samples, 0.9)),
    p99Us: round(percentile(samples, 0.99)),
    p999Us: round(percentile(samples, 0.999)),
    maxUs: round(samples[n - 1]!),
  };
}

function timerOverheadUs(): number {
  const n = 100_000;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    acc += performance.now() - s;
  }
  return round((acc * 1000) / n);
}

/** A value shaped like an ETA answer, so encode/decode/size costs are realistic. */
const etaValue = (i: number) => ({
  storeId: `store-${i}`,
  etaSeconds: 900 + (i % 600),
  p90Seconds: 1_300 + (i % 700),
  model: 'eta-gbm-2025-11',
  computedAt: 1_763_000_000_000 + i,
});
type Eta = ReturnType<typeof etaValue>;

const keyOf = (i: number) => `store:${i}`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function benchL1(quick: boolean, random: () => number): Promise<CacheBenchFigures['l1']> {
  const working = 10_000;
  const cache = createTieredCache<Eta>({
    name: 'bench-l1',
    ttlMs: 3_600_000,
    l1: { maxEntries: working * 2, maxBytes: 64 * 1024 * 1024 },
  });
  const order = range(200_000).map(() => Math.floor(random() * working));
  await cache.getMany(
    range(working).map(keyOf),
    (keys) => new Map(keys.map((k) => [k, etaValue(Number(k.slice(6)))])),
  );
  const fail = (): Eta => {
    throw new Error('benchmark bug: an L1 hit computed');
  };
  const n = quick ? 20_000 : 200_000;
  for (let i = 0; i < 50_000; i++) await cache.get(keyOf(order[i % order.length]!), fail);
  const hit = await time(n, (i) => cache.get(keyOf(order[i % order.length]!), fail));

  const batches = range(256).map((b) => range(50).map((j) => keyOf((b * 50 + j * 7) % working)));
  const failMany = (): Map<string, Eta> => {
    throw new Error('benchmark bug: an L1 batch hit computed');
  };
  const nBatches = quick ? 2_000 : 20_000;
  for (let i = 0; i < 2_000; i++) await cache.getMany(batches[i % 256]!, failMany);
  const getMany50Hit = await time(nBatches, (i) => cache.getMany(batches[i % 256]!, failMany));
  await cache.close();

  // Every key is new, so every call misses; the LRU bound keeps memory flat while it evicts.
  const missCache = createTieredCache<Eta>({
    name: 'bench-l1-miss',
    ttlMs: 3_600_000,
    l1: { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 },
  });
  let next = 0;
  for (let i = 0; i < 20_000; i++) await missCache.get(`warm:${next++}`, (k) => etaValue(k.length));
  const missCompute = await time(quick ? 20_000 : 100_000, () =>
    missCache.get(`miss:${next++}`, (k) => etaValue(k.length)),
  );
  await missCache.close();
  return { hit, getMany50Hit, missCompute };
}

async function connect(url: string): Promise<Redis> {
  const redis = createCacheRedis(url, 'commands', {
    name: 'bench',
    timeoutMs: 1_000,
    connectTimeoutMs: 2_000,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis at ${url} not ready within 3 s`)), 3_000);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return redis;
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}

async function benchL2(url: string, quick: boolean): Promise<NonNullable<CacheBenchFigures['l2']>> {
  const writerRedis = await connect(url);
  const readerRedis = await connect(url);
  const keyPrefix = `bench:cache:${randomUUID().slice(0, 8)}:`;
  const l2 = (redis: Redis) => ({
    redis,
    keyPrefix,
    // Generous: a benchmark should measure round trips, not the breaker shedding slow ones.
    timeoutMs: 1_000,
    breaker: { failureThreshold: 1_000, resetAfterMs: 1_000 },
  });
  const working = 2_000;
  const writer = createTieredCache<Eta>({
    name: 'bench',
    ttlMs: 3_600_000,
    l1: { maxEntries: working, maxBytes: 64 * 1024 * 1024 },
    l2: l2(writerRedis),
  });
  // L1 of one entry: every reader lookup misses L1 and goes to Redis, which is what is measured.
  const reader = createTieredCache<Eta>({
    name: 'bench',
    ttlMs: 3_600_000,
    l1: { maxEntries: 1, maxBytes: 1_000_000 },
    l2: l2(readerRedis),
  });
  try {
    await writer.getMany(
      range(working).map(keyOf),
      (keys) => new Map(keys.map((k) => [k, etaValue(Number(k.slice(6)))])),
    );
    await writer.settled();
    const fail = (): Eta => {
      throw new Error('benchmark bug: an L2 hit computed');
    };
    const n = quick ? 2_000 : 20_000;
    for (let i = 0; i < 2_000; i++) await reader.get(keyOf((i * 13) % working), fail);
    const hit = await time(n, (i) => reader.get(keyOf((i * 13) % working), fail));

    const batches = range(40).map((b) => range(50).map((j) => keyOf(b * 50 + j)));
    const failMany = (): Map<string, Eta> => {
      throw new Error('benchmark bug: an L2 batch hit computed');
    };
    for (let i = 0; i < 200; i++) await reader.getMany(batches[i % 40]!, failMany);
    const getMany50Hit = await time(quick ? 500 : 5_000, (i) => reader.getMany(batches[i % 40]!, failMany));
    const errors = reader.stats().l2;
    if (errors.errors + errors.timeouts + errors.bypassed > 0) {
      throw new Error(`L2 calls failed during the benchmark: ${JSON.stringify(errors)}`);
    }
    return { hit, getMany50Hit };
  } finally {
    await reader.close();
    await writer.close();
    await writerRedis
      .del(...range(working).map((i) => `${keyPrefix}bench:${keyOf(i)}`))
      .catch(() => undefined);
    await Promise.all([closeRedis(writerRedis), closeRedis(readerRedis)]);
  }
}

export async function run(opts?: Partial<ScenarioOptions>): Promise<CacheBenchFigures> {
  const quick = opts?.quick ?? ['1', 'true', 'yes'].includes(process.env['BENCH_QUICK'] ?? '');
  const random = seededRandom(7);
  const overhead = timerOverheadUs();
  const l1 = await benchL1(quick, random);

  const url = process.env['REDIS_URL'];
  let l2: CacheBenchFigures['l2'];
  let l2Skipped: string | undefined;
  if (url === undefined || url === '') l2Skipped = 'REDIS_URL not set';
  else {
    try {
      l2 = await benchL2(url, quick);
    } catch (err) {
      l2Skipped = err instanceof Error ? err.message : String(err);
    }
  }

  console.log('cache: in-process micro-benchmark of @eta/cache (times in microseconds per call)');
  if (opts?.machine === undefined) console.log(formatMachineInfo(machineInfo()));
  const rows = [
    { case: 'L1 hit: get', ...l1.hit },
    { case: 'L1 hit: getMany x50', ...l1.getMany50Hit },
    { case: 'L1 miss + compute (L1 only)', ...l1.missCompute },
    ...(l2 === undefined
      ? []
      : [
          { case: 'L2 hit: get (1 GET)', ...l2.hit },
          { case: 'L2 hit: getMany x50 (1 MGET)', ...l2.getMany50Hit },
        ]),
  ];
  printTable(rows, ['case', 'n', 'meanUs', 'p50Us', 'p90Us', 'p99Us', 'p999Us', 'maxUs']);
  console.log(`timer overhead per sample: ${overhead} us (in the percentiles, not in the mean)`);
  if (l2Skipped !== undefined) console.log(`L2 rows SKIPPED: ${l2Skipped}`);
  else console.log(`L2: ${new URL(url!).host} (loopback round trips)`);

  return {
    timerOverheadUs: overhead,
    l1,
    ...(l2 !== undefined ? { l2 } : {}),
    ...(l2Skipped !== undefined ? { l2Skipped } : {}),
  };
}

if (import.meta.main) await run();
