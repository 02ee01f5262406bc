// `pnpm bench [--quick] [scenario ...] [options]`: runs loadtest/scenarios/<name>.bench.ts one after another
// (all of them, or those named), after saying what machine they run on, and keeps every figure in
// loadtest/results/<timestamp>.json. BENCH_QUICK=1 (or --quick) for a short sanity run. Options after the
// one scenario named are that scenario's own (only meal-peak takes any).
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBench, SCENARIO_SUFFIX, UnknownScenarioError } from './lib/index.ts';

const here = dirname(fileURLToPath(import.meta.url));

const usage = `usage: pnpm bench [--quick] [scenario ...] [scenario options]
  Runs every loadtest/scenarios/*${SCENARIO_SUFFIX} in turn, or only the named ones.
  BENCH_QUICK=1 or --quick: short runs to check that scenarios work; their numbers mean little.
  Scenario options, after the one scenario named, go to it (in BENCH_SCENARIO_ARGS); only meal-peak takes
  any: pnpm bench meal-peak --target <url> (node loadtest/scenarios/meal-peak.bench.ts --help lists them).
  Results: loadtest/results/<timestamp>.json. Run on a quiet machine (see loadtest/README.md).`;

/** Scenarios that read options of their own from BENCH_SCENARIO_ARGS; the others take none. */
const TAKES_OPTIONS = new Set(['meal-peak']);

async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return 0;
  }
  // From the first option that is not --quick on, the arguments (values included) are the scenario's.
  const cut = args.findIndex((a) => a.startsWith('-') && a !== '--quick');
  const own = cut < 0 ? args : args.slice(0, cut);
  const scenarioArgs = cut < 0 ? [] : args.slice(cut).filter((a) => a !== '--quick');
  const names = own.filter((a) => !a.startsWith('-'));
  if (scenarioArgs.length > 0) {
    if (names.length !== 1 || !TAKES_OPTIONS.has(names[0]!)) {
      console.error(`unknown option: ${scenarioArgs.filter((a) => a.startsWith('-')).join(', ')}\n${usage}`);
      return 2;
    }
    process.env.BENCH_SCENARIO_ARGS = JSON.stringify(scenarioArgs);
  }
  try {
    const { report, file } = await runBench({
      scenariosDir: join(here, 'scenarios'),
      resultsDir: join(here, 'results'),
      root: dirname(here),
      names,
      quick: args.includes('--quick') || ['1', 'true', 'yes'].includes(process.env.BENCH_QUICK ?? ''),
      // A run right after another, or after the tests, starts with the load average of what just ended.
      settleMs: settleSeconds(process.env.BENCH_SETTLE_SECONDS) * 1000,
    });
    console.log(`\nresults: ${relative(process.cwd(), file)}`);
    return Object.values(report.scenarios).some((o) => o.status === 'failed') ? 1 : 0;
  } catch (err) {
    if (err instanceof UnknownScenarioError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

/** BENCH_SETTLE_SECONDS: how long to wait for the load average to settle first (default 150; 0: not at all). */
function settleSeconds(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 150;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`BENCH_SETTLE_SECONDS must be a number >= 0, got ${raw}`);
  return n;
}

// Exiting through process.exit runs the spawner's exit hook, so no benchmark server outlives us.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
process.exitCode = await main(process.argv.slice(2));
