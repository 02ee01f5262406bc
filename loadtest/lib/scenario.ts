import type { MachineInfo } from './machine.ts';

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
