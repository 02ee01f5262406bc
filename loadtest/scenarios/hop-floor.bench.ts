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

export const FLOOR_RATES = [1000, 2000] as const;

export interface FloorFigures {
  readonly runs: readonly LoadResult[];
}

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
    const runs: LoadResult[] = [];
    for (const rate of rates) {
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
      printSummary(r);
      runs.push(r);
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
