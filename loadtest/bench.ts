// `pnpm bench [scenario ...]`: runs loadtest/scenarios/<name>.bench.ts one after another (all of them,
// or those named), after saying what machine they run on, and keeps every figure in
// loadtest/results/<timestamp>.json. BENCH_QUICK=1 (or --quick) for a short sanity run.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  busyMachineWarning,
  formatMachineInfo,
  machineInfo,
  printTable,
  SkipScenario,
  type ScenarioModule,
} from './lib/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const scenariosDir = join(here, 'scenarios');
const SUFFIX = '.bench.ts';

interface Outcome {
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly seconds: number;
  readonly figures?: unknown;
  readonly reason?: string;
}

const usage = `usage: pnpm bench [--quick] [scenario ...]
  Runs every loadtest/scenarios/*${SUFFIX} in turn, or only the named ones.
  BENCH_QUICK=1 or --quick: short runs to check that scenarios work; their numbers mean little.
  Results: loadtest/results/<timestamp>.json. Run on a quiet machine (see loadtest/README.md).`;

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return 0;
  }
  const quick = args.includes('--quick') || ['1', 'true', 'yes'].includes(process.env.BENCH_QUICK ?? '');
  const names = args.filter((a) => !a.startsWith('-'));
  const available = readdirSync(scenariosDir)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
  const unknown = names.filter((n) => !available.includes(n));
  if (unknown.length > 0) {
    console.error(`unknown scenario: ${unknown.join(', ')}; available: ${available.join(', ') || '(none)'}`);
    return 2;
  }
  const selected = names.length > 0 ? names : available;

  const machine = machineInfo();
  console.log(formatMachineInfo(machine));
  const busy = busyMachineWarning(machine);
  if (busy !== null) console.log(`WARNING: ${busy}`);
  if (quick) console.log('BENCH_QUICK: short runs, a check that the scenarios work, not a measurement');

  const startedAt = new Date();
  const outcomes: Record<string, Outcome> = {};
  for (const name of selected) {
    console.log(`\n=== ${name} ===`);
    const t0 = performance.now();
    const seconds = () => Math.round(performance.now() - t0) / 1000;
    try {
      const mod = (await import(
        pathToFileURL(join(scenariosDir, name + SUFFIX)).href
      )) as Partial<ScenarioModule>;
      if (typeof mod.run !== 'function') throw new Error(`${name}${SUFFIX} does not export run(opts)`);
      const figures = await mod.run({ quick, machine, root });
      outcomes[name] = { status: 'ok', seconds: seconds(), figures };
    } catch (err) {
      // By name too: a scenario that bundles its own copy of the lib still gets reported as skipped.
      if (err instanceof SkipScenario || (err instanceof Error && err.name === 'SkipScenario')) {
        console.log(`SKIPPED ${name}: ${err.message}`);
        outcomes[name] = { status: 'skipped', seconds: seconds(), reason: err.message };
      } else {
        console.error(`FAILED ${name}:`, err);
        outcomes[name] = {
          status: 'failed',
          seconds: seconds(),
          reason: err instanceof Error ? (err.stack ?? err.message) : String(err),
        };
      }
    }
  }

  const resultsDir = join(here, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const report = {
    startedAt: startedAt.toISOString(),
    quick,
    machine,
    busyMachineWarning: busy,
    scenarios: outcomes,
  };
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');

  console.log('');
  printTable(
    Object.entries(outcomes).map(([name, o]) => ({
      scenario: name,
      status: o.status,
      seconds: o.seconds,
      note: o.status === 'ok' ? '' : (o.reason ?? '').split('\n')[0],
    })),
  );
  console.log(`\nresults: ${relative(process.cwd(), file)}`);
  return Object.values(outcomes).some((o) => o.status === 'failed') ? 1 : 0;
}

// Exiting through process.exit runs the spawner's exit hook, so no benchmark server outlives us.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
process.exitCode = await main();
