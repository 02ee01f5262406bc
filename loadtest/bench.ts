// `pnpm bench [--quick] [scenario ...]`: runs loadtest/scenarios/<name>.bench.ts one after another
// (all of them, or those named), after saying what machine they run on, and keeps every figure in
// loadtest/results/<timestamp>.json. BENCH_QUICK=1 (or --quick) for a short sanity run.
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBench, SCENARIO_SUFFIX, UnknownScenarioError } from './lib/index.ts';

const here = dirname(fileURLToPath(import.meta.url));

const usage = `usage: pnpm bench [--quick] [scenario ...]
  Runs every loadtest/scenarios/*${SCENARIO_SUFFIX} in turn, or only the named ones.
  BENCH_QUICK=1 or --quick: short runs to check that scenarios work; their numbers mean little.
  Results: loadtest/results/<timestamp>.json. Run on a quiet machine (see loadtest/README.md).`;

async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return 0;
  }
  const flags = args.filter((a) => a.startsWith('-'));
  const unknownFlags = flags.filter((f) => f !== '--quick');
  if (unknownFlags.length > 0) {
    console.error(`unknown option: ${unknownFlags.join(', ')}\n${usage}`);
    return 2;
  }
  try {
    const { report, file } = await runBench({
      scenariosDir: join(here, 'scenarios'),
      resultsDir: join(here, 'results'),
      root: dirname(here),
      names: args.filter((a) => !a.startsWith('-')),
      quick: flags.includes('--quick') || ['1', 'true', 'yes'].includes(process.env.BENCH_QUICK ?? ''),
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

// Exiting through process.exit runs the spawner's exit hook, so no benchmark server outlives us.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
process.exitCode = await main(process.argv.slice(2));
