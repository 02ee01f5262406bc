// What the service kit costs per request: the same route and handler served by bare Fastify and by
// buildService, each in its own process (the generator must not share an event loop with the server
// it measures), driven at fixed open-loop rates. Goal: the kit adds at most 20% at p99.
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import {
  defaultEngine,
  fmtMs,
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
import { SEOUL } from './servers/eta-handler.ts';

const RATES = [2000, 5000] as const;
const P99_OVERHEAD_GOAL_PCT = 20;

type Variant = 'bare-fastify' | 'service-kit';

export interface ServiceKitFigures {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly kitLogLevel: string;
  /** Why the kit side did not run, or null when it did. */
  readonly kitSkipped: string | null;
  readonly runs: readonly (LoadResult & { readonly variant: Variant })[];
  /**
   * Bare Fastify again with the other load engine (node when the default is go): what the generator
   * itself adds to the measured latency on this machine.
   */
  readonly otherEngineFloor: readonly LoadResult[];
  readonly overhead: readonly {
    readonly rate: number;
    readonly p50Pct: number;
    readonly p99Pct: number;
    readonly withinGoal: boolean;
  }[];
}

const server = (file: string) => fileURLToPath(new URL(`./servers/${file}`, import.meta.url));

// Fresh coordinates on every request, spread over Seoul, so no layer can answer from a cache.
const mix: readonly MixEntry[] = [
  {
    name: 'eta',
    weight: 1,
    build: ({ i, random }) => {
      const lat = SEOUL.minLat + random() * (SEOUL.maxLat - SEOUL.minLat);
      const lng = SEOUL.minLng + random() * (SEOUL.maxLng - SEOUL.minLng);
      return { path: `/eta?storeId=s-${i % 5000}&lat=${lat.toFixed(5)}&lng=${lng.toFixed(5)}` };
    },
  },
];

export async function run(opts: ScenarioOptions): Promise<ServiceKitFigures> {
  const durationMs = opts.quick ? 2000 : 10_000;
  // Steady state: the kit has more code for V8 to optimise than bare Fastify, and with 2 s of warm-up
  // that difference, not the kit's cost per request, dominated the p99 comparison.
  const warmupMs = opts.quick ? 500 : 10_000;
  // The kit's production default: one log line per request. It goes to /dev/null here, so the figure
  // includes formatting every line but not a log shipper's pipe.
  const kitLogLevel = process.env.BENCH_KIT_LOG_LEVEL ?? 'info';

  const servers = new Map<Variant, SpawnedService>();
  let kitSkipped: string | null = null;
  try {
    servers.set(
      'bare-fastify',
      await spawnService({ entry: server('bare-fastify.ts'), name: 'bare-fastify' }),
    );
    try {
      servers.set(
        'service-kit',
        await spawnService({
          entry: server('service-kit.ts'),
          name: 'service-kit',
          env: { LOG_LEVEL: kitLogLevel, SHUTDOWN_DELAY_MS: '0' },
          stdout: 'ignore',
        }),
      );
    } catch (err) {
      kitSkipped = `service-kit server did not start: ${err instanceof Error ? err.message : String(err)}`;
      process.stderr.write(`SKIPPED kit side: ${kitSkipped}\n`);
    }

    await sameAnswers(servers);

    const runs: (LoadResult & { variant: Variant })[] = [];
    for (const [r, rate] of RATES.entries()) {
      // Alternate which side goes first so a drift in the machine's state does not favour one side.
      const order: Variant[] =
        r % 2 === 0 ? ['bare-fastify', 'service-kit'] : ['service-kit', 'bare-fastify'];
      for (const variant of order) {
        const svc = servers.get(variant);
        if (svc === undefined) continue;
        const result = await runLoad({
          origin: svc.origin,
          mix,
          rate,
          durationMs,
          warmupMs,
          timeoutMs: 2000,
          label: `${variant}@${rate}`,
          check: (res) => res.body.includes('"etaSeconds"'),
        });
        printSummary(result);
        runs.push({ ...result, variant });
      }
    }

    // The measurement floor with the other engine: the same server, rates and requests.
    const otherEngineFloor: LoadResult[] = [];
    const bare = servers.get('bare-fastify');
    const other = defaultEngine() === 'go' ? 'node' : 'go';
    for (const rate of RATES) {
      if (bare === undefined) break;
      const result = await runLoad({
        engine: other,
        origin: bare.origin,
        mix,
        rate,
        durationMs,
        warmupMs,
        timeoutMs: 2000,
        label: `bare-fastify@${rate} ${other} engine`,
        check: (res) => res.body.includes('"etaSeconds"'),
      });
      printSummary(result);
      otherEngineFloor.push(result);
    }

    const overhead = RATES.flatMap((rate) => {
      const bare = runs.find((x) => x.variant === 'bare-fastify' && x.offeredRate === rate);
      const kit = runs.find((x) => x.variant === 'service-kit' && x.offeredRate === rate);
      if (bare === undefined || kit === undefined) return [];
      const pct = (a: number, b: number) => (b > 0 ? Math.round(((a - b) / b) * 1000) / 10 : 0);
      const p99Pct = pct(kit.latencyMs.p99, bare.latencyMs.p99);
      return [
        {
          rate,
          p50Pct: pct(kit.latencyMs.p50, bare.latencyMs.p50),
          p99Pct,
          withinGoal: p99Pct <= P99_OVERHEAD_GOAL_PCT,
        },
      ];
    });

    console.log(
      `\nservice-kit vs bare Fastify: ${durationMs / 1000}s per rate after ${warmupMs / 1000}s warm-up, ` +
        `kit LOG_LEVEL=${kitLogLevel}${opts.quick ? ' (BENCH_QUICK: sanity check only)' : ''}`,
    );
    printTable(
      [...runs, ...otherEngineFloor.map((x) => ({ ...x, variant: 'bare-fastify' as const }))].map((x) => ({
        rate: x.offeredRate,
        variant: x.variant,
        engine: x.engine,
        achieved: Math.round(x.achievedRate),
        p50: fmtMs(x.latencyMs.p50),
        p95: fmtMs(x.latencyMs.p95),
        p99: fmtMs(x.latencyMs.p99),
        'p99.9': fmtMs(x.latencyMs.p999),
        max: fmtMs(x.latencyMs.max),
        errors: x.errors,
        'lag p99': fmtMs(x.schedulingLagMs.p99),
        'sent→done p99': fmtMs(x.serviceLatencyMs.p99),
      })),
    );
    if (overhead.length > 0) {
      console.log('');
      printTable(
        overhead.map((o) => ({
          rate: o.rate,
          'kit p50 overhead': `${o.p50Pct}%`,
          'kit p99 overhead': `${o.p99Pct}%`,
          [`goal <= ${P99_OVERHEAD_GOAL_PCT}%`]: o.withinGoal ? 'met' : 'MISSED',
        })),
      );
    }
    if (kitSkipped !== null) console.log(`\nkit side SKIPPED: ${kitSkipped}`);
    return { durationMs, warmupMs, kitLogLevel, kitSkipped, runs, otherEngineFloor, overhead };
  } finally {
    for (const svc of servers.values()) {
      const status = await svc.stop();
      if (status.code !== 0) process.stderr.write(`${svc.name} exited with ${JSON.stringify(status)}\n`);
    }
  }
}

/** Both sides must give the same answer to the same request, or the comparison means nothing. */
async function sameAnswers(servers: ReadonlyMap<Variant, SpawnedService>): Promise<void> {
  const path = '/eta?storeId=s-1&lat=37.5&lng=127.0';
  const bodies = new Map<Variant, string>();
  for (const [variant, svc] of servers) {
    const res = await request(svc.origin + path);
    const body = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${variant} answered ${res.statusCode} to ${path}: ${body}`);
    bodies.set(variant, body);
  }
  const [first, ...rest] = [...bodies.values()];
  if (rest.some((b) => JSON.stringify(JSON.parse(b)) !== JSON.stringify(JSON.parse(first!)))) {
    throw new Error(`the servers answer differently: ${JSON.stringify(Object.fromEntries(bodies))}`);
  }
}

// Standalone: `node loadtest/scenarios/service-kit.bench.ts` (BENCH_QUICK=1 for a short run).
if (import.meta.main) await runStandalone(run);
