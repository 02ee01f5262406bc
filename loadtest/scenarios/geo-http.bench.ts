/**
 * The Geo service over HTTP, as callers see it: `POST /v1/features` with a fresh random Seoul pair on
 * every request, driven open-loop at 2,000 and 5,000 requests per second against the real service
 * (services/geo/src/main.ts) in its own process. Also: time from process start to ready, and heap after
 * load (from the service's /metrics).
 *
 *   node loadtest/scenarios/geo-http.bench.ts        (standalone; BENCH_QUICK=1 for a short run)
 *   pnpm bench geo-http                              (as one scenario of the suite)
 *
 * With REDIS_URL set, Geo reads live statistics through its L1 cache over that Redis, as in production;
 * without it Geo answers `live: no-redis` and the figure is the geo work alone. Goal (services/geo
 * README): p99 <= 2 ms at 2,000 rps. Figures are printed and returned; nothing here asserts on speed.
 */
import { join } from 'node:path';
import { request } from 'undici';
import {
  fmtMs,
  median,
  printSummary,
  printTable,
  runLoad,
  runStandalone,
  spawnService,
  type LoadResult,
  type MixEntry,
  type ScenarioOptions,
  type SpawnedService,
} from '../lib/index.ts';

const DEFAULT_RATES = [2000, 5000];

type Phase = 'cold' | 'steady';
const GOAL = { rate: 2000, p99Ms: 2 } as const;

/** Seoul's bounding box (dong layer extent); about 60 % of its area is inside the city. */
const BBOX = { minLat: 37.428, maxLat: 37.702, minLng: 126.764, maxLng: 127.184 } as const;

export interface GeoHttpFigures {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly logLevel: string;
  readonly redis: boolean;
  readonly startup: {
    /** Per start: spawn to the `Server listening` log line (the service is ready when it listens). */
    readonly listeningMs: readonly number[];
    /** Per start: spawn to the first 200 from /readyz, as the spawner polls it (every 100 ms). */
    readonly readyProbeMs: readonly number[];
    readonly medianListeningMs: number;
  };
  /** `cold`: the first window of load after the process turned ready; `steady`: after the warm-up. */
  readonly runs: readonly (LoadResult & ServerFigures & { readonly phase: Phase })[];
  readonly goal: { readonly rate: number; readonly p99Ms: number; readonly met: boolean | null };
}

export interface ServerFigures {
  readonly heapUsedMbAfter: number;
  readonly rssMbAfter: number;
  /**
   * Server CPU time over warm-up and measured window divided by the requests offered in them: unlike the
   * latencies it hardly depends on what else the machine runs, so it compares across busy runs. Only
   * meaningful when the server kept up (no errors).
   */
  readonly serverCpuUsPerRequest: number;
}

const coord = (random: () => number) => ({
  lat: Number((BBOX.minLat + random() * (BBOX.maxLat - BBOX.minLat)).toFixed(6)),
  lng: Number((BBOX.minLng + random() * (BBOX.maxLng - BBOX.minLng)).toFixed(6)),
});

// A new pair every request: no layer can answer from a per-request cache (the live L1 is per dong,
// which is the production behaviour).
const mix: readonly MixEntry[] = [
  {
    name: 'features',
    weight: 1,
    build: ({ random }) => ({
      method: 'POST',
      path: '/v1/features',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ origin: coord(random), destination: coord(random) }),
    }),
  },
];

function geoEnv(logLevel: string): Record<string, string> {
  return {
    LOG_LEVEL: logLevel,
    SHUTDOWN_DELAY_MS: '0',
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
  };
}

/** Starts Geo with its log captured and reads when it began listening; stops it again. */
async function measureStartup(entry: string): Promise<{ listeningMs: number; readyProbeMs: number }> {
  const startedAt = Date.now();
  const svc = await spawnService({ entry, name: 'geo (start-up)', env: geoEnv('info') });
  const readyProbeMs = Date.now() - startedAt;
  try {
    for (const line of svc.output().split('\n')) {
      if (!line.includes('Server listening')) continue;
      const time = (JSON.parse(line) as { time?: string }).time;
      if (time !== undefined) return { listeningMs: Date.parse(time) - startedAt, readyProbeMs };
    }
    throw new Error(`no "Server listening" line in the output:\n${svc.output()}`);
  } finally {
    await svc.stop();
  }
}

interface Scrape {
  readonly heapUsedMb: number;
  readonly rssMb: number;
  readonly cpuSeconds: number;
}

async function scrape(origin: string): Promise<Scrape> {
  const res = await request(`${origin}/metrics`);
  const text = await res.body.text();
  const read = (name: string) => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : Number.NaN;
  };
  const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
  return {
    heapUsedMb: mb(read('nodejs_heap_size_used_bytes')),
    rssMb: mb(read('process_resident_memory_bytes')),
    cpuSeconds: read('process_cpu_seconds_total'),
  };
}

export async function run(opts: ScenarioOptions): Promise<GeoHttpFigures> {
  const durationMs = opts.quick ? 2000 : 10_000;
  // Steady state: V8 is still optimising the request path for the first ~10 s of load, and in that
  // window the p99 is several times the steady one. Both are reported: the `cold` run is the first
  // `durationMs` of load right after the process turned ready, with no warm-up at all.
  const warmupMs = opts.quick ? 500 : 10_000;
  // Production's level: one line per request, sent to /dev/null so formatting is counted, shipping not.
  const logLevel = process.env.BENCH_GEO_LOG_LEVEL ?? 'info';
  const entry = join(opts.root, 'services/geo/src/main.ts');

  const starts = [];
  for (let i = 0; i < (opts.quick ? 1 : 3); i++) starts.push(await measureStartup(entry));

  let svc: SpawnedService | undefined;
  const rates = (process.env.BENCH_GEO_RATES ?? '').split(',').filter(Boolean).map(Number);
  const runs: (LoadResult & ServerFigures & { phase: Phase })[] = [];
  try {
    svc = await spawnService({ entry, name: 'geo', env: geoEnv(logLevel), stdout: 'ignore' });
    const steady = rates.length > 0 ? rates : DEFAULT_RATES;
    const plan: [Phase, number][] = [
      ['cold', GOAL.rate],
      ...steady.map((r): [Phase, number] => ['steady', r]),
    ];
    for (const [phase, rate] of plan) {
      const warmup = phase === 'cold' ? 0 : warmupMs;
      const before = await scrape(svc.origin);
      const result = await runLoad({
        origin: svc.origin,
        mix,
        rate,
        durationMs,
        warmupMs: warmup,
        timeoutMs: 2000,
        label: `geo@${rate} ${phase}`,
        check: (res) => res.body.includes('"distanceM"'),
      });
      printSummary(result);
      const after = await scrape(svc.origin);
      const offered = (rate * (warmup + durationMs)) / 1000;
      runs.push({
        ...result,
        phase,
        heapUsedMbAfter: after.heapUsedMb,
        rssMbAfter: after.rssMb,
        serverCpuUsPerRequest: Math.round(((after.cpuSeconds - before.cpuSeconds) * 1e6) / offered),
      });
    }
  } finally {
    const status = await svc?.stop();
    if (status !== undefined && status.code !== 0)
      process.stderr.write(`geo exited with ${JSON.stringify(status)}\n`);
  }

  const atGoal = runs.find((r) => r.phase === 'steady' && r.offeredRate === GOAL.rate);
  const figures: GeoHttpFigures = {
    durationMs,
    warmupMs,
    logLevel,
    redis: process.env.REDIS_URL !== undefined && process.env.REDIS_URL !== '',
    startup: {
      listeningMs: starts.map((s) => s.listeningMs),
      readyProbeMs: starts.map((s) => s.readyProbeMs),
      medianListeningMs: median(starts.map((s) => s.listeningMs)),
    },
    runs,
    goal: {
      ...GOAL,
      met: atGoal === undefined ? null : atGoal.latencyMs.p99 <= GOAL.p99Ms && atGoal.errors === 0,
    },
  };

  console.log(
    `\ngeo-http: POST /v1/features, random pairs in Seoul's bbox, ${durationMs / 1000}s per rate; cold: ` +
      `from the moment the process is ready; steady: after ${warmupMs / 1000}s warm-up at the rate, LOG_LEVEL=${logLevel}, live statistics ${figures.redis ? 'from Redis' : 'off (no REDIS_URL)'}` +
      (opts.quick ? ' (BENCH_QUICK: sanity check only)' : ''),
  );
  printTable(
    runs.map((x) => ({
      phase: x.phase,
      rate: x.offeredRate,
      achieved: Math.round(x.achievedRate),
      p50: fmtMs(x.latencyMs.p50),
      p95: fmtMs(x.latencyMs.p95),
      p99: fmtMs(x.latencyMs.p99),
      'p99.9': fmtMs(x.latencyMs.p999),
      max: fmtMs(x.latencyMs.max),
      errors: x.errors,
      'lag p99': fmtMs(x.schedulingLagMs.p99),
      'sent→done p99': fmtMs(x.serviceLatencyMs.p99),
      'server CPU us/req': x.errors === 0 ? x.serverCpuUsPerRequest : '-',
      'heap MB after': x.heapUsedMbAfter,
      'rss MB after': x.rssMbAfter,
    })),
  );
  console.log(
    `start-up: spawn -> listening (ready) ${figures.startup.listeningMs.join(', ')} ms ` +
      `(median ${figures.startup.medianListeningMs} ms); first 200 from /readyz as polled every 100 ms: ` +
      `${figures.startup.readyProbeMs.join(', ')} ms`,
  );
  if (atGoal !== undefined) {
    console.log(
      `goal: p99 ${fmtMs(atGoal.latencyMs.p99)} <= ${GOAL.p99Ms}ms at ${GOAL.rate} rps: ` +
        (figures.goal.met ? 'met' : 'MISSED'),
    );
  }
  return figures;
}

// Standalone: `node loadtest/scenarios/geo-http.bench.ts` (BENCH_QUICK=1 for a short run).
if (import.meta.main) await runStandalone(run);
