// What inference costs: per-row cost of each reference model in process (batch 1, 16, 50), then the
// ml-proxy HTTP service in its own process driven by the open-loop generator at fixed rates.
// Goals: <= 50 µs per row in process at batch 1; one-row infer p99 <= 2 ms at 1,000 rps; 50-row infer
// p99 <= 3 ms at 200 rps. Latencies on a shared machine are indicative; compare runs on one machine.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import {
  fmtMs,
  printSummary,
  printTable,
  runLoad,
  runStandalone,
  seededRandom,
  SkipScenario,
  spawnService,
  type LoadResult,
  type MixEntry,
  type ScenarioOptions,
} from '../lib/index.ts';

const GOALS = { usPerRowBatch1: 50, oneRowP99Ms: 2, fiftyRowP99Ms: 3 } as const;

interface RowCost {
  readonly model: string;
  readonly version: string;
  /** `inline`, `thread` or `auto` (the service default: inline up to 16 rows, worker above). */
  readonly execution: string;
  readonly batch: number;
  readonly calls: number;
  readonly usPerCall: number;
  readonly usPerRow: number;
}

interface Load {
  readonly label: string;
  readonly model: string;
  readonly rows: number;
  readonly rate: number;
  readonly goalP99Ms: number | null;
}

const LOADS: readonly Load[] = [
  { label: 'eta-precise 1 row', model: 'eta-precise', rows: 1, rate: 1000, goalP99Ms: GOALS.oneRowP99Ms },
  { label: 'eta-precise 1 row', model: 'eta-precise', rows: 1, rate: 3000, goalP99Ms: null },
  { label: 'eta-rough 50 rows', model: 'eta-rough', rows: 50, rate: 200, goalP99Ms: GOALS.fiftyRowP99Ms },
];

export interface MlProxyFigures {
  readonly rowCost: readonly RowCost[];
  /** `cold`: the first window of load after the process turned ready; `steady`: after the warm-up. */
  readonly runs: readonly (LoadResult & { readonly load: Load; readonly phase: 'cold' | 'steady' })[];
}

interface Fixture {
  /** The version unpinned requests get: the repository's newest. */
  readonly version: string;
  readonly width: number;
  readonly rows: readonly (number | null)[][];
  readonly distance: number;
  readonly hour: number;
}

/** Valid rows from golden.json; each request varies distance and hour so nothing can be cached. */
async function fixture(root: string, model: string, version: string): Promise<Fixture> {
  const dir = join(root, 'ml', 'models', model, version);
  const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as {
    features: { name: string }[];
  };
  const golden = JSON.parse(await readFile(join(dir, 'golden.json'), 'utf8')) as {
    cases: { features: (number | null)[] }[];
  };
  const names = meta.features.map((f) => f.name);
  return {
    version,
    width: names.length,
    rows: golden.cases.map((c) => c.features),
    distance: names.indexOf('distance_km'),
    hour: names.indexOf('hour_of_day'),
  };
}

function mixFor(load: Load, fx: Fixture): MixEntry[] {
  return [
    {
      name: load.label,
      weight: 1,
      build: ({ i, random }) => {
        const data: (number | null)[] = [];
        for (let r = 0; r < load.rows; r++) {
          const row = [...fx.rows[(i + r) % fx.rows.length]!];
          if (fx.distance >= 0) row[fx.distance] = Math.round(random() * 150) / 10;
          if (fx.hour >= 0) row[fx.hour] = Math.floor(random() * 24);
          data.push(...row);
        }
        return {
          method: 'POST',
          path: `/v2/models/${load.model}/infer`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            id: `b-${i}`,
            inputs: [{ name: 'features', shape: [load.rows, fx.width], datatype: 'FP32', data }],
          }),
        };
      },
    },
  ];
}

export async function run(opts: ScenarioOptions): Promise<MlProxyFigures> {
  const durationMs = opts.quick ? 2000 : 10_000;
  // Steady state after 10 s at the rate (V8 is still optimising the request path before that); the
  // `cold` run is the first window of one-row load right after the process turned ready.
  const warmupMs = opts.quick ? 500 : 10_000;
  const entry = join(opts.root, 'services', 'ml-proxy', 'src', 'main.ts');
  const rowCostModule = join(opts.root, 'services', 'ml-proxy', 'bench', 'row-cost.ts');
  try {
    await readFile(join(opts.root, 'ml', 'models', 'eta-precise', '1', 'metadata.json'));
  } catch {
    throw new SkipScenario('reference models not found under ml/models');
  }

  // In process: the adapter the service uses, loaded from the service's own bench module.
  const { measureRowCost, versionsIn } = (await import(pathToFileURL(rowCostModule).href)) as {
    versionsIn(root: string, model: string): Promise<string[]>;
    measureRowCost(o: {
      models: string[];
      batches: number[];
      cellMs: number;
      random: () => number;
    }): Promise<RowCost[]>;
  };
  const rowCost = await measureRowCost({
    models: ['eta-rough', 'eta-precise'],
    batches: [1, 16, 50],
    cellMs: opts.quick ? 200 : 1500,
    random: seededRandom(1),
  });
  console.log('\nml-proxy: inference cost in process (ONNX Runtime, 1 intra-op thread)');
  printTable(
    rowCost.map((r) => ({
      model: r.model,
      version: r.version,
      execution: r.execution,
      batch: r.batch,
      'µs/call': r.usPerCall.toFixed(1),
      'µs/row': r.usPerRow.toFixed(2),
      [`goal <= ${GOALS.usPerRowBatch1} µs/row`]:
        r.batch === 1 && r.execution !== 'thread'
          ? r.usPerRow <= GOALS.usPerRowBatch1
            ? 'met'
            : 'MISSED'
          : '',
    })),
  );

  // Over HTTP: the service in its own process, production defaults (ORT_EXECUTION=auto: 1-row calls
  // inline, 50-row calls in the worker thread; info logs).
  const logLevel = process.env.BENCH_ML_PROXY_LOG_LEVEL ?? 'info';
  const svc = await spawnService({
    entry,
    name: 'ml-proxy',
    env: { LOG_LEVEL: logLevel, SHUTDOWN_DELAY_MS: '0', MODEL_POLL_INTERVAL_SECONDS: '0' },
    stdout: 'ignore',
    readyTimeoutMs: 60_000,
  });
  const runs: (LoadResult & { load: Load; phase: 'cold' | 'steady' })[] = [];
  const fixtures = new Map<string, Fixture>();
  try {
    for (const load of LOADS) {
      if (fixtures.has(load.model)) continue;
      const newest = (await versionsIn(join(opts.root, 'ml', 'models'), load.model)).at(-1)!;
      fixtures.set(load.model, await fixture(opts.root, load.model, newest));
    }
    await answersFromModel(svc.origin, fixtures);
    const plan: ['cold' | 'steady', Load][] = [
      ['cold', LOADS[0]!],
      ...LOADS.map((l): ['cold' | 'steady', Load] => ['steady', l]),
    ];
    for (const [phase, load] of plan) {
      const result = await runLoad({
        origin: svc.origin,
        mix: mixFor(load, fixtures.get(load.model)!),
        rate: load.rate,
        durationMs,
        warmupMs: phase === 'cold' ? 0 : warmupMs,
        timeoutMs: 2000,
        label: `${load.label}@${load.rate} ${phase}`,
        // A heuristic answer would be fast and wrong: only the model's own answers count as ok.
        check: (res) =>
          res.body.includes(`"model_version":"${fixtures.get(load.model)!.version}"`) &&
          !res.body.includes('"fallback"'),
      });
      printSummary(result);
      runs.push({ ...result, load, phase });
    }
  } finally {
    const status = await svc.stop();
    if (status.code !== 0) process.stderr.write(`ml-proxy exited with ${JSON.stringify(status)}\n`);
  }

  console.log(
    `\nml-proxy over HTTP: ${durationMs / 1000}s per rate; cold: from the moment the process is ready; ` +
      `steady: after ${warmupMs / 1000}s warm-up at the rate; LOG_LEVEL=${logLevel}` +
      (opts.quick ? ' (BENCH_QUICK: sanity check only)' : ''),
  );
  printTable(
    runs.map((x) => ({
      phase: x.phase,
      request: x.load.label,
      version: fixtures.get(x.load.model)?.version ?? '',
      rate: x.offeredRate,
      achieved: Math.round(x.achievedRate),
      p50: fmtMs(x.latencyMs.p50),
      p95: fmtMs(x.latencyMs.p95),
      p99: fmtMs(x.latencyMs.p99),
      'sent→done p99': fmtMs(x.serviceLatencyMs.p99),
      max: fmtMs(x.latencyMs.max),
      errors: x.errors,
      goal:
        x.load.goalP99Ms === null || x.phase === 'cold'
          ? ''
          : `p99 <= ${x.load.goalP99Ms}ms: ${x.latencyMs.p99 <= x.load.goalP99Ms ? 'met' : 'MISSED'}`,
    })),
  );
  return { rowCost, runs };
}

/**
 * The service must answer from the trained model before its latency means anything. A few retries:
 * right after start the kit may still shed (its event-loop sample can include the model load).
 */
async function answersFromModel(origin: string, fixtures: ReadonlyMap<string, Fixture>): Promise<void> {
  for (const [model, fx] of fixtures) {
    let last = '';
    for (let attempt = 0; ; attempt++) {
      const res = await request(`${origin}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ name: 'features', shape: [1, fx.width], datatype: 'FP32', data: fx.rows[0] }],
        }),
      });
      last = `${res.statusCode} ${await res.body.text()}`;
      if (last.startsWith('200 ') && !last.includes('"fallback"')) break;
      if (attempt >= 20) throw new Error(`ml-proxy did not answer ${model} from the model: ${last}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

// Standalone: `node loadtest/scenarios/ml-proxy.bench.ts` (BENCH_QUICK=1 for a short run).
if (import.meta.main) await runStandalone(run);
