/**
 * The hop floor: the precise path's layout (a BFF process calling a Geo process, then an ML proxy process,
 * over keep-alive HTTP on loopback) with Fastify handlers that do no work (servers/hop.ts). It is what three
 * Node processes and two hops cost on this machine at this rate, whatever the suite does; bff-chain runs it
 * in the same run and reports the chain's p99 as a ratio to it, because absolute milliseconds on a shared
 * two-core VM move from one hour to the next.
 *
 *   node loadtest/scenarios/hop-floor.bench.ts       (standalone; BENCH_QUICK=1 for a short run)
 *   pnpm bench hop-floor
 */
import { join } from 'node:path';
import { sampleValue } from '@eta/service-kit';
import {
  printSummary,
  runLoad,
  runStandalone,
  spawnService,
  type LoadResult,
  type ScenarioOptions,
  type SpawnedService,
} from '../lib/index.ts';
import { bearerHeaders, preciseAnswered, preciseMix } from '../lib/estimates.ts';
import { scrape } from '../lib/events/metrics.ts';

export const FLOOR_RATES = [1000, 2000] as const;

export interface FloorRun extends LoadResult {
  /**
   * CPU microseconds per offered request of each empty process (bff, geo, ml), over warm-up and the
   * measured window, as bff-chain counts the suite's: what a Fastify process and its hops cost before any
   * work of the suite's own.
   */
  readonly cpuUsPerRequest: Readonly<Record<string, number>>;
}

export interface FloorFigures {
  readonly runs: readonly FloorRun[];
}

/**
 * CPU microseconds per offered request of each process, from its /metrics scraped before and after a run
 * (`before[i]` and `after[i]` are `names[i]`'s): the floor's and bff-chain's rows count it the same way.
 */
export function cpuUsPerRequest(
  names: readonly string[],
  before: readonly string[],
  after: readonly string[],
  offered: number,
): Record<string, number> {
  const cpu = (text: string) => sampleValue(text, 'process_cpu_seconds_total') ?? Number.NaN;
  return Object.fromEntries(
    names.map((name, i) => [name, Math.round(((cpu(after[i]!) - cpu(before[i]!)) * 1e6) / offered)]),
  );
}

/** `bff/geo/ml` µs, as the tables print it. */
export const fmtCpu = (c: Readonly<Record<string, number>>): string => `${c.bff}/${c.geo}/${c.ml}`;

/** p99 of the floor at `rate`, or undefined when it was not measured. */
export function floorP99(floor: FloorFigures, rate: number): number | undefined {
  return floor.runs.find((r) => r.offeredRate === rate)?.latencyMs.p99;
}

export async function measureFloor(
  root: string,
  rates: readonly number[],
  timing: { readonly durationMs: number; readonly warmupMs: number },
): Promise<FloorFigures> {
  const entry = join(root, 'loadtest', 'scenarios', 'servers', 'hop.ts');
  const started: SpawnedService[] = [];
  try {
    const [geo, ml] = await Promise.all([
      spawnService({ entry, name: 'floor-geo', stdout: 'ignore' }),
      spawnService({ entry, name: 'floor-ml', stdout: 'ignore' }),
    ]);
    started.push(geo, ml);
    const bff = await spawnService({
      entry,
      name: 'floor-bff',
      env: { GEO_URL: geo.origin, ML_URL: ml.origin },
      stdout: 'ignore',
    });
    started.push(bff);
    const mix = preciseMix(bearerHeaders('floor'), 5000);
    const processes = { bff, geo, ml };
    const runs: FloorRun[] = [];
    for (const rate of rates) {
      const origins = Object.values(processes).map((p) => p.origin);
      const before = await Promise.all(origins.map(scrape));
      const r = await runLoad({
        origin: bff.origin,
        mix,
        rate,
        durationMs: timing.durationMs,
        warmupMs: timing.warmupMs,
        timeoutMs: 2000,
        label: `floor@${rate}`,
        seed: rate,
        check: preciseAnswered,
      });
      const after = await Promise.all(origins.map(scrape));
      const cpu = cpuUsPerRequest(
        Object.keys(processes),
        before,
        after,
        (rate * (timing.durationMs + timing.warmupMs)) / 1000,
      );
      printSummary(r);
      console.log(`  cpu us/req bff/geo/ml: ${fmtCpu(cpu)}`);
      runs.push({ ...r, cpuUsPerRequest: cpu });
    }
    return { runs };
  } finally {
    for (const svc of started.reverse()) await svc.stop();
  }
}

export async function run(opts: ScenarioOptions): Promise<FloorFigures> {
  return measureFloor(opts.root, FLOOR_RATES, {
    durationMs: opts.quick ? 2000 : 20_000,
    warmupMs: opts.quick ? 500 : 10_000,
  });
}

if (import.meta.main) await runStandalone(run);
