import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMachineInfo, machineInfo, type MachineInfo } from './machine.ts';

/** What `pnpm bench` passes to every scenario's `run`. */
export interface ScenarioOptions {
  /** BENCH_QUICK=1: a short run to see that a scenario works, not to read its numbers. */
  readonly quick: boolean;
  readonly machine: MachineInfo;
  /** Repository root, for spawning services by path. */
  readonly root: string;
}

/** A scenario module: `loadtest/scenarios/<name>.bench.ts` exporting `run`. */
export interface ScenarioModule {
  run(opts: ScenarioOptions): Promise<unknown>;
}

/**
 * Thrown by a scenario when something it needs is missing (a service not written yet, a backing
 * service not running): the runner reports it as skipped with this message instead of failing.
 */
export class SkipScenario extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SkipScenario';
  }
}

/** The repository root: this file is loadtest/lib/scenario.ts. */
const REPO_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/**
 * What a scenario does when run on its own (`node loadtest/scenarios/<name>.bench.ts`): say what
 * machine it runs on, then run it as `pnpm bench` would, BENCH_QUICK=1 for a short run. Call it as
 * `if (import.meta.main) await runStandalone(run);` so importing the scenario runs nothing.
 */
export async function runStandalone(run: ScenarioModule['run']): Promise<void> {
  const machine = machineInfo();
  console.log(formatMachineInfo(machine));
  await run({ quick: process.env.BENCH_QUICK === '1', machine, root: REPO_ROOT });
}
